"""The feed state machine, kept free of threads and av so it can be tested with a fake clock.

connecting -> live -> stale (no new frame, or the same picture, for ``stale_after_s``)
-> reconnecting (waiting ``next_retry_in_s``) -> connecting ... -> failed (after
``max_attempts`` consecutive failures). ``revoked`` and ``stopped`` are terminal.
Every method that may change the state returns True when it did, so the caller knows
when to notify the GUI.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum


class FeedState(StrEnum):
    CONNECTING = "connecting"
    LIVE = "live"
    STALE = "stale"
    RECONNECTING = "reconnecting"
    FAILED = "failed"
    REVOKED = "revoked"
    STOPPED = "stopped"


TERMINAL = frozenset({FeedState.FAILED, FeedState.REVOKED, FeedState.STOPPED})
STREAMING = frozenset({FeedState.LIVE, FeedState.STALE})


class FeedStateMachine:
    """Tracks state, attempts, errors and the timing facts the watchdog judges."""

    def __init__(
        self,
        *,
        stale_after_s: float,
        read_timeout_s: float,
        max_attempts: int | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stale_after_s = stale_after_s
        self.read_timeout_s = read_timeout_s
        self.max_attempts = max_attempts
        self.clock = clock
        self.state = FeedState.CONNECTING
        self.attempt = 0  # consecutive connection attempts since the last LIVE
        self.error: str | None = None
        self.next_retry_at: float | None = None
        self.last_frame_at: float | None = None
        self.last_change_at: float | None = None  # last frame whose picture differed
        self.last_packet_at: float | None = None
        self.session_started_at: float | None = None

    # --- events from the decode thread -------------------------------------------------

    def connecting(self) -> bool:
        """A new connection attempt starts."""
        if self.state in TERMINAL:
            return False
        now = self.clock()
        self.attempt += 1
        self.next_retry_at = None
        self.session_started_at = now
        self.last_packet_at = None
        return self._set(FeedState.CONNECTING)

    def packet(self) -> None:
        self.last_packet_at = self.clock()

    def frame(self, *, changed: bool) -> bool:
        """A decoded frame; ``changed`` is False when its picture sample equals the last one."""
        if self.state in TERMINAL:
            return False
        now = self.clock()
        self.last_frame_at = now
        self.last_packet_at = now
        if changed or self.last_change_at is None:
            self.last_change_at = now
        if now - self.last_change_at >= self.stale_after_s:
            return self._set(FeedState.STALE)
        if self.state is not FeedState.LIVE:
            self.attempt = 0
            self.error = None
            return self._set(FeedState.LIVE)
        return False

    def retry_in(self, delay_s: float, error: str) -> bool:
        """The session ended with ``error``; wait ``delay_s`` or give up after max_attempts."""
        if self.state in TERMINAL:
            return False
        self.error = error
        if self.max_attempts is not None and self.attempt >= self.max_attempts:
            self.next_retry_at = None
            return self._set(FeedState.FAILED)
        self.next_retry_at = self.clock() + delay_s
        self._set(FeedState.RECONNECTING)
        return True  # next_retry_in changed too: always worth a notification

    def revoke(self, reason: str) -> bool:
        if self.state in (FeedState.REVOKED, FeedState.STOPPED):
            return False
        self.error = reason
        self.next_retry_at = None
        return self._set(FeedState.REVOKED)

    def stop(self) -> bool:
        if self.state in (FeedState.REVOKED, FeedState.STOPPED):
            return False
        self.next_retry_at = None
        return self._set(FeedState.STOPPED)

    # --- judgement by the watchdog ---------------------------------------------------------

    def check(self) -> tuple[bool, bool]:
        """Periodic check. Returns (state changed, read timed out).

        "Timed out" means the session delivered no packet for ``read_timeout_s`` while
        streaming (or since it started connecting): the worker must drop the connection.
        """
        now = self.clock()
        if self.state in STREAMING:
            quiet_since = self.last_packet_at or self.session_started_at or now
            if now - quiet_since >= self.read_timeout_s:
                return False, True
            frame_at = self.last_frame_at or now
            change_at = self.last_change_at or now
            if self.state is FeedState.LIVE and (
                now - frame_at >= self.stale_after_s or now - change_at >= self.stale_after_s
            ):
                return self._set(FeedState.STALE), False
        return False, False

    def open_overdue(self, open_timeout_s: float) -> bool:
        """True when a CONNECTING attempt has shown no frame for open + read timeout."""
        if self.state is not FeedState.CONNECTING or self.session_started_at is None:
            return False
        return self.clock() - self.session_started_at >= open_timeout_s + self.read_timeout_s

    def next_retry_in(self) -> float | None:
        if self.state is not FeedState.RECONNECTING or self.next_retry_at is None:
            return None
        return max(0.0, self.next_retry_at - self.clock())

    def _set(self, state: FeedState) -> bool:
        if state is self.state:
            return False
        self.state = state
        return True
