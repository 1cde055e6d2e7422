/* RTCC map page: the footage-request area. A circle of chosen radius around the call, a
 * polygon, or a corridor (a drawn path with a width), drawn and edited with the vendored
 * Leaflet-Geoman tools (vertex / centre / radius handles). Every change is reported to
 * Python as JSON through bridge.areaChanged: {"area": <contract area>, "area_m2": n}.
 * Python drives it through rtcc.draw.* (arguments JSON-encoded by ui/js.py). */
(function () {
  "use strict";

  var R = 6371008.8;
  var STYLE = { color: "#f5b431", weight: 2, fillColor: "#f5b431", fillOpacity: 0.12 };
  var SHOWN = { color: "#c084fc", weight: 2, fillColor: "#c084fc", fillOpacity: 0.10, dashArray: "6 4" };

  var draw = {
    layer: null, kind: null, band: null, widthM: 100, radiusM: 150, pending: null,
    shown: null, shownBand: null, labelCtl: null, lastReport: null, editable: true
  };

  function rtcc() { return window.rtcc; }
  function map() { return window.rtcc.map; }

  function toRad(d) { return d * Math.PI / 180; }

  // Geodesic area of a ring on the sphere (the formula Leaflet.draw and GEOS use at this scale).
  function ringArea(points) {
    var n = points.length, total = 0;
    if (n < 3) return 0;
    for (var i = 0; i < n; i++) {
      var p1 = points[i], p2 = points[(i + 1) % n];
      total += toRad(p2.lon - p1.lon) * (2 + Math.sin(toRad(p1.lat)) + Math.sin(toRad(p2.lat)));
    }
    return Math.abs(total * R * R / 2);
  }

  function dist(a, b) {
    var dLat = toRad(b.lat - a.lat), dLon = toRad(b.lon - a.lon);
    var h = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
      Math.cos(toRad(a.lat)) * Math.cos(toRad(b.lat)) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
  }

  function bearing(a, b) {
    var y = Math.sin(toRad(b.lon - a.lon)) * Math.cos(toRad(b.lat));
    var x = Math.cos(toRad(a.lat)) * Math.sin(toRad(b.lat)) -
      Math.sin(toRad(a.lat)) * Math.cos(toRad(b.lat)) * Math.cos(toRad(b.lon - a.lon));
    return Math.atan2(y, x);
  }

  // A path buffered by width/2 with round caps and joins: length x width + the end disc,
  // corrected at each bend (outer wedge added, inner overlap removed).
  function corridorArea(points, width) {
    var r = width / 2, length = 0, bends = 0;
    if (points.length < 2 || !(width > 0)) return 0;
    for (var i = 0; i + 1 < points.length; i++) length += dist(points[i], points[i + 1]);
    for (var j = 1; j + 1 < points.length; j++) {
      var turn = Math.abs(bearing(points[j], points[j + 1]) - bearing(points[j - 1], points[j]));
      if (turn > Math.PI) turn = 2 * Math.PI - turn;
      bends += turn / 2 - Math.tan(Math.min(turn, 3.0) / 2);
    }
    return length * width + Math.PI * r * r + bends * r * r;
  }

  draw.areaM2 = function (area) {
    if (!area) return 0;
    if (area.kind === "circle") return Math.PI * area.radius_m * area.radius_m;
    if (area.kind === "polygon") return ringArea(area.points);
    if (area.kind === "corridor") return corridorArea(area.points, area.width_m);
    return 0;
  };

  function pts(latlngs) {
    return latlngs.map(function (ll) { return { lat: ll.lat, lon: ll.lng }; });
  }

  function lls(points) {
    return points.map(function (p) { return [p.lat, p.lon]; });
  }

  // The current area in the contract's shape (null when nothing is drawn).
  draw.area = function () {
    var l = draw.layer;
    if (!l) return null;
    if (draw.kind === "circle") {
      var c = l.getLatLng();
      return { kind: "circle", center: { lat: c.lat, lon: c.lng }, radius_m: l.getRadius() };
    }
    if (draw.kind === "polygon") {
      var ring = l.getLatLngs()[0] || [];
      return { kind: "polygon", points: pts(ring) };
    }
    if (draw.kind === "corridor") {
      return { kind: "corridor", points: pts(l.getLatLngs()), width_m: draw.widthM };
    }
    return null;
  };

  function metresPerPixel(lat) {
    return 40075016.686 * Math.cos(toRad(lat)) / Math.pow(2, map().getZoom() + 8);
  }

  // The corridor's band: the path stroked at the width in metres, converted to pixels for
  // the current zoom (round caps and joins make the stroke exactly the buffered area).
  function bandWeight(line, widthM) {
    var c = line.getBounds().getCenter();
    return Math.max(2, widthM / metresPerPixel(c.lat));
  }

  function redrawBand() {
    if (draw.kind === "corridor" && draw.layer && draw.band) {
      draw.band.setLatLngs(draw.layer.getLatLngs());
      draw.band.setStyle({ weight: bandWeight(draw.layer, draw.widthM) });
    }
    if (draw.shown && draw.shownBand) {
      draw.shownBand.setStyle({ weight: bandWeight(draw.shown.line, draw.shown.width) });
    }
  }

  function fmt(m2) {
    var sqmi = m2 / 2589988.110336;
    var m = m2 >= 1e6 ? (m2 / 1e6).toFixed(2) + " km²" : Math.round(m2).toLocaleString("en-US") + " m²";
    return m + " · " + sqmi.toFixed(sqmi < 0.01 ? 4 : 3) + " sq mi";
  }

  function updateLabel(m2) {
    if (!draw.labelCtl) {
      var ctl = L.control({ position: "topleft" });
      ctl.onAdd = function () { return L.DomUtil.create("div", "rtcc-area-label"); };
      ctl.addTo(map());
      draw.labelCtl = ctl;
    }
    var div = draw.labelCtl.getContainer();
    if (m2 === null) {
      div.style.display = "none";
      return;
    }
    var names = { circle: "Circle", polygon: "Polygon", corridor: "Corridor" };
    div.style.display = "block";
    div.textContent = (names[draw.kind] || "Area") + ": " + fmt(m2);
  }

  function report() {
    var area = draw.area();
    var m2 = area ? draw.areaM2(area) : null;
    updateLabel(m2);
    redrawBand();
    var msg = JSON.stringify({ area: area, area_m2: m2 });
    draw.lastReport = msg;
    var r = rtcc();
    if (r.bridge && r.bridge.areaChanged) r.bridge.areaChanged(msg);
  }

  function watch(layer) {
    layer.on("pm:edit pm:markerdrag pm:vertexadded pm:vertexremoved pm:dragend pm:change", report);
  }

  function removeCurrent() {
    if (draw.layer) map().removeLayer(draw.layer);
    if (draw.band) map().removeLayer(draw.band);
    draw.layer = null;
    draw.band = null;
  }

  function adopt(layer, kind) {
    removeCurrent();
    draw.kind = kind;
    draw.layer = layer;
    layer.setStyle(kind === "corridor" ? { color: STYLE.color, weight: 3, dashArray: "4 4" } : STYLE);
    if (!map().hasLayer(layer)) layer.addTo(map());
    if (kind === "corridor") {
      draw.band = L.polyline(layer.getLatLngs(), {
        color: STYLE.color, opacity: 0.22, lineCap: "round", lineJoin: "round",
        weight: bandWeight(layer, draw.widthM), interactive: false, pmIgnore: true
      }).addTo(map());
      draw.band.bringToBack();
    }
    watch(layer);
    if (draw.editable && layer.pm) layer.pm.enable({ allowSelfIntersection: false });
    report();
  }

  function created(e) {
    var kind = draw.pending;
    draw.pending = null;
    map().pm.disableDraw();
    if (!kind) {
      map().removeLayer(e.layer);
      return;
    }
    adopt(e.layer, kind);
  }

  draw.init = function () {
    var m = map();
    if (!m.pm || draw.ready) return;
    m.pm.setGlobalOptions({ pathOptions: STYLE, templineStyle: { color: STYLE.color },
      hintlineStyle: { color: STYLE.color, dashArray: [5, 5] }, allowSelfIntersection: false,
      snappable: false, continueDrawing: false });
    m.on("pm:create", created);
    m.on("zoomend", redrawBand);
    draw.ready = true;
  };

  // kind: "circle" (opts.center {lat, lon}, opts.radius_m), "polygon", "corridor" (opts.width_m).
  draw.start = function (kind, opts) {
    draw.init();
    opts = opts || {};
    var m = map();
    m.pm.disableDraw();
    draw.pending = null;
    if (opts.width_m) draw.widthM = opts.width_m;
    if (opts.radius_m) draw.radiusM = opts.radius_m;
    if (kind === "circle") {
      var c = opts.center;
      if (!c) {
        var mc = m.getCenter();
        c = { lat: mc.lat, lon: mc.lng };
      }
      adopt(L.circle([c.lat, c.lon], { radius: draw.radiusM }), "circle");
      return true;
    }
    var shape = kind === "polygon" ? "Polygon" : kind === "corridor" ? "Line" : null;
    if (!shape) return false;
    draw.pending = kind;
    m.pm.enableDraw(shape, { finishOn: kind === "corridor" ? "dblclick" : null });
    return true;
  };

  draw.drawing = function () { return draw.pending; };

  // Finish a polygon / path being drawn (as a click on its first vertex / a double-click).
  draw.finish = function () {
    var m = map();
    var shape = draw.pending === "polygon" ? "Polygon" : draw.pending === "corridor" ? "Line" : null;
    if (!shape) return false;
    var handler = m.pm.Draw[shape];
    if (handler && handler._finishShape) handler._finishShape();
    return draw.layer !== null && draw.pending === null;
  };

  draw.setRadius = function (radiusM) {
    draw.radiusM = radiusM;
    if (draw.kind === "circle" && draw.layer) {
      draw.layer.setRadius(radiusM);
      if (draw.layer.pm && draw.layer.pm.enabled()) { draw.layer.pm.disable(); draw.layer.pm.enable(); }
      report();
    }
  };

  draw.setWidth = function (widthM) {
    draw.widthM = widthM;
    if (draw.kind === "corridor") report();
  };

  // Put a given area on the map as the one being edited (a pre-filled form, a test).
  draw.setArea = function (area, fit) {
    draw.init();
    map().pm.disableDraw();
    draw.pending = null;
    if (!area) { draw.clear(); return; }
    var layer;
    if (area.kind === "circle") {
      draw.radiusM = area.radius_m;
      layer = L.circle([area.center.lat, area.center.lon], { radius: area.radius_m });
    } else if (area.kind === "polygon") {
      layer = L.polygon(lls(area.points));
    } else if (area.kind === "corridor") {
      draw.widthM = area.width_m;
      layer = L.polyline(lls(area.points));
    } else {
      return;
    }
    adopt(layer, area.kind);
    if (fit) map().fitBounds(layer.getBounds().pad(0.3), { animate: false, maxZoom: 17 });
  };

  draw.clear = function () {
    if (map().pm) map().pm.disableDraw();
    draw.pending = null;
    removeCurrent();
    draw.kind = null;
    report();
  };

  // A sent request's area, read-only, with its owners' cameras ringed ("show on map").
  draw.showRequest = function (area, cameraIds) {
    var m = map();
    if (draw.shown) { m.removeLayer(draw.shown.group); draw.shown = null; draw.shownBand = null; }
    if (!area) return;
    var group = L.featureGroup(), shape;
    if (area.kind === "circle") {
      shape = L.circle([area.center.lat, area.center.lon], Object.assign({ radius: area.radius_m, pmIgnore: true }, SHOWN));
    } else if (area.kind === "polygon") {
      shape = L.polygon(lls(area.points), Object.assign({ pmIgnore: true }, SHOWN));
    } else {
      shape = L.polyline(lls(area.points), { color: SHOWN.color, weight: 2, dashArray: "4 4", pmIgnore: true });
    }
    shape.addTo(group);
    draw.shown = { group: group, line: shape, width: area.width_m || 0, cameras: 0 };
    if (area.kind === "corridor") {
      draw.shownBand = L.polyline(lls(area.points), { color: SHOWN.color, opacity: 0.2, lineCap: "round",
        lineJoin: "round", weight: 2, interactive: false, pmIgnore: true }).addTo(group);
    }
    var cams = rtcc().cams || {};
    (cameraIds || []).forEach(function (id) {
      var c = cams[id];
      if (!c) return;
      L.circleMarker([c[1], c[2]], { radius: 8, color: "#c084fc", weight: 2.5, fill: false, interactive: false, pmIgnore: true })
        .addTo(group);
      draw.shown.cameras += 1;
    });
    group.addTo(m);
    m.fitBounds(shape.getBounds().pad(0.3), { animate: false, maxZoom: 17 });
    redrawBand();
  };

  // For tests: what is drawn, its area, and what is shown for a sent request.
  draw.state = function () {
    var area = draw.area();
    var label = draw.labelCtl ? draw.labelCtl.getContainer() : null;
    return {
      kind: draw.kind, pending: draw.pending, area: area, area_m2: area ? draw.areaM2(area) : null,
      editing: !!(draw.layer && draw.layer.pm && draw.layer.pm.enabled()),
      label: label && label.style.display !== "none" ? label.textContent : "",
      bandWeight: draw.band ? draw.band.options.weight : null,
      shown: draw.shown ? { cameras: draw.shown.cameras } : null,
      toolsLoaded: !!(map() && map().pm)
    };
  };

  // For tests and scripted demos: what a mouse click at (lat, lon) does while drawing.
  draw.clickAt = function (lat, lon) {
    var m = map(), ll = L.latLng(lat, lon);
    var shape = draw.pending === "polygon" ? "Polygon" : draw.pending === "corridor" ? "Line" : null;
    if (shape && m.pm.Draw[shape]._hintMarker) m.pm.Draw[shape]._hintMarker.setLatLng(ll);
    m.fire("click", { latlng: ll, layerPoint: m.latLngToLayerPoint(ll),
      containerPoint: m.latLngToContainerPoint(ll), originalEvent: {} });
    return shape !== null;
  };

  // For tests: drag the editing handle of vertex i to (lat, lon), as a mouse drag does.
  draw.dragVertex = function (i, lat, lon) {
    var pm = draw.layer && draw.layer.pm;
    var markers = pm && pm._markers ? (Array.isArray(pm._markers[0]) ? pm._markers[0] : pm._markers) : [];
    var mk = markers[i];
    if (!mk) return false;
    mk.fire("dragstart", { target: mk });
    mk.setLatLng([lat, lon]);
    mk.fire("drag", { target: mk, latlng: mk.getLatLng() });
    mk.fire("dragend", { target: mk });
    return true;
  };

  draw.handles = function () {
    var pm = draw.layer && draw.layer.pm;
    if (!pm || !pm.enabled()) return 0;
    if (draw.kind === "circle") return (pm._centerMarker ? 1 : 0) + (pm._outerMarker ? 1 : 0);
    var markers = pm._markers ? (Array.isArray(pm._markers[0]) ? pm._markers[0] : pm._markers) : [];
    return markers.length;
  };

  // For tests: a map point (lat, lon) as a pixel of the page.
  draw.pixelOf = function (lat, lon) {
    var p = map().latLngToContainerPoint([lat, lon]);
    var rect = map().getContainer().getBoundingClientRect();
    return [p.x + rect.left, p.y + rect.top];
  };

  window.rtcc.draw = draw;
})();
