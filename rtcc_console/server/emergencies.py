"""Emergencies (panic button / declared): start, end, expiry, with their audit and events.

An emergency opens ``live_in_emergency`` cameras for live view while it is active (stored
by ``store.emergencies``). When it ends (explicitly or because ``ends_at`` passed) the
grants that depended on it are re-checked at once: a grant still allowed by another active
emergency (or by ``live_always``) survives with a new cap; every other one ends with
``grant.revoked``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from rtcc_console.core.models import utcnow
from rtcc_console.server.audit import Actor, append_audit
from rtcc_console.server.eventlog import record_event
from rtcc_console.store import emergencies as store_emergencies
from rtcc_console.store.db import journal_lock
from rtcc_console.store.emergencies import EmergencyRecord


def emergency_public(record: EmergencyRecord, *, now: datetime | None = None) -> dict[str, Any]:
    return {
        "id": record.id,
        "owner_id": record.owner_id,
        "camera_ids": list(record.camera_ids),
        "started_at": record.started_at.isoformat(),
        "ends_at": record.ends_at.isoformat() if record.ends_at else None,
        "ended_at": record.ended_at.isoformat() if record.ended_at else None,
        "reason": record.reason,
        "created_by": record.created_by,
        "active": record.active(now or utcnow()),
        "panic": dict(record.panic) if record.panic is not None else None,
    }


def start_emergency(
    session: Session,
    *,
    actor: Actor,
    owner_id: str | None,
    camera_ids: Sequence[str],
    reason: str,
    duration_s: int | None,
    panic: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> EmergencyRecord:
    """Store, audit and publish (``emergency.started``) a new emergency; ``panic``: the
    structured panic-button details kept on it (``server.portal.panic``)."""
    now = now or utcnow()
    record = store_emergencies.insert_emergency(
        session,
        owner_id=owner_id,
        camera_ids=camera_ids,
        reason=reason,
        duration_s=duration_s,
        created_by=actor.username,
        panic=panic,
        now=now,
    )
    append_audit(
        session,
        actor=actor,
        action="emergency.start",
        targets={"emergency": record.id, "owner": owner_id},
        reason=reason,
    )
    record_event(
        session, type="emergency.started", payload={"emergency": emergency_public(record, now=now)}
    )
    return record


def end_emergency(
    session: Session, *, emergency_id: str, actor: Actor, reason: str, now: datetime | None = None
) -> EmergencyRecord:
    """Mark an emergency ended, publish it and re-check the grants that relied on it."""
    from rtcc_console.server.field_shares import end_emergency_shares
    from rtcc_console.server.grants import recheck_emergency_grants

    now = now or utcnow()
    record = store_emergencies.mark_ended(session, emergency_id=emergency_id, now=now)
    append_audit(
        session,
        actor=actor,
        action="emergency.end",
        targets={"emergency": record.id},
        reason=reason,
    )
    record_event(
        session, type="emergency.ended", payload={"emergency": emergency_public(record, now=now)}
    )
    recheck_emergency_grants(session, emergency_id=record.id, actor=actor, now=now)
    end_emergency_shares(session, emergency_id=record.id, actor=actor, now=now)  # field (issue 16)
    return record


def expire_due(session: Session, *, now: datetime | None = None) -> list[str]:
    """End every emergency whose ``ends_at`` passed (housekeeping); returns their ids."""
    now = now or utcnow()
    journal_lock(session)  # several server processes: only one of them ends each emergency
    due = store_emergencies.due_emergencies(session, now=now)
    system = Actor(username="system", role=None)
    for record in due:
        end_emergency(
            session,
            emergency_id=record.id,
            actor=system,
            reason="emergency window expired",
            now=now,
        )
    return [r.id for r in due]
