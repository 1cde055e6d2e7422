/* RTCC map page: every camera of the city on one Leaflet canvas, calls, the selected
 * call's rings and ranked cameras. Python drives it through window.rtcc.* calls built
 * by rtcc_console.ui.js.js_call (arguments JSON-encoded); the page reports clicks and
 * readiness back through the QWebChannel object "bridge". No network access except
 * basemap tiles, and the map is complete without them. */
(function () {
  "use strict";

  var TIER = ["registered", "integrated"];
  var MODE = ["request only", "live always", "live in emergency"];
  var KIND = ["residential", "business", "school", "public"];
  var PRIORITY_COLORS = { 1: "#ff4d4f", 2: "#ff9f1a", 3: "#ffd84d" };
  var RINGS = [100, 250, 500];
  var CONE_MIN_ZOOM = 16;
  var MAX_CONES = 600;

  // A camera its owner did not confirm in time (row[10] !== null): a grey dashed ring,
  // whatever its tier (ui/camera_style.py STALE).
  var STALE = { color: "#d0d4da", fillColor: "#000000", fill: true, fillOpacity: 0.45, weight: 2,
    radius: 5.5, dashArray: "2 2" };
  function isStale(row) { return row[10] !== null && row[10] !== undefined; }

  // Tier x sharing mode -> marker style. Registered: hollow; integrated: filled.
  function camStyle(tier, mode) {
    if (tier === 0) return { color: "#a9b4c2", fillColor: "#a9b4c2", fill: false, weight: 1.4, radius: 3.5 };
    var c = mode === 1 ? "#35d07f" : mode === 2 ? "#f5b431" : "#4aa3ff";
    return { color: c, fillColor: c, fill: true, fillOpacity: 0.9, weight: 1, radius: 4.5 };
  }

  var rtcc = {
    map: null, bridge: null, ready: false,
    cams: {}, camCount: 0, camGroup: null, camRenderer: null,
    calls: {}, callGroup: null, callRenderer: null,
    selectedCall: null, selectedCamera: null, ranked: [],
    ringLayer: null, rankLayer: null, coneLayer: null, selLayer: null,
    tileErrors: 0, tileLoads: 0, notice: null, hoverTip: null,
    camerasDrawnMs: null, cones: 0
  };
  window.rtcc = rtcc;

  function haversine(lat1, lon1, lat2, lon2) {
    var R = 6371008.8, toRad = Math.PI / 180;
    var dLat = (lat2 - lat1) * toRad, dLon = (lon2 - lon1) * toRad;
    var a = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
      Math.cos(lat1 * toRad) * Math.cos(lat2 * toRad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 2 * R * Math.asin(Math.min(1, Math.sqrt(a)));
  }

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (ch) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[ch];
    });
  }

  function pane(name, z) {
    var p = rtcc.map.createPane(name);
    p.style.zIndex = z;
    return name;
  }

  function addLegend() {
    var legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      var div = L.DomUtil.create("div", "rtcc-legend");
      div.innerHTML =
        "<div class='t'>Cameras</div>" +
        "<div><span class='sw hollow' style='border-color:#a9b4c2'></span>Registered (request footage)</div>" +
        "<div><span class='sw' style='background:#35d07f'></span>Integrated · live always</div>" +
        "<div><span class='sw' style='background:#f5b431'></span>Integrated · live in emergency</div>" +
        "<div><span class='sw' style='background:#4aa3ff'></span>Integrated · request only</div>" +
        "<div><span class='sw hollow dashed' style='border-color:#d0d4da'></span>Not confirmed by its owner</div>" +
        "<div class='t'>Calls</div>" +
        "<div><span class='sw big' style='background:#ff4d4f'></span>P1 <span class='sw big' style='background:#ff9f1a'></span>P2 " +
        "<span class='sw big' style='background:#ffd84d'></span>P3 <span class='sw big' style='background:#8fa3b8'></span>P4+</div>";
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    legend.addTo(rtcc.map);
  }

  // The offline notice is a strip above the map, not a box over it: the map shrinks by the
  // strip's height, so no call, camera or label is ever hidden under it.
  function showNotice(shown) {
    var strip = rtcc.notice, box = rtcc.map.getContainer();
    if ((strip.style.display !== "none") === shown) return;
    strip.style.display = shown ? "block" : "none";
    box.style.position = "absolute";
    box.style.left = "0";
    box.style.right = "0";
    box.style.bottom = "0";
    box.style.width = "auto";
    box.style.height = "auto";
    box.style.top = shown ? strip.offsetHeight + "px" : "0";
    rtcc.map.invalidateSize({ animate: false });
  }

  function addTileNotice() {
    var div = document.createElement("div");
    div.className = "rtcc-notice";
    div.style.display = "none";
    div.textContent = "Basemap unavailable (offline) — calls and cameras are current";
    document.body.insertBefore(div, document.body.firstChild);
    rtcc.notice = div;
    rtcc.map.eachLayer(function (layer) {
      if (layer instanceof L.TileLayer) {
        layer.on("tileerror", function () {
          rtcc.tileErrors += 1;
          if (rtcc.tileLoads === 0 && !rtcc.vectorBase) showNotice(true);
        });
        layer.on("tileload", function () {
          rtcc.tileLoads += 1;
          showNotice(false);
        });
      }
    });
  }

  // A vector basemap drawn on one canvas (the demo's simulated city grid): the city outline,
  // named streets per band, block streets when close, street names along the lines, and
  // landmarks. Redrawn on every move; labelled as simulated in the attribution.
  var VectorBase = L.Layer.extend({
    initialize: function (doc) { this.doc = doc; },
    onAdd: function (map) {
      this._map = map;
      this._canvas = L.DomUtil.create("canvas", "rtcc-vectorbase");
      map.getPane("rtccBase").appendChild(this._canvas);
      map.on("moveend zoomend resize viewreset", this._draw, this);
      this._draw();
    },
    onRemove: function (map) {
      map.off("moveend zoomend resize viewreset", this._draw, this);
      L.DomUtil.remove(this._canvas);
    },
    getAttribution: function () { return esc(this.doc.label || "Simulated basemap"); },
    _pt: function (lat, lon) { return this._map.latLngToContainerPoint([lat, lon]); },
    _draw: function () {
      var map = this._map, doc = this.doc, size = map.getSize(), dpr = window.devicePixelRatio || 1;
      var canvas = this._canvas, self = this;
      L.DomUtil.setPosition(canvas, map.containerPointToLayerPoint([0, 0]));
      canvas.width = size.x * dpr; canvas.height = size.y * dpr;
      canvas.style.width = size.x + "px"; canvas.style.height = size.y + "px";
      var ctx = canvas.getContext("2d");
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, size.x, size.y);
      var zoom = map.getZoom(), b = map.getBounds(), g = doc.grid;
      var outline = doc.outline.map(function (p) { return self._pt(p[0], p[1]); });
      ctx.beginPath();
      outline.forEach(function (p, i) { if (i) ctx.lineTo(p.x, p.y); else ctx.moveTo(p.x, p.y); });
      ctx.closePath();
      ctx.fillStyle = "#18222d"; ctx.fill();
      ctx.save(); ctx.clip();
      var lines = [];  // [x0, y0, x1, y1, name, horizontal]
      function grid(step, origin, names, vertical, major) {
        var lo = vertical ? b.getWest() : b.getSouth(), hi = vertical ? b.getEast() : b.getNorth();
        var first = Math.floor((lo - origin) / step), last = Math.ceil((hi - origin) / step);
        if (last - first > 400) return;
        for (var i = first; i <= last; i++) {
          var v = origin + (i + (major ? 0.5 : 0)) * step;
          var p0 = vertical ? self._pt(b.getNorth(), v) : self._pt(v, b.getWest());
          var p1 = vertical ? self._pt(b.getSouth(), v) : self._pt(v, b.getEast());
          var n = names ? names[((i % names.length) + names.length) % names.length] : null;
          lines.push([p0.x, p0.y, p1.x, p1.y, n, !vertical]);
        }
      }
      if (zoom >= 15) {
        ctx.strokeStyle = "#2a3644"; ctx.lineWidth = 1;
        lines = [];
        grid(g.block, g.ew_origin, null, false, false);
        grid(g.block, g.ns_origin, null, true, false);
        ctx.beginPath();
        lines.forEach(function (l) { ctx.moveTo(l[0], l[1]); ctx.lineTo(l[2], l[3]); });
        ctx.stroke();
      }
      lines = [];
      grid(g.band, g.ew_origin, doc.ew_names, false, true);
      grid(g.band, g.ns_origin, doc.ns_names, true, true);
      ctx.strokeStyle = "#3d4d60"; ctx.lineWidth = zoom >= 14 ? 4 : 2;
      ctx.beginPath();
      lines.forEach(function (l) { ctx.moveTo(l[0], l[1]); ctx.lineTo(l[2], l[3]); });
      ctx.stroke();
      if (zoom >= 13) {  // street names along each named street, every ~450 px
        ctx.font = "11px 'DejaVu Sans', sans-serif"; ctx.fillStyle = "#9fb2c6"; ctx.textAlign = "center";
        ctx.textBaseline = "middle";
        lines.forEach(function (l) {
          var len = Math.hypot(l[2] - l[0], l[3] - l[1]), count = Math.max(1, Math.floor(len / 450));
          for (var k = 0; k < count; k++) {
            var t = (k + 0.5) / count, x = l[0] + (l[2] - l[0]) * t, y = l[1] + (l[3] - l[1]) * t;
            ctx.save(); ctx.translate(x, y); if (!l[5]) ctx.rotate(-Math.PI / 2);
            ctx.strokeStyle = "#18222d"; ctx.lineWidth = 3; ctx.strokeText(l[4], 0, -7);
            ctx.fillText(l[4], 0, -7); ctx.restore();
          }
        });
      }
      ctx.restore();
      ctx.beginPath();
      outline.forEach(function (p, i) { if (i) ctx.lineTo(p.x, p.y); else ctx.moveTo(p.x, p.y); });
      ctx.closePath();
      ctx.strokeStyle = "#5b7088"; ctx.lineWidth = 2; ctx.setLineDash([8, 5]); ctx.stroke(); ctx.setLineDash([]);
      if (zoom >= 11) {
        ctx.font = "bold 12px 'DejaVu Sans', sans-serif"; ctx.textAlign = "center"; ctx.textBaseline = "middle";
        (doc.landmarks || []).forEach(function (m) {
          var p = self._pt(m[0], m[1]);
          if (p.x < -50 || p.y < -20 || p.x > size.x + 50 || p.y > size.y + 20) return;
          ctx.strokeStyle = "#10151b"; ctx.lineWidth = 4; ctx.strokeText(m[2], p.x, p.y);
          ctx.fillStyle = "#c9b27a"; ctx.fillText(m[2], p.x, p.y);
        });
      }
      rtcc.vectorDraws = (rtcc.vectorDraws || 0) + 1;
      rtcc.vectorLabels = zoom >= 13 ? lines.length : 0;
    }
  });

  // Python hands over the vector basemap (rtcc_console.sim.basemap format) once.
  rtcc.setVectorBasemap = function (doc) {
    if (rtcc.vectorBase) rtcc.map.removeLayer(rtcc.vectorBase);
    rtcc.vectorBase = new VectorBase(doc).addTo(rtcc.map);
    showNotice(false);
    rtcc.vectorLabel = doc.label || "";
  };

  rtcc.attach = function (map, config) {
    rtcc.map = map;
    rtcc.config = config || {};
    map.options.zoomSnap = 0.25;  // fitBounds frames the 500 m ring tightly, not a whole level out
    map.attributionControl.setPrefix("Leaflet");
    pane("rtccBase", 250);  // a vector basemap: above raster tiles, below everything else
    pane("rtccCones", 380);
    pane("rtccCameras", 400);
    pane("rtccRings", 420);
    pane("rtccRanked", 440);
    pane("rtccCalls", 460);
    rtcc.camRenderer = L.canvas({ pane: "rtccCameras", padding: 0.3, tolerance: 3 });
    rtcc.callRenderer = L.canvas({ pane: "rtccCalls", padding: 0.3, tolerance: 4 });
    rtcc.coneRenderer = L.canvas({ pane: "rtccCones", padding: 0.3 });
    rtcc.ringRenderer = L.canvas({ pane: "rtccRings", padding: 0.3 });
    rtcc.camGroup = L.featureGroup().addTo(map);
    rtcc.callGroup = L.featureGroup().addTo(map);
    rtcc.coneLayer = L.layerGroup().addTo(map);
    rtcc.ringLayer = L.layerGroup().addTo(map);
    rtcc.rankLayer = L.layerGroup().addTo(map);
    rtcc.hoverTip = L.tooltip({ direction: "top", offset: [0, -6], className: "rtcc-tip" });
    L.control.scale({ metric: true, imperial: true, position: "bottomleft" }).addTo(map);
    addLegend();
    addTileNotice();

    rtcc.camGroup.on("click", function (e) {
      if (rtcc.bridge && e.layer.camId) rtcc.bridge.cameraClicked(e.layer.camId);
    });
    rtcc.rankLayer.on("click", function (e) {
      if (rtcc.bridge && e.layer.camId) rtcc.bridge.cameraClicked(e.layer.camId);
    });
    rtcc.rankLayer.on("mouseover", function (e) { if (e.layer.camId) showCameraTip(e.layer); });
    rtcc.rankLayer.on("mouseout", function () { map.closeTooltip(rtcc.hoverTip); });
    rtcc.camGroup.on("mouseover", function (e) { showCameraTip(e.layer); });
    rtcc.camGroup.on("mouseout", function () { map.closeTooltip(rtcc.hoverTip); });
    rtcc.callGroup.on("click", function (e) {
      if (rtcc.bridge && e.layer.callId) rtcc.bridge.callClicked(e.layer.callId);
    });
    map.on("zoomend moveend", drawCones);
    map.on("zoomend", drawRanked);

    if (window.qt && window.QWebChannel) {
      new QWebChannel(qt.webChannelTransport, function (channel) {
        rtcc.bridge = channel.objects.bridge;
        rtcc.ready = true;
        rtcc.bridge.pageReady();
      });
    } else {
      rtcc.ready = true;
    }
  };

  // Tooltip text of a camera: its name and id, its rank for the selected call, who owns it,
  // tier, sharing mode, distance to the selected call.
  rtcc.cameraTip = function (id) {
    var c = rtcc.cams[id];
    if (!c) return null;
    var rank = rtcc.ranked.indexOf(id);
    var html = (rank >= 0 ? "<b>#" + (rank + 1) + "</b> " : "") + "<b>" + esc(c[9] || c[0]) + "</b>" +
      " <span class='id'>" + esc(c[0]) + "</span><br>" + esc(KIND[c[5]] || "?") + " · " + esc(TIER[c[3]]) +
      " · " + esc(MODE[c[4]]);
    if (isStale(c)) html += "<br><span class='stale'>" + (c[10] ? "not confirmed since " + esc(c[10]) : "never confirmed") + "</span>";
    var call = rtcc.selectedCall && rtcc.calls[rtcc.selectedCall];
    if (call) html += "<br>" + Math.round(haversine(call.lat, call.lon, c[1], c[2])) + " m from the selected call";
    return html;
  };

  function showCameraTip(layer) {
    var html = rtcc.cameraTip(layer.camId);
    if (html === null) return;
    var c = rtcc.cams[layer.camId];
    rtcc.hoverTip.setLatLng([c[1], c[2]]).setContent(html);
    rtcc.map.openTooltip(rtcc.hoverTip);
    rtcc.lastTip = html;
  }

  function makeCamera(row) {
    var s = isStale(row) ? STALE : camStyle(row[3], row[4]);
    var m = L.circleMarker([row[1], row[2]], {
      renderer: rtcc.camRenderer, radius: s.radius, color: s.color, fillColor: s.fillColor,
      fill: s.fill, fillOpacity: s.fillOpacity || 0, weight: s.weight, opacity: 0.95,
      dashArray: s.dashArray || null
    });
    m.camId = row[0];
    return m;
  }

  // rows: [[id, lat, lon, tier, mode, kind, heading, fov, range], ...] as a JSON string.
  rtcc.setCameras = function (json) {
    var rows = JSON.parse(json);
    var group = rtcc.camGroup;
    rtcc.map.removeLayer(group);
    group.clearLayers();
    rtcc.cams = {};
    rtcc.camLayers = {};
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      rtcc.cams[r[0]] = r;
      var m = makeCamera(r);
      rtcc.camLayers[r[0]] = m;
      group.addLayer(m);
    }
    rtcc.camCount = rows.length;
    group.addTo(rtcc.map);
    drawCones();
    requestAnimationFrame(function () {
      requestAnimationFrame(function () {
        rtcc.camerasDrawnMs = performance.now();
        if (rtcc.bridge) rtcc.bridge.camerasDrawn(rtcc.camCount, rtcc.camerasDrawnMs);
      });
    });
  };

  rtcc.upsertCamera = function (row) {
    rtcc.removeCamera(row[0]);
    rtcc.cams[row[0]] = row;
    var m = makeCamera(row);
    rtcc.camLayers[row[0]] = m;
    rtcc.camGroup.addLayer(m);
    rtcc.camCount += 1;
  };

  rtcc.removeCamera = function (id) {
    var m = rtcc.camLayers && rtcc.camLayers[id];
    if (!m) return;
    rtcc.camGroup.removeLayer(m);
    delete rtcc.camLayers[id];
    delete rtcc.cams[id];
    rtcc.camCount -= 1;
    rtcc.ranked = rtcc.ranked.filter(function (x) { return x !== id; });
    drawRanked();
  };

  function conePoints(lat, lon, heading, fov, range) {
    var pts = [[lat, lon]];
    var mPerDegLat = 111320, mPerDegLon = 111320 * Math.cos(lat * Math.PI / 180);
    for (var a = heading - fov / 2; a <= heading + fov / 2 + 0.01; a += fov / 8) {
      var t = a * Math.PI / 180;
      pts.push([lat + range * Math.cos(t) / mPerDegLat, lon + range * Math.sin(t) / mPerDegLon]);
    }
    return pts;
  }

  function drawCones() {
    rtcc.coneLayer.clearLayers();
    rtcc.cones = 0;
    if (!rtcc.map || rtcc.map.getZoom() < CONE_MIN_ZOOM) return;
    var b = rtcc.map.getBounds().pad(0.2);
    for (var id in rtcc.cams) {
      var c = rtcc.cams[id];
      if (c[6] === null || !b.contains([c[1], c[2]])) continue;
      var s = isStale(c) ? STALE : camStyle(c[3], c[4]);
      L.polygon(conePoints(c[1], c[2], c[6], c[7] || 70, c[8] || 40), {
        renderer: rtcc.coneRenderer, interactive: false, stroke: false,
        fillColor: s.color, fillOpacity: 0.18
      }).addTo(rtcc.coneLayer);
      if (++rtcc.cones >= MAX_CONES) break;
    }
  }

  function callStyle(call, selected) {
    var color = call.closed ? "#66727f" : (PRIORITY_COLORS[call.priority] || "#8fa3b8");
    return { radius: selected ? 11 : 8, color: selected ? "#ffffff" : "#0b0f14", weight: selected ? 3 : 2,
      fillColor: color, fillOpacity: 0.95, renderer: rtcc.callRenderer };
  }

  rtcc.upsertCall = function (call) {
    var old = rtcc.calls[call.id];
    if (old && old.layer) rtcc.callGroup.removeLayer(old.layer);
    var m = L.circleMarker([call.lat, call.lon], callStyle(call, call.id === rtcc.selectedCall));
    m.callId = call.id;
    m.bindTooltip("<b>P" + esc(call.priority) + " " + esc(call.type) + "</b><br>" + esc(call.address),
      { direction: "top", className: "rtcc-tip" });
    call.layer = m;
    rtcc.calls[call.id] = call;
    rtcc.callGroup.addLayer(m);
    if (call.id === rtcc.selectedCall) drawRings();
  };

  rtcc.removeCall = function (id) {
    var old = rtcc.calls[id];
    if (!old) return;
    rtcc.callGroup.removeLayer(old.layer);
    delete rtcc.calls[id];
    if (rtcc.selectedCall === id) rtcc.selectCall(null, false);
  };

  rtcc.setCalls = function (calls) {
    rtcc.callGroup.clearLayers();
    rtcc.calls = {};
    for (var i = 0; i < calls.length; i++) rtcc.upsertCall(calls[i]);
  };

  function drawRings() {
    rtcc.ringLayer.clearLayers();
    var call = rtcc.selectedCall && rtcc.calls[rtcc.selectedCall];
    if (!call) return;
    for (var i = 0; i < RINGS.length; i++) {
      L.circle([call.lat, call.lon], {
        radius: RINGS[i], renderer: rtcc.ringRenderer, interactive: false, fill: i === 0,
        fillOpacity: 0.06, color: "#e8eef5", opacity: 0.75, weight: 1.2, dashArray: "6 5"
      }).addTo(rtcc.ringLayer);
      var north = call.lat + RINGS[i] / 111320;
      L.marker([north, call.lon], { interactive: false, pane: "rtccRings",
        icon: L.divIcon({ className: "rtcc-ring-label", html: RINGS[i] + " m", iconSize: [44, 14], iconAnchor: [22, 7] }) })
        .addTo(rtcc.ringLayer);
    }
  }

  // Label boxes in screen pixels that never overlap one another, the call's marker or the
  // ranked markers: each label tries positions around its camera at growing distances and
  // takes the first free one; a label placed away from its camera gets a leader line.
  var LABEL_W = 22, LABEL_H = 16;
  var LABEL_DIRS = [[1, 0], [1, -1], [1, 1], [0, -1], [0, 1], [-1, 0], [-1, -1], [-1, 1]];

  function overlaps(a, boxes) {
    for (var i = 0; i < boxes.length; i++) {
      var b = boxes[i];
      if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) return true;
    }
    return false;
  }

  rtcc.placeLabels = function (points, obstacles) {
    var boxes = obstacles.slice(), out = [];
    for (var i = 0; i < points.length; i++) {
      var p = points[i], placed = null;
      for (var ring = 0; ring < 10 && !placed; ring++) {
        var d = 14 + ring * 12;
        for (var k = 0; k < LABEL_DIRS.length && !placed; k++) {
          var cx = p.x + LABEL_DIRS[k][0] * d, cy = p.y + LABEL_DIRS[k][1] * d;
          var box = { x: cx - LABEL_W / 2, y: cy - LABEL_H / 2, w: LABEL_W, h: LABEL_H };
          if (!overlaps(box, boxes)) placed = box;
        }
      }
      if (!placed) placed = { x: p.x + 14, y: p.y - LABEL_H / 2 - (i + 1) * LABEL_H, w: LABEL_W, h: LABEL_H };
      boxes.push(placed);
      out.push(placed);
    }
    return out;
  };

  function drawRanked() {
    rtcc.rankLayer.clearLayers();
    rtcc.rankBoxes = [];
    if (!rtcc.map) return;
    var pts = [], ranks = [], obstacles = [];
    var call = rtcc.selectedCall && rtcc.calls[rtcc.selectedCall];
    if (call) {
      var cp = rtcc.map.latLngToContainerPoint([call.lat, call.lon]);
      obstacles.push({ x: cp.x - 12, y: cp.y - 12, w: 24, h: 24 });
    }
    for (var i = 0; i < rtcc.ranked.length; i++) {
      var c = rtcc.cams[rtcc.ranked[i]];
      if (!c) continue;
      var p = rtcc.map.latLngToContainerPoint([c[1], c[2]]);
      pts.push(p);
      ranks.push(i);
      obstacles.push({ x: p.x - 8, y: p.y - 8, w: 16, h: 16 });
    }
    var boxes = rtcc.placeLabels(pts, obstacles);
    for (var j = 0; j < pts.length; j++) {
      var rank = ranks[j], id = rtcc.ranked[rank], cam = rtcc.cams[id];
      var sel = id === rtcc.selectedCamera;
      var ring = L.circleMarker([cam[1], cam[2]], { renderer: rtcc.ringRenderer, pane: "rtccRanked",
        radius: sel ? 10 : 7, color: sel ? "#ffffff" : "#e8eef5", weight: sel ? 3 : 1.5, fill: true, fillOpacity: 0,
        dashArray: isStale(cam) ? "3 3" : null });
      ring.camId = id;
      ring.addTo(rtcc.rankLayer);
      var b = boxes[j], centre = L.point(b.x + b.w / 2, b.y + b.h / 2);
      if (centre.distanceTo(pts[j]) > 22) {
        L.polyline([rtcc.map.containerPointToLatLng(pts[j]), rtcc.map.containerPointToLatLng(centre)], {
          renderer: rtcc.ringRenderer, pane: "rtccRanked", interactive: false, color: "#e8eef5", weight: 1, opacity: 0.8
        }).addTo(rtcc.rankLayer);
      }
      var label = L.marker(rtcc.map.containerPointToLatLng(centre), { pane: "rtccRanked", keyboard: false,
        icon: L.divIcon({ className: "rtcc-rank-label" + (sel ? " sel" : ""), html: String(rank + 1),
          iconSize: [LABEL_W, LABEL_H], iconAnchor: [LABEL_W / 2, LABEL_H / 2] }) });
      label.camId = id;
      label.addTo(rtcc.rankLayer);
      rtcc.rankBoxes.push({ rank: rank + 1, x: b.x, y: b.y, w: b.w, h: b.h });
    }
  }

  // Frame the call and every ranked camera (at least the 250 m ring), once per selection.
  function fitCallAndRanked() {
    var call = rtcc.selectedCall && rtcc.calls[rtcc.selectedCall];
    if (!call) return;
    var bounds = L.latLng(call.lat, call.lon).toBounds(500);
    for (var i = 0; i < rtcc.ranked.length; i++) {
      var c = rtcc.cams[rtcc.ranked[i]];
      if (c) bounds.extend([c[1], c[2]]);
    }
    rtcc.map.fitBounds(bounds, { animate: false, maxZoom: 17, padding: [28, 28] });
  }

  // Select a call (or null): highlight, rings at 100/250/500 m, and frame the 500 m ring.
  rtcc.selectCall = function (id, center) {
    var prev = rtcc.selectedCall && rtcc.calls[rtcc.selectedCall];
    rtcc.selectedCall = id && rtcc.calls[id] ? id : null;
    if (prev) prev.layer.setStyle(callStyle(prev, false)).setRadius(8);
    var call = rtcc.selectedCall && rtcc.calls[rtcc.selectedCall];
    if (call) {
      call.layer.setStyle(callStyle(call, true)).setRadius(11);
      call.layer.bringToFront();
      if (center) {
        rtcc.map.fitBounds(L.latLng(call.lat, call.lon).toBounds(1100), { animate: false, maxZoom: 17 });
        rtcc.fitPending = true;  // refined when the ranked cameras arrive
      }
    }
    drawRings();
    drawRanked();
    return rtcc.selectedCall;
  };

  rtcc.setRanked = function (ids) {
    rtcc.ranked = ids.slice();
    if (rtcc.fitPending && ids.length) {
      rtcc.fitPending = false;
      fitCallAndRanked();
    }
    drawRanked();
  };

  rtcc.fitCallAndRanked = fitCallAndRanked;

  // For tests: whether each [lat, lon] is inside the visible map.
  rtcc.boundsContain = function (points) {
    var b = rtcc.map.getBounds();
    return points.map(function (p) { return b.contains(p); });
  };

  rtcc.selectCamera = function (id) {
    rtcc.selectedCamera = id;
    drawRanked();
    var c = rtcc.cams[id];
    if (c && !rtcc.map.getBounds().contains([c[1], c[2]])) rtcc.map.panTo([c[1], c[2]], { animate: false });
  };

  rtcc.focusCall = function () {
    var call = rtcc.selectedCall && rtcc.calls[rtcc.selectedCall];
    if (call) rtcc.map.setView([call.lat, call.lon], Math.max(rtcc.map.getZoom(), 16), { animate: false });
  };

  // For tests: tiles loaded so far, and the attribution line as text.
  rtcc.tileLoadCount = function () { return rtcc.tileLoads; };
  rtcc.attributionText = function () {
    var el = document.querySelector(".leaflet-control-attribution");
    return el ? el.textContent : "";
  };

  // For tests: which fixed controls are on the page (scale, legend, offline notice).
  rtcc.domSummary = function () {
    var scale = document.querySelector(".leaflet-control-scale-line");
    var legend = document.querySelector(".rtcc-legend");
    return { scale: scale ? scale.textContent : "", legend: legend ? legend.textContent : "",
      notice: rtcc.notice && rtcc.notice.style.display !== "none" ? rtcc.notice.textContent : "" };
  };

  // For tests: the screen boxes of the rank labels, and where the map and the notice are.
  rtcc.layoutSummary = function () {
    var box = rtcc.map.getContainer().getBoundingClientRect();
    var n = rtcc.notice && rtcc.notice.style.display !== "none" ? rtcc.notice.getBoundingClientRect() : null;
    return { labels: (rtcc.rankBoxes || []).slice(), mapTop: box.top, mapBottom: box.bottom,
      notice: n ? { top: n.top, bottom: n.bottom } : null };
  };

  // For tests and screenshots: open a camera's hover tooltip as the pointer would.
  rtcc.showCameraTip = function (id) {
    var m = rtcc.camLayers && rtcc.camLayers[id];
    if (m) showCameraTip(m);
    return !!m;
  };
  rtcc.openTipText = function () {
    var el = document.querySelector(".rtcc-tip");
    return el ? el.textContent : "";
  };

  // For tests: how a camera's marker is drawn (colour, dashes, radius), or null.
  rtcc.cameraStyle = function (id) {
    var m = rtcc.camLayers && rtcc.camLayers[id];
    if (!m) return null;
    var o = m.options;
    return { color: o.color, dashArray: o.dashArray || null, radius: o.radius, fill: o.fill };
  };

  // For tests and the bench: a plain snapshot of what the page shows.
  rtcc.state = function () {
    var ids = Object.keys(rtcc.calls).sort();
    var rings = [];
    rtcc.ringLayer.eachLayer(function (l) { if (l instanceof L.Circle) rings.push(l.getRadius()); });
    var center = rtcc.map.getCenter();
    return {
      ready: rtcc.ready, cameras: rtcc.camCount, calls: ids.length, callIds: ids,
      selected: rtcc.selectedCall, selectedCall: rtcc.selectedCall, selectedCamera: rtcc.selectedCamera, rings: rings,
      ranked: rtcc.ranked.slice(), cones: rtcc.cones, zoom: rtcc.map.getZoom(),
      center: [center.lat, center.lng], tileErrors: rtcc.tileErrors,
      noticeShown: rtcc.notice ? rtcc.notice.style.display !== "none" : false,
      camerasDrawnMs: rtcc.camerasDrawnMs, vectorDraws: rtcc.vectorDraws || 0,
      vectorLabels: rtcc.vectorLabels || 0, vectorLabel: rtcc.vectorLabel || ""
    };
  };
})();
