"""One shared thread that looks at every running feed a few times a second.

The decode threads may sit inside FFmpeg for seconds; only an independent clock can say
"this feed has shown nothing new for 1.5 s" (stale) or "no data for 3 s" (timeout). One
thread for all feeds keeps a 64-tile wall from paying 64 timer threads.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import ClassVar, Protocol

log = logging.getLogger(__name__)


class Watched(Protocol):
    def watchdog_tick(self) -> None: ...


class Watchdog:
    """Calls ``watchdog_tick()`` on each registered feed every ``interval_s``."""

    _shared: ClassVar[Watchdog | None] = None
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, interval_s: float = 0.2) -> None:
        self.interval_s = interval_s
        self._feeds: weakref.WeakSet[Watched] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def shared(cls) -> Watchdog:
        """The process-wide watchdog, created on first use (never at import time)."""
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = Watchdog()
            return cls._shared

    def register(self, feed: Watched) -> None:
        with self._lock:
            self._feeds.add(feed)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="feed-watchdog", daemon=True
                )
                self._thread.start()

    def unregister(self, feed: Watched) -> None:
        with self._lock:
            self._feeds.discard(feed)

    def tick(self) -> None:
        """Check every feed once (the thread's body; tests may call it directly)."""
        with self._lock:
            feeds = list(self._feeds)
        for feed in feeds:
            try:
                feed.watchdog_tick()
            except Exception:  # one broken feed must not blind the others
                log.exception("watchdog: checking a feed failed")

    def _loop(self) -> None:
        while not self._wake.wait(self.interval_s):
            self.tick()
