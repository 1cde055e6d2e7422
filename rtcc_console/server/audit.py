"""The append-only, keyed, hash-chained audit trail.

Each row's ``hash`` is an HMAC-SHA256, under the audit key named by the row's ``key_id``,
of the canonical JSON (sorted keys, no whitespace) of its fields *including its id, its
key id and the previous row's hash*, so editing, deleting, inserting or reordering a row
breaks the chain at that row, and recomputing the chain needs the key, which the database
never holds (see ``audit_keys``). Rows written before keys existed (``key_id`` NULL) keep
their plain SHA-256 hash; they are accepted only as the chain's prefix, before the first
keyed row. Signed checkpoints of the head (``audit_checkpoints``) catch truncation and a
rewrite made with a stolen key.

Appends take the journal lock (PostgreSQL advisory lock / SQLite write lock) and allocate
the id themselves under it, so concurrent writers cannot fork the chain. Database triggers
(Alembic revision ``audit_append_only``) reject UPDATE and DELETE; there is no code path
here that does either.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from rtcc_console.core.models import utcnow
from rtcc_console.server.audit_keys import AuditKeyring, KeyringError
from rtcc_console.store import audit_chain
from rtcc_console.store.db import journal_lock
from rtcc_console.store.schema import AuditEventRow

GENESIS_HASH = "0" * 64

_KEYRINGS: dict[str, AuditKeyring] = {}
_KEYRINGS_LOCK = threading.Lock()


def use_keyring(engine: Engine, keyring: AuditKeyring) -> None:
    """Make ``keyring`` the audit keys of every session bound to ``engine``'s database."""
    with _KEYRINGS_LOCK:
        _KEYRINGS[str(engine.url)] = keyring


def keyring_of(session: Session) -> AuditKeyring:
    """The audit keys of the session's database (set by the composition root)."""
    ring = _KEYRINGS.get(str(session.get_bind().engine.url))
    if ring is None:
        raise KeyringError(
            "no audit key configured for this database: the composition root must call "
            "audit.use_keyring(engine, keyring) (server app, CLI)"
        )
    return ring


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something and from where (staff user, a service, or anonymous)."""

    username: str | None
    role: str | None
    client_addr: str | None = None


def _canonical(row_fields: dict[str, Any]) -> bytes:
    return json.dumps(
        row_fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


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
    key_id: str | None = None,
    keyring: AuditKeyring | None = None,
) -> str:
    """The hash one audit row must carry: HMAC under ``key_id`` (plain SHA-256 when None)."""
    fields: dict[str, Any] = {
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
    if key_id is None:
        return hashlib.sha256(_canonical(fields)).hexdigest()
    if keyring is None:
        raise KeyringError("a keyed audit row needs the keyring")
    fields["key_id"] = key_id
    return keyring.mac(key_id, _canonical(fields))


def row_bytes(row: AuditEventRow) -> bytes:
    """The canonical bytes a stored row's hash covers (what :func:`compute_hash` MACs)."""
    fields: dict[str, Any] = {
        "id": row.id,
        "at": row.at.isoformat(timespec="microseconds"),
        "user": row.username,
        "role": row.role,
        "action": row.action,
        "targets": {str(k): str(v) for k, v in sorted((row.targets or {}).items())},
        "reason": row.reason,
        "outcome": row.outcome,
        "client_addr": row.client_addr,
        "prev_hash": row.prev_hash,
    }
    if row.key_id is not None:
        fields["key_id"] = row.key_id
    return _canonical(fields)


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
    ring = keyring_of(session)
    journal_lock(session)
    tail = audit_chain.chain_tail(session)
    new_id = (tail[0] + 1) if tail else 1
    prev = tail[1] if tail else GENESIS_HASH
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
        key_id=ring.current_hmac,
    )
    row.hash = row_hash(row, ring)
    return audit_chain.add_entry(session, row=row)


def append_audit_many(
    session: Session, *, entries: Sequence[AuditEntry], at: datetime | None = None
) -> int:
    """Append several audit events in one go (one row each, same chain, one INSERT batch).

    For senders that audit every message of a burst (the e-mail outbox): the chain is the
    same as with repeated :func:`append_audit` calls, at a fraction of the cost.
    """
    if not entries:
        return 0
    ring = keyring_of(session)
    journal_lock(session)
    tail = audit_chain.chain_tail(session)
    next_id = (tail[0] + 1) if tail else 1
    prev = tail[1] if tail else GENESIS_HASH
    when = at or utcnow()
    rows: list[dict[str, Any]] = []
    for entry in entries:
        row = AuditEventRow(
            id=next_id,
            at=when,
            username=entry.actor.username,
            role=entry.actor.role,
            action=entry.action,
            targets={str(k): str(v) for k, v in (entry.targets or {}).items() if v is not None},
            reason=entry.reason,
            outcome=entry.outcome,
            client_addr=entry.actor.client_addr,
            prev_hash=prev,
            key_id=ring.current_hmac,
        )
        row.hash = row_hash(row, ring)
        rows.append({c: getattr(row, c) for c in _AUDIT_COLUMNS})
        prev, next_id = row.hash, next_id + 1
    audit_chain.add_entries(session, rows=rows)  # one multi-row INSERT, not one ORM flush per row
    return len(rows)


_AUDIT_COLUMNS = (
    "id",
    "at",
    "username",
    "role",
    "action",
    "targets",
    "reason",
    "outcome",
    "client_addr",
    "prev_hash",
    "key_id",
    "hash",
)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One event for :func:`append_audit_many`."""

    actor: Actor
    action: str
    targets: dict[str, Any] | None = None
    reason: str | None = None
    outcome: str = "ok"


def row_hash(row: AuditEventRow, keyring: AuditKeyring | None = None) -> str:
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
        key_id=row.key_id,
        keyring=keyring,
    )


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What a walk over the chain found: its length and head, or the first bad row."""

    count: int
    head_id: int
    head_hash: str
    broken_id: int | None = None
    problem: str | None = None


def walk_chain(
    session: Session,
    *,
    keyring: AuditKeyring,
    batch: int = 2000,
    progress: Callable[[int], None] | None = None,
) -> ChainReport:
    """Check every row's link and keyed hash; stops at the first row that does not verify.

    A row is broken when its ``prev_hash`` is not the previous row's ``hash`` (a row was
    deleted, inserted or reordered), when its hash does not match its content under its
    key, when its key is unknown, or when it is unkeyed after a keyed row (a rewrite that
    tried to fall back to plain hashes).
    """
    expected_prev = GENESIS_HASH
    after, count, keyed_seen = 0, 0, False
    while True:
        # plain rows, not ORM objects: a third of the walk's time went into building entities
        rows = cast(
            Sequence[AuditEventRow], audit_chain.rows_after(session, after=after, batch=batch)
        )
        if not rows:
            return ChainReport(count=count, head_id=after, head_hash=expected_prev)
        for row in rows:
            problem = None
            if row.prev_hash != expected_prev:
                problem = "its link to the previous event does not match (event removed, inserted or reordered)"
            elif row.key_id is None and keyed_seen:
                problem = "an unkeyed hash after keyed events (rewritten)"
            elif row.key_id is not None and row.key_id not in keyring.hmac_keys:
                problem = f"its key {row.key_id!r} is not in the keyring"
            elif row.hash != row_hash(row, keyring):
                problem = "its content does not match its hash (altered)"
            if problem is not None:
                return ChainReport(
                    count=count,
                    head_id=after,
                    head_hash=expected_prev,
                    broken_id=row.id,
                    problem=problem,
                )
            keyed_seen = keyed_seen or row.key_id is not None
            expected_prev = row.hash
            after = row.id
            count += 1
        session.expunge_all()
        if progress is not None:
            progress(count)  # entries checked so far (the verify job's progress bar)


def verify_chain(session: Session, *, batch: int = 2000) -> int | None:
    """The id of the first row whose link, key or content does not verify, or None if intact."""
    return walk_chain(session, keyring=keyring_of(session), batch=batch).broken_id


def chain_head(session: Session) -> tuple[int, int, str]:
    """(number of events, id of the newest, its hash) as committed now."""
    count = audit_chain.count_entries(session)
    tail = audit_chain.chain_tail(session)
    return (count, tail[0], tail[1]) if tail else (0, 0, GENESIS_HASH)


def row_at(session: Session, *, id: int) -> AuditEventRow | None:
    return audit_chain.entry_at(session, entry_id=id)


def count_upto(session: Session, *, id: int) -> int:
    return audit_chain.count_entries(session, upto=id)


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
