"""One time axis for several recordings of an incident (pure, no I/O).

Each recording is placed by its *true* start: the time its camera stamped, corrected by
the owner's stated clock offset (camera clock minus true time). A moment on the axis maps
to "seconds into recording k", or to nothing when that camera was not recording then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class AxisClip:
    key: str
    true_start: datetime
    duration_s: float

    @property
    def true_end(self) -> datetime:
        return self.true_start + timedelta(seconds=self.duration_s)

    def offset_at(self, moment: datetime) -> float | None:
        """Seconds into this recording at ``moment``; None outside it."""
        t = (moment - self.true_start).total_seconds()
        return t if 0.0 <= t <= self.duration_s else None


def true_start(camera_start: datetime, clock_offset_s: float) -> datetime:
    """The true time of a picture the camera stamped ``camera_start``."""
    return camera_start - timedelta(seconds=clock_offset_s)


def span(clips: Sequence[AxisClip]) -> tuple[datetime, datetime]:
    """From the earliest true start to the latest true end (ValueError without clips)."""
    if not clips:
        raise ValueError("no recordings to place on the axis")
    return min(c.true_start for c in clips), max(c.true_end for c in clips)
