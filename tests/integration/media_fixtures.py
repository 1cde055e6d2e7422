"""Helpers for the media integration tests: waiting on conditions, silent TCP peers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rtcc_console.media.feed import FeedOptions, FeedStats, FeedWorker, VideoFrame

# Generous bounds: the machine is shared, so tests wait on conditions, never on timing.
WAIT_S = 30.0
FAST = FeedOptions(open_timeout_s=3.0, read_timeout_s=1.5, backoff_initial_s=0.1, backoff_max_s=0.5)


def wait_until(cond: Callable[[], object], timeout: float = WAIT_S, step: float = 0.02) -> bool:
    """Poll ``cond`` until it is truthy or ``timeout`` passes; return whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return bool(cond())


def take_frames(worker: FeedWorker, count: int, timeout: float = WAIT_S) -> list[VideoFrame]:
    """``count`` distinct frames from ``worker`` (fails the wait by returning fewer)."""
    frames: list[VideoFrame] = []

    def got() -> bool:
        frame = worker.take_frame()
        if frame is not None:
            frames.append(frame)
        return len(frames) >= count

    wait_until(got, timeout, step=0.01)
    return frames


class StateLog:
    """Records every FeedStats the worker reports through ``on_state`` (thread-safe)."""

    def __init__(self) -> None:
        self.items: list[FeedStats] = []
        self._lock = threading.Lock()

    def __call__(self, stats: FeedStats) -> None:
        with self._lock:
            self.items.append(stats)

    def states(self) -> list[str]:
        with self._lock:
            return [str(s.state) for s in self.items]


@contextmanager
def silent_tcp_server() -> Iterator[int]:
    """A TCP server that accepts connections and never sends a byte; yields its port."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.2)
    held: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            held.append(conn)

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        yield int(srv.getsockname()[1])
    finally:
        done.set()
        t.join(2)
        for conn in held:
            conn.close()
        srv.close()
