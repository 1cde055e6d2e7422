"""What a feed's worker and its decode threads share, handed to the decode loop explicitly.

``FeedWorker`` (feed.py) owns the life of a feed: start, stop, revoke, the watchdog's
verdicts, the GUI's polling. The decode loop (session.py) connects, demuxes, decodes and
hands frames over. They meet only through :class:`FeedShared`: the options, the mailbox,
the packet ring, the state machine, the backoff, the stop event, the counters, the lock
that guards them, and the generation number that tells an abandoned thread to exit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rtcc_console.media.backoff import Backoff
from rtcc_console.media.mailbox import Mailbox
from rtcc_console.media.ring import PacketRing
from rtcc_console.media.sources import redact
from rtcc_console.media.state import FeedStateMachine
from rtcc_console.media.stats import RollingWindow

Opener = Callable[..., Any]


@dataclass(frozen=True)
class FeedOptions:
    rtsp_transport: str = "tcp"  # or "udp"
    open_timeout_s: float = 5.0
    read_timeout_s: float = 3.0  # watchdog: no packet for this long -> reconnect
    stale_after_s: float = 1.5  # no new frame (or frozen) for this long -> STALE
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    ring_seconds: float = 30.0  # packet ring buffer for clip saving
    max_attempts: int | None = None  # None = retry forever; then FAILED
    # Additions beyond the contract:
    freeze_sample_every: int = 3  # compare a picture sample every N frames (0 = never)
    abandon_grace_s: float = 2.0  # after a timeout, wait this long for av before abandoning


@dataclass(frozen=True)
class VideoFrame:
    data: object  # buffer-protocol object holding BGRA pixels (QImage Format_RGB32 layout)
    width: int
    height: int
    bytes_per_line: int
    pts_s: float | None  # presentation time in seconds on the stream clock
    seq: int  # increasing per worker
    decoded_at: float  # time.monotonic()


@dataclass
class FeedCounters:
    """Figures the decode loop keeps and ``FeedWorker.stats`` reports (guarded by the lock)."""

    fps: RollingWindow = field(default_factory=lambda: RollingWindow(2.0))
    decode_ms: RollingWindow = field(default_factory=lambda: RollingWindow(2.0))
    decoded: int = 0
    corrupt: int = 0
    seq: int = 0
    latency_ms: float | None = None
    src_size: tuple[int, int] | None = None
    codec: str | None = None


@dataclass(eq=False)
class FeedShared:
    """The state of one feed shared by its worker and decode threads.

    Everything mutable is guarded by ``lock``, except the mailbox, the ring and the stop
    event, which are thread-safe themselves. Only a thread whose generation is current
    (:meth:`is_current`) may change it.
    """

    name: str
    url: str
    options: FeedOptions
    sm: FeedStateMachine
    emit: Callable[[], None]  # report the state to the worker's listener (outside the lock)
    opener: Opener | None = None  # tests inject a fake av.open; None = av.open
    clock: Callable[[], float] = time.monotonic
    out_size: tuple[int, int] | None = None  # the tile's size; None = the source's
    lock: threading.RLock = field(default_factory=threading.RLock)
    stop: threading.Event = field(default_factory=threading.Event)
    mailbox: Mailbox[VideoFrame] = field(default_factory=Mailbox)
    ring: PacketRing = field(default_factory=lambda: PacketRing(30.0))
    backoff: Backoff = field(default_factory=lambda: Backoff(0.5, 30.0))
    counters: FeedCounters = field(default_factory=FeedCounters)
    gen: int = 0  # decode-thread generation; a thread whose gen is stale must exit
    session: int = 0  # connection counter; the ring never mixes two connections
    timed_out_at: float | None = None  # when the watchdog last declared a timeout

    @property
    def redacted_url(self) -> str:
        return redact(self.url)

    def is_current(self, gen: int) -> bool:
        return gen == self.gen and not self.stop.is_set()
