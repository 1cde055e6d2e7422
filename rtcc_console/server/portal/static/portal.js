/* Owner portal: progressive enhancement only (every form works without this file).
   Map pin and aim handle (Leaflet, served locally), local times, panic confirmation,
   resumable uploads with tus-js-client (served locally). */
(function () {
  "use strict";

  function destination(lat, lon, bearingDeg, metres) {
    var r = 6371000, b = bearingDeg * Math.PI / 180, p1 = lat * Math.PI / 180, l1 = lon * Math.PI / 180, d = metres / r;
    var p2 = Math.asin(Math.sin(p1) * Math.cos(d) + Math.cos(p1) * Math.sin(d) * Math.cos(b));
    var l2 = l1 + Math.atan2(Math.sin(b) * Math.sin(d) * Math.cos(p1), Math.cos(d) - Math.sin(p1) * Math.sin(p2));
    return [p2 * 180 / Math.PI, l2 * 180 / Math.PI];
  }
  function bearing(a, b) {
    var p1 = a.lat * Math.PI / 180, p2 = b.lat * Math.PI / 180, dl = (b.lng - a.lng) * Math.PI / 180;
    var y = Math.sin(dl) * Math.cos(p2), x = Math.cos(p1) * Math.sin(p2) - Math.sin(p1) * Math.cos(p2) * Math.cos(dl);
    return (Math.atan2(y, x) * 180 / Math.PI + 360) % 360;
  }
  function baseMap(el, center, zoom) {
    var map = L.map(el).setView(center, zoom);
    if (el.dataset.tiles) { L.tileLayer(el.dataset.tiles, { maxZoom: 19 }).addTo(map); }
    return map;
  }

  function cameraForm() {
    var el = document.getElementById("map"), form = document.getElementById("camera-form");
    if (!el || !form || typeof L === "undefined") { return; }
    var lat = document.getElementById("lat"), lon = document.getElementById("lon");
    var heading = document.getElementById("heading_deg"), fov = document.getElementById("fov_deg");
    var has = lat.value && lon.value;
    var map = baseMap(el, has ? [+lat.value, +lon.value] : [40.7128, -74.006], has ? 18 : 12);
    var pin = null, aim = null, cone = null;
    function drawCone() {
      if (!pin || !heading.value) { if (cone) { map.removeLayer(cone); cone = null; } return; }
      var c = pin.getLatLng(), h = +heading.value, f = +(fov.value || 90), pts = [[c.lat, c.lng]];
      for (var a = h - f / 2; a <= h + f / 2 + 0.01; a += Math.max(f / 12, 1)) { pts.push(destination(c.lat, c.lng, a, 40)); }
      if (cone) { cone.setLatLngs(pts); } else { cone = L.polygon(pts, { color: "#0b5394", weight: 2 }).addTo(map); }
      var tip = destination(c.lat, c.lng, h, 40);
      if (aim) { aim.setLatLng(tip); } else {
        aim = L.circleMarker(tip, { radius: 9, color: "#1a1a1a", fillColor: "#ffd23f", fillOpacity: 1 }).addTo(map);
        aim.on("mousedown", function () {
          map.dragging.disable();
          map.on("mousemove", dragAim);
          map.once("mouseup", function () { map.off("mousemove", dragAim); map.dragging.enable(); });
        });
      }
    }
    function dragAim(e) { heading.value = bearing(pin.getLatLng(), e.latlng).toFixed(0); if (!fov.value) { fov.value = "90"; } drawCone(); }
    function place(latlng) {
      lat.value = latlng.lat.toFixed(6); lon.value = latlng.lng.toFixed(6);
      if (pin) { pin.setLatLng(latlng); } else {
        pin = L.marker(latlng, { draggable: true, keyboard: true, title: "Camera" }).addTo(map);
        if (map.getZoom() < 17) { map.setView(latlng, 18); }
        pin.on("dragend", function () { place(pin.getLatLng()); });
      }
      if (!heading.value) { heading.value = "0"; if (!fov.value) { fov.value = "90"; } }
      drawCone();
    }
    if (has) { place(L.latLng(+lat.value, +lon.value)); }
    map.on("click", function (e) { place(e.latlng); });
    [lat, lon].forEach(function (i) { i.addEventListener("change", function () {
      if (isFinite(+lat.value) && isFinite(+lon.value) && lat.value && lon.value) { place(L.latLng(+lat.value, +lon.value)); map.panTo(pin.getLatLng()); }
    }); });
    [heading, fov].forEach(function (i) { i.addEventListener("input", drawCone); });
  }

  function requestPage() {
    var el = document.getElementById("map");
    if (el && el.dataset.area && typeof L !== "undefined" && !document.getElementById("camera-form")) {
      var area = null;
      try { area = JSON.parse(el.dataset.area); } catch (e) { area = null; }
      var map = baseMap(el, [40.7128, -74.006], 15), layer = null;
      var style = { color: "#a1001c" };
      if (area && area.kind === "circle" && area.center) {
        layer = L.circle([area.center.lat, area.center.lon], { radius: area.radius_m, color: "#a1001c" }).addTo(map);
      } else if (area && area.kind === "polygon" && area.points) {
        layer = L.polygon(area.points.map(function (p) { return [p.lat, p.lon]; }), style).addTo(map);
      } else if (area && area.kind === "corridor" && area.points) {
        layer = L.polyline(area.points.map(function (p) { return [p.lat, p.lon]; }), style).addTo(map);
      }
      if (layer) { map.fitBounds(layer.getBounds(), { maxZoom: 18 }); }
    }
    document.querySelectorAll("time.local").forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d)) { t.textContent = d.toLocaleString([], { dateStyle: "medium", timeStyle: "short" }); t.title = t.getAttribute("datetime"); }
    });
    var form = document.getElementById("upload-form");
    if (!form || typeof tus === "undefined") { return; }
    var input = document.getElementById("file"), bar = document.getElementById("upload-progress");
    var status = document.getElementById("upload-status"), list = document.getElementById("receipts");
    var resume = document.getElementById("upload-resume"), token = form.dataset.token, current = null, stopped = false;
    function start(upload) {
      current = upload; stopped = false; resume.hidden = true; bar.hidden = false;
      upload.findPreviousUploads().then(function (previous) {
        if (previous.length) { upload.resumeFromPreviousUpload(previous[0]); }
        upload.start();
      });
    }
    form.addEventListener("submit", function (ev) {
      var file = input.files && input.files[0];
      if (!file) { return; }
      ev.preventDefault();
      var upload = new tus.Upload(file, {
        endpoint: "/api/v1/uploads", chunkSize: 256 * 1024, retryDelays: [0, 1000, 3000],
        headers: { "Upload-Token": token }, storeFingerprintForResuming: true, removeFingerprintOnSuccess: true,
        metadata: { filename: file.name, request_token: token },
        onProgress: function (sent, total) {
          if (stopped) { return; }
          var pct = total ? Math.floor(sent * 100 / total) : 0;
          bar.value = pct; bar.textContent = pct + "%"; status.textContent = "Uploading " + file.name + ": " + pct + "%";
          if (window.rtccDropAt && sent / total >= window.rtccDropAt) {  // a dropped connection, as tests make one
            window.rtccDropAt = 0; stopped = true; upload.abort();
            status.textContent = "The upload stopped at " + pct + "%. Press “Resume upload” to continue where it stopped.";
            resume.hidden = false;
          }
        },
        onError: function (err) {
          status.textContent = "The upload stopped (" + (err && err.message ? err.message.split("\n")[0] : "connection lost") + "). Press “Resume upload” to continue where it stopped.";
          resume.hidden = false;
        },
        onSuccess: function () {
          var id = upload.url.split("/").pop();
          fetch("/api/v1/uploads/" + encodeURIComponent(id) + "/receipt", { headers: { "Upload-Token": token } })
            .then(function (r) { return r.json(); })
            .then(function (rec) {
              var li = document.createElement("li"), code = document.createElement("code");
              li.textContent = (rec.filename || file.name) + " received. SHA-256: ";
              code.textContent = rec.sha256 || "?"; code.className = "sha256"; li.appendChild(code); list.appendChild(li);
              status.textContent = "Received " + (rec.filename || file.name) + ". Keep the SHA-256 fingerprint as your receipt.";
            });
        }
      });
      start(upload);
    });
    resume.addEventListener("click", function () { if (current) { start(current); } });
    window.rtccPortalUpload = function () { return current; };
  }

  function panicPage() {
    var form = document.getElementById("panic-form");
    if (!form || !document.getElementById("panic")) { return; }
    form.addEventListener("submit", function (ev) {
      if (!window.confirm("Start an emergency now? The crime center will see your cameras live.")) { ev.preventDefault(); return; }
      var c = document.createElement("input"); c.type = "hidden"; c.name = "confirm"; c.value = "yes"; form.appendChild(c);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { cameraForm(); requestPage(); panicPage(); });
}());
