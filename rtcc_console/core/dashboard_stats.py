"""The supervisor dashboard's figures, kept current one event at a time (pure, no Qt).

Every input is idempotent by id (a snapshot racing an event, or an event replayed after a
reconnect, never counts twice). The dashboard widget asks for the series it draws.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

#: The figures cities publish for their registries (reference lines on the cameras chart).
PUBLISHED_REGISTRIES: tuple[tuple[str, int, int], ...] = (
    ("Connect Dallas", 2306, 276),
    ("Connect Arlington", 1949, 305),
)


def _hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _day(at: datetime) -> date:
    return at.astimezone(UTC).date()


@dataclass
class RequestFacts:
    sent_at: datetime
    items: int = 0
    answered_items: int = 0
    first_upload_s: list[float] = field(default_factory=list)  # per owner who uploaded


@dataclass
class DashboardStats:
    """What the dashboard shows; ``now`` comes from the caller (tests pin it)."""

    calls: dict[str, tuple[datetime, str]] = field(default_factory=dict)  # id -> reported, category
    cameras: dict[str, bool] = field(default_factory=dict)  # id -> integrated (active only)
    camera_counts: list[tuple[datetime, int, int]] = field(default_factory=list)  # at, reg., integ.
    requests: dict[str, RequestFacts] = field(default_factory=dict)
    live_views: dict[str, datetime] = field(default_factory=dict)  # grant/entry key -> opened at
    emergencies: dict[str, datetime] = field(default_factory=dict)  # id -> started at
    active_emergencies: int = 0
    wall: list[tuple[datetime, int, int, int]] = field(
        default_factory=list
    )  # at, live, stale, failed

    # -- calls ------------------------------------------------------------------------
    def add_call(self, call_id: str, reported_at: datetime, category: str) -> bool:
        """True when the call is new (an update of a known call changes no count)."""
        new = call_id not in self.calls
        self.calls[call_id] = (reported_at, category or "other")
        return new

    def calls_per_hour(
        self, *, hours: int, now: datetime
    ) -> tuple[list[datetime], dict[str, list[int]]]:
        """The last ``hours`` hour buckets (oldest first) and, per category, the calls in each."""
        last = _hour(now)
        buckets = [last - timedelta(hours=hours - 1 - i) for i in range(hours)]
        index = {b: i for i, b in enumerate(buckets)}
        out: dict[str, list[int]] = {}
        for reported, category in self.calls.values():
            i = index.get(_hour(reported))
            if i is None:
                continue
            out.setdefault(category, [0] * hours)[i] += 1
        return buckets, dict(sorted(out.items()))

    # -- cameras ----------------------------------------------------------------------
    def set_camera(self, camera_id: str, *, integrated: bool | None, at: datetime) -> bool:
        """``integrated=None``: deleted or revoked. Records a point when a count changed."""
        before = self.counts()
        if integrated is None:
            self.cameras.pop(camera_id, None)
        else:
            self.cameras[camera_id] = integrated
        return self._record_counts(before, at)

    def load_cameras(self, cameras: dict[str, bool], *, at: datetime) -> bool:
        before = self.counts()
        self.cameras = dict(cameras)
        return self._record_counts(before, at)

    def _record_counts(self, before: tuple[int, int], at: datetime) -> bool:
        after = self.counts()
        if after == before and self.camera_counts:
            return False
        self.camera_counts.append((at, *after))
        return True

    def counts(self) -> tuple[int, int]:
        """(registered, integrated): every active camera is registered; some are integrated."""
        return len(self.cameras), sum(1 for v in self.cameras.values() if v)

    # -- footage requests -------------------------------------------------------------
    def set_request(
        self,
        request_id: str,
        *,
        sent_at: datetime,
        items: list[tuple[datetime | None, datetime | None, int]],
    ) -> None:
        """``items``: per owner (sent at, answered at, files uploaded)."""
        facts = RequestFacts(sent_at=sent_at, items=len(items))
        for item_sent, answered, files in items:
            if answered is not None:
                facts.answered_items += 1
                if files > 0:
                    start = item_sent or sent_at
                    facts.first_upload_s.append(max(0.0, (answered - start).total_seconds()))
        self.requests[request_id] = facts

    def request_figures(self) -> tuple[int, int, float | None]:
        """(requests sent, requests with at least one answer, median seconds to first upload)."""
        sent = len(self.requests)
        answered = sum(1 for r in self.requests.values() if r.answered_items)
        firsts = [min(r.first_upload_s) for r in self.requests.values() if r.first_upload_s]
        return sent, answered, (statistics.median(firsts) if firsts else None)

    # -- live views and emergencies ---------------------------------------------------
    def add_live_view(self, key: str, at: datetime) -> bool:
        new = key not in self.live_views
        self.live_views.setdefault(key, at)
        return new

    def live_views_per_day(self, *, days: int, now: datetime) -> tuple[list[date], list[int]]:
        return self._per_day(self.live_views.values(), days=days, now=now)

    def set_emergencies(self, started: dict[str, datetime], *, active: int) -> None:
        self.emergencies.update(started)
        self.active_emergencies = active

    def emergencies_per_day(self, *, days: int, now: datetime) -> tuple[list[date], list[int]]:
        return self._per_day(self.emergencies.values(), days=days, now=now)

    @staticmethod
    def _per_day(
        times: Iterable[datetime], *, days: int, now: datetime
    ) -> tuple[list[date], list[int]]:
        last = _day(now)
        axis = [last - timedelta(days=days - 1 - i) for i in range(days)]
        counted = Counter(_day(t) for t in times)
        return axis, [counted.get(d, 0) for d in axis]

    # -- the console's own wall -------------------------------------------------------
    def add_wall_sample(
        self, at: datetime, live: int, stale: int, failed: int, *, keep: int = 720
    ) -> None:
        self.wall.append((at, live, stale, failed))
        del self.wall[:-keep]
