"""The other source kinds: HLS, H.265 over TS, RTSP over UDP."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import av
import pytest

from rtcc_console.media.feed import FeedOptions, FeedState, FeedWorker
from rtcc_console.sim.cameras import SimCameraServer
from tests.integration.media_fixtures import FAST, take_frames


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def hls_url(sim: SimCameraServer, tmp_path: Path) -> Iterator[str]:
    """A VOD HLS playlist of one camera loop (2 s segments) served over loopback HTTP."""
    loop, _ = sim.loop((1, "h264", False))
    with av.open(
        str(tmp_path / "index.m3u8"),
        "w",
        format="hls",
        options={"hls_time": "2", "hls_list_size": "0"},
    ) as out:
        stream = out.add_mux_stream("h264", width=loop.width, height=loop.height)
        stream.time_base = loop.time_base
        for i, p in enumerate(loop.packets):
            pkt = av.Packet(p.data)
            pkt.stream, pkt.time_base, pkt.pts, pkt.dts = stream, loop.time_base, i, i
            pkt.is_keyframe = p.keyframe
            out.mux(pkt)
    httpd = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(tmp_path))
    )
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/index.m3u8"
    httpd.shutdown()
    httpd.server_close()


def test_hls_decodes(hls_url: str) -> None:
    w = FeedWorker(hls_url, name="hls", out_size=(96, 54), options=FAST)
    w.start()
    try:
        frames = take_frames(w, 5)
        assert len(frames) == 5 and (frames[0].width, frames[0].height) == (96, 54)
    finally:
        w.stop()


def test_h265_over_http_ts(sim: SimCameraServer) -> None:
    w = FeedWorker(sim.url(2) + "?codec=hevc", name="hevc", out_size=(96, 54), options=FAST)
    w.start()
    try:
        assert len(take_frames(w, 5)) == 5
        assert w.stats().codec == "hevc"
    finally:
        w.stop()


@pytest.mark.rtsp
def test_rtsp_over_udp(sim_cache: Path) -> None:
    with SimCameraServer(1, size=(320, 180), rtsp=True, cache_dir=sim_cache) as server:
        opts = FeedOptions(rtsp_transport="udp", open_timeout_s=5.0, read_timeout_s=3.0)
        w = FeedWorker(server.url(0, kind="rtsp"), name="udp", out_size=(96, 54), options=opts)
        w.start()
        try:
            assert len(take_frames(w, 5)) == 5
            assert w.stats().state in (FeedState.LIVE, FeedState.STALE)
        finally:
            w.stop()
