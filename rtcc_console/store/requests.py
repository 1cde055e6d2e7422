"""Footage requests, their recipients, evidence items and chain of custody (minimal).

Enough for the server to create and read them; the request/upload workflow builds on
these tables later. Custody entries are hash-chained per evidence item: each entry's hash
covers the previous hash and a canonical JSON of the entry, so any edit breaks the chain
(``verify_custody`` finds it).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from rtcc_console.core.models import (
    CircleFence,
    EvidenceItem,
    FootageRequest,
    Geofence,
    GeoPoint,
    PolygonFence,
    RequestStatus,
    utcnow,
)
from rtcc_console.store.schema import (
    CustodyEntryRow,
    EvidenceItemRow,
    FootageRequestRow,
    RequestRecipientRow,
)


def geofence_to_json(fence: Geofence) -> dict[str, Any]:
    if isinstance(fence, CircleFence):
        return {"type": "circle", "center": {"lat": fence.center.lat, "lon": fence.center.lon},
                "radius_m": fence.radius_m}
    return {"type": "polygon", "vertices": [[v.lat, v.lon] for v in fence.vertices]}


def geofence_from_json(data: dict[str, Any]) -> Geofence:
    """Parse the stored form; ValueError names what is wrong."""
    kind = data.get("type")
    if kind == "circle":
        center = data["center"]
        return CircleFence(GeoPoint(float(center["lat"]), float(center["lon"])), float(data["radius_m"]))
    if kind == "polygon":
        return PolygonFence(tuple(GeoPoint(float(lat), float(lon)) for lat, lon in data["vertices"]))
    raise ValueError(f"geofence type must be 'circle' or 'polygon', got {kind!r}")


def request_to_domain(row: FootageRequestRow, camera_ids: tuple[str, ...] = ()) -> FootageRequest:
    return FootageRequest(
        id=row.id, call_id=row.call_id, geofence=geofence_from_json(row.geofence),
        window_start=row.window_start, window_end=row.window_end, created_by=row.created_by,
        created_at=row.created_at, status=RequestStatus(row.status), camera_ids=camera_ids,
        message=row.message,
    )


def create_footage_request(session: Session, *, request: FootageRequest) -> FootageRequest:
    """Store a request (recipients are added with :func:`add_recipient`)."""
    if request.window_end <= request.window_start:
        raise ValueError("window_end must be after window_start")
    row = FootageRequestRow(
        id=request.id, call_id=request.call_id, geofence=geofence_to_json(request.geofence),
        window_start=request.window_start, window_end=request.window_end,
        created_by=request.created_by, created_at=request.created_at,
        status=RequestStatus(request.status).value, message=request.message,
    )
    session.add(row)
    session.flush()
    return request_to_domain(row, tuple(request.camera_ids))


def get_footage_request(session: Session, *, request_id: str) -> FootageRequest | None:
    row = session.get(FootageRequestRow, request_id)
    if row is None:
        return None
    cams = session.execute(select(RequestRecipientRow.camera_id).where(
        RequestRecipientRow.request_id == request_id, RequestRecipientRow.camera_id.is_not(None),
    ).order_by(RequestRecipientRow.id)).scalars().all()
    return request_to_domain(row, tuple(c for c in cams if c))


def set_request_status(session: Session, *, request_id: str, status: RequestStatus) -> None:
    row = session.get(FootageRequestRow, request_id)
    if row is None:
        from rtcc_console.store.cameras import NotFoundError

        raise NotFoundError(f"footage request {request_id!r} not found")
    row.status = RequestStatus(status).value
    session.flush()


class Recipient(NamedTuple):
    id: int
    request_id: str
    owner_id: str | None
    camera_id: str | None
    token_expires_at: datetime | None
    token_used_at: datetime | None
    notified_at: datetime | None
    status: str


def add_recipient(session: Session, *, request_id: str, owner_id: str | None, camera_id: str | None,
                  upload_token_hash: str | None = None, token_expires_at: datetime | None = None) -> int:
    """Record that ``owner_id`` (for ``camera_id``) is asked; returns the recipient id.

    Only a hash of the upload token is stored; the token itself goes into the e-mail.
    """
    row = RequestRecipientRow(request_id=request_id, owner_id=owner_id, camera_id=camera_id,
                              upload_token_hash=upload_token_hash, token_expires_at=token_expires_at,
                              status="pending")
    session.add(row)
    session.flush()
    return int(row.id)


def list_recipients(session: Session, *, request_id: str) -> list[Recipient]:
    rows = session.execute(select(RequestRecipientRow).where(RequestRecipientRow.request_id == request_id)
                           .order_by(RequestRecipientRow.id)).scalars()
    return [Recipient(int(r.id), r.request_id, r.owner_id, r.camera_id, r.token_expires_at,
                      r.token_used_at, r.notified_at, r.status) for r in rows]


def evidence_to_domain(row: EvidenceItemRow) -> EvidenceItem:
    return EvidenceItem(id=row.id, filename=row.filename, sha256=row.sha256, size_bytes=int(row.size_bytes),
                        media_type=row.media_type, received_at=row.received_at, request_id=row.request_id,
                        camera_id=row.camera_id, call_id=row.call_id, uploaded_by=row.uploaded_by)


def create_evidence_item(session: Session, *, item: EvidenceItem, stored_path: str) -> EvidenceItem:
    """Register a file already written to the vault at ``stored_path``."""
    if len(item.sha256) != 64 or any(c not in "0123456789abcdef" for c in item.sha256):
        raise ValueError("sha256 must be 64 lowercase hex digits")
    if item.size_bytes < 0:
        raise ValueError("size_bytes must not be negative")
    row = EvidenceItemRow(id=item.id, sha256=item.sha256, size_bytes=item.size_bytes, media_type=item.media_type,
                          filename=item.filename, stored_path=stored_path, received_at=item.received_at,
                          request_id=item.request_id, camera_id=item.camera_id, call_id=item.call_id,
                          uploaded_by=item.uploaded_by)
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


def _custody_hash(prev_hash: str | None, evidence_id: str, at: datetime, actor: str, action: str,
                  details: dict[str, Any]) -> str:
    body = json.dumps({"prev": prev_hash, "evidence": evidence_id, "at": at.isoformat(), "actor": actor,
                       "action": action, "details": details}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def add_custody_entry(session: Session, *, evidence_id: str, actor: str, action: str,
                      details: dict[str, Any] | None = None, at: datetime | None = None) -> CustodyEntry:
    """Append to the item's custody chain (the caller serialises writers per item)."""
    details = details or {}
    at = (at or utcnow()).astimezone(UTC)  # hashed as stored: UTC
    prev = session.execute(select(CustodyEntryRow.hash).where(CustodyEntryRow.evidence_id == evidence_id)
                           .order_by(CustodyEntryRow.id.desc()).limit(1)).scalar_one_or_none()
    digest = _custody_hash(prev, evidence_id, at, actor, action, details)
    row = CustodyEntryRow(evidence_id=evidence_id, at=at, actor=actor, action=action, details=details,
                          prev_hash=prev, hash=digest)
    session.add(row)
    session.flush()
    return CustodyEntry(int(row.id), evidence_id, at, actor, action, details, prev, digest)


def custody_chain(session: Session, *, evidence_id: str) -> list[CustodyEntry]:
    rows = session.execute(select(CustodyEntryRow).where(CustodyEntryRow.evidence_id == evidence_id)
                           .order_by(CustodyEntryRow.id)).scalars()
    return [CustodyEntry(int(r.id), r.evidence_id, r.at, r.actor, r.action, dict(r.details), r.prev_hash, r.hash)
            for r in rows]


def verify_custody(session: Session, *, evidence_id: str) -> int | None:
    """Id of the first custody entry whose hash does not verify, or None if the chain holds."""
    prev: str | None = None
    for entry in custody_chain(session, evidence_id=evidence_id):
        expected = _custody_hash(prev, entry.evidence_id, entry.at, entry.actor, entry.action, entry.details)
        if entry.prev_hash != prev or entry.hash != expected:
            return entry.id
        prev = entry.hash
    return None
