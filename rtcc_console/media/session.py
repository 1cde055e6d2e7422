"""The body of a feed's decode thread: connect, demux, decode, scale, hand over, retry.

Split from feed.py so the worker's public surface stays readable. The loop sees only the
:class:`FeedShared` it is handed (mailbox, ring, state machine, stop event, counters).
Only the thread whose generation is current may change it; a thread abandoned by the watchdog
(or by stop) notices at its next step, closes its own container and exits. Containers
are only ever closed by the thread that opened them.
"""

from __future__ import annotations

import logging
import time
import zlib
from typing import Any

import av
import av.error
import numpy as np
from av.video.reformatter import Interpolation, VideoReformatter

from rtcc_console.media.feed_shared import FeedShared, VideoFrame
from rtcc_console.media.ring import BufferedPacket, StreamInfo
from rtcc_console.media.sources import OpenSpec, open_spec, redact_text
from rtcc_console.media.state import FeedState
from rtcc_console.media.wallclock import wallclock_from_sei

log = logging.getLogger("rtcc_console.media.feed")

_RETRYABLE = (av.error.FFmpegError, OSError, EOFError, RuntimeError, ValueError)


class _StreamEnded(EOFError):
    """A live stream reached its end: the camera closed the connection."""


def run_sessions(w: FeedShared, gen: int, delay_s: float) -> None:
    """Loop connect -> stream -> (wait backoff) until stopped, failed or abandoned."""
    if delay_s > 0 and w.stop.wait(delay_s):
        return
    o = w.options
    looping = False
    while w.is_current(gen):
        spec = open_spec(w.url, rtsp_transport=o.rtsp_transport, read_timeout_s=o.read_timeout_s)
        with w.lock:
            if not w.is_current(gen):
                return
            w.session += 1
            if not looping:
                w.sm.connecting()
        if not looping:
            w.emit()
        looping = False
        try:
            _stream(w, gen, spec)
            if spec.loop and w.is_current(gen):
                looping = True  # a local file ended: start over at once, like a camera
                continue
            raise _StreamEnded("the stream ended")
        except _RETRYABLE as exc:
            error = _describe(exc, w.url)
        with w.lock:
            if not w.is_current(gen):
                return
            w.timed_out_at = None
            delay = w.backoff.next_delay()
            w.sm.retry_in(delay, error)
            failed = w.sm.state is FeedState.FAILED
        log.warning(
            "feed %s: %s (%s); %s",
            w.name,
            error,
            w.redacted_url,
            "giving up" if failed else f"retry in {delay:.1f} s",
        )
        w.emit()
        if failed or w.stop.wait(delay):
            return


def _describe(exc: BaseException, url: str) -> str:
    """A one-line, credential-free description of why a session ended."""
    if isinstance(exc, av.error.FFmpegError):
        text = exc.strerror or type(exc).__name__
        if isinstance(exc, av.error.ExitError):
            text = "timed out"
    else:
        text = str(exc) or type(exc).__name__
    return redact_text(text, url)


def _open(w: FeedShared, spec: OpenSpec) -> Any:
    o = w.options
    opener = w.opener or av.open
    return opener(
        spec.url,
        format=spec.format,
        options=spec.options,
        timeout=(o.open_timeout_s, o.read_timeout_s),
    )


def _stream(w: FeedShared, gen: int, spec: OpenSpec) -> None:
    container = _open(w, spec)
    try:
        if not container.streams.video:
            raise ValueError("no video stream")
        stream = container.streams.video[0]
        ctx = stream.codec_context
        with w.lock:
            w.counters.codec = ctx.name
        _Decoder(w, gen, spec, stream).run(container)
    finally:
        container.close()


class _Decoder:
    """Per-connection decode state: reformatter, pacing, freeze sampling, ring info."""

    def __init__(self, w: FeedShared, gen: int, spec: OpenSpec, stream: Any) -> None:
        self.w = w
        self.gen = gen
        self.spec = spec
        self.stream = stream
        self.ctx = stream.codec_context
        self.reformatter: VideoReformatter | None = None
        self.src_key: tuple[int, int, str] | None = None
        self.last_sample: int | None = None
        self.frames = 0
        self.pace_origin: tuple[float, float] | None = None  # (monotonic, pts_s)
        self.info: StreamInfo | None = None
        self.session = w.session

    def run(self, container: Any) -> None:
        w, stream = self.w, self.stream
        for packet in container.demux(stream):
            if not w.is_current(self.gen):
                return
            if packet.size == 0:
                continue  # demuxer flush packet at the end of the stream
            with w.lock:
                w.sm.packet()
                if packet.is_corrupt:
                    w.counters.corrupt += 1
            self._buffer(packet)
            if self.spec.paced and self._pace(packet):
                return
            t0 = time.perf_counter()
            try:
                frames = self.ctx.decode(packet)
            except (av.error.InvalidDataError, av.error.PatchWelcomeError) as exc:
                with w.lock:
                    w.counters.corrupt += 1
                log.debug("feed %s: skipped a corrupt packet: %s", w.name, exc)
                continue
            for frame in frames:
                self._deliver(frame, t0)
                t0 = time.perf_counter()

    def _pace(self, packet: Any) -> bool:
        """Sleep until a file's packet is due; True when asked to stop meanwhile."""
        ts = packet.dts if packet.dts is not None else packet.pts
        if ts is None or packet.time_base is None:
            return False
        pts_s = float(ts * packet.time_base)
        now = time.monotonic()
        if self.pace_origin is None:
            self.pace_origin = (now, pts_s)
        due = self.pace_origin[0] + (pts_s - self.pace_origin[1])
        if due - now > 1.0 or due < now - 2.0:  # a jump in the file's clock: re-anchor
            self.pace_origin = (now, pts_s)
            return False
        return due > now and self.w.stop.wait(due - now)

    def _buffer(self, packet: Any) -> None:
        ctx = self.ctx
        if self.info is None or (ctx.width, ctx.height) != (self.info.width, self.info.height):
            self.info = StreamInfo(
                codec=ctx.name,
                width=ctx.width,
                height=ctx.height,
                time_base=packet.time_base or self.stream.time_base,
                extradata=ctx.extradata,
            )
        self.w.ring.add(
            BufferedPacket(
                data=bytes(packet),
                pts=packet.pts,
                dts=packet.dts,
                keyframe=packet.is_keyframe,
                duration=packet.duration or 0,
                info=self.info,
                session=self.session,
            )
        )

    def _deliver(self, frame: Any, t0: float) -> None:
        w = self.w
        src_key = (frame.width, frame.height, frame.format.name)
        if src_key != self.src_key:
            if self.src_key is not None:
                log.info("feed %s: source size changed to %dx%d", w.name, *src_key[:2])
            self.reformatter = VideoReformatter()
            self.src_key = src_key
        out_w, out_h = w.out_size or (frame.width, frame.height)
        assert self.reformatter is not None
        out = self.reformatter.reformat(
            frame,
            width=out_w,
            height=out_h,
            format="bgra",
            interpolation=Interpolation.FAST_BILINEAR,
            threads=1,
        )
        plane = out.planes[0]
        changed = self._sample_changed(plane, out_h)
        latency = self._latency_ms(frame) if self.frames % 8 == 1 else None  # ~2 Hz is plenty
        elapsed_ms = (time.perf_counter() - t0) * 1000.0
        now = w.clock()
        with w.lock:
            if not w.is_current(self.gen):
                return
            c = w.counters
            c.seq += 1
            c.decoded += 1
            c.src_size = (frame.width, frame.height)
            if latency is not None:
                c.latency_ms = latency
            c.fps.add(now)
            c.decode_ms.add(now, elapsed_ms)
            was_live = w.sm.state is FeedState.LIVE
            state_changed = w.sm.frame(changed=changed)
            if state_changed and w.sm.state is FeedState.LIVE:
                w.backoff.reset()
                w.timed_out_at = None
            w.mailbox.put(_make_frame(plane, out_w, out_h, frame.time, c.seq, time.monotonic()))
        if state_changed:
            if not was_live and w.sm.state is FeedState.LIVE:
                log.info("feed %s: live (%s)", w.name, w.redacted_url)
            w.emit()

    def _sample_changed(self, plane: Any, height: int) -> bool:
        """Cheap freeze detection: CRC of a strided sample of the picture every N frames."""
        every = self.w.options.freeze_sample_every
        self.frames += 1
        if every <= 0 or (self.frames % every and self.last_sample is not None):
            return False
        pixels = np.frombuffer(plane, dtype=np.uint8).reshape(height, plane.line_size)
        step_y = max(1, height // 36)
        step_x = max(4, (plane.line_size // 64) & ~3)
        crc = zlib.crc32(np.ascontiguousarray(pixels[::step_y, ::step_x]).data)
        changed = crc != self.last_sample
        self.last_sample = crc
        return changed

    def _latency_ms(self, frame: Any) -> float | None:
        """Wall-clock latency when the stream carries its capture time (simulator SEI)."""
        for side in frame.side_data:
            if side.type.name == "SEI_UNREGISTERED":
                captured = wallclock_from_sei(bytes(side))
                if captured is not None:
                    return max(0.0, (time.time() - captured) * 1000.0)
        return None


def _make_frame(plane: Any, w: int, h: int, pts_s: float | None, seq: int, at: float) -> VideoFrame:
    return VideoFrame(
        data=plane,
        width=w,
        height=h,
        bytes_per_line=plane.line_size,
        pts_s=pts_s,
        seq=seq,
        decoded_at=at,
    )
