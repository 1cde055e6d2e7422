"""What a tile's state badge says, decided from the worker's stats and the tile's own clock.

Kept free of widgets so that every state is easy to test. The rule that matters most: a
tile whose frames stopped arriving is STALE even when the worker still claims LIVE, so a
hung worker can never look live.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rtcc_console.media.feed import FeedStats
from rtcc_console.media.state import FeedState

#: A tile without a new frame for this long is shown STALE whatever the worker says.
TILE_STALE_AFTER_S = 1.5


class BadgeKind(StrEnum):
    """What a tile's badge says about its feed (also the ``why`` of ``tile_closed``)."""

    LIVE = "LIVE"
    STALE = "STALE"
    CONNECTING = "CONNECTING"
    RECONNECTING = "RECONNECTING"
    DENIED = "DENIED"
    REVOKED = "REVOKED"
    FAILED = "FAILED"
    STOPPED = "STOPPED"
    EMPTY = "EMPTY"


LIVE = BadgeKind.LIVE
STALE = BadgeKind.STALE
CONNECTING = BadgeKind.CONNECTING
RECONNECTING = BadgeKind.RECONNECTING
DENIED = BadgeKind.DENIED
REVOKED = BadgeKind.REVOKED
FAILED = BadgeKind.FAILED
STOPPED = BadgeKind.STOPPED
EMPTY = BadgeKind.EMPTY

COLOURS: dict[BadgeKind, str] = {
    LIVE: "#1f9d55",
    STALE: "#d97706",
    RECONNECTING: "#d97706",
    CONNECTING: "#2563eb",
    DENIED: "#b91c1c",
    REVOKED: "#b91c1c",
    FAILED: "#b91c1c",
    STOPPED: "#4b5563",
    EMPTY: "#4b5563",
}

#: States in which the tile shows no video at all, only the reason.
TERMINAL = frozenset({DENIED, REVOKED, FAILED, STOPPED})


@dataclass(frozen=True, slots=True)
class Badge:
    """The badge text (``kind`` plus detail) and its colour."""

    kind: BadgeKind
    detail: str = ""

    @property
    def text(self) -> str:
        return f"{self.kind} {self.detail}".strip() if self.kind not in TERMINAL else self.kind

    @property
    def colour(self) -> str:
        return COLOURS[self.kind]

    @property
    def is_live(self) -> bool:
        return self.kind == LIVE


def _age_text(age_s: float | None) -> str:
    if age_s is None:
        return "no frame yet"
    if age_s < 60:
        return f"{age_s:.1f} s"
    return f"{int(age_s // 60)} min {int(age_s % 60)} s"


def badge_for(stats: FeedStats, frame_age_s: float | None, since_live_s: float | None) -> Badge:
    """The badge of a tile whose worker reports ``stats`` (a ``FeedStats``).

    ``frame_age_s`` is how long ago the tile received its last new frame (None: never);
    ``since_live_s`` how long the tile has had a worker, so that a feed that never
    delivered a frame also turns STALE instead of claiming LIVE.
    """
    state = FeedState(stats.state)
    if state is FeedState.LIVE:
        own_age = frame_age_s if frame_age_s is not None else since_live_s
        if own_age is not None and own_age > TILE_STALE_AFTER_S:
            return Badge(STALE, _age_text(frame_age_s))
        return Badge(LIVE)
    if state is FeedState.STALE:
        ages = [a for a in (frame_age_s, stats.last_frame_age_s) if a is not None]
        return Badge(STALE, _age_text(max(ages) if ages else None))
    if state is FeedState.RECONNECTING:
        retry = stats.next_retry_in_s
        detail = f"next try in {retry:.0f} s" if retry is not None else "now"
        if stats.attempt:
            detail += f" (attempt {stats.attempt})"
        return Badge(RECONNECTING, detail)
    if state is FeedState.CONNECTING:
        return Badge(CONNECTING)
    if state is FeedState.REVOKED:
        return Badge(REVOKED, stats.error or "access revoked")
    if state is FeedState.FAILED:
        return Badge(FAILED, stats.error or "stream failed")
    return Badge(STOPPED, stats.error or "")


def stats_line(stats: FeedStats) -> str:
    """The optional diagnostics line: fps, drops, latency, decode time."""
    latency = f"{stats.latency_ms:.0f} ms" if stats.latency_ms is not None else "n/a"
    return (
        f"{stats.fps:.1f} fps  drops {stats.frames_dropped}  "
        f"latency {latency}  decode {stats.decode_ms:.1f} ms"
    )
