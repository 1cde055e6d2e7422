"""When FFmpeg never returns (timeouts ignored), the watchdog abandons the thread and stop()
still returns on time: a hung camera can never hang the wall."""

from __future__ import annotations

import threading
import time
from typing import Any

from rtcc_console.media.feed import FeedOptions, FeedState, FeedWorker
from rtcc_console.media.watchdog import Watchdog


class _HangingOpener:
    """A fake ``av.open`` that blocks until released, whatever timeout it is given."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0
        self.kwargs: dict[str, Any] = {}

    def __call__(self, url: str, **kwargs: Any) -> Any:
        self.calls += 1
        self.kwargs = kwargs
        self.release.wait(60)
        raise OSError("released")


def _wait(cond: Any, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not cond():
        time.sleep(0.01)
    return bool(cond())


def test_stuck_open_is_abandoned_and_retried_and_stop_returns() -> None:
    opener = _HangingOpener()
    dog = Watchdog(interval_s=0.05)
    opts = FeedOptions(
        open_timeout_s=0.2,
        read_timeout_s=0.2,
        abandon_grace_s=0.2,
        backoff_initial_s=0.05,
        backoff_max_s=0.1,
    )
    states: list[FeedState] = []
    w = FeedWorker(
        "rtsp://127.0.0.1:9/x",
        name="stuck",
        options=opts,
        opener=opener,
        watchdog=dog,
        on_state=lambda s: states.append(s.state),
    )
    w.start()
    try:
        assert _wait(lambda: opener.calls >= 1)
        assert opener.kwargs["timeout"] == (0.2, 0.2)  # the real timeouts are asked for
        assert _wait(lambda: w.stats().abandoned_threads >= 1 and opener.calls >= 2)
        assert FeedState.RECONNECTING in states
        assert w.stats().error and "no picture" in w.stats().error
        t0 = time.monotonic()
        w.stop(timeout=0.3)
        assert time.monotonic() - t0 < 0.3 + 0.5
        assert w.stats().state is FeedState.STOPPED
    finally:
        opener.release.set()
    assert w.stats().state is FeedState.STOPPED  # released threads exit quietly
