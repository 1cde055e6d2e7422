"""FeedWorker against the camera simulator over loopback HTTP (MPEG-TS and MJPEG)."""

from __future__ import annotations

import time
from pathlib import Path

import av

from rtcc_console.media.feed import FeedOptions, FeedState, FeedWorker
from rtcc_console.sim.cameras import SimCameraServer
from tests.integration.media_fixtures import FAST, WAIT_S, StateLog, take_frames, wait_until


def _worker(url: str, out: tuple[int, int] = (160, 90), **kw: object) -> FeedWorker:
    w = FeedWorker(url, name="test", out_size=out, options=kw.pop("options", FAST), **kw)  # type: ignore[arg-type]
    w.start()
    return w


def test_http_ts_frames_at_the_requested_size(sim: SimCameraServer) -> None:
    w = _worker(sim.url(0))
    try:
        frames = take_frames(w, 10)
        assert len(frames) == 10
        for f in frames:
            assert (f.width, f.height) == (160, 90)
            assert f.bytes_per_line >= 160 * 4
            assert len(memoryview(f.data).cast("B")) >= f.bytes_per_line * 90  # type: ignore[arg-type]
        assert [f.seq for f in frames] == sorted({f.seq for f in frames})
        stats = w.stats()
        assert stats.state is FeedState.LIVE
        assert (stats.width, stats.height, stats.codec) == (320, 180, "h264")
        assert stats.latency_ms is not None and stats.latency_ms >= 0  # the sim stamps SEI
        w.set_output_size(64, 36)
        assert wait_until(lambda: (f := w.take_frame()) is not None and f.width == 64)
    finally:
        w.stop()
    assert w.stats().state is FeedState.STOPPED


def test_mjpeg_over_http_decodes(sim: SimCameraServer) -> None:
    w = _worker(sim.url(0, kind="mjpeg"))
    try:
        frames = take_frames(w, 5)
        assert len(frames) == 5 and frames[-1].width == 160
        assert w.stats().codec == "mjpeg"
    finally:
        w.stop()


def test_corrupted_packets_are_counted_and_frames_keep_coming(sim: SimCameraServer) -> None:
    w = _worker(sim.url(1) + "?corrupt=1")
    try:
        assert wait_until(lambda: w.stats().packets_corrupt >= 2)
        assert len(take_frames(w, 15)) == 15
        assert w.stats().state in (FeedState.LIVE, FeedState.STALE)
    finally:
        w.stop()


def test_resolution_change_keeps_the_output_size(sim: SimCameraServer) -> None:
    w = _worker(sim.url(2) + "?resize=1")
    sizes: set[tuple[int | None, int | None]] = set()
    try:

        def both_sizes_seen() -> bool:
            f = w.take_frame()
            if f is not None:
                assert (f.width, f.height) == (160, 90)
            s = w.stats()
            sizes.add((s.width, s.height))
            return {(320, 180), (160, 90)} <= sizes

        assert wait_until(both_sizes_seen, step=0.01), sizes
        assert len(take_frames(w, 5)) == 5
    finally:
        w.stop()


def test_silent_mid_stream_goes_stale_then_reconnects(sim: SimCameraServer) -> None:
    states = StateLog()
    w = _worker(sim.url(3) + "?stall_after=1", on_state=states)
    try:
        assert wait_until(lambda: "live" in states.states())
        assert wait_until(lambda: "stale" in states.states())
        assert wait_until(lambda: "reconnecting" in states.states())
        assert w.stats().error
    finally:
        t0 = time.monotonic()
        w.stop(timeout=2.0)
        assert time.monotonic() - t0 < 2.0 + 1.0


def test_save_clip_is_a_stream_copy_from_a_keyframe(sim: SimCameraServer, tmp_path: Path) -> None:
    w = _worker(sim.url(0))
    try:
        # Two keyframe intervals (gop 30 at 15 fps) buffered, then ask for 2 s.
        assert wait_until(lambda: w.buffered_s() >= 4.5)
        path = w.save_clip(tmp_path / "clip.mp4", 2.0)
    finally:
        w.stop()
    with av.open(str(path)) as clip:
        stream = clip.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == (320, 180)
        packets = [p for p in clip.demux(stream) if p.size]
        assert packets[0].is_keyframe
        duration = float((packets[-1].pts - packets[0].pts) * stream.time_base)
        assert 2.0 - 0.2 <= duration <= 2.0 + 2.0 + 0.2  # within one keyframe interval
    with av.open(str(path)) as clip:
        decoded = sum(1 for _ in clip.decode(video=0))
    assert decoded == len(packets)  # every packet decodes: the clip starts at a keyframe


def test_simulator_restart_on_the_same_port_recovers(sim_cache: Path) -> None:
    server = SimCameraServer(1, size=(320, 180), cache_dir=sim_cache)
    server.start()
    states = StateLog()
    w = _worker(server.url(0), on_state=states)
    try:
        assert len(take_frames(w, 3)) == 3
        server.stop()
        assert wait_until(lambda: w.stats().state in (FeedState.RECONNECTING, FeedState.STALE))
        server.start()  # same port
        assert wait_until(lambda: w.stats().state is FeedState.LIVE and w.take_frame() is not None)
        assert states.states().count("live") >= 2
    finally:
        w.stop()
        server.stop()


def test_local_file_is_paced_and_loops(sim: SimCameraServer, tmp_path: Path) -> None:
    loop, _ = sim.loop((0, "h264", False))
    path = tmp_path / "cam.ts"
    with av.open(str(path), "w", format="mpegts") as out:
        stream = out.add_mux_stream("h264", width=loop.width, height=loop.height)
        stream.time_base = loop.time_base
        for i, p in enumerate(loop.packets[:30]):
            pkt = av.Packet(p.data)
            pkt.stream, pkt.time_base, pkt.pts, pkt.dts = stream, loop.time_base, i, i
            out.mux(pkt)
    w = _worker(str(path), options=FeedOptions(stale_after_s=WAIT_S))
    try:
        t0 = time.monotonic()
        frames = take_frames(w, 45)  # 30 frames of file: it must loop
        elapsed = time.monotonic() - t0
        assert len(frames) == 45
        assert elapsed >= 44 / 15 * 0.8  # paced near 15 fps, not decoded flat out
    finally:
        w.stop()


def test_frozen_picture_is_stale_although_frames_keep_coming(sim: SimCameraServer) -> None:
    states = StateLog()
    w = _worker(sim.url(3) + "?freeze_after=1", on_state=states)
    try:
        assert wait_until(lambda: "live" in states.states())
        assert wait_until(lambda: w.stats().state is FeedState.STALE)
        decoded = w.stats().frames_decoded
        assert wait_until(lambda: w.stats().frames_decoded >= decoded + 10)  # still decoding
        assert w.stats().state is FeedState.STALE  # ...and still not shown as live
    finally:
        w.stop()
