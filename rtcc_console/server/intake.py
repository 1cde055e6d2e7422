"""Dispatch call intake: idempotent storage of parsed CAD messages, with history.

Rules (one CAD message = one ``ParsedCall``):

* same incident + same ``updated_at`` as a stored message: a duplicate, stored once;
* a new incident: a new call (``call.created``);
* a newer ``updated_at`` than the call's: the call changes, version + 1 (``call.updated``);
* an older one (messages out of order): kept in the history only; the call stays as is.

Every message lands in ``call_updates`` (the history). The whole intake of a message or a
batch runs in the caller's transaction, under the journal lock, so two processes
receiving the same message cannot both create the call.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rtcc_console.core.cad import ParsedCall
from rtcc_console.core.models import utcnow
from rtcc_console.server.database import journal_lock
from rtcc_console.server.eventlog import record_event
from rtcc_console.store.schema import CallRow, CallUpdateRow

OPEN_STATUSES = ("pending", "dispatched", "on_scene")


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """What happened to one message: ``created`` a call, ``updated`` it, or neither."""

    call: CallRow
    created: bool
    updated: bool
    duplicate: bool


def new_call_id() -> str:
    return "call-" + secrets.token_hex(8)


def call_public(row: CallRow) -> dict[str, Any]:
    """The API shape of a call (``lat``/``lon`` null when only an address is known)."""
    return {
        "id": row.id,
        "incident_id": row.incident_id,
        "type_code": row.type_code,
        "type_text": row.type_text,
        "category": row.category,
        "priority": row.priority,
        "status": row.status,
        "lat": row.lat,
        "lon": row.lon,
        "address": row.address,
        "uncertainty_m": row.uncertainty_m,
        "reported_at": row.reported_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
        "source": row.source,
        "version": row.version,
    }


def _apply(row: CallRow, parsed: ParsedCall, source: str) -> None:
    row.type_code = parsed.type_code
    row.type_text = parsed.type_text
    row.category = parsed.category
    row.priority = parsed.priority
    row.status = parsed.status.value
    row.lat = parsed.location.lat if parsed.location else None
    row.lon = parsed.location.lon if parsed.location else None
    row.address = parsed.address
    row.uncertainty_m = parsed.uncertainty_m
    row.reported_at = parsed.reported_at
    row.updated_at = parsed.updated_at
    row.source = source


def ingest(session: Session, *, parsed: ParsedCall, source: str, raw: Any = None, now: datetime | None = None) -> IntakeResult:
    """Store one CAD message idempotently and record the matching event."""
    journal_lock(session)
    now = now or utcnow()
    existing = session.scalars(select(CallRow).where(CallRow.incident_id == parsed.incident_id)).first()
    if existing is not None:
        dup = session.scalars(
            select(CallUpdateRow.id).where(
                CallUpdateRow.incident_id == parsed.incident_id, CallUpdateRow.updated_at == parsed.updated_at
            )
        ).first()
        if dup is not None:
            return IntakeResult(existing, created=False, updated=False, duplicate=True)
    newer = existing is None or parsed.updated_at > existing.updated_at
    if existing is None:
        row = CallRow(id=new_call_id(), incident_id=parsed.incident_id, version=1, created_at=now)
        _apply(row, parsed, source)
        row.raw = None
        session.add(row)
        session.flush()
    else:
        row = existing
        if newer:
            _apply(row, parsed, source)
            row.version = (row.version or 1) + 1
    session.add(
        CallUpdateRow(
            call_id=row.id, incident_id=parsed.incident_id, updated_at=parsed.updated_at, received_at=now,
            source=source, raw={"parsed": parsed.to_simple_dict(), "applied": newer, "body": raw},
        )  # fmt: skip
    )
    session.flush()
    if existing is None:
        record_event(session, type="call.created", payload={"call": call_public(row)})
    elif newer:
        record_event(session, type="call.updated", payload={"call": call_public(row)})
    return IntakeResult(row, created=existing is None, updated=existing is not None and newer, duplicate=False)


def call_history(session: Session, *, call_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(CallUpdateRow).where(CallUpdateRow.call_id == call_id).order_by(CallUpdateRow.updated_at, CallUpdateRow.id)
    ).all()
    out = []
    for r in rows:
        raw = r.raw or {}
        out.append(
            {
                "updated_at": r.updated_at.isoformat(),
                "received_at": r.received_at.isoformat(),
                "source": r.source,
                "applied": bool(raw.get("applied", True)),
                "call": raw.get("parsed"),
            }
        )
    return out
