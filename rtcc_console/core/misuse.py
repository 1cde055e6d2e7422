"""Misuse flags: patterns in the audit trail a supervisor should look at (issue 14).

Pure detection over plain records (no database, no clock): the server feeds it the audit
entries of a window, the calls open during it and the positions of the cameras viewed.
Each flag says in words what was seen and lists the entries behind it; its id is stable
(a hash of kind, user and first entry), so scanning the same window twice raises nothing
new. Thresholds come from the settings (``RTCC_MISUSE_*``).
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from rtcc_console.core.geo import haversine_m
from rtcc_console.core.models import GeoPoint

#: Actions that read or take out information (after-hours flag).
ACCESS_PREFIXES = (
    "live.",
    "evidence.",
    "audit.view",
    "audit.export",
    "registry.export",
    "footage_request.created",
    "portal.receipts",
)
#: Actions that export items, and how many items each exports when it does not say.
EXPORT_ACTIONS = (
    "audit.export",
    "registry.export",
    "evidence.export_started",
    "evidence.export_downloaded",
)
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True, slots=True)
class Entry:
    """One audit entry, as the detector needs it."""

    id: int
    at: datetime
    user: str | None
    action: str
    outcome: str = "ok"
    camera: str | None = None
    reason: str | None = None
    emergency: str | None = None
    items: int | None = None


@dataclass(frozen=True, slots=True)
class OpenCall:
    """A call and the time it was open (``closed_at`` None: still open)."""

    id: str
    lat: float
    lon: float
    opened_at: datetime
    closed_at: datetime | None = None

    def open_at(self, when: datetime) -> bool:
        return self.opened_at <= when and (self.closed_at is None or when < self.closed_at)


@dataclass(frozen=True, slots=True)
class Thresholds:
    min_reason_chars: int = 8
    window_s: int = 3600
    many_cameras: int = 8
    call_radius_m: float = 1500.0
    far_m: float = 8000.0
    burst_max_s: int = 900
    quiet_s: int = 6 * 3600
    after_hours_start: time = time(23, 0)
    after_hours_end: time = time(5, 0)
    export_items: int = 50
    time_zone: str = "UTC"


@dataclass(frozen=True, slots=True)
class Flag:
    id: str
    kind: str
    user: str | None
    first_at: datetime
    last_at: datetime
    entry_ids: tuple[int, ...]
    explanation: str


@dataclass(slots=True)
class _Scene:
    calls: Sequence[OpenCall]
    cameras: Mapping[str, tuple[float, float]]
    nearest: dict[int, float | None] = field(default_factory=dict)

    def distance(self, entry: Entry) -> float | None:
        """Distance from the entry's camera to the nearest call open then (None: no call open / unknown camera)."""
        if entry.id not in self.nearest:
            pos = self.cameras.get(entry.camera or "")
            best: float | None = None
            if pos is not None:
                for call in self.calls:
                    if call.open_at(entry.at):
                        d = haversine_m(GeoPoint(pos[0], pos[1]), GeoPoint(call.lat, call.lon))
                        best = d if best is None or d < best else best
            self.nearest[entry.id] = best
        return self.nearest[entry.id]


def flag_id(kind: str, user: str | None, first_entry: int) -> str:
    return "flag-" + hashlib.sha256(f"{kind}|{user or ''}|{first_entry}".encode()).hexdigest()[:20]


def _flag(kind: str, user: str | None, entries: Sequence[Entry], explanation: str) -> Flag:
    ordered = sorted(entries, key=lambda e: e.id)
    return Flag(
        id=flag_id(kind, user, ordered[0].id),
        kind=kind,
        user=user,
        first_at=ordered[0].at,
        last_at=ordered[-1].at,
        entry_ids=tuple(e.id for e in ordered),
        explanation=explanation,
    )


def _views(entries: Iterable[Entry]) -> list[Entry]:
    return [e for e in entries if e.action == "live.grant" and e.outcome == "ok" and e.user]


def _by_user(entries: Iterable[Entry]) -> dict[str, list[Entry]]:
    out: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        if e.user:
            out[e.user].append(e)
    return out


def no_reason(entries: Sequence[Entry], th: Thresholds) -> list[Flag]:
    """Live views with no case number and no real reason: one flag per user and day."""
    bad = [
        e
        for e in _views(entries)
        if not _DIGIT.search(e.reason or "") and len((e.reason or "").strip()) < th.min_reason_chars
    ]
    groups: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for e in bad:
        groups[(e.user or "", e.at.date().isoformat())].append(e)
    return [
        _flag(
            "no_reason",
            user,
            group,
            f"{user} opened {len(group)} live view(s) on {day} without a case number or a reason "
            f"(reasons given: {', '.join(sorted({repr((e.reason or '').strip()) for e in group}))})",
        )
        for (user, day), group in sorted(groups.items())
    ]


def many_cameras(entries: Sequence[Entry], th: Thresholds, scene: _Scene) -> list[Flag]:
    """Many different cameras opened within the window while none served an open call."""
    flags: list[Flag] = []
    window = timedelta(seconds=th.window_s)
    for user, views in sorted(_by_user(_views(entries)).items()):
        outside = [
            e for e in views if e.emergency is None and not _near_call(scene.distance(e), th)
        ]
        start = 0
        i = 0
        while i < len(outside):
            while outside[i].at - outside[start].at > window:
                start += 1
            run = outside[start : i + 1]
            cams = {e.camera for e in run}
            if len(cams) >= th.many_cameras:
                j = i + 1  # extend the run to everything within the window of its start
                while j < len(outside) and outside[j].at - outside[start].at <= window:
                    j += 1
                run = outside[start:j]
                flags.append(
                    _flag(
                        "many_cameras",
                        user,
                        run,
                        f"{user} opened {len({e.camera for e in run})} different cameras within "
                        f"{th.window_s // 60} minutes, none within {th.call_radius_m:.0f} m of a call "
                        f"open at the time",
                    )
                )
                start = i = j
                continue
            i += 1
    return flags


def _near_call(distance: float | None, th: Thresholds) -> bool:
    return distance is not None and distance <= th.call_radius_m


def far_from_calls(entries: Sequence[Entry], th: Thresholds, scene: _Scene) -> list[Flag]:
    """Live views of cameras far from every call open at the time (while calls were open)."""
    flags = []
    for e in _views(entries):
        d = scene.distance(e)
        if e.emergency is None and d is not None and d > th.far_m:
            flags.append(
                _flag(
                    "far_from_calls",
                    e.user,
                    [e],
                    f"{e.user} viewed camera {e.camera} {d / 1000:.1f} km from the nearest open call "
                    f"(more than {th.far_m / 1000:.1f} km)",
                )
            )
    return flags


def isolated_sessions(
    entries: Sequence[Entry], th: Thresholds, *, since: datetime, until: datetime
) -> list[Flag]:
    """A short burst of activity with long inactivity on both sides (the window's edges count as unknown)."""
    flags: list[Flag] = []
    quiet = timedelta(seconds=th.quiet_s)
    burst_max = timedelta(seconds=th.burst_max_s)
    for user, acts in sorted(_by_user(entries).items()):
        acts.sort(key=lambda e: (e.at, e.id))
        bursts: list[list[Entry]] = [[acts[0]]]
        for e in acts[1:]:
            if e.at - bursts[-1][-1].at >= quiet:
                bursts.append([e])
            else:
                bursts[-1].append(e)
        for k, burst in enumerate(bursts):
            before = burst[0].at - bursts[k - 1][-1].at if k > 0 else burst[0].at - since
            after = (
                bursts[k + 1][0].at - burst[-1].at if k + 1 < len(bursts) else until - burst[-1].at
            )
            if burst[-1].at - burst[0].at <= burst_max and before >= quiet and after >= quiet:
                minutes = max(1, round((burst[-1].at - burst[0].at).total_seconds() / 60))
                flags.append(
                    _flag(
                        "isolated_session",
                        user,
                        burst,
                        f"{user} was active for about {minutes} minute(s) ({len(burst)} entries) with "
                        f"at least {th.quiet_s // 3600} h of inactivity before and after",
                    )
                )
    return flags


def after_hours(entries: Sequence[Entry], th: Thresholds) -> list[Flag]:
    """Access between after_hours_start and after_hours_end (agency time): one flag per user and night."""
    if th.after_hours_start == th.after_hours_end:
        return []
    zone = ZoneInfo(th.time_zone)
    groups: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for e in entries:
        if not e.user or not e.action.startswith(ACCESS_PREFIXES):
            continue
        local = e.at.astimezone(zone)
        t = local.time()
        s, end = th.after_hours_start, th.after_hours_end
        inside = (s <= t < end) if s < end else (t >= s or t < end)
        if inside:
            night = (local - timedelta(days=1)).date() if s > end and t < end else local.date()
            groups[(e.user, night.isoformat())].append(e)
    return [
        _flag(
            "after_hours",
            user,
            group,
            f"{user} accessed the system after hours ({th.after_hours_start:%H:%M}-{th.after_hours_end:%H:%M} "
            f"agency time) in the night of {night}: {len(group)} entries "
            f"({', '.join(sorted({e.action for e in group}))})",
        )
        for (user, night), group in sorted(groups.items())
    ]


def many_exports(entries: Sequence[Entry], th: Thresholds) -> list[Flag]:
    """At least export_items items exported by one user within the window."""
    flags: list[Flag] = []
    window = timedelta(seconds=th.window_s)
    exports = [e for e in entries if e.action in EXPORT_ACTIONS and e.outcome == "ok"]
    for user, rows in sorted(_by_user(exports).items()):
        start, total, i = 0, 0, 0
        while i < len(rows):
            total += rows[i].items or 1
            while rows[i].at - rows[start].at > window:
                total -= rows[start].items or 1
                start += 1
            if total >= th.export_items:
                run = rows[start : i + 1]
                flags.append(
                    _flag(
                        "many_exports",
                        user,
                        run,
                        f"{user} exported {total} items in {len(run)} export(s) within "
                        f"{th.window_s // 60} minutes (threshold {th.export_items})",
                    )
                )
                start, total = i + 1, 0
            i += 1
    return flags


def detect(
    entries: Sequence[Entry],
    *,
    calls: Sequence[OpenCall],
    cameras: Mapping[str, tuple[float, float]],
    thresholds: Thresholds,
    since: datetime,
    until: datetime,
) -> list[Flag]:
    """Every flag of the window [since, until), newest first."""
    ordered = sorted(entries, key=lambda e: (e.at, e.id))  # the sliding windows walk in time order
    scene = _Scene(calls=calls, cameras=cameras)
    flags = (
        no_reason(ordered, thresholds)
        + many_cameras(ordered, thresholds, scene)
        + far_from_calls(ordered, thresholds, scene)
        + isolated_sessions(ordered, thresholds, since=since, until=until)
        + after_hours(ordered, thresholds)
        + many_exports(ordered, thresholds)
    )
    return sorted(flags, key=lambda f: (f.first_at, f.id), reverse=True)
