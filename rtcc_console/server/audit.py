"""The append-only, hash-chained audit trail.

Each row's ``hash`` is SHA-256 over the canonical JSON (sorted keys, no whitespace) of its
fields *including its id and the previous row's hash*, so editing, deleting, inserting or
reordering a row breaks the chain at that row. Appends take the journal lock (PostgreSQL
advisory lock / SQLite write lock) and allocate the id themselves under it, so concurrent
writers cannot fork the chain. Database triggers (Alembic revision ``audit_append_only``)
reject UPDATE and DELETE; there is no code path here that does either.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from rtcc_console.core.models import utcnow
from rtcc_console.server.database import journal_lock
from rtcc_console.store.schema import AuditEventRow

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something and from where (staff user, a service, or anonymous)."""

    username: str | None
    role: str | None
    client_addr: str | None = None


def _canonical(row_fields: dict[str, Any]) -> bytes:
    return json.dumps(row_fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_hash(
    *,
    id: int,
    at: datetime,
    username: str | None,
    role: str | None,
    action: str,
    targets: dict[str, Any],
    reason: str | None,
    outcome: str,
    client_addr: str | None,
    prev_hash: str | None,
) -> str:
    """SHA-256 hex of the canonical JSON of one audit row plus its predecessor's hash."""
    fields = {
        "id": id,
        "at": at.isoformat(timespec="microseconds"),
        "user": username,
        "role": role,
        "action": action,
        "targets": {str(k): str(v) for k, v in sorted(targets.items())},
        "reason": reason,
        "outcome": outcome,
        "client_addr": client_addr,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(_canonical(fields)).hexdigest()


def append_audit(
    session: Session,
    *,
    actor: Actor,
    action: str,
    outcome: str = "ok",
    targets: dict[str, Any] | None = None,
    reason: str | None = None,
    at: datetime | None = None,
) -> AuditEventRow:
    """Append one audit event inside the caller's transaction (committed with it)."""
    journal_lock(session)
    last = session.execute(
        select(AuditEventRow.id, AuditEventRow.hash).order_by(AuditEventRow.id.desc()).limit(1)
    ).first()
    new_id = (last.id + 1) if last else 1
    prev = last.hash if last else GENESIS_HASH
    clean_targets = {str(k): str(v) for k, v in (targets or {}).items() if v is not None}
    when = at or utcnow()
    row = AuditEventRow(
        id=new_id,
        at=when,
        username=actor.username,
        role=actor.role,
        action=action,
        targets=clean_targets,
        reason=reason,
        outcome=outcome,
        client_addr=actor.client_addr,
        prev_hash=prev,
    )
    row.hash = row_hash(row)
    session.add(row)
    session.flush()
    return row


def row_hash(row: AuditEventRow) -> str:
    """Recompute the hash a stored row should have."""
    return compute_hash(
        id=row.id,
        at=row.at,
        username=row.username,
        role=row.role,
        action=row.action,
        targets=dict(row.targets or {}),
        reason=row.reason,
        outcome=row.outcome,
        client_addr=row.client_addr,
        prev_hash=row.prev_hash,
    )


def verify_chain(session: Session, *, batch: int = 2000) -> int | None:
    """The id of the first row whose link or content does not verify, or None if intact.

    A row is broken when its ``prev_hash`` is not the previous row's ``hash`` (a row was
    deleted, inserted or reordered) or when its own ``hash`` does not match its content.
    """
    expected_prev = GENESIS_HASH
    after = 0
    while True:
        rows = session.scalars(
            select(AuditEventRow).where(AuditEventRow.id > after).order_by(AuditEventRow.id).limit(batch)
        ).all()
        if not rows:
            return None
        for row in rows:
            if row.prev_hash != expected_prev or row.hash != row_hash(row):
                return row.id
            expected_prev = row.hash
            after = row.id
        session.expunge_all()


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Filters of GET /audit and GET /audit.csv."""

    user: str | None = None
    action: str | None = None
    camera: str | None = None
    call: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def audit_query(flt: AuditFilter) -> Select[AuditEventRow]:
    """The SELECT for a filter, newest first (JSON target lookups work on both back ends)."""
    stmt = select(AuditEventRow)
    if flt.user:
        stmt = stmt.where(AuditEventRow.username == flt.user)
    if flt.action:
        stmt = stmt.where(AuditEventRow.action == flt.action)
    if flt.camera:
        stmt = stmt.where(AuditEventRow.targets["camera"].as_string() == flt.camera)
    if flt.call:
        stmt = stmt.where(AuditEventRow.targets["call"].as_string() == flt.call)
    if flt.since:
        stmt = stmt.where(AuditEventRow.at >= flt.since)
    if flt.until:
        stmt = stmt.where(AuditEventRow.at < flt.until)
    return stmt.order_by(AuditEventRow.id.desc())


def public_row(row: AuditEventRow) -> dict[str, Any]:
    """The API shape of an audit row."""
    return {
        "id": row.id,
        "at": row.at.isoformat(),
        "user": row.username,
        "role": row.role,
        "action": row.action,
        "targets": dict(row.targets or {}),
        "reason": row.reason,
        "outcome": row.outcome,
        "client_addr": row.client_addr,
        "hash": row.hash,
    }
