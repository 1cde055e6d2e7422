// The officer's field page: polls the share's state each second; plays each live camera
// (HLS through hls.js when the page has it, or natively) and says when a feed is revoked.
(function () {
  "use strict";
  var share = document.body.getAttribute("data-share");
  var base = "/field/s/" + encodeURIComponent(share);
  var map = null, layer = null, cards = {}, ended = false;
  // The players by camera id, for measurement (rtcc bench field reads each frame's age).
  var players = window.rtccField = { players: {} };
  // Low-latency HLS parts by default; "?ll=0" plays whole segments (rtcc bench field compares).
  var lowLatency = !/[?&]ll=0(&|$)/.test(location.search);

  function text(id, value) { document.getElementById(id).textContent = value; }
  function age(iso) {
    var s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (s < 90) return s + " s ago";
    if (s < 5400) return Math.round(s / 60) + " min ago";
    return Math.round(s / 3600) + " h ago";
  }
  function banner(msg, bad) {
    var b = document.getElementById("banner");
    b.textContent = msg;
    b.className = bad ? "banner ended" : "banner";
  }

  function startVideo(card, id) {
    var v = card.video;
    if (card.mjpeg) {  // a camera that only gives MJPEG: its own pictures, streamed
      v.src = base + "/cameras/" + encodeURIComponent(id) + "/live.mjpeg?t=" + Date.now();
      return;
    }
    var url = base + "/cameras/" + encodeURIComponent(id) + "/index.m3u8";
    if (window.Hls && window.Hls.isSupported()) {
      // Low latency: hls.js keeps the playlist's PART-HOLD-BACK behind the live edge (a
      // liveSyncDuration* setting would override it) and plays up to 1.25x to keep there.
      var hls = new window.Hls(lowLatency
        ? { lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.25 }
        : { lowLatencyMode: false, liveSyncDurationCount: 2 });
      hls.loadSource(url);
      hls.attachMedia(v);
      card.hls = hls;
      players.players[id] = hls;
    } else if (v.canPlayType("application/vnd.apple.mpegurl")) {
      v.src = url;
    }
    v.play().catch(function () {});
  }
  function stopVideo(card) {
    if (card.hls) { card.hls.destroy(); card.hls = null; }
    card.video.removeAttribute("src");
    if (!card.mjpeg) card.video.load();
  }
  // Where the picture is now: the video's time, or a tiny sample of an MJPEG picture.
  function position(card) {
    if (!card.mjpeg) return card.video.currentTime;
    var img = card.video;
    if (!img.naturalWidth) return null;
    var c = card.probe || (card.probe = document.createElement("canvas"));
    c.width = 8; c.height = 8;
    var g = c.getContext("2d");
    g.drawImage(img, 0, 0, 8, 8);
    return Array.prototype.join.call(g.getImageData(0, 0, 8, 8).data, ",");
  }

  function renderCamera(cam) {
    var card = cards[cam.id];
    if (!card) {
      var el = document.createElement("article");
      el.className = "cam";
      el.id = "cam-" + cam.id;
      var h = document.createElement("h2");
      h.textContent = cam.name;
      var mjpeg = cam.player === "mjpeg";
      var v = document.createElement(mjpeg ? "img" : "video");
      if (mjpeg) { v.alt = "Live pictures of " + cam.name; } else {
        v.muted = true; v.autoplay = true; v.playsInline = true; v.setAttribute("playsinline", "");
      }
      var st = document.createElement("div");
      st.className = "state";
      el.appendChild(h); el.appendChild(v); el.appendChild(st);
      document.getElementById("cameras").appendChild(el);
      card = cards[cam.id] = { el: el, video: v, mjpeg: mjpeg, state: st, live: null, hls: null, lastT: null, movedAt: Date.now() };
    }
    if (card.live !== cam.live) {
      card.live = cam.live;
      if (cam.live) { card.movedAt = Date.now(); startVideo(card, cam.id); } else { stopVideo(card); }
    }
    card.el.className = cam.live ? "cam" : "cam off";
    if (!cam.live) { card.state.textContent = "Not available: " + cam.reason; return; }
    // A live feed whose picture has not moved for 6 s is said to be stale (poor connection).
    var t = position(card), now = Date.now();
    if (card.lastT !== t) { card.lastT = t; card.movedAt = now; }
    var still = card.movedAt ? Math.round((now - card.movedAt) / 1000) : 0;
    card.state.textContent = still >= 6 ? "Stale: no new picture for " + still + " s" : "Live";
    card.el.className = still >= 6 ? "cam stale" : "cam";
  }

  function renderMap(st) {
    if (!window.L) return;
    var c = st.call || st.emergency;  // an emergency's share: the site's point
    if (!map) {
      map = window.L.map("map", { zoomControl: false, attributionControl: false });
      layer = window.L.layerGroup().addTo(map);
    }
    layer.clearLayers();
    var pts = [];
    if (c.lat !== null && c.lon !== null) {
      window.L.circleMarker([c.lat, c.lon], { radius: 9, color: "#ff5252", fillOpacity: 0.8 })
        .bindTooltip(st.call ? "Scene" : (c.site_name || "Site")).addTo(layer);
      pts.push([c.lat, c.lon]);
    }
    st.cameras.forEach(function (cam) {
      if (cam.lat === null) return;
      window.L.circleMarker([cam.lat, cam.lon], { radius: 6, color: cam.live ? "#64b5f6" : "#888", fillOpacity: 0.8 })
        .bindTooltip(cam.name).addTo(layer);
      pts.push([cam.lat, cam.lon]);
    });
    if (pts.length && !map._fitted) { map.fitBounds(pts, { padding: [24, 24], maxZoom: 18 }); map._fitted = true; }
  }

  // An emergency with no call (a school's or business's panic): the site in place of the call.
  function renderEmergency(e) {
    var kind = e.site_kind ? " (" + e.site_kind + ")" : "";
    text("type", (e.site_name || "Emergency") + kind);
    var p = document.getElementById("priority");
    p.textContent = "EMERGENCY";
    p.className = "prio emg";
    text("address", e.location || "(no location given)");
    text("age", "started " + age(e.started_at));
    text("status", e.alarm_level === null ? "alarm level not given" : "alarm level " + e.alarm_level);
    var ul = document.getElementById("notes");
    ul.textContent = "";
    if (e.description) { var li = document.createElement("li"); li.textContent = e.description; ul.appendChild(li); }
  }

  function render(st) {
    text("until", new Date(st.expires_at).toLocaleTimeString());
    var live = st.cameras.filter(function (x) { return x.live; }).length;
    banner("Shared with " + st.officer + " · " + live + " of " + st.cameras.length + " cameras live", false);
    if (st.emergency) { renderEmergency(st.emergency); } else { renderCall(st.call); }
    st.cameras.forEach(renderCamera);
    renderMap(st);
  }

  function renderCall(c) {
    text("type", c.type);
    var p = document.getElementById("priority");
    p.textContent = "P" + c.priority;
    p.className = "prio p" + c.priority;
    text("address", c.address || "(no address)");
    text("age", age(c.reported_at));
    text("status", c.status.replace("_", " "));
    var ul = document.getElementById("notes");
    ul.textContent = "";
    c.notes.forEach(function (n) { var li = document.createElement("li"); li.textContent = n; ul.appendChild(li); });
  }

  function endAll(reason) {
    ended = true;
    banner("Share ended: " + reason, true);
    Object.keys(cards).forEach(function (k) {
      stopVideo(cards[k]);
      cards[k].el.className = "cam off";
      cards[k].state.textContent = "Not available: share ended";
    });
  }

  function poll() {
    if (ended) return;
    fetch(base + "/state", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json().then(function (j) { return [r.status, j]; }); })
      .then(function (res) {
        if (res[0] !== 200) { endAll(res[1].reason || ("error " + res[0])); return; }
        render(res[1]);
      })
      .catch(function () { banner("Connection lost: retrying…", true); })
      .then(function () { if (!ended) setTimeout(poll, 1000); });
  }
  poll();
})();
