"""The audit chain's rows: where the next entry links, appending, walking, counting.

``server.audit`` owns the chain's rules (canonical form, keyed hashes, verification); this
module stores and reads. Appends run under ``store.db.journal_lock`` (taken by the caller),
so ids and links follow commit order. ``store.audit_log`` serves people's queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from rtcc_console.store.schema import AuditEventRow

_AUDIT = cast(Table, AuditEventRow.__table__)


def chain_tail(session: Session) -> tuple[int, str] | None:
    """(id, hash) of the newest entry, or None when the trail is empty."""
    last = session.execute(
        select(AuditEventRow.id, AuditEventRow.hash).order_by(AuditEventRow.id.desc()).limit(1)
    ).first()
    return (int(last.id), str(last.hash)) if last is not None else None


def add_entry(session: Session, *, row: AuditEventRow) -> AuditEventRow:
    """Insert one fully built (hashed) entry in the caller's transaction."""
    session.add(row)
    session.flush()
    return row


def add_entries(session: Session, *, rows: Sequence[dict[str, Any]]) -> None:
    """Insert several built entries (column -> value) in one multi-row INSERT."""
    session.execute(insert(AuditEventRow), list(rows))


def rows_after(session: Session, *, after: int, batch: int) -> Sequence[Any]:
    """Up to ``batch`` entries with id > ``after`` in id order, as plain Core rows (a third
    of a chain walk's time went into building ORM entities)."""
    return session.execute(
        select(_AUDIT).where(_AUDIT.c.id > after).order_by(_AUDIT.c.id).limit(batch)
    ).all()


def count_entries(session: Session, *, upto: int | None = None) -> int:
    """How many entries there are (with id <= ``upto`` when given)."""
    stmt = select(func.count()).select_from(AuditEventRow)
    if upto is not None:
        stmt = stmt.where(AuditEventRow.id <= upto)
    return int(session.scalar(stmt) or 0)


def entry_at(session: Session, *, entry_id: int) -> AuditEventRow | None:
    return session.get(AuditEventRow, entry_id)
