"""Emergencies (panic button / declared): storage, expiry and their events.

An emergency opens ``live_in_emergency`` cameras for live view while it is active. When it
ends (explicitly or because ``ends_at`` passed) the grants that depended on it are
re-checked at once: a grant still allowed by another active emergency (or by
``live_always``) survives with a new cap; every other one ends with ``grant.revoked``.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rtcc_console.core.models import Emergency, utcnow
from rtcc_console.server.audit import Actor, append_audit
from rtcc_console.server.eventlog import record_event
from rtcc_console.store.db import journal_lock
from rtcc_console.store.schema import EmergencyRow


def new_emergency_id() -> str:
    return "emg-" + secrets.token_hex(6)


def emergency_public(row: EmergencyRow, *, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    return {
        "id": row.id,
        "owner_id": row.owner_id,
        "camera_ids": list(row.camera_ids or []),
        "started_at": row.started_at.isoformat(),
        "ends_at": row.ends_at.isoformat() if row.ends_at else None,
        "ended_at": row.ended_at.isoformat() if row.ended_at else None,
        "reason": row.reason,
        "created_by": row.created_by,
        "active": emergency_domain(row).active(now) and row.ended_at is None,
    }


def emergency_domain(row: EmergencyRow) -> Emergency:
    """The core record; an explicitly ended emergency ends at ``ended_at``."""
    ends = row.ends_at
    if row.ended_at is not None and (ends is None or row.ended_at < ends):
        ends = row.ended_at
    return Emergency(
        id=row.id,
        owner_id=row.owner_id,
        camera_ids=frozenset(row.camera_ids or []),
        started_at=row.started_at,
        ends_at=ends,
        reason=row.reason or "",
    )


def active_emergencies(session: Session, *, now: datetime | None = None) -> list[Emergency]:
    now = now or utcnow()
    rows = session.scalars(
        select(EmergencyRow).where(
            EmergencyRow.ended_at.is_(None),
            EmergencyRow.started_at <= now,
            (EmergencyRow.ends_at.is_(None)) | (EmergencyRow.ends_at > now),
        )
    ).all()
    return [emergency_domain(r) for r in rows]


def list_emergencies(session: Session, *, active_only: bool, now: datetime | None = None) -> list[EmergencyRow]:
    now = now or utcnow()
    stmt = select(EmergencyRow)
    if active_only:
        stmt = stmt.where(
            EmergencyRow.ended_at.is_(None),
            (EmergencyRow.ends_at.is_(None)) | (EmergencyRow.ends_at > now),
        )
    return list(session.scalars(stmt.order_by(EmergencyRow.started_at.desc())).all())


def start_emergency(
    session: Session,
    *,
    actor: Actor,
    owner_id: str | None,
    camera_ids: list[str],
    reason: str,
    duration_s: int | None,
    now: datetime | None = None,
) -> EmergencyRow:
    now = now or utcnow()
    row = EmergencyRow(
        id=new_emergency_id(),
        owner_id=owner_id,
        camera_ids=sorted(set(camera_ids)),
        started_at=now,
        ends_at=now + timedelta(seconds=duration_s) if duration_s else None,
        reason=reason,
        created_by=actor.username,
    )
    session.add(row)
    session.flush()
    append_audit(
        session, actor=actor, action="emergency.start", targets={"emergency": row.id, "owner": owner_id},
        reason=reason,
    )  # fmt: skip
    record_event(session, type="emergency.started", payload={"emergency": emergency_public(row, now=now)})
    return row


def end_emergency(session: Session, *, row: EmergencyRow, actor: Actor, reason: str, now: datetime | None = None) -> EmergencyRow:
    """Mark an emergency ended, publish it and re-check the grants that relied on it."""
    from rtcc_console.server.grants import recheck_emergency_grants

    now = now or utcnow()
    if row.ended_at is None:
        row.ended_at = min(now, row.ends_at) if row.ends_at else now
    session.flush()
    append_audit(session, actor=actor, action="emergency.end", targets={"emergency": row.id}, reason=reason)
    record_event(session, type="emergency.ended", payload={"emergency": emergency_public(row, now=now)})
    recheck_emergency_grants(session, emergency_id=row.id, actor=actor, now=now)
    return row


def expire_due(session: Session, *, now: datetime | None = None) -> list[str]:
    """End every emergency whose ``ends_at`` passed (housekeeping); returns their ids."""
    now = now or utcnow()
    journal_lock(session)  # several server processes: only one of them ends each emergency
    due = session.scalars(
        select(EmergencyRow).where(EmergencyRow.ended_at.is_(None), EmergencyRow.ends_at.is_not(None), EmergencyRow.ends_at <= now)
    ).all()
    system = Actor(username="system", role=None)
    for row in due:
        end_emergency(session, row=row, actor=system, reason="emergency window expired", now=now)
    return [r.id for r in due]
