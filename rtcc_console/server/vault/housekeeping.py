"""Vault housekeeping: recovery at start-up, expired uploads, retention purges (audited)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from rtcc_console.core.models import utcnow
from rtcc_console.server.audit import Actor
from rtcc_console.server.state import AppState
from rtcc_console.server.vault.ingest import record_custody
from rtcc_console.server.vault.service import Vault, vault_of
from rtcc_console.server.vault.uploads import purge_expired, recover
from rtcc_console.store import evidence as store

log = logging.getLogger(__name__)
PASS_EVERY_S = 30.0
SYSTEM = Actor(username="system", role=None)


def purge_retention(vault: Vault, *, now: datetime | None = None) -> list[str]:
    """Purge items past their category's period that are on no case; each purge audited.

    The bytes go only when no other live item shares them (de-duplicated blobs).
    """
    now = now or utcnow()
    with vault.state.db.read() as session:
        due = [
            (r.id, r.sha256, r.retention)
            for r in store.purgeable_items(
                session, now=now, retention_days=vault.settings.vault_retention_days
            )
        ]
    purged: list[str] = []
    for evidence_id, sha256, category in due:
        with vault.state.db.write() as session:
            row = store.get_item(session, evidence_id=evidence_id)
            if (
                row is None
                or row.purged_at is not None
                or store.case_numbers_of(session, evidence_ids=[evidence_id])[evidence_id]
            ):
                continue
            store.mark_purged(session, evidence_id=evidence_id, at=now)
            record_custody(
                session,
                actor=SYSTEM,
                custody_actor="system",
                evidence_id=evidence_id,
                action="purged",
                details={"sha256": sha256, "retention": category},
            )
            remaining = store.live_items_with_sha256(session, sha256=sha256)
        if remaining == 0:
            vault.blobs.remove(sha256)
        purged.append(evidence_id)
    return purged


def _pass(state: AppState) -> None:
    vault = vault_of(state)
    purge_expired(vault)
    purge_retention(vault)


async def run_housekeeping(state: AppState) -> None:
    try:
        await asyncio.to_thread(lambda: recover(vault_of(state)))
    except Exception:  # recovery retries on the next HEAD/PATCH/receipt of each upload
        log.exception("vault recovery failed")
    while True:
        await asyncio.sleep(PASS_EVERY_S)
        try:
            await asyncio.to_thread(_pass, state)
        except asyncio.CancelledError:
            raise
        except Exception:  # keep the loop alive
            log.exception("vault housekeeping pass failed")
