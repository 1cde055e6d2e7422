"""The hard failures: silent peers, many workers stopping at once, RTSP outages."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from rtcc_console.media.feed import FeedOptions, FeedState, FeedWorker
from rtcc_console.sim.cameras import SimCameraServer, main
from tests.integration.media_fixtures import (
    FAST,
    StateLog,
    silent_tcp_server,
    take_frames,
    wait_until,
)

MARGIN_S = 5.0  # shared, contended CPU: detection must come within the timeout + this


@pytest.mark.parametrize("kind", ["http", "rtsp", "sim-hang"])
def test_peer_that_accepts_and_never_sends_is_detected(kind: str, sim: SimCameraServer) -> None:
    opts = FeedOptions(
        open_timeout_s=1.0, read_timeout_s=1.0, backoff_initial_s=0.1, max_attempts=1
    )
    with silent_tcp_server() as port:
        url = {
            "http": f"http://127.0.0.1:{port}/cam.ts",
            "rtsp": f"rtsp://127.0.0.1:{port}/cam",
            "sim-hang": sim.url(0).replace("/0.ts", "/hang.ts"),
        }[kind]
        w = FeedWorker(url, name="silent", out_size=(64, 36), options=opts)
        t0 = time.monotonic()
        w.start()
        try:
            assert wait_until(lambda: w.stats().state is FeedState.FAILED)
            detected = time.monotonic() - t0
            assert detected <= opts.open_timeout_s + opts.read_timeout_s + MARGIN_S
            assert w.stats().error
        finally:
            t1 = time.monotonic()
            w.stop(timeout=1.0)
            assert time.monotonic() - t1 < 1.0 + 0.5


def test_stop_of_many_workers_returns_within_its_timeout(sim: SimCameraServer) -> None:
    with silent_tcp_server() as port:
        urls = [sim.url(i % 4) for i in range(8)] + [f"http://127.0.0.1:{port}/x.ts"] * 4
        workers = [
            FeedWorker(u, name=f"w{i}", out_size=(64, 36), options=FAST) for i, u in enumerate(urls)
        ]
        for w in workers:
            w.start()
        assert wait_until(lambda: sum(w.stats().state is FeedState.LIVE for w in workers) >= 8)
        t0 = time.monotonic()
        for w in workers:
            w.stop(timeout=0.5)
        assert time.monotonic() - t0 < len(workers) * 0.5 + 1.0
        assert all(w.stats().state is FeedState.STOPPED for w in workers)
        assert all(w.take_frame() is None for w in workers)


def test_revoke_stops_at_once_with_the_reason(sim: SimCameraServer) -> None:
    w = FeedWorker(sim.url(1), name="r", out_size=(64, 36), options=FAST)
    w.start()
    assert len(take_frames(w, 2)) == 2
    w.revoke("grant withdrawn")
    s = w.stats()
    assert (s.state, s.error) == (FeedState.REVOKED, "grant withdrawn")
    assert w.take_frame() is None


def test_cli_serves_and_stops(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        [
            "--count",
            "2",
            "--port",
            "0",
            "--size",
            "160x90",
            "--mjpeg",
            "1",
            "--seconds",
            "0.2",
            "--cache-dir",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0
    assert "/cam/0.ts" in out and "/cam/0.mjpeg" in out and "/cam/1.ts" in out


@pytest.mark.rtsp
def test_rtsp_live_then_outage_then_live_again(sim_cache: Path) -> None:
    server = SimCameraServer(1, size=(320, 180), rtsp=True, cache_dir=sim_cache)
    server.start()
    states = StateLog()
    w = FeedWorker(
        server.url(0, kind="rtsp"), name="rtsp", out_size=(160, 90), options=FAST, on_state=states
    )
    w.start()
    try:
        frames = take_frames(w, 10)
        assert len(frames) == 10 and frames[0].width == 160
        assert w.stats().codec == "h264" and w.stats().width == 320
        assert w.stats().latency_ms is not None  # the sim stamps its send time (SEI)
        port = server.rtsp_port
        server.stop_rtsp()  # the server dies
        assert wait_until(lambda: w.stats().state is FeedState.RECONNECTING)
        assert "stale" in states.states() or w.stats().error
        server.start_rtsp()  # back on the same port
        assert server.rtsp_port == port
        assert wait_until(lambda: w.stats().state is FeedState.LIVE)
        assert len(take_frames(w, 5)) == 5
    finally:
        w.stop()
        server.stop()
