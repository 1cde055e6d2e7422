"""Event log repository: the persisted replay buffer behind the SSE stream.

``append_event`` writes the event in the caller's transaction, so an event exists exactly
when the change it describes was committed. Its id (the SSE id) is allocated under the
journal lock, which makes ids increase in commit order: a client resuming after id N can
never miss an event that committed later with a smaller id. On PostgreSQL the same
transaction issues ``pg_notify`` with the id on :data:`NOTIFY_CHANNEL`; PostgreSQL
delivers it only after commit (other server processes fan the event out from there).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, delete, func, select, text
from sqlalchemy.orm import Session

from rtcc_console.core.models import utcnow
from rtcc_console.store.db import journal_lock
from rtcc_console.store.schema import EventRow

#: PostgreSQL NOTIFY channel that carries the id of every committed event.
NOTIFY_CHANNEL = "rtcc_events"

_EVENTS = cast(Table, EventRow.__table__)


class StoredEvent(NamedTuple):
    id: int
    at: datetime
    type: str
    payload: dict[str, Any]


def append_event(
    session: Session, *, type: str, payload: dict[str, Any], at: datetime | None = None
) -> int:
    """Add an event in the current transaction; returns its id."""
    if not type:
        raise ValueError("an event needs a type")
    if not isinstance(payload, dict):
        raise ValueError(f"event payload must be a JSON object, got {payload.__class__.__name__}")
    journal_lock(session)
    new_id = int(
        session.execute(
            _EVENTS.insert()
            .values(at=at or utcnow(), type=type, payload=payload)
            .returning(_EVENTS.c.id)
        ).scalar_one()
    )
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_notify(:ch, :id)"), {"ch": NOTIFY_CHANNEL, "id": str(new_id)}
        )
    return new_id


def events_after(
    session: Session, *, after: int, upto: int | None = None, limit: int = 1000
) -> list[StoredEvent]:
    """Events with ``after < id <= upto`` (no upper bound when None), oldest first."""
    if limit < 1:
        return []
    stmt = select(EventRow).where(EventRow.id > after)
    if upto is not None:
        stmt = stmt.where(EventRow.id <= upto)
    rows = session.scalars(stmt.order_by(EventRow.id).limit(limit)).all()
    return [StoredEvent(int(r.id), r.at, r.type, dict(r.payload)) for r in rows]


def last_event_id(session: Session) -> int:
    """The newest id (0 when the log is empty)."""
    return int(session.scalar(select(func.max(EventRow.id))) or 0)


def oldest_event_id(session: Session) -> int | None:
    """The oldest id still retained (None when the log is empty)."""
    value = session.scalar(select(func.min(EventRow.id)))
    return int(value) if value is not None else None


def prune_events(session: Session, *, before: datetime) -> int:
    """Delete events recorded before ``before``, always keeping the newest row.

    Keeping the newest row matters on SQLite, where an empty table would let ids restart
    at 1 and a client resuming from a large id would silently miss new events.
    """
    newest = last_event_id(session)
    result = session.execute(delete(EventRow).where(EventRow.at < before, EventRow.id < newest))
    return int(getattr(result, "rowcount", 0) or 0)
