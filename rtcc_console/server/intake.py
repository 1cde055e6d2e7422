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
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from rtcc_console.core.cad import ParsedCall
from rtcc_console.core.models import utcnow
from rtcc_console.server.database import journal_lock
from rtcc_console.server.eventlog import record_event
from rtcc_console.store.schema import CallRow, CallUpdateRow

OPEN_STATUSES = ("pending", "dispatched", "on_scene")


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """What happened to one message: ``created`` a call, ``updated`` it, or neither.

    ``call`` is the call as the API shows it (after this message).
    """

    call: dict[str, Any]
    created: bool
    updated: bool
    duplicate: bool


def new_call_id() -> str:
    return "call-" + secrets.token_hex(8)


def call_public(row: Any) -> dict[str, Any]:
    """The API shape of a call row (``lat``/``lon`` null when only an address is known)."""
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


def _fields(parsed: ParsedCall, source: str) -> dict[str, Any]:
    return {
        "type_code": parsed.type_code,
        "type_text": parsed.type_text,
        "category": parsed.category,
        "priority": parsed.priority,
        "status": parsed.status.value,
        "lat": parsed.location.lat if parsed.location else None,
        "lon": parsed.location.lon if parsed.location else None,
        "address": parsed.address,
        "uncertainty_m": parsed.uncertainty_m,
        "reported_at": parsed.reported_at,
        "updated_at": parsed.updated_at,
        "source": source,
    }


_CALLS = cast(Table, CallRow.__table__)
_UPDATES = cast(Table, CallUpdateRow.__table__)


def ingest(session: Session, *, parsed: ParsedCall, source: str, raw: Any = None, now: datetime | None = None) -> IntakeResult:
    """Store one CAD message idempotently and record the matching event.

    Written with SQLAlchemy Core statements (no unit of work): this is the hot path of
    call intake, and Core costs a fraction of the ORM's CPU per row.
    """
    journal_lock(session)
    now = now or utcnow()
    existing = session.execute(select(_CALLS).where(_CALLS.c.incident_id == parsed.incident_id)).first()
    if existing is not None:
        dup = session.execute(
            select(_UPDATES.c.id).where(
                _UPDATES.c.incident_id == parsed.incident_id, _UPDATES.c.updated_at == parsed.updated_at
            ).limit(1)
        ).first()
        if dup is not None:
            return IntakeResult(call_public(existing), created=False, updated=False, duplicate=True)
    newer = existing is None or parsed.updated_at > existing.updated_at
    if existing is None:
        values = {"id": new_call_id(), "incident_id": parsed.incident_id, "version": 1, "created_at": now,
                  "raw": None, **_fields(parsed, source)}  # fmt: skip
        session.execute(_CALLS.insert().values(**values))
        public = call_public(SimpleNamespace(**values))
    elif newer:
        values = {**_fields(parsed, source), "version": (existing.version or 1) + 1}
        session.execute(_CALLS.update().where(_CALLS.c.id == existing.id).values(**values))
        public = call_public(SimpleNamespace(**{**existing._asdict(), **values}))
    else:
        public = call_public(existing)
    session.execute(
        _UPDATES.insert().values(
            call_id=public["id"], incident_id=parsed.incident_id, updated_at=parsed.updated_at, received_at=now,
            source=source, raw={"parsed": parsed.to_simple_dict(), "applied": newer, "body": raw},
        )  # fmt: skip
    )
    if existing is None:
        record_event(session, type="call.created", payload={"call": public})
    elif newer:
        record_event(session, type="call.updated", payload={"call": public})
    return IntakeResult(public, created=existing is None, updated=existing is not None and newer, duplicate=False)


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
