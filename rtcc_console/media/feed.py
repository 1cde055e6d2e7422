"""One live feed: a decode thread per camera handing its newest BGRA frame to the wall.

The worker owns the whole life of a feed: open (with timeouts that really fire), decode,
scale once to the tile's size, hand over through a one-slot mailbox, judge liveness
(stale, frozen, silent), reconnect with jittered backoff, keep a packet ring for clips,
and stop without ever blocking its caller for longer than asked. Everything it logs or
reports carries the redacted URL only. See docs/media-contract.md.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rtcc_console.media.backoff import Backoff
from rtcc_console.media.feed_shared import FeedOptions, FeedShared, Opener, VideoFrame
from rtcc_console.media.ring import PacketRing
from rtcc_console.media.state import TERMINAL, FeedState, FeedStateMachine
from rtcc_console.media.watchdog import Watchdog

__all__ = ["FeedOptions", "FeedState", "FeedStats", "FeedWorker", "VideoFrame"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeedStats:
    state: FeedState
    fps: float
    frames_decoded: int
    frames_dropped: int
    decode_ms: float
    latency_ms: float | None
    last_frame_age_s: float | None
    next_retry_in_s: float | None
    error: str | None
    width: int | None
    height: int | None
    attempt: int
    # Additions beyond the contract:
    packets_corrupt: int = 0  # packets the demuxer flagged or the decoder rejected (skipped)
    codec: str | None = None
    abandoned_threads: int = 0  # decode threads left behind because av did not return


class FeedWorker:
    """Decodes one stream on its own thread; the GUI polls ``take_frame`` and ``stats``."""

    def __init__(
        self,
        url: str,
        *,
        name: str,
        out_size: tuple[int, int] | None = None,
        options: FeedOptions | None = None,
        on_state: Callable[[FeedStats], None] | None = None,
        opener: Opener | None = None,
        clock: Callable[[], float] = time.monotonic,
        watchdog: Watchdog | None = None,
    ) -> None:
        self.name = name
        self.options = o = options or FeedOptions()
        self._on_state = on_state
        self._watchdog = watchdog
        self._shared = FeedShared(
            name=name,
            url=url,
            options=o,
            sm=FeedStateMachine(
                stale_after_s=o.stale_after_s,
                read_timeout_s=o.read_timeout_s,
                max_attempts=o.max_attempts,
                clock=clock,
            ),
            emit=self._emit,
            opener=opener,
            clock=clock,
            out_size=_check_size(out_size) if out_size is not None else None,
            ring=PacketRing(o.ring_seconds),
            backoff=Backoff(o.backoff_initial_s, o.backoff_max_s),
        )
        self._thread: threading.Thread | None = None
        self._threads: list[threading.Thread] = []
        self._abandoned = 0
        self._started = False

    # --- public API -----------------------------------------------------------------------

    @property
    def redacted_url(self) -> str:
        return self._shared.redacted_url

    def start(self) -> None:
        """Start decoding in a daemon thread (idempotent)."""
        with self._shared.lock:
            if self._started:
                return
            self._started = True
            self._spawn(delay_s=0.0)
        (self._watchdog or Watchdog.shared()).register(self)
        log.info("feed %s: starting %s", self.name, self.redacted_url)

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the decode thread to stop, wait up to ``timeout``, then abandon it."""
        self._finish(lambda: self._shared.sm.stop(), timeout)

    def revoke(self, reason: str) -> None:
        """Stop now because access was withdrawn; state REVOKED, error = reason."""
        self._finish(lambda: self._shared.sm.revoke(reason), timeout=0.0)
        log.info("feed %s: revoked (%s)", self.name, reason)

    def take_frame(self) -> VideoFrame | None:
        return self._shared.mailbox.take()

    def set_output_size(self, width: int, height: int) -> None:
        self._shared.out_size = _check_size((width, height))

    def stats(self) -> FeedStats:
        sh = self._shared
        with sh.lock:
            now = sh.clock()
            sm, c = sh.sm, sh.counters
            age = None if sm.last_frame_at is None else max(0.0, now - sm.last_frame_at)
            size = c.src_size
            return FeedStats(
                state=sm.state,
                fps=round(c.fps.rate(now), 2),
                frames_decoded=c.decoded,
                frames_dropped=sh.mailbox.dropped,
                decode_ms=round(c.decode_ms.mean(now), 3),
                latency_ms=c.latency_ms if sm.state is FeedState.LIVE else None,
                last_frame_age_s=age,
                next_retry_in_s=sm.next_retry_in(),
                error=sm.error,
                width=size[0] if size else None,
                height=size[1] if size else None,
                attempt=sm.attempt,
                packets_corrupt=c.corrupt,
                codec=c.codec,
                abandoned_threads=self._abandoned,
            )

    def buffered_s(self) -> float:
        """Seconds of packets in the ring (what ``save_clip`` can write)."""
        return self._shared.ring.duration_s()

    def save_clip(self, path: Path, seconds: float) -> Path:
        """Write the last ``seconds`` of buffered packets to an MP4 without re-encoding."""
        from rtcc_console.media.clip import write_clip

        return write_clip(self._shared.ring.snapshot(seconds), Path(path))

    @property
    def state(self) -> FeedState:
        return self._shared.sm.state

    # --- thread management ----------------------------------------------------------------

    def _spawn(self, delay_s: float) -> None:
        """Start a fresh decode thread (caller holds the lock)."""
        self._shared.gen += 1
        t = threading.Thread(
            target=_decode_thread,
            args=(self._shared, self._shared.gen, delay_s),
            name=f"feed-{self.name}",
            daemon=True,
        )
        self._thread = t
        self._threads.append(t)
        t.start()

    def _finish(self, transition: Callable[[], bool], timeout: float) -> None:
        sh = self._shared
        with sh.lock:
            sh.stop.set()
            sh.gen += 1  # whatever thread runs now is told to exit quietly
            changed = transition()
            threads = [t for t in self._threads if t.is_alive()]
            self._threads = []
        (self._watchdog or Watchdog.shared()).unregister(self)
        sh.mailbox.clear()
        if changed:
            self._emit()
        deadline = time.monotonic() + max(0.0, timeout)
        for t in threads:
            if t is threading.current_thread():
                continue
            t.join(max(0.0, deadline - time.monotonic()))
        left = [t for t in threads if t.is_alive() and t is not threading.current_thread()]
        if left and timeout > 0:
            log.warning(
                "feed %s: %d decode thread(s) still in av after %.1fs; abandoned",
                self.name,
                len(left),
                timeout,
            )

    def _emit(self) -> None:
        if self._on_state is None:
            return
        try:
            self._on_state(self.stats())
        except Exception:  # a GUI callback bug must not kill the feed
            log.exception("feed %s: on_state callback failed", self.name)

    # --- watchdog -------------------------------------------------------------------------

    def watchdog_tick(self) -> None:
        """Called ~5 times a second by the watchdog thread: stale and silence detection."""
        emit = False
        sh, o = self._shared, self.options
        with sh.lock:
            if sh.stop.is_set() or sh.sm.state in TERMINAL:
                return
            changed, timed_out = sh.sm.check()
            emit = changed
            now = sh.clock()
            overdue = sh.sm.open_overdue(o.open_timeout_s)
            if (timed_out or overdue) and sh.timed_out_at is None:
                what = "no data" if timed_out else "no picture"
                limit = o.read_timeout_s if timed_out else (o.open_timeout_s + o.read_timeout_s)
                sh.timed_out_at = now
                sh.sm.retry_in(o.abandon_grace_s, f"{what} for {limit:.1f} s")
                emit = True
                log.warning(
                    "feed %s: %s from %s for %.1f s", self.name, what, self.redacted_url, limit
                )
            elif sh.timed_out_at is not None and now - sh.timed_out_at >= o.abandon_grace_s:
                # av did not give the thread back: leave it (it exits when av returns,
                # seeing its generation is stale) and start a fresh one. Never close a
                # container from this thread: that races the decoder inside FFmpeg.
                sh.timed_out_at = None
                self._abandoned += 1
                delay = sh.backoff.next_delay()
                sh.sm.retry_in(delay, sh.sm.error or "stalled")
                self._spawn(delay_s=delay)
                emit = True
                log.warning(
                    "feed %s: decode thread stuck in av; abandoned, retry in %.1f s",
                    self.name,
                    delay,
                )
        if emit:
            self._emit()


def _decode_thread(shared: FeedShared, gen: int, delay_s: float) -> None:
    from rtcc_console.media.session import run_sessions  # imports av: only when a feed runs

    run_sessions(shared, gen, delay_s)


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    w, h = int(size[0]), int(size[1])
    if w < 2 or h < 2 or w > 16384 or h > 16384:
        raise ValueError(f"output size must be between 2 and 16384 pixels, got {w}x{h}")
    return w, h
