"""tus 1.0 upload state: creation, appending bytes with running hashes, finalization, expiry.

The routes (``server.routes.uploads``) speak HTTP; this module does the work, in worker
threads. The upload's offset is the size of its ``.part`` file, fsynced after every PATCH:
what a HEAD reports is always on disk.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from rtcc_console.core.models import utcnow
from rtcc_console.server.audit import Actor, append_audit
from rtcc_console.server.vault.hashing import RunningHash
from rtcc_console.server.vault.ingest import Registered, Submission, check_media, register
from rtcc_console.server.vault.probe import MediaRefused
from rtcc_console.server.vault.service import Vault
from rtcc_console.store import evidence as store
from rtcc_console.store.schema import VaultUploadRow

log = logging.getLogger(__name__)
CHECKSUM_ALGORITHMS = {"sha256": hashlib.sha256, "sha1": hashlib.sha1, "md5": hashlib.md5}


class UploadError(Exception):
    """An HTTP-level refusal: ``status`` and a message for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def parse_metadata(header: str | None) -> dict[str, str]:
    """tus ``Upload-Metadata``: comma-separated ``key base64value`` pairs (value optional)."""
    out: dict[str, str] = {}
    if not header:
        return out
    if len(header) > 8192:
        raise UploadError(400, "Upload-Metadata is too long")
    for part in header.split(","):
        part = part.strip()
        if not part:
            continue
        key, _, value = part.partition(" ")
        if not key or not key.isascii() or " " in value.strip() or key in out:
            raise UploadError(400, f"Upload-Metadata: malformed pair {key[:40]!r}")
        try:
            decoded = (
                base64.b64decode(value.strip(), validate=True).decode("utf-8")
                if value.strip()
                else ""
            )
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise UploadError(
                400, f"Upload-Metadata: value of {key[:40]!r} is not base64 UTF-8"
            ) from exc
        if any(ord(c) < 32 and c not in "\t" for c in decoded):
            raise UploadError(400, f"Upload-Metadata: value of {key[:40]!r} has control characters")
        out[key] = decoded
    return out


def encode_metadata(meta: dict[str, str], *, drop: tuple[str, ...] = ("request_token",)) -> str:
    """The ``Upload-Metadata`` a HEAD echoes: as sent, without credentials."""
    return ",".join(
        f"{k} {base64.b64encode(v.encode()).decode()}" if v else k
        for k, v in meta.items()
        if k not in drop
    )


def parse_checksum(header: str | None) -> tuple[str, bytes] | None:
    if not header:
        return None
    algo, _, value = header.strip().partition(" ")
    if algo.lower() not in CHECKSUM_ALGORITHMS:
        raise UploadError(400, f"Upload-Checksum: unsupported algorithm {algo[:20]!r}")
    try:
        return algo.lower(), base64.b64decode(value.strip(), validate=True)
    except binascii.Error as exc:
        raise UploadError(400, "Upload-Checksum: value is not base64") from exc


def create_upload(
    vault: Vault,
    *,
    length: int,
    sub: Submission,
    username: str | None,
    link_item_id: str | None,
    tus_metadata: str = "",
) -> VaultUploadRow:
    settings = vault.settings
    if length > settings.vault_max_file_bytes:
        raise UploadError(
            413, f"file is larger than the {settings.vault_max_file_bytes} bytes allowed"
        )
    upload_id = os.urandom(16).hex()
    with vault.state.db.write() as session:
        if link_item_id is not None:
            files, total = store.link_usage(session, link_item_id=link_item_id)
            if files >= settings.vault_max_link_files:
                raise UploadError(
                    413, f"this link already received {files} files, the most allowed"
                )
            if total + length > settings.vault_max_link_bytes:
                raise UploadError(
                    413, "this upload would pass the total size allowed for this link"
                )
        row = store.create_upload(
            session,
            upload_id=upload_id,
            length=length,
            expires_at=utcnow() + timedelta(seconds=settings.vault_upload_expiry_s),
            username=username,
            link_item_id=link_item_id,
            meta={**sub.to_meta(), "tus_metadata": tus_metadata[:8192]},
        )
        append_audit(
            session,
            actor=sub.actor,
            action="evidence.upload_started",
            targets={
                "upload": upload_id,
                "case": sub.case_numbers[0] if sub.case_numbers else None,
                "request_item": link_item_id,
                "length": length,
            },
        )
        session.expunge(row)
    vault.blobs.upload_path(upload_id).touch()
    return row


def get_upload(vault: Vault, upload_id: str) -> VaultUploadRow | None:
    if len(upload_id) != 32 or not all(c in "0123456789abcdef" for c in upload_id):
        return None
    with vault.state.db.read() as session:
        row = store.get_upload(session, upload_id=upload_id)
        if row is not None:
            session.expunge(row)
        return row


def current_offset(vault: Vault, upload_id: str) -> int:
    try:
        return vault.blobs.upload_path(upload_id).stat().st_size
    except FileNotFoundError:
        return -1


@dataclass
class ChunkWriter:
    """One PATCH's writer: appends, hashes, and can roll both back to where it started."""

    vault: Vault
    upload: VaultUploadRow
    start: int
    running: RunningHash
    snapshot: RunningHash
    file: BinaryIO
    checksum: Any = None
    written: int = 0

    @classmethod
    def open(
        cls, vault: Vault, upload: VaultUploadRow, start: int, checksum_algo: str | None
    ) -> ChunkWriter:
        path = vault.blobs.upload_path(upload.id)
        running = vault.hashers.take(upload.id, start, path)
        f = path.open("r+b")
        f.seek(start)
        return cls(
            vault,
            upload,
            start,
            running,
            running.copy(),
            f,
            CHECKSUM_ALGORITHMS[checksum_algo]() if checksum_algo else None,
        )

    def write(self, data: bytes) -> None:
        if self.start + self.written + len(data) > self.upload.length:
            raise UploadError(413, "body goes past Upload-Length")
        self.file.write(data)
        self.running.update(data)
        if self.checksum is not None:
            self.checksum.update(data)
        self.written += len(data)

    def commit(self) -> int:
        """Make the bytes durable and keep the running hash; returns the new offset."""
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        self.vault.hashers.put(self.upload.id, self.running)
        return self.start + self.written

    def rollback(self) -> None:
        """Forget everything this PATCH wrote (file and hash)."""
        try:
            self.file.truncate(self.start)
            self.file.flush()
            os.fsync(self.file.fileno())
        except OSError:
            log.exception(
                "rollback of upload %s failed; the next request re-hashes from disk", self.upload.id
            )
            self.vault.hashers.drop(self.upload.id)
            self.file.close()
            return
        self.file.close()
        self.vault.hashers.put(self.upload.id, self.snapshot)


def finalize(vault: Vault, upload: VaultUploadRow) -> Registered:
    """Hash (already running), probe, commit and register a complete upload (idempotent)."""
    with vault.state.db.read() as session:
        fresh = store.get_upload(session, upload_id=upload.id)
        if fresh is not None and fresh.state == "complete" and fresh.evidence_id:
            from rtcc_console.server.vault.ingest import public_of

            row = store.get_item(session, evidence_id=fresh.evidence_id)
            if row is not None:
                pub = public_of(session, row)
                return Registered(
                    row.id,
                    row.sha256,
                    row.sha512 or "",
                    row.size_bytes,
                    row.filename,
                    row.received_at,
                    False,
                    dict(row.media or {}),
                    pub,
                )
    path = vault.blobs.upload_path(upload.id)
    if current_offset(vault, upload.id) != upload.length:
        raise UploadError(409, "upload is not complete")
    running = vault.hashers.take(upload.id, upload.length, path)
    sha256, sha512 = running.hexdigests()
    sub = Submission.from_meta(dict(upload.meta or {}))
    try:
        info = check_media(path, sub)
    except MediaRefused as exc:
        _refuse(vault, upload, sub.actor, str(exc))
        raise
    with vault.state.db.write() as session:
        store.set_upload_state(session, upload_id=upload.id, state="finalizing")
    registered = register(
        vault,
        src=path,
        sha256=sha256,
        sha512=sha512,
        size=upload.length,
        info=info,
        sub=sub,
        upload_id=upload.id,
    )
    path.unlink(missing_ok=True)
    vault.forget_upload(upload.id)
    return registered


def _refuse(vault: Vault, upload: VaultUploadRow, actor: Actor, reason: str) -> None:
    with vault.state.db.write() as session:
        store.set_upload_state(session, upload_id=upload.id, state="refused", error=reason)
        append_audit(
            session,
            actor=actor,
            action="evidence.refused",
            outcome="denied",
            targets={"upload": upload.id, "request_item": upload.link_item_id},
            reason=reason[:200],
        )
    vault.blobs.upload_path(upload.id).unlink(missing_ok=True)
    vault.forget_upload(upload.id)


def terminate(vault: Vault, upload: VaultUploadRow, actor: Actor) -> None:
    with vault.state.db.write() as session:
        store.delete_upload(session, upload_id=upload.id)
        append_audit(
            session, actor=actor, action="evidence.upload_terminated", targets={"upload": upload.id}
        )
    vault.blobs.upload_path(upload.id).unlink(missing_ok=True)
    vault.forget_upload(upload.id)


def purge_expired(vault: Vault, *, now: datetime | None = None) -> list[str]:
    """Remove unfinished uploads past their expiry (bytes and row); audited."""
    now = now or utcnow()
    with vault.state.db.read() as session:
        rows = store.expired_uploads(session, now=now)
        ids = [r.id for r in rows]
    for upload_id in ids:
        vault.blobs.upload_path(upload_id).unlink(missing_ok=True)
        vault.forget_upload(upload_id)
        with vault.state.db.write() as session:
            store.delete_upload(session, upload_id=upload_id)
            append_audit(
                session,
                actor=Actor(username="system", role=None),
                action="evidence.upload_expired",
                targets={"upload": upload_id},
            )
    return ids


def recover(vault: Vault) -> list[str]:
    """At start-up: finish uploads whose bytes were all on disk when the process died."""
    done: list[str] = []
    with vault.state.db.read() as session:
        rows = store.unfinished_uploads(session)
        for r in rows:
            session.expunge(r)
    for row in rows:
        if current_offset(vault, row.id) != row.length:
            continue
        try:
            with vault.upload_lock(row.id):
                finalize(vault, row)
            done.append(row.id)
        except (MediaRefused, UploadError) as exc:
            log.info("recovered upload %s refused: %s", row.id, exc)
        except Exception:  # keep recovering the others
            log.exception("recovery of upload %s failed", row.id)
    return done


def resolve_partial_path(vault: Vault, upload_id: str) -> Path:
    return vault.blobs.upload_path(upload_id)
