"""Evidence items and their chain of custody (minimal).

Footage requests and their owner items live in ``store.footage_requests``. Custody
entries are hash-chained per evidence item: each entry's hash covers the previous hash and
a canonical JSON of the entry, so any edit breaks the chain (``verify_custody`` finds it).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from rtcc_console.core.models import EvidenceItem, utcnow
from rtcc_console.store.schema import CustodyEntryRow, EvidenceItemRow


def evidence_to_domain(row: EvidenceItemRow) -> EvidenceItem:
    return EvidenceItem(
        id=row.id,
        filename=row.filename,
        sha256=row.sha256,
        size_bytes=int(row.size_bytes),
        media_type=row.media_type,
        received_at=row.received_at,
        request_id=row.request_id,
        camera_id=row.camera_id,
        call_id=row.call_id,
        uploaded_by=row.uploaded_by,
    )


def create_evidence_item(session: Session, *, item: EvidenceItem, stored_path: str) -> EvidenceItem:
    """Register a file already written to the vault at ``stored_path``."""
    if len(item.sha256) != 64 or any(c not in "0123456789abcdef" for c in item.sha256):
        raise ValueError("sha256 must be 64 lowercase hex digits")
    if item.size_bytes < 0:
        raise ValueError("size_bytes must not be negative")
    row = EvidenceItemRow(
        id=item.id,
        sha256=item.sha256,
        size_bytes=item.size_bytes,
        media_type=item.media_type,
        filename=item.filename,
        stored_path=stored_path,
        received_at=item.received_at,
        request_id=item.request_id,
        camera_id=item.camera_id,
        call_id=item.call_id,
        uploaded_by=item.uploaded_by,
    )
    session.add(row)
    session.flush()
    return evidence_to_domain(row)


def get_evidence_item(session: Session, *, evidence_id: str) -> EvidenceItem | None:
    row = session.get(EvidenceItemRow, evidence_id)
    return evidence_to_domain(row) if row is not None else None


class CustodyEntry(NamedTuple):
    id: int
    evidence_id: str
    at: datetime
    actor: str
    action: str
    details: dict[str, Any]
    prev_hash: str | None
    hash: str


def _custody_hash(
    prev_hash: str | None,
    evidence_id: str,
    at: datetime,
    actor: str,
    action: str,
    details: dict[str, Any],
) -> str:
    body = json.dumps(
        {
            "prev": prev_hash,
            "evidence": evidence_id,
            "at": at.isoformat(),
            "actor": actor,
            "action": action,
            "details": details,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def add_custody_entry(
    session: Session,
    *,
    evidence_id: str,
    actor: str,
    action: str,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> CustodyEntry:
    """Append to the item's custody chain (the caller serialises writers per item)."""
    details = details or {}
    at = (at or utcnow()).astimezone(UTC)  # hashed as stored: UTC
    prev = session.execute(
        select(CustodyEntryRow.hash)
        .where(CustodyEntryRow.evidence_id == evidence_id)
        .order_by(CustodyEntryRow.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    digest = _custody_hash(prev, evidence_id, at, actor, action, details)
    row = CustodyEntryRow(
        evidence_id=evidence_id,
        at=at,
        actor=actor,
        action=action,
        details=details,
        prev_hash=prev,
        hash=digest,
    )
    session.add(row)
    session.flush()
    return CustodyEntry(int(row.id), evidence_id, at, actor, action, details, prev, digest)


def custody_chain(session: Session, *, evidence_id: str) -> list[CustodyEntry]:
    rows = session.execute(
        select(CustodyEntryRow)
        .where(CustodyEntryRow.evidence_id == evidence_id)
        .order_by(CustodyEntryRow.id)
    ).scalars()
    return [
        CustodyEntry(
            int(r.id), r.evidence_id, r.at, r.actor, r.action, dict(r.details), r.prev_hash, r.hash
        )
        for r in rows
    ]


def verify_custody(session: Session, *, evidence_id: str) -> int | None:
    """Id of the first custody entry whose hash does not verify, or None if the chain holds."""
    prev: str | None = None
    for entry in custody_chain(session, evidence_id=evidence_id):
        expected = _custody_hash(
            prev, entry.evidence_id, entry.at, entry.actor, entry.action, entry.details
        )
        if entry.prev_hash != prev or entry.hash != expected:
            return entry.id
        prev = entry.hash
    return None
