"""Event log repository: the replay buffer behind the SSE stream's Last-Event-ID.

Ids are the database's auto-increment, so they only grow; a client that reconnects with
the last id it saw receives every later event still retained (``prune_events`` drops
those older than the retention window).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from rtcc_console.core.models import utcnow
from rtcc_console.store.schema import EventRow


class StoredEvent(NamedTuple):
    id: int
    at: datetime
    type: str
    payload: dict[str, Any]


def append_event(session: Session, *, type: str, payload: dict[str, Any], at: datetime | None = None) -> int:
    """Add an event; returns its id (assigned at flush, inside the caller's transaction)."""
    if not type:
        raise ValueError("an event needs a type")
    if not isinstance(payload, dict):
        raise ValueError(f"event payload must be a JSON object, got {payload.__class__.__name__}")
    row = EventRow(at=at or utcnow(), type=type, payload=payload)
    session.add(row)
    session.flush()
    return int(row.id)


def events_since(session: Session, *, last_id: int, limit: int = 1000) -> list[StoredEvent]:
    """Events with id > ``last_id``, oldest first."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    rows = session.execute(select(EventRow).where(EventRow.id > last_id).order_by(EventRow.id).limit(limit)).scalars()
    return [StoredEvent(int(r.id), r.at, r.type, dict(r.payload)) for r in rows]


def last_event_id(session: Session) -> int:
    """The newest id (0 when the log is empty)."""
    return int(session.execute(select(func.max(EventRow.id))).scalar_one_or_none() or 0)


def prune_events(session: Session, *, older_than: datetime) -> int:
    """Delete events recorded before ``older_than``; returns how many were removed."""
    result = session.execute(delete(EventRow).where(EventRow.at < older_than))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
