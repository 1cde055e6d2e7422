"""Reconnect delays: exponential backoff with full jitter.

Full jitter (a uniform draw between 0 and the exponential cap) spreads the reconnects of
many feeds that failed together (a relay restart) instead of having them all hit the
server again at the same instant. The random source is injectable so tests are exact.
"""

from __future__ import annotations

import random
from collections.abc import Callable

MIN_DELAY_S = 0.05  # never spin: even a zero draw waits a little


class Backoff:
    """Delay before reconnect attempt ``n`` (0-based): ``uniform(0, min(max, initial*2**n))``."""

    def __init__(
        self,
        initial_s: float,
        max_s: float,
        *,
        rng: Callable[[], float] | None = None,
    ) -> None:
        if initial_s <= 0 or max_s < initial_s:
            raise ValueError(f"need 0 < initial_s <= max_s, got {initial_s}, {max_s}")
        self.initial_s = initial_s
        self.max_s = max_s
        self._rng = rng if rng is not None else random.random
        self.attempt = 0

    def cap(self, attempt: int) -> float:
        """The upper bound of the delay for ``attempt`` (no jitter)."""
        # 2**attempt overflows floats only beyond ~1024; clamp the exponent first.
        return min(self.max_s, self.initial_s * (2.0 ** min(attempt, 64)))

    def next_delay(self) -> float:
        """The delay for the next attempt; advances the attempt counter."""
        delay = max(MIN_DELAY_S, self._rng() * self.cap(self.attempt))
        self.attempt += 1
        return min(delay, self.max_s)

    def reset(self) -> None:
        """Call after a successful connection: the next failure starts small again."""
        self.attempt = 0
