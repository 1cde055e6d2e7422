"""Misuse flags on the server: read a window of the trail, run ``core.misuse``, keep the flags
raised (``misuse_flags``), answer them with their entries, and acknowledge them (audited)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from fastapi import HTTPException

from rtcc_console.config import ServerSettings
from rtcc_console.core import misuse
from rtcc_console.core.models import utcnow
from rtcc_console.server.audit import Actor, append_audit, public_row
from rtcc_console.server.state import AppState
from rtcc_console.store import audit_log
from rtcc_console.store.schema import AuditEventRow, MisuseFlagRow

DEFAULT_WINDOW = timedelta(days=7)
MAX_WINDOW = timedelta(days=31)
MAX_ENTRIES = 500_000  # a window busier than this is scanned in its oldest part only (the answer says so in `until`)


def window_of(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    """The scanned window: default the last 7 days; both ends need an offset; at most 31 days."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise ValueError(f"{name}: a time zone offset is required")
    end = until or utcnow()
    start = since or end - DEFAULT_WINDOW
    if start >= end:
        raise ValueError("since must be before until")
    if end - start > MAX_WINDOW:
        raise ValueError("the window is at most 31 days")
    return start, end


def thresholds_of(settings: ServerSettings) -> misuse.Thresholds:
    return misuse.Thresholds(
        min_reason_chars=settings.misuse_min_reason_chars,
        window_s=settings.misuse_window_s,
        many_cameras=settings.misuse_many_cameras,
        call_radius_m=settings.misuse_call_radius_m,
        far_m=settings.misuse_far_m,
        burst_max_s=settings.misuse_burst_max_s,
        quiet_s=settings.misuse_quiet_s,
        after_hours_start=time.fromisoformat(settings.misuse_after_hours_start),
        after_hours_end=time.fromisoformat(settings.misuse_after_hours_end),
        export_items=settings.misuse_export_items,
        time_zone=settings.time_zone,
    )


def entry_of(row: AuditEventRow) -> misuse.Entry:
    targets = row.targets or {}
    items = targets.get("items")
    return misuse.Entry(
        id=row.id,
        at=row.at,
        user=row.username,
        action=row.action,
        outcome=row.outcome,
        camera=targets.get("camera"),
        reason=row.reason,
        emergency=targets.get("emergency"),
        items=int(items) if isinstance(items, str | int) and str(items).isdigit() else None,
    )


def scan(state: AppState, *, since: datetime, until: datetime) -> int:
    """Detect the flags of [since, until) and store the new ones; returns how many were new."""
    quiet = timedelta(seconds=state.settings.misuse_quiet_s)
    with state.db.read() as session:  # the isolation test needs the quiet time around the window
        rows = audit_log.entries_between(
            session, since=since - quiet, until=until + quiet, limit=MAX_ENTRIES
        )
        entries = [entry_of(r) for r in rows if r.username]
        calls = [
            misuse.OpenCall(id=c[0], lat=c[1], lon=c[2], opened_at=c[3], closed_at=c[4])
            for c in audit_log.calls_open_between(session, since=since, until=until)
        ]
        cameras = audit_log.camera_positions(session, ids=[e.camera for e in entries if e.camera])
    found = misuse.detect(
        entries,
        calls=calls,
        cameras=cameras,
        thresholds=thresholds_of(state.settings),
        since=since - quiet,
        until=min(until + quiet, utcnow()),
    )
    inside = [f for f in found if since <= f.first_at < until]
    with state.db.write() as session:
        return audit_log.store_new_flags(
            session,
            raised_at=utcnow(),
            flags=[
                {
                    "id": f.id,
                    "kind": f.kind,
                    "username": f.user,
                    "first_at": f.first_at,
                    "last_at": f.last_at,
                    "entry_ids": list(f.entry_ids),
                    "explanation": f.explanation,
                }
                for f in inside
            ],
        )


def flag_public(row: MisuseFlagRow, entries: dict[int, AuditEventRow]) -> dict[str, Any]:
    ids = [int(i) for i in row.entry_ids]
    return {
        "id": row.id,
        "kind": row.kind,
        "user": row.username,
        "first_at": row.first_at.isoformat(),
        "last_at": row.last_at.isoformat(),
        "explanation": row.explanation,
        "entry_ids": ids,
        "entries": [public_row(entries[i]) for i in ids if i in entries],
        "raised_at": row.raised_at.isoformat(),
        "acknowledged": row.ack_at is not None,
        "ack_by": row.ack_by,
        "ack_at": row.ack_at.isoformat() if row.ack_at else None,
        "ack_note": row.ack_note,
    }


def scan_and_list(
    state: AppState,
    *,
    actor: Actor,
    window: tuple[datetime, datetime],
    kind: str | None,
    acknowledged: bool | None,
) -> dict[str, Any]:
    since, until = window
    scan(state, since=since, until=until)
    with state.db.write() as session:
        append_audit(
            session,
            actor=actor,
            action="audit.flags_view",
            reason=f"{since.isoformat()} .. {until.isoformat()}",
        )
    with state.db.read() as session:
        flags = audit_log.flags_between(
            session, since=since, until=until, kind=kind, acknowledged=acknowledged
        )
        entries = audit_log.entries_by_ids(
            session, ids=[int(i) for f in flags for i in f.entry_ids]
        )
        items = [flag_public(f, entries) for f in flags]
    return {"items": items, "since": since.isoformat(), "until": until.isoformat()}


def acknowledge(state: AppState, *, actor: Actor, flag_id: str, note: str) -> dict[str, Any]:
    with state.db.write() as session:
        row = audit_log.get_flag(session, flag_id=flag_id)
        if row is None:
            raise HTTPException(404, "no such flag")
        if not audit_log.acknowledge_flag(
            session, flag_id=flag_id, by=actor.username or "", at=utcnow(), note=note
        ):
            raise HTTPException(409, "this flag is already acknowledged")
        append_audit(
            session,
            actor=actor,
            action="audit.flag_ack",
            targets={"flag": flag_id, "kind": row.kind},
            reason=note,
        )
        session.refresh(row)
        entries = audit_log.entries_by_ids(session, ids=[int(i) for i in row.entry_ids])
        return flag_public(row, entries)
