"""Evidence vault repository: evidence items, their cases, chain of custody, tus uploads, exports.

The vault's bytes live on disk (``server.vault.blobs``); this module holds only metadata.
Custody entries are hash-chained per item: each entry's ``hash`` is SHA-256 over the
canonical JSON of its fields and the previous entry's hash, so an edited, removed or
re-ordered entry breaks the chain (:func:`verify_custody`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.orm import Session

from rtcc_console.core.models import utcnow
from rtcc_console.store.schema import (
    AuditEventRow,
    CaseExportRow,
    CustodyEntryRow,
    EvidenceCaseRow,
    EvidenceItemRow,
    VaultUploadRow,
)

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class NewEvidence:
    """Everything known about an item when it is registered."""

    id: str
    sha256: str
    sha512: str
    size_bytes: int
    media_type: str
    filename: str
    stored_path: str
    kind: str = "video"
    media: dict[str, Any] = field(default_factory=dict)
    clock_offset_s: float | None = None
    camera_id: str | None = None
    call_id: str | None = None
    uploaded_by: str | None = None
    owner_kind: str | None = None
    request_id: str | None = None
    request_item_id: str | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    retention: str = "standard"
    derived_from: str | None = None
    thumb_path: str | None = None
    received_at: datetime | None = None


# --- items --------------------------------------------------------------------------------


def insert_item(session: Session, *, item: NewEvidence) -> EvidenceItemRow:
    row = EvidenceItemRow(
        id=item.id,
        sha256=item.sha256,
        sha512=item.sha512,
        size_bytes=item.size_bytes,
        media_type=item.media_type,
        filename=item.filename,
        stored_path=item.stored_path,
        kind=item.kind,
        media=dict(item.media),
        clock_offset_s=item.clock_offset_s,
        camera_id=item.camera_id,
        call_id=item.call_id,
        uploaded_by=item.uploaded_by,
        owner_kind=item.owner_kind,
        request_id=item.request_id,
        request_item_id=item.request_item_id,
        window_start=item.window_start,
        window_end=item.window_end,
        retention=item.retention,
        integrity="ok",
        verified_at=item.received_at or utcnow(),
        derived_from=item.derived_from,
        thumb_path=item.thumb_path,
        received_at=item.received_at or utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def get_item(session: Session, *, evidence_id: str) -> EvidenceItemRow | None:
    return session.get(EvidenceItemRow, evidence_id)


def items_with_sha256(session: Session, *, sha256: str) -> list[EvidenceItemRow]:
    return list(
        session.scalars(select(EvidenceItemRow).where(EvidenceItemRow.sha256 == sha256)).all()
    )


def list_items(
    session: Session,
    *,
    call_id: str | None = None,
    case_number: str | None = None,
    request_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[EvidenceItemRow], int]:
    """Items (not purged) newest first, filtered, with the total count."""
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset must not be negative")
    where: list[Any] = [EvidenceItemRow.purged_at.is_(None)]
    if call_id:
        where.append(EvidenceItemRow.call_id == call_id)
    if request_id:
        where.append(EvidenceItemRow.request_id == request_id)
    if case_number:
        where.append(
            exists().where(
                EvidenceCaseRow.evidence_id == EvidenceItemRow.id,
                EvidenceCaseRow.case_number == case_number,
            )
        )
    total = session.scalar(select(func.count()).select_from(EvidenceItemRow).where(*where)) or 0
    rows = session.scalars(
        select(EvidenceItemRow)
        .where(*where)
        .order_by(EvidenceItemRow.received_at.desc(), EvidenceItemRow.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), int(total)


def case_numbers_of(session: Session, *, evidence_ids: Iterable[str]) -> dict[str, list[str]]:
    ids = list(evidence_ids)
    out: dict[str, list[str]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = session.execute(
        select(EvidenceCaseRow.evidence_id, EvidenceCaseRow.case_number)
        .where(EvidenceCaseRow.evidence_id.in_(ids))
        .order_by(EvidenceCaseRow.attached_at, EvidenceCaseRow.case_number)
    ).all()
    for evidence_id, case_number in rows:
        out[evidence_id].append(case_number)
    return out


def attach_case(
    session: Session, *, evidence_id: str, case_number: str, by: str, at: datetime | None = None
) -> bool:
    """Attach an item to a case; False when it already was."""
    if session.get(EvidenceCaseRow, (evidence_id, case_number)) is not None:
        return False
    session.add(
        EvidenceCaseRow(
            evidence_id=evidence_id,
            case_number=case_number,
            attached_at=at or utcnow(),
            attached_by=by,
        )
    )
    session.flush()
    return True


def items_for_case(session: Session, *, case_number: str) -> list[EvidenceItemRow]:
    rows = session.scalars(
        select(EvidenceItemRow)
        .join(EvidenceCaseRow, EvidenceCaseRow.evidence_id == EvidenceItemRow.id)
        .where(EvidenceCaseRow.case_number == case_number, EvidenceItemRow.purged_at.is_(None))
        .order_by(EvidenceItemRow.received_at, EvidenceItemRow.id)
    ).all()
    return list(rows)


def set_integrity(
    session: Session, *, evidence_id: str, integrity: str, at: datetime | None = None
) -> None:
    if integrity not in ("ok", "failed", "unverified"):
        raise ValueError(f"unknown integrity state {integrity!r}")
    row = session.get(EvidenceItemRow, evidence_id)
    if row is None:
        raise LookupError(evidence_id)
    row.integrity = integrity
    row.verified_at = at or utcnow()
    session.flush()


def set_integrity_by_sha256(
    session: Session, *, sha256: str, integrity: str, at: datetime | None = None
) -> list[str]:
    """Flag every item sharing one stored blob; returns their ids."""
    ids = []
    for row in items_with_sha256(session, sha256=sha256):
        row.integrity = integrity
        row.verified_at = at or utcnow()
        ids.append(row.id)
    session.flush()
    return ids


def set_working_copies(
    session: Session,
    *,
    sha256: str,
    thumb_path: str | None = None,
    browser_path: str | None = None,
    browser_sha256: str | None = None,
) -> None:
    """Record working copies (shared by every item with these bytes)."""
    for row in items_with_sha256(session, sha256=sha256):
        if thumb_path is not None:
            row.thumb_path = thumb_path
        if browser_path is not None:
            row.browser_path, row.browser_sha256 = browser_path, browser_sha256
    session.flush()


def purgeable_items(
    session: Session, *, now: datetime, retention_days: dict[str, int]
) -> list[EvidenceItemRow]:
    """Items past their retention period that are on no case and not purged yet."""
    on_case = exists().where(EvidenceCaseRow.evidence_id == EvidenceItemRow.id)
    out: list[EvidenceItemRow] = []
    for category, days in retention_days.items():
        rows = session.scalars(
            select(EvidenceItemRow).where(
                EvidenceItemRow.retention == category,
                EvidenceItemRow.purged_at.is_(None),
                EvidenceItemRow.received_at < now - timedelta(days=days),
                ~on_case,
            )
        ).all()
        out.extend(rows)
    return out


def mark_purged(session: Session, *, evidence_id: str, at: datetime) -> None:
    row = session.get(EvidenceItemRow, evidence_id)
    if row is not None:
        row.purged_at = at
        session.flush()


def live_items_with_sha256(session: Session, *, sha256: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(EvidenceItemRow)
            .where(EvidenceItemRow.sha256 == sha256, EvidenceItemRow.purged_at.is_(None))
        )
        or 0
    )


# --- custody ------------------------------------------------------------------------------


def custody_hash(
    *,
    evidence_id: str,
    at: datetime,
    actor: str,
    action: str,
    details: dict[str, Any],
    prev_hash: str,
) -> str:
    fields = {
        "evidence_id": evidence_id,
        "at": at.isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "details": details,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(
        json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()


def append_custody(
    session: Session,
    *,
    evidence_id: str,
    actor: str,
    action: str,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> CustodyEntryRow:
    """Append one entry to an item's chain (call with the journal lock held: see server.audit)."""
    prev = (
        session.scalar(
            select(CustodyEntryRow.hash)
            .where(CustodyEntryRow.evidence_id == evidence_id)
            .order_by(CustodyEntryRow.id.desc())
            .limit(1)
        )
        or GENESIS
    )
    when = at or utcnow()
    clean = {str(k): v for k, v in (details or {}).items() if v is not None}
    row = CustodyEntryRow(
        evidence_id=evidence_id,
        at=when,
        actor=actor[:200],
        action=action,
        details=clean,
        prev_hash=prev,
        hash=custody_hash(
            evidence_id=evidence_id,
            at=when,
            actor=actor[:200],
            action=action,
            details=clean,
            prev_hash=prev,
        ),
    )
    session.add(row)
    session.flush()
    return row


def list_custody(session: Session, *, evidence_ids: Iterable[str]) -> list[CustodyEntryRow]:
    ids = list(evidence_ids)
    if not ids:
        return []
    return list(
        session.scalars(
            select(CustodyEntryRow)
            .where(CustodyEntryRow.evidence_id.in_(ids))
            .order_by(CustodyEntryRow.id)
        ).all()
    )


def verify_custody(session: Session, *, evidence_id: str) -> int | None:
    """Id of the first entry of an item's chain that does not verify, or None."""
    prev = GENESIS
    for row in list_custody(session, evidence_ids=[evidence_id]):
        expected = custody_hash(
            evidence_id=row.evidence_id,
            at=row.at,
            actor=row.actor,
            action=row.action,
            details=dict(row.details or {}),
            prev_hash=prev,
        )
        if row.prev_hash != prev or row.hash != expected:
            return int(row.id)
        prev = row.hash
    return None


# --- uploads ------------------------------------------------------------------------------


def create_upload(
    session: Session,
    *,
    upload_id: str,
    length: int,
    expires_at: datetime,
    username: str | None,
    link_item_id: str | None,
    meta: dict[str, Any],
) -> VaultUploadRow:
    row = VaultUploadRow(
        id=upload_id,
        length=length,
        created_at=utcnow(),
        expires_at=expires_at,
        username=username,
        link_item_id=link_item_id,
        meta=dict(meta),
        state="receiving",
    )
    session.add(row)
    session.flush()
    return row


def get_upload(session: Session, *, upload_id: str) -> VaultUploadRow | None:
    return session.get(VaultUploadRow, upload_id)


def set_upload_state(
    session: Session,
    *,
    upload_id: str,
    state: str,
    evidence_id: str | None = None,
    error: str | None = None,
) -> None:
    row = session.get(VaultUploadRow, upload_id)
    if row is None:
        raise LookupError(upload_id)
    row.state = state
    if evidence_id is not None:
        row.evidence_id = evidence_id
    if error is not None:
        row.error = error[:2000]
    session.flush()


def delete_upload(session: Session, *, upload_id: str) -> None:
    session.execute(delete(VaultUploadRow).where(VaultUploadRow.id == upload_id))


def link_usage(session: Session, *, link_item_id: str) -> tuple[int, int]:
    """(files, bytes) of one request link: items received plus tus uploads still arriving."""
    items_n, items_b = session.execute(
        select(func.count(), func.coalesce(func.sum(EvidenceItemRow.size_bytes), 0)).where(
            EvidenceItemRow.request_item_id == link_item_id, EvidenceItemRow.derived_from.is_(None)
        )
    ).one()
    open_n, open_b = session.execute(
        select(func.count(), func.coalesce(func.sum(VaultUploadRow.length), 0)).where(
            VaultUploadRow.link_item_id == link_item_id,
            VaultUploadRow.state.in_(("receiving", "finalizing")),
        )
    ).one()
    return int(items_n) + int(open_n), int(items_b) + int(open_b)


def audit_rows_for_case(
    session: Session, *, case_number: str, evidence_ids: Iterable[str]
) -> list[AuditEventRow]:
    """Audit entries naming the case or one of its items, oldest first."""
    ids = list(evidence_ids)
    cond = AuditEventRow.targets["case"].as_string() == case_number
    if ids:
        cond = or_(cond, AuditEventRow.targets["evidence"].as_string().in_(ids))
    return list(session.scalars(select(AuditEventRow).where(cond).order_by(AuditEventRow.id)).all())


def expired_uploads(session: Session, *, now: datetime) -> list[VaultUploadRow]:
    return list(
        session.scalars(
            select(VaultUploadRow).where(
                VaultUploadRow.expires_at < now, VaultUploadRow.state != "complete"
            )
        ).all()
    )


def unfinished_uploads(session: Session) -> list[VaultUploadRow]:
    return list(
        session.scalars(
            select(VaultUploadRow).where(VaultUploadRow.state.in_(("receiving", "finalizing")))
        ).all()
    )


# --- exports ------------------------------------------------------------------------------


def create_export(
    session: Session,
    *,
    export_id: str,
    case_number: str,
    fmt: str,
    created_by: str,
    bytes_total: int,
) -> CaseExportRow:
    row = CaseExportRow(
        id=export_id,
        case_number=case_number,
        format=fmt,
        status="queued",
        created_by=created_by,
        created_at=utcnow(),
        bytes_done=0,
        bytes_total=bytes_total,
    )
    session.add(row)
    session.flush()
    return row


def get_export(session: Session, *, export_id: str) -> CaseExportRow | None:
    return session.get(CaseExportRow, export_id)


def update_export(session: Session, *, export_id: str, **changes: Any) -> CaseExportRow:
    """Set some of status, bytes_done, bytes_total, path, sha256, error, finished_at."""
    allowed = {"status", "bytes_done", "bytes_total", "path", "sha256", "error", "finished_at"}
    row = session.get(CaseExportRow, export_id)
    if row is None:
        raise LookupError(export_id)
    for key, value in changes.items():
        if key not in allowed:
            raise ValueError(f"cannot change {key}")
        setattr(row, key, value)
    session.flush()
    return row
