"""``rtcc bench field``: officers' live video in the browser (issue 16).

Set-up, all on loopback: the camera simulator in this process (one 640x360 15 fps H.264
camera, 2 s keyframe interval, every access unit stamped with its send time), an
``rtcc server`` subprocess (SQLite), Debian's headless Chromium driven by selenium at
phone size (the officer's page with hls.js), and ``--viewers`` - 1 lightweight HTTP
viewers that poll the playlist and fetch each new segment as hls.js does.

Figures:

* ``first_frame_s``: from sending ``POST /calls/{id}/field-shares`` (the analyst's "send
  to field") to the first frame Chromium presents (``requestVideoFrameCallback``; the
  browser is already running, the link is opened as soon as the answer arrives).
* ``delay_s``: glass-to-glass, per presented frame, read in the browser: the server puts
  the camera's own capture stamp of each segment's first frame into
  ``EXT-X-PROGRAM-DATE-TIME``; for every frame Chromium presents, the page's hls.js
  fragment list maps the frame's media time to its capture time, and the delay is the
  presentation time (``performance.timeOrigin + expectedDisplayTime``) minus that.
* CPU of the server process (``/proc``), in windows of ``--seconds``: idle (no share),
  with the browser playing (its page also polls the share's state each second), then with
  lightweight viewers only (the browser closed): one, then ``--viewers``; first viewers
  that play low-latency parts as the page does (a blocking playlist reload and a part
  request per part), then viewers of whole segments. Per camera = one viewer - idle
  (repackaging and serving one viewer); per extra viewer = (N viewers - one viewer) /
  (N - 1). Reference, same run: decoding the same camera stream with PyAV (thread CPU of
  a decode-only loop in this process).
* ``delay_without_parts``: the same page reloaded with ``?ll=0`` (hls.js plays whole
  segments, two segments behind the live edge).

Targets (issue 16), on the page's default (low-latency parts): first frame <= 3 s, delay
<= 2 segment durations + 1 s (p95), CPU per extra viewer < 1 % of one core.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from rtcc_console.bench.chromium import headless_chromium
from rtcc_console.bench.common import machine_info

PASSWORD = "bench password 0123"
FAST_HASH = {
    "RTCC_ARGON2_TIME_COST": "1",
    "RTCC_ARGON2_MEMORY_KIB": "1024",
    "RTCC_ARGON2_PARALLELISM": "1",
    "RTCC_MFA_REQUIRED_ROLES": "[]",
}
FIRST_FRAME_TARGET_S = 3.0
EXTRA_VIEWER_TARGET_PCT = 1.0

# Installed in the officer's page: hooks every <video> the page makes, records when the
# first frame was presented and, for each presented frame, its age (capture -> screen).
HOOK = """
if (!window.__rtccBench) {
  var B = window.__rtccBench = {first: null, samples: [], hooked: {}};
  var capture = function (hls, mediaTime) {
    var lv = hls.levels && hls.levels[hls.currentLevel >= 0 ? hls.currentLevel : 0];
    var d = lv && lv.details;
    if (!d) return null;
    for (var i = d.fragments.length - 1; i >= 0; i--) {
      var f = d.fragments[i];
      if (f.programDateTime && mediaTime >= f.start - 0.001)
        return f.programDateTime + (mediaTime - f.start) * 1000;
    }
    return null;
  };
  var hook = function (v, id) {
    var cb = function (now, meta) {
      var shown = performance.timeOrigin + meta.expectedDisplayTime;
      if (B.first === null) B.first = shown;
      var hls = window.rtccField && window.rtccField.players[id];
      var cap = hls ? capture(hls, meta.mediaTime) : null;
      if (cap !== null) B.samples.push([shown, shown - cap]);
      v.requestVideoFrameCallback(cb);
    };
    v.requestVideoFrameCallback(cb);
  };
  setInterval(function () {
    document.querySelectorAll('.cam video').forEach(function (v) {
      var id = v.parentNode.id.slice(4);
      if (!B.hooked[id]) { B.hooked[id] = true; hook(v, id); }
    });
  }, 5);
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Server:
    """``rtcc server`` in a subprocess, so that its CPU is its own."""

    def __init__(self, db_url: str, env_extra: dict[str, str]) -> None:
        import httpx

        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("RTCC_")}
        env.update(FAST_HASH)
        env.update(env_extra)
        self.env, self.db_url = env, db_url
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rtcc_console.cli", "server", "--dev", "--db", db_url]
            + ["--port", str(port), "--log-level", "warning"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"rtcc server exited with {self.proc.returncode}")
            try:
                if httpx.get(self.base + "/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError("rtcc server did not become healthy")

    def add_user(self, name: str, role: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "rtcc_console.cli", "user", "add", name, "--role", role]
            + ["--password-stdin", "--db", self.db_url],
            input=PASSWORD + "\n",
            text=True,
            capture_output=True,
            env=self.env,
            check=True,
            timeout=120,
        )

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the server process used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def _window_cpu(server: _Server, seconds: float) -> float:
    """The server's CPU over the next ``seconds``, in % of one core."""
    c0, t0 = server.cpu_s(), time.monotonic()
    time.sleep(seconds)
    return 100.0 * (server.cpu_s() - c0) / (time.monotonic() - t0)


def _decode_reference(url: str, seconds: float, out: dict[str, float]) -> None:
    """Decode the camera's stream with PyAV for ``seconds``: CPU in % of one core."""
    import av

    from rtcc_console.media.sources import open_spec

    spec = open_spec(url)
    frames = 0
    with av.open(spec.url, format=spec.format, options=spec.options, timeout=5.0) as src:
        src.streams.video[0].thread_type = "SLICE"
        c0 = t0 = None
        for frame in src.decode(video=0):
            if c0 is None:  # start at the first picture: connecting is not decoding
                c0, t0 = time.thread_time(), time.monotonic()
            frames += 1
            if t0 is not None and time.monotonic() - t0 >= seconds:
                break
            _ = frame
        assert c0 is not None and t0 is not None
        out["pct"] = 100.0 * (time.thread_time() - c0) / (time.monotonic() - t0)
        out["frames"] = frames


class _Viewer(threading.Thread):
    """A lightweight officer fetching what hls.js fetches for a live stream. Low-latency
    (the page's default): blocking playlist reloads (``_HLS_msn``/``_HLS_part`` for the
    next part) and each new part. Otherwise: each new segment, reloading after the last
    segment's duration when the playlist changed, after half of it when it did not."""

    def __init__(
        self, playlist_url: str, cookie: str, stop: threading.Event, *, low_latency: bool
    ) -> None:
        super().__init__(daemon=True, name="bench-viewer")
        self.url, self.cookie, self.stop_event = playlist_url, cookie, stop
        self.low_latency = low_latency
        self.fetched = 0  # segments or parts
        self.errors = 0
        self.durations: list[float] = []
        self.part_target: float | None = None

    def run(self) -> None:
        import httpx

        seen: set[str] = set()
        base = self.url.rsplit("/", 1)[0]
        query = ""
        with httpx.Client(headers={"Cookie": self.cookie}, timeout=15) as http:
            while not self.stop_event.is_set():
                r = http.get(self.url + query)
                if r.status_code != 200:
                    self.errors += 1
                    query = ""
                    self.stop_event.wait(1.0)
                    continue
                lines = r.text.splitlines()
                self.durations = [
                    float(ln[8:].rstrip(",")) for ln in lines if ln.startswith("#EXTINF:")
                ]
                for ln in lines:
                    if ln.startswith("#EXT-X-PART-INF:PART-TARGET="):
                        self.part_target = float(ln.split("=", 1)[1])
                if self.low_latency:
                    uris = [ln.split('URI="')[1].split('"')[0] for ln in lines if "PART:" in ln]
                else:
                    uris = [ln for ln in lines if ln and not ln.startswith("#")]
                new = [u for u in uris if u not in seen]
                if not seen:
                    new = new[-1:]  # start at the live edge
                    seen.update(uris)
                for uri in new:
                    seen.add(uri)
                    if http.get(f"{base}/{uri}").status_code == 200:
                        self.fetched += 1
                    else:
                        self.errors += 1
                if self.low_latency and uris:
                    msn, index = uris[-1][len("part-") : -len(".ts")].split(".")
                    query = f"?_HLS_msn={msn}&_HLS_part={int(index) + 1}"
                    continue  # the server holds the next reload until that part exists
                last = self.durations[-1] if self.durations else 1.0
                self.stop_event.wait(last if new else last / 2)


def _crowd(
    server: _Server, playlist: str, cookie: str, viewers: int, seconds: float, *, low_latency: bool
) -> dict[str, Any]:
    """Server CPU with one lightweight viewer, then with ``viewers`` of them."""
    stop = threading.Event()
    crowd = [_Viewer(playlist, cookie, stop, low_latency=low_latency) for _ in range(viewers)]
    try:
        crowd[0].start()
        time.sleep(min(2.0, seconds))
        one = _window_cpu(server, seconds)
        for v in crowd[1:]:
            v.start()
        many = _window_cpu(server, seconds) if viewers > 1 else None
    finally:
        stop.set()
        for v in crowd:
            if v.is_alive():
                v.join(20)
    return {
        "one": one,
        "many": many,
        "fetched": sum(v.fetched for v in crowd),
        "errors": sum(v.errors for v in crowd),
        "durations": crowd[0].durations,
        "part_target": crowd[0].part_target,
    }


def _first_frame(driver: Any) -> float:
    """Hook the page; the epoch milliseconds at which its first frame was presented."""
    driver.execute_script(HOOK)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        first = driver.execute_script("return window.__rtccBench.first;")
        if first is not None:
            return float(first)
        time.sleep(0.05)
    raise RuntimeError("no frame in the browser within 30 s")


def _delays(driver: Any, server: _Server, seconds: float) -> tuple[list[float], float]:
    """After playback settled: each presented frame's delay over ``seconds``, and the
    server's CPU meanwhile."""
    time.sleep(min(2.0, seconds))
    driver.execute_script("window.__rtccBench.samples = [];")
    pct = _window_cpu(server, seconds)
    samples = driver.execute_script("return window.__rtccBench.samples;") or []
    return [float(s[1]) / 1000.0 for s in samples], pct


def _summary_s(values: list[float]) -> dict[str, float | int]:
    if not values:
        return {"n": 0}
    arr = np.array(values)
    p50, p95 = np.percentile(arr, [50, 95])
    return {
        "n": len(values),
        "p50_s": round(float(p50), 3),
        "p95_s": round(float(p95), 3),
        "min_s": round(float(arr.min()), 3),
        "max_s": round(float(arr.max()), 3),
    }


def _target(value: float | None, limit: float) -> dict[str, Any]:
    return {
        "value": None if value is None else round(value, 3),
        "limit": round(limit, 3),
        "pass": value is not None and value <= limit,
    }


def run(*, viewers: int, seconds: float) -> dict[str, Any]:
    """One run of the benchmark (see the module docstring); returns the JSON object."""
    import httpx

    from rtcc_console.sim.cameras import SimCameraServer

    viewers = max(1, viewers)
    tmp = Path(tempfile.mkdtemp(prefix="rtcc-bench-field-"))
    sim = SimCameraServer(1, fps=15, size=(640, 360))
    sim.start()
    server: _Server | None = None
    try:
        server = _Server(f"sqlite:///{tmp / 'field.sqlite'}", {})
        for name, role in (("bench-admin", "admin"), ("bench-ana", "analyst")):
            server.add_user(name, role)
        server.add_user("ofc.bench", "officer")  # the browser
        server.add_user("ofc.crowd", "officer")  # the lightweight viewers
        api = server.base + "/api/v1"
        with httpx.Client(base_url=api, timeout=20) as http:

            def sign_in(name: str) -> dict[str, str]:
                r = http.post("/auth/login", json={"username": name, "password": PASSWORD})
                r.raise_for_status()
                return {"Authorization": f"Bearer {r.json()['access_token']}"}

            admin, ana = sign_in("bench-admin"), sign_in("bench-ana")
            http.post(
                "/cameras",
                headers=admin,
                json={
                    "id": "cam-1",
                    "name": "Bench storefront",
                    "tier": "integrated",
                    "kind": "business",
                    "sharing_mode": "live_always",
                    "lat": 32.7803,
                    "lon": -96.8004,
                    "stream_url": sim.url(0, "ts"),
                },
            ).raise_for_status()
            now = datetime.now(UTC)
            call = http.post(
                "/calls",
                headers=ana,
                json={
                    "format": "simple",
                    "incident_id": "BENCH-FIELD-1",
                    "type_code": "ROB",
                    "type_text": "Robbery in progress",
                    "priority": 1,
                    "status": "dispatched",
                    "lat": 32.78,
                    "lon": -96.80,
                    "address": "1200 Elm St",
                    "reported_at": (now - timedelta(minutes=2)).isoformat(),
                    "updated_at": now.isoformat(),
                },
            )
            call.raise_for_status()
            call_id = call.json()["call"]["id"]

            # idle server, and the decode reference in this process (same camera stream)
            decode: dict[str, float] = {}
            ref = threading.Thread(
                target=_decode_reference, args=(sim.url(0, "ts"), seconds, decode)
            )
            ref.start()
            idle_pct = _window_cpu(server, seconds)
            ref.join(seconds + 30)

            with headless_chromium(tmp / "chromium", (390, 844)) as driver:
                driver.get(server.base + "/api/v1/health")  # the browser is up and warm
                t0 = time.time()
                made = http.post(
                    f"/calls/{call_id}/field-shares",
                    headers=ana,
                    json={"officers": ["ofc.bench", "ofc.crowd"], "camera_ids": ["cam-1"]},
                )
                made.raise_for_status()
                links = {m["officer"]: m["link"] for m in made.json()}
                driver.get(links["ofc.bench"])
                first = _first_frame(driver)
                first_frame_s = first / 1000.0 - t0
                page_url = driver.current_url.split("?")[0]
                delays_ll, browser_pct = _delays(driver, server, seconds)
                # the same share, whole segments only (hls.js without lowLatencyMode)
                driver.get(page_url + "?ll=0")
                _first_frame(driver)
                delays_seg, _ = _delays(driver, server, seconds)

            # the other officer's device: lightweight viewers with its session
            opened = httpx.get(links["ofc.crowd"], follow_redirects=False, timeout=10)
            page = server.base + opened.headers["location"]
            cookie = f"rtcc_field={opened.cookies['rtcc_field']}"
            playlist = f"{page}/cameras/cam-1/index.m3u8"
            crowd_ll = _crowd(server, playlist, cookie, viewers, seconds, low_latency=True)
            crowd_seg = _crowd(server, playlist, cookie, viewers, seconds, low_latency=False)
    finally:
        if server is not None:
            server.stop()
        sim.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    durs = crowd_seg["durations"] or crowd_ll["durations"]
    segment_s = float(np.mean(durs)) if durs else 0.0

    def per_extra(crowd: dict[str, Any]) -> float | None:
        many = crowd["many"]
        return None if many is None else (many - crowd["one"]) / (viewers - 1)

    per_camera = crowd_ll["one"] - idle_pct
    extra_ll, extra_seg = per_extra(crowd_ll), per_extra(crowd_seg)
    delay = _summary_s(delays_ll)

    def pct(value: float | None) -> float | None:
        return None if value is None else round(value, 3)

    return {
        "bench": "field",
        "viewers": viewers,
        "seconds": seconds,
        "camera": {"fps": 15, "size": [640, 360], "keyframe_interval_s": 2.0, "codec": "h264"},
        "segment_s": round(segment_s, 3),
        "part_target_s": crowd_ll["part_target"],
        "first_frame_s": round(first_frame_s, 3),
        "first_frame_method": "POST field-shares sent -> first requestVideoFrameCallback",
        "delay": delay,
        "delay_without_parts": _summary_s(delays_seg),
        "delay_method": (
            "in Chromium: presentation time of each frame minus its capture stamp "
            "(camera SEI -> EXT-X-PROGRAM-DATE-TIME -> hls.js fragment, by media time); "
            "'delay' with low-latency parts (the page's default), the other with whole segments"
        ),
        "cpu_pct_of_one_core": {
            "server_idle": pct(idle_pct),
            "server_with_the_browser": pct(browser_pct),
            "server_one_viewer": pct(crowd_ll["one"]),
            "server_all_viewers": pct(crowd_ll["many"]),
            "per_camera": pct(per_camera),
            "per_extra_viewer": pct(extra_ll),
            "server_one_viewer_whole_segments": pct(crowd_seg["one"]),
            "server_all_viewers_whole_segments": pct(crowd_seg["many"]),
            "per_extra_viewer_whole_segments": pct(extra_seg),
            "decode_reference": pct(decode.get("pct", 0.0)),
            "per_camera_over_decode": (
                round(per_camera / decode["pct"], 3) if decode.get("pct") else None
            ),
        },
        "extra_viewers": {
            "parts_fetched": crowd_ll["fetched"],
            "segments_fetched": crowd_seg["fetched"],
            "errors": crowd_ll["errors"] + crowd_seg["errors"],
        },
        "targets": {
            "first_frame_s": _target(first_frame_s, FIRST_FRAME_TARGET_S),
            "delay_p95_s": _target(delay.get("p95_s"), 2 * segment_s + 1.0),
            "cpu_per_extra_viewer_pct": _target(extra_ll, EXTRA_VIEWER_TARGET_PCT),
        },
        "machine": machine_info(),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="rtcc bench field", description=__doc__.split("\n")[0] if __doc__ else None
    )
    parser.add_argument(
        "--viewers",
        type=int,
        default=5,
        help="lightweight viewers of the camera in the CPU windows (after the browser)",
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each window")
    parser.add_argument(
        "--json", action="store_true", help="one JSON object on one line (default: indented)"
    )
    args = parser.parse_args(argv)
    result = run(viewers=args.viewers, seconds=max(1.0, args.seconds))
    sys.stdout.write(json.dumps(result, indent=None if args.json else 2) + "\n")
    return 0
