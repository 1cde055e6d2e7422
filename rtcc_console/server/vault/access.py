"""Verified reads: an original is hashed before it is served; a mismatch is never served.

A failed check flags every item sharing the bytes (``integrity = "failed"``), writes an
``integrity_failed`` custody + audit entry and publishes ``evidence.integrity_failed``. A
full check is reused only for follow-on reads of the *same* file version (size, mtime,
ctime, inode) within ``vault_verify_cache_s``; exports always re-hash.
"""

from __future__ import annotations

from pathlib import Path

from rtcc_console.core.models import utcnow
from rtcc_console.server.audit import Actor
from rtcc_console.server.eventlog import record_event
from rtcc_console.server.vault.blobs import VaultIntegrityError, fingerprint, hash_file
from rtcc_console.server.vault.ingest import public_of, record_custody
from rtcc_console.server.vault.service import Vault
from rtcc_console.store import evidence as store
from rtcc_console.store.schema import EvidenceItemRow

SYSTEM = Actor(username="system", role=None)


def check_original(
    vault: Vault, *, sha256: str, actor: Actor | None = None, use_cache: bool = True
) -> Path:
    """The path of verified bytes for ``sha256``; VaultIntegrityError (after flagging) if not."""
    path = vault.blobs.path_of(sha256)
    try:
        fp = fingerprint(path)
    except FileNotFoundError:
        flag_failure(vault, sha256=sha256, actual=None, actor=actor)
        raise VaultIntegrityError(sha256, None) from None
    if use_cache and vault.recently_verified(sha256, fp):
        return path
    actual, _ = hash_file(path)
    if actual != sha256:
        vault.mark_verified(sha256, None)
        flag_failure(vault, sha256=sha256, actual=actual, actor=actor)
        raise VaultIntegrityError(sha256, actual)
    if fingerprint(path) != fp:  # changed while we read it: do not trust this pass
        vault.mark_verified(sha256, None)
        flag_failure(vault, sha256=sha256, actual="(changed while being verified)", actor=actor)
        raise VaultIntegrityError(sha256, "(changed while being verified)")
    vault.mark_verified(sha256, fp)
    _mark_ok(vault, sha256)
    return path


def _mark_ok(vault: Vault, sha256: str) -> None:
    with vault.state.db.write() as session:
        rows = store.items_with_sha256(session, sha256=sha256)
        if any(r.integrity == "failed" for r in rows):
            return  # once failed, stays failed: an item is never silently rehabilitated
        store.set_integrity_by_sha256(session, sha256=sha256, integrity="ok")


def flag_failure(
    vault: Vault, *, sha256: str, actual: str | None, actor: Actor | None
) -> list[str]:
    who = actor or SYSTEM
    with vault.state.db.write() as session:
        ids = store.set_integrity_by_sha256(session, sha256=sha256, integrity="failed", at=utcnow())
        for evidence_id in ids:
            record_custody(
                session,
                actor=who,
                custody_actor=who.username or "system",
                evidence_id=evidence_id,
                action="integrity_failed",
                outcome="failed",
                details={"sha256": sha256, "actual_sha256": actual or "missing"},
            )
            row = store.get_item(session, evidence_id=evidence_id)
            if row is not None:
                record_event(
                    session,
                    type="evidence.integrity_failed",
                    payload={"evidence": public_of(session, row)},
                )
    return ids


def original_path(vault: Vault, *, evidence_id: str, actor: Actor | None = None) -> Path:
    """The verified path of an item's original (for the vehicle index and other readers).

    LookupError for an unknown or purged item, VaultIntegrityError when the bytes fail
    their hash (the item is flagged and audited as with any read).
    """
    with vault.state.db.read() as session:
        row = store.get_item(session, evidence_id=evidence_id)
        if row is None or row.purged_at is not None:
            raise LookupError(evidence_id)
        sha256, failed = row.sha256, row.integrity == "failed"
    if failed:
        raise VaultIntegrityError(sha256, "(flagged earlier)")
    return check_original(vault, sha256=sha256, actor=actor)


def check_browser_copy(vault: Vault, row: EvidenceItemRow) -> Path | None:
    """The browser working copy if present and matching its recorded hash."""
    if not row.browser_path or not row.browser_sha256:
        return None
    path = vault.blobs.root / row.browser_path
    try:
        fp = fingerprint(path)
    except FileNotFoundError:
        return None
    key = "browser:" + row.browser_sha256
    if vault.recently_verified(key, fp):
        return path
    actual, _ = hash_file(path)
    if actual != row.browser_sha256:
        return None
    vault.mark_verified(key, fp)
    return path
