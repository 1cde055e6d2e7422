"""The persisted event log behind the SSE stream.

``record_event`` writes the event in the caller's transaction, so an event exists exactly
when the change it describes was committed. Its id (the SSE id) is allocated under the
journal lock, which makes ids increase in commit order: a client resuming after id N can
never miss an event that committed later with a smaller id. On PostgreSQL the same
transaction issues ``pg_notify`` with the id; PostgreSQL delivers it only after commit.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, func, select, text
from sqlalchemy.orm import Session

from rtcc_console.core.models import utcnow
from rtcc_console.server.broker import EventRecord
from rtcc_console.server.database import journal_lock
from rtcc_console.store.schema import EventRow

NOTIFY_CHANNEL = "rtcc_events"

EVENT_TYPES = frozenset(
    {
        "call.created",
        "call.updated",
        "camera.changed",
        "grant.revoked",
        "emergency.started",
        "emergency.ended",
    }
)


def _dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"), default=str)


def record_event(session: Session, *, type: str, payload: dict[str, Any]) -> EventRecord:
    """Persist an event in the current transaction; it is broadcast after commit."""
    journal_lock(session)
    table = cast(Table, EventRow.__table__)
    new_id = session.execute(
        table.insert().values(at=utcnow(), type=type, payload=payload).returning(table.c.id)
    ).scalar_one()
    record = EventRecord(id=int(new_id), type=type, data=_dumps(payload))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:ch, :id)"), {"ch": NOTIFY_CHANNEL, "id": str(record.id)})
    session.info.setdefault("events", []).append(record)
    return record


def load_events(session: Session, *, after: int, upto: int | None = None, limit: int = 1000) -> list[EventRecord]:
    """Events with ``after < id <= upto`` in id order (at most ``limit``)."""
    stmt = select(EventRow).where(EventRow.id > after)
    if upto is not None:
        stmt = stmt.where(EventRow.id <= upto)
    rows = session.scalars(stmt.order_by(EventRow.id).limit(limit)).all()
    return [EventRecord(id=int(r.id), type=r.type, data=_dumps(r.payload)) for r in rows]


def last_event_id(session: Session) -> int:
    return int(session.scalar(select(func.max(EventRow.id))) or 0)


def oldest_event_id(session: Session) -> int | None:
    value = session.scalar(select(func.min(EventRow.id)))
    return int(value) if value is not None else None


def prune_events(session: Session, *, before: datetime) -> int:
    """Delete events older than ``before``, always keeping the newest row.

    Keeping the newest row matters on SQLite, where an empty table would let ids restart
    at 1 and a client resuming from a large id would silently miss new events.
    """
    newest = last_event_id(session)
    result = session.execute(delete(EventRow).where(EventRow.at < before, EventRow.id < newest))
    return int(getattr(result, "rowcount", 0) or 0)
