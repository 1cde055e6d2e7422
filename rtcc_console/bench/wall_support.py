"""Support for ``rtcc bench wall``: the simulator in a subprocess and the ffmpeg reference.

The simulator (``sim.cameras.SimCameraServer``) runs in its own process so that its CPU
(packet pacing, HTTP) is not counted as the wall's. The ffmpeg reference decodes the same
streams to null with the ffmpeg CLI; its CPU is read per process from /proc after a
warm-up, so both figures exclude start-up and probing.
"""

from __future__ import annotations

import multiprocessing as mp
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any


def percentile(sorted_values: list[float], pct: float) -> float:
    """Linear-interpolated percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * pct / 100.0
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def _serve(count: int, fps: int, size: tuple[int, int], conn: Connection, stop: Any) -> None:
    from rtcc_console.sim.cameras import SimCameraServer

    server = SimCameraServer(count, fps=fps, size=size)
    kind = "rtcc_console.sim.cameras"
    server.start()
    try:
        conn.send((kind, [server.url(i, kind="ts") for i in range(count)]))
        stop.wait()
    finally:
        server.stop()


class SimProcess:
    """``count`` simulated cameras served from a child process (context manager)."""

    def __init__(self, count: int, *, fps: int = 15, size: tuple[int, int] = (1280, 720)) -> None:
        self.count, self.fps, self.size = count, fps, size
        ctx = mp.get_context("spawn")
        self._stop = ctx.Event()
        self._parent, child = ctx.Pipe()
        self._proc = ctx.Process(
            target=_serve, args=(count, fps, size, child, self._stop), daemon=True
        )
        self.urls: list[str] = []
        self.simulator = ""

    @property
    def description(self) -> str:
        return f"{self.count} simulated H.264 {self.size[0]}x{self.size[1]}@{self.fps} ({self.simulator})"

    def __enter__(self) -> SimProcess:
        self._proc.start()
        if not self._parent.poll(180):  # first run encodes the loops (cached afterwards)
            self.__exit__(None, None, None)
            raise RuntimeError("the camera simulator did not start within 180 s")
        self.simulator, urls = self._parent.recv()
        self.urls = list(urls)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._proc.join(5)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(2)
