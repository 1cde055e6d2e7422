"""Registering evidence: probe, content-addressed commit, row, cases, custody, audit, event.

Order matters for crash safety. The digests are final before anything is registered; the
original enters ``objects/`` by hard link (atomic) while its upload file still exists;
only then is the row inserted, in one transaction with its custody entries, audit entries,
footage-request bookkeeping and the ``evidence.received`` event. A process killed at any
point leaves either the resumable upload (re-finalized on the next HEAD/PATCH/receipt or at
start-up, re-hashing the file from disk) or a complete item whose hash is the hash of its
bytes: never a registered item with a wrong hash.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from rtcc_console.core.models import utcnow
from rtcc_console.server.audit import Actor, append_audit
from rtcc_console.server.eventlog import record_event
from rtcc_console.server.vault.probe import ProbeResult, probe, remux_for_browser, thumbnail_jpeg
from rtcc_console.server.vault.service import Vault
from rtcc_console.store import evidence as store
from rtcc_console.store.schema import EvidenceItemRow

log = logging.getLogger(__name__)


def new_evidence_id() -> str:
    return "ev-" + secrets.token_hex(10)


@dataclass(frozen=True, slots=True)
class Submission:
    """Who sent a file and what it belongs to (from the upload's metadata and credential)."""

    actor: Actor
    custody_actor: str  # "ana" or "owner:own-00042" (never an owner's name)
    filename: str
    case_numbers: tuple[str, ...] = ()
    call_id: str | None = None
    camera_id: str | None = None
    clock_offset_s: float | None = None
    retention: str = "standard"
    owner_kind: str | None = None
    request_id: str | None = None
    request_item_id: str | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    allow_image: bool = False
    derived_from: str | None = None
    extra_custody: dict[str, Any] = field(default_factory=dict)

    def to_meta(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "case_numbers": list(self.case_numbers),
            "call_id": self.call_id,
            "camera_id": self.camera_id,
            "clock_offset_s": self.clock_offset_s,
            "retention": self.retention,
            "owner_kind": self.owner_kind,
            "request_id": self.request_id,
            "request_item_id": self.request_item_id,
            "window_start": self.window_start.isoformat() if self.window_start else None,
            "window_end": self.window_end.isoformat() if self.window_end else None,
            "allow_image": self.allow_image,
            "actor": [self.actor.username, self.actor.role, self.actor.client_addr],
            "custody_actor": self.custody_actor,
        }

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> Submission:
        username, role, addr = (list(meta.get("actor") or [None, None, None]) + [None] * 3)[:3]

        def ts(key: str) -> datetime | None:
            raw = meta.get(key)
            return datetime.fromisoformat(raw) if raw else None

        return cls(
            actor=Actor(username=username, role=role, client_addr=addr),
            custody_actor=str(meta.get("custody_actor") or "?"),
            filename=str(meta.get("filename") or "upload.bin"),
            case_numbers=tuple(meta.get("case_numbers") or ()),
            call_id=meta.get("call_id"),
            camera_id=meta.get("camera_id"),
            clock_offset_s=meta.get("clock_offset_s"),
            retention=str(meta.get("retention") or "standard"),
            owner_kind=meta.get("owner_kind"),
            request_id=meta.get("request_id"),
            request_item_id=meta.get("request_item_id"),
            window_start=ts("window_start"),
            window_end=ts("window_end"),
            allow_image=bool(meta.get("allow_image")),
        )


@dataclass(frozen=True, slots=True)
class Registered:
    row_id: str
    sha256: str
    sha512: str
    size: int
    filename: str
    received_at: datetime
    duplicate: bool
    media: dict[str, Any]
    public: dict[str, Any]

    def receipt(self) -> dict[str, Any]:
        size_mb = self.size / 1_000_000
        return {
            "evidence_id": self.row_id,
            "sha256": self.sha256,
            "sha512": self.sha512,
            "size": self.size,
            "filename": self.filename,
            "received_at": self.received_at.isoformat(),
            "duplicate": self.duplicate,
            "media": {
                k: self.media.get(k)
                for k in ("duration_s", "codec", "width", "height", "start_time")
            },
            "message": (
                f"Received {self.filename} ({size_mb:.1f} MB) at {self.received_at.isoformat()}. "
                f"Its SHA-256 fingerprint is {self.sha256}; keep this receipt."
            ),
        }


def record_custody(
    session: Session,
    *,
    actor: Actor,
    custody_actor: str,
    evidence_id: str,
    action: str,
    case_number: str | None = None,
    details: dict[str, Any] | None = None,
    outcome: str = "ok",
) -> None:
    """One custody entry + one audit entry (audit first: it takes the journal lock)."""
    append_audit(
        session,
        actor=actor,
        action=f"evidence.{action}",
        outcome=outcome,
        targets={
            "evidence": evidence_id,
            "case": case_number,
            **{k: v for k, v in (details or {}).items() if k in ("sha256", "export", "call")},
        },
    )
    store.append_custody(
        session,
        evidence_id=evidence_id,
        actor=custody_actor,
        action=action,
        details={"case_number": case_number, **(details or {})},
    )


def evidence_public(row: EvidenceItemRow, case_numbers: list[str]) -> dict[str, Any]:
    media = dict(row.media or {})
    window = (
        {"start": row.window_start.isoformat(), "end": row.window_end.isoformat()}
        if row.window_start is not None and row.window_end is not None
        else None
    )
    return {
        "id": row.id,
        "sha256": row.sha256,
        "sha512": row.sha512,
        "size": row.size_bytes,
        "filename": row.filename,
        "content_type": row.media_type,
        "kind": row.kind,
        "media": {
            k: media.get(k) for k in ("duration_s", "codec", "width", "height", "start_time")
        },
        "clock_offset_s": row.clock_offset_s,
        "camera_id": row.camera_id,
        "call_id": row.call_id,
        "owner_kind": row.owner_kind,
        "request_id": row.request_id,
        "request_item_id": row.request_item_id,
        "requested_window": window,
        "case_numbers": case_numbers,
        "received_at": row.received_at.isoformat(),
        "retention": row.retention,
        "derived_from": row.derived_from,
        "has_thumbnail": bool(row.thumb_path),
        "has_browser_copy": bool(row.browser_path),
        "integrity": row.integrity,
        "verified_at": row.verified_at.isoformat() if row.verified_at else None,
    }


def public_of(session: Session, row: EvidenceItemRow) -> dict[str, Any]:
    return evidence_public(row, store.case_numbers_of(session, evidence_ids=[row.id])[row.id])


def check_media(path: Path, sub: Submission) -> ProbeResult:
    """Probe (raises MediaRefused with the owner-readable reason)."""
    return probe(path, allow_image=sub.allow_image)


def register(
    vault: Vault,
    *,
    src: Path,
    sha256: str,
    sha512: str,
    size: int,
    info: ProbeResult,
    sub: Submission,
    upload_id: str | None = None,
) -> Registered:
    """Commit the bytes (content-addressed) and register one item for this submission."""
    path, _stored_new = vault.blobs.commit(src, sha256)
    thumb_rel = _ensure_thumbnail(vault, sha256, path) if info.kind == "video" else None
    if vault.finalize_delay_s > 0:  # fault-injection hook: tests kill the server here, with the
        time.sleep(vault.finalize_delay_s)  # original already linked into objects/ but no row yet
    evidence_id = new_evidence_id()
    now = utcnow()
    with vault.state.db.write() as session:
        row = store.insert_item(
            session,
            item=store.NewEvidence(
                id=evidence_id,
                sha256=sha256,
                sha512=sha512,
                size_bytes=size,
                media_type=info.content_type,
                filename=sub.filename,
                stored_path=vault.blobs.relpath(sha256),
                kind=info.kind,
                media=info.media(),
                clock_offset_s=sub.clock_offset_s,
                camera_id=sub.camera_id,
                call_id=sub.call_id,
                uploaded_by=sub.custody_actor,
                owner_kind=sub.owner_kind,
                request_id=sub.request_id,
                request_item_id=sub.request_item_id,
                window_start=sub.window_start,
                window_end=sub.window_end,
                retention=sub.retention,
                derived_from=sub.derived_from,
                thumb_path=thumb_rel,
                received_at=now,
            ),
        )
        others = [r for r in store.items_with_sha256(session, sha256=sha256) if r.id != evidence_id]
        if others and others[0].browser_path:
            row.browser_path, row.browser_sha256 = others[0].browser_path, others[0].browser_sha256
        duplicate = bool(
            others
        )  # a blob left by a crash before its row was written is no duplicate
        first_case = sub.case_numbers[0] if sub.case_numbers else None
        record_custody(
            session,
            actor=sub.actor,
            custody_actor=sub.custody_actor,
            evidence_id=evidence_id,
            action="received",
            case_number=first_case,
            details={
                "sha256": sha256,
                "sha512": sha512,
                "size": size,
                "filename": sub.filename,
                "request_id": sub.request_id,
                "request_item_id": sub.request_item_id,
                "upload_id": upload_id,
                "duplicate_of": others[0].id if others else None,
                "call": sub.call_id,
                **sub.extra_custody,
            },
        )
        for case_number in sub.case_numbers:
            store.attach_case(
                session,
                evidence_id=evidence_id,
                case_number=case_number,
                by=sub.custody_actor,
                at=now,
            )
            record_custody(
                session,
                actor=sub.actor,
                custody_actor=sub.custody_actor,
                evidence_id=evidence_id,
                action="attached",
                case_number=case_number,
            )
        if sub.request_item_id:
            _record_request_upload(vault, session, sub, evidence_id)
        if upload_id is not None:
            store.set_upload_state(
                session, upload_id=upload_id, state="complete", evidence_id=evidence_id
            )
        public = public_of(session, row)
        record_event(session, type="evidence.received", payload={"evidence": public})
    if not duplicate and info.kind == "video":
        vault.workers.submit(_make_browser_copy, vault, sha256, path)
    return Registered(
        evidence_id, sha256, sha512, size, sub.filename, now, duplicate, info.media(), public
    )


def _record_request_upload(
    vault: Vault, session: Session, sub: Submission, evidence_id: str
) -> None:
    """The footage-request side's bookkeeping (item ``uploaded``, files + 1, request.updated)."""
    from rtcc_console.server.footage_requests import record_upload

    assert sub.request_item_id is not None
    try:
        record_upload(
            session,
            item_id=sub.request_item_id,
            evidence_id=evidence_id,
            settings=vault.settings,
            actor=sub.actor,
        )
    except ValueError as exc:  # the link closed while the bytes were arriving: keep the evidence
        log.warning(
            "request item %s did not take upload %s: %s", sub.request_item_id, evidence_id, exc
        )


def _ensure_thumbnail(vault: Vault, sha256: str, original: Path) -> str | None:
    d = vault.blobs.derived_dir(sha256)
    thumb = d / "thumb.jpg"
    if not thumb.exists():
        data = thumbnail_jpeg(original)
        if data is None:
            return None
        d.mkdir(parents=True, exist_ok=True)
        tmp = thumb.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(thumb)
    return str(thumb.relative_to(vault.blobs.root))


def _make_browser_copy(vault: Vault, sha256: str, original: Path) -> None:
    """Working copy for browsers (remux, never re-encoded); recorded with its own hash."""
    from rtcc_console.server.vault.blobs import hash_file

    try:
        d = vault.blobs.derived_dir(sha256)
        d.mkdir(parents=True, exist_ok=True)
        dest = d / "browser.mp4"
        if not dest.exists() and not remux_for_browser(original, dest):
            return
        digest, _ = hash_file(dest)
        with vault.state.db.write() as session:
            store.set_working_copies(
                session,
                sha256=sha256,
                browser_path=str(dest.relative_to(vault.blobs.root)),
                browser_sha256=digest,
            )
    except Exception:  # a working copy is a convenience: log, never lose the original
        log.exception("browser copy of %s failed", sha256[:12])
