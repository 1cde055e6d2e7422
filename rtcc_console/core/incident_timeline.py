"""Everything that happened to one call or case, as entries on one time line (pure).

The builders take the API's JSON objects (call history, audit entries, footage requests,
evidence, vehicle moments, custody entries) and return ``TimelineEntry`` values; the
incident review draws them in lanes. An entry that points into a recording carries the
evidence id and the offset into it, so a click can open the player at that moment.
Owners appear only as a kind ("business"); no names reach the timeline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

LANES = ("CAD", "Live views", "Field", "Footage requests", "Evidence", "Vehicles", "Custody")


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    lane: str
    title: str
    detail: str = ""
    end: datetime | None = None  # a span (a live view, a recording)
    evidence_id: str | None = None
    offset_s: float = 0.0  # seconds into the evidence at ``at``
    key: str = ""  # unique per source object (merging two fetches never duplicates)

    @property
    def duration_s(self) -> float | None:
        return None if self.end is None else (self.end - self.at).total_seconds()


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def cad_entries(
    history: Iterable[tuple[datetime | None, str, tuple[str, ...]]],
) -> list[TimelineEntry]:
    """``history``: (updated at, source, changes) per CAD update, as ``client.call_history`` reads it."""
    out = []
    for n, (at, source, changes) in enumerate(history):
        if at is None:
            continue
        title = "Call created" if n == 0 else "CAD update"
        out.append(
            TimelineEntry(
                at,
                "CAD",
                title,
                "; ".join(changes) or f"no visible change ({source})",
                key=f"cad-{n}",
            )
        )
    return out


def live_view_entries(audit: Iterable[dict[str, Any]]) -> list[TimelineEntry]:
    """Live views from the audit trail: a ``live.grant`` opens one (who, camera, why),
    the ``live.end`` of the same grant closes it (renewals extend it when no end is known)."""
    ended: dict[str, datetime] = {}
    renewed: dict[str, datetime] = {}
    starts: list[dict[str, Any]] = []
    for e in audit:
        raw = e.get("targets")
        targets: dict[str, Any] = raw if isinstance(raw, dict) else {}
        grant = str(targets.get("grant") or "")
        at = _time(e.get("at"))
        if at is None or not grant:
            continue
        action = e.get("action")
        if action == "live.grant" and e.get("outcome", "ok") == "ok":
            starts.append(e)
        elif action == "live.end":
            ended[grant] = at
        elif action == "live.renew":
            renewed[grant] = max(renewed.get(grant, at), at)
    out = []
    for e in starts:
        targets = e["targets"]
        at = _time(e.get("at"))
        assert at is not None
        grant = str(targets["grant"])
        end = ended.get(grant) or renewed.get(grant)
        camera = str(targets.get("camera") or "?")
        who = str(e.get("user") or "?")
        length = (
            f", {_length((end - at).total_seconds())}"
            if end
            else ", still open or end not recorded"
        )
        out.append(
            TimelineEntry(
                at,
                "Live views",
                f"{who} viewed {camera}",
                f"why: {e.get('reason') or '—'}{length}",
                end=end,
                key=f"live-{grant}",
            )
        )
    return out


def field_share_entries(
    shares: Iterable[dict[str, Any]], *, zone: tzinfo | None = None
) -> list[TimelineEntry]:
    """A call's field shares (``GET /calls/{id}/field-shares`` items): one entry per send
    (the officers shared with at once, the cameras, until when; a span while it runs) and
    one per ending (why: ended by the analyst, call closed, share expired, access revoked)."""
    sends: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    ends: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for s in shares:
        if _time(s.get("created_at")) is None or _time(s.get("expires_at")) is None:
            continue
        cams = tuple(str(c) for c in s.get("camera_ids") or [])
        key = (s.get("created_at"), s.get("created_by"), cams, s.get("expires_at"))
        sends.setdefault(key, []).append(s)
        if _time(s.get("ended_at")) is not None:
            ends.setdefault((s.get("ended_at"), s.get("end_reason")), []).append(s)
    out = []
    for (created, by, cams, expires), group in sends.items():
        at, until = _time(created), _time(expires)
        assert at is not None and until is not None
        officers = ", ".join(sorted(str(s.get("officer")) for s in group))
        local = until.astimezone(zone) if zone else until
        ended = [t for t in (_time(s.get("ended_at")) for s in group) if t is not None]
        end = max(ended) if len(ended) == len(group) else until
        out.append(
            TimelineEntry(
                at,
                "Field",
                f"Shared to field: officers {officers}; cameras {', '.join(cams) or '—'}; "
                f"until {local.strftime('%H:%M')}",
                f"by {by or '?'}",
                end=end,
                key="field-" + ",".join(sorted(str(s.get("id")) for s in group)),
            )
        )
    for (ended_at, reason), group in ends.items():
        at = _time(ended_at)
        assert at is not None
        officers = ", ".join(sorted(str(s.get("officer")) for s in group))
        out.append(
            TimelineEntry(
                at,
                "Field",
                f"Field share ended ({reason or 'ended'})",
                f"officer{'s' if len(group) != 1 else ''} {officers}",
                key="field-end-" + ",".join(sorted(str(s.get("id")) for s in group)),
            )
        )
    return out


def request_entries(requests: Iterable[dict[str, Any]]) -> list[TimelineEntry]:
    """Each footage request sent, and each owner's answer (by owner kind, never a name)."""
    out = []
    for r in requests:
        sent = _time(r.get("created_at"))
        if sent is None:
            continue
        rid = str(r.get("id"))
        items = [i for i in r.get("items") or [] if isinstance(i, dict)]
        out.append(
            TimelineEntry(
                sent,
                "Footage requests",
                f"Request {rid} sent to {len(items)} owner(s)",
                f"by {r.get('created_by') or '?'}; window {r.get('window_start')} – {r.get('window_end')}",
                key=f"req-{rid}",
            )
        )
        for item in items:
            answered = _time(item.get("answered_at"))
            if answered is None:
                continue
            state = str(item.get("state") or "answered")
            files = int(item.get("files") or 0)
            out.append(
                TimelineEntry(
                    answered,
                    "Footage requests",
                    f"{item.get('owner_kind') or 'owner'}: {state}",
                    f"{files} file(s); request {rid}",
                    key=f"ans-{item.get('id')}",
                )
            )
    return out


def evidence_entries(items: Iterable[Any]) -> list[TimelineEntry]:
    """Evidence received (at its arrival) and, for recordings, the span they cover in true
    time (click: the player opens at the start). ``items``: ``client.evidence_models.Evidence``."""
    out = []
    for ev in items:
        if ev.received_at is not None:
            out.append(
                TimelineEntry(
                    ev.received_at,
                    "Evidence",
                    f"Received {ev.filename}",
                    f"{ev.kind} from {ev.owner_kind or 'staff'}; camera {ev.camera_id or '?'}; integrity {ev.integrity}",
                    evidence_id=ev.id,
                    key=f"ev-{ev.id}",
                )
            )
        start = ev.true_start
        if start is not None and ev.media.duration_s:
            out.append(
                TimelineEntry(
                    start,
                    "Evidence",
                    f"Recording {ev.camera_id or ev.filename}",
                    f"{ev.media.duration_s:.1f} s, clock offset {ev.clock_offset_s:+g} s corrected",
                    end=start + timedelta(seconds=ev.media.duration_s),
                    evidence_id=ev.id,
                    key=f"rec-{ev.id}",
                )
            )
    return out


def vehicle_entries(item: Any, moments: Iterable[Any]) -> list[TimelineEntry]:
    """An item's vehicle candidates at their true time (``VehicleMoment`` of ``client.vehicles_api``)."""
    start = item.true_start
    out = []
    for m in moments:
        if start is None:
            continue
        at = start + timedelta(seconds=m.best_time_s)
        out.append(
            TimelineEntry(
                at,
                "Vehicles",
                f"{m.colour} {m.label}".strip(),
                f"score {m.best_score:.2f} in {item.filename} at {m.best_time_s:.1f} s",
                evidence_id=item.id,
                offset_s=m.best_time_s,
                key=f"veh-{m.id}",
            )
        )
    return out


def custody_entries(entries: Iterable[dict[str, Any]]) -> list[TimelineEntry]:
    out = []
    for c in entries:
        at = _time(c.get("at"))
        if at is None:
            continue
        action = str(c.get("action") or "?")
        out.append(
            TimelineEntry(
                at,
                "Custody",
                f"{action}: {c.get('evidence_id')}",
                f"by {c.get('actor') or '?'}",
                evidence_id=str(c.get("evidence_id") or "") or None,
                key=f"cus-{c.get('id')}",
            )
        )
    return out


def merged(*groups: Iterable[TimelineEntry]) -> list[TimelineEntry]:
    """All entries once each (by key), oldest first."""
    seen: dict[str, TimelineEntry] = {}
    for group in groups:
        for e in group:
            seen.setdefault(e.key or f"{e.lane}-{e.at.isoformat()}-{e.title}", e)
    return sorted(
        seen.values(), key=lambda e: (e.at, LANES.index(e.lane) if e.lane in LANES else 99)
    )


def _length(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"
