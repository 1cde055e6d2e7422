"""Rolling-window counters for a feed's statistics (fps, decode time)."""

from __future__ import annotations

from collections import deque


class RollingWindow:
    """Timestamped samples kept for ``window_s`` seconds; gives a rate and a mean.

    Not thread-safe on its own: the feed worker guards it with its lock.
    """

    def __init__(self, window_s: float = 2.0) -> None:
        self.window_s = window_s
        self._samples: deque[tuple[float, float]] = deque()

    def add(self, now: float, value: float = 0.0) -> None:
        self._samples.append((now, value))
        self._trim(now)

    def _trim(self, now: float) -> None:
        cutoff = now - self.window_s
        samples = self._samples
        while samples and samples[0][0] < cutoff:
            samples.popleft()

    def rate(self, now: float) -> float:
        """Events per second over the window (0 when empty)."""
        self._trim(now)
        n = len(self._samples)
        if n == 0:
            return 0.0
        # Over a short history use its real span, so the first second is not under-reported.
        span = max(now - self._samples[0][0], 1e-3)
        if n > 1 and span < self.window_s:
            return (n - 1) / max(self._samples[-1][0] - self._samples[0][0], 1e-3)
        return n / self.window_s

    def mean(self, now: float) -> float:
        """Mean of the sample values in the window (0 when empty)."""
        self._trim(now)
        if not self._samples:
            return 0.0
        return sum(v for _, v in self._samples) / len(self._samples)

    def clear(self) -> None:
        self._samples.clear()
