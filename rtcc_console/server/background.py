"""Background work of one server process, started and stopped by the app's lifespan.

* housekeeping (every ``housekeeping_s``): end emergencies whose window passed (their
  grants end with ``grant.revoked``); end live grants whose session is over (expired, or
  revoked/disabled outside the API); every minute, prune events past retention and
  portal sessions and links that are over (``server.portal.sweep``);
* the yearly camera confirmation sweep (``server.camera_confirm``);
* PostgreSQL only: LISTEN for events committed by other server processes;
* with ``cad_dropdir``: the CAD drop-folder watcher;
* with ``sia_port``: the SIA DC-09 alarm receiver (``server.portal.sia``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import timedelta

from rtcc_console.core.models import utcnow
from rtcc_console.server.camera_confirm import run_sweeps
from rtcc_console.server.emergencies import expire_due
from rtcc_console.server.field_shares import sweep_shares
from rtcc_console.server.portal.sweep import sweep_portal
from rtcc_console.server.sessions import end_grants_of_ended_sessions
from rtcc_console.server.state import AppState
from rtcc_console.store import emergencies as store_emergencies
from rtcc_console.store.auth_sessions import grants_of_ended_sessions
from rtcc_console.store.events import prune_events
from rtcc_console.store.field_shares import shares_to_end

log = logging.getLogger(__name__)
PRUNE_EVERY_S = 60.0


def housekeeping_pass(state: AppState, *, prune: bool) -> list[str]:
    """One pass: expire due emergencies (and prune events); returns expired emergency ids."""
    now = utcnow()
    with state.db.read() as session:
        due = store_emergencies.due_emergencies(session, now=now, limit=1)
        orphaned = bool(grants_of_ended_sessions(session, now=now, limit=1))
    if orphaned:
        with state.db.write() as session:
            ended = end_grants_of_ended_sessions(session, now=now)
        log.info("%d live grant(s) ended with their session", ended)
    with state.db.read() as session:
        shares_over = bool(shares_to_end(session, now=now, limit=1))
    if shares_over:
        with state.db.write() as session:
            log.info(
                "%d field share(s) ended (expired or call closed)", sweep_shares(session, now=now)
            )
    expired: list[str] = []
    if due:
        with state.db.write() as session:
            expired = expire_due(session, now=now)
        for emergency_id in expired:
            log.info("emergency %s expired; dependent live grants re-checked", emergency_id)
    if prune:
        sweep_portal(state, now=now)
        with state.db.write() as session:
            removed = prune_events(
                session, before=now - timedelta(seconds=state.settings.event_retention_s)
            )
        if removed:
            log.info("pruned %d events older than the retention window", removed)
    return expired


async def _housekeeping(state: AppState) -> None:
    last_prune = 0.0
    while True:
        try:
            prune = time.monotonic() - last_prune >= PRUNE_EVERY_S
            await asyncio.to_thread(housekeeping_pass, state, prune=prune)
            if prune:
                last_prune = time.monotonic()
        except asyncio.CancelledError:
            raise
        except Exception:  # keep the loop alive; the next pass retries
            log.exception("housekeeping pass failed")
        await asyncio.sleep(state.settings.housekeeping_s)


def checkpoint_pass(state: AppState) -> None:
    """Publish a signed checkpoint of the audit chain head when it moved (file + log)."""
    from rtcc_console.server.audit_checkpoints import checkpoint_path, publish_checkpoint

    path = checkpoint_path(
        db_url=state.settings.db_url, configured=state.settings.audit_checkpoint_file
    )
    lock = state.extras.setdefault("audit_cp_lock", threading.Lock())
    with (
        lock,
        state.db.read() as session,
    ):  # a cancelled periodic pass may still be running at shutdown
        cp = publish_checkpoint(
            session,
            ring=state.extras["audit_keyring"],
            path=path,
            last=state.extras.get("audit_last_cp"),
        )
        if cp is not None:
            state.extras["audit_last_cp"] = (cp.count, cp.head_hash)


async def _checkpoints(state: AppState) -> None:
    while True:
        try:
            await asyncio.to_thread(checkpoint_pass, state)
        except asyncio.CancelledError:
            raise
        except Exception:  # keep publishing; the next pass retries
            log.exception("audit checkpoint failed")
        await asyncio.sleep(state.settings.audit_checkpoint_s)


async def start_background(state: AppState) -> None:
    from rtcc_console.server.mail.sender import Mailer  # footage-request e-mail (outbox)

    state.extras["mailer"] = mailer = Mailer(state.db, state.settings)
    mailer.start()
    state.tasks.append(asyncio.create_task(_housekeeping(state), name="rtcc-housekeeping"))
    state.tasks.append(asyncio.create_task(_checkpoints(state), name="rtcc-audit-checkpoints"))
    state.tasks.append(asyncio.create_task(run_sweeps(state), name="rtcc-camera-confirmations"))
    if state.db.is_postgres:
        from rtcc_console.server.pg_fanout import listen_forever

        state.tasks.append(asyncio.create_task(listen_forever(state), name="rtcc-listen"))
    if state.settings.sia_port is not None:  # SIA DC-09 alarm panels (server.portal.sia)
        from rtcc_console.server.portal.sia import SiaReceiver

        receiver = SiaReceiver(state, host=state.settings.sia_host, port=state.settings.sia_port)
        try:
            receiver.start()
            state.extras["sia"] = receiver
        except OSError as exc:  # one process of several holds the port; the others go on
            log.warning(
                "SIA DC-09 receiver not started on port %d: %s", state.settings.sia_port, exc
            )
    if state.settings.cad_dropdir is not None:
        from rtcc_console.server.dropdir import DropFolder

        folder = DropFolder(state, state.settings.cad_dropdir)
        folder.start()
        state.extras["dropdir"] = folder


async def stop_background(state: AppState) -> None:
    mailer = state.extras.pop("mailer", None)
    if mailer is not None:
        await asyncio.to_thread(mailer.stop)
    receiver = state.extras.pop("sia", None)
    if receiver is not None:
        await asyncio.to_thread(receiver.stop)
    folder = state.extras.pop("dropdir", None)
    if folder is not None:
        await asyncio.to_thread(folder.stop)
    for task in state.tasks:
        task.cancel()
    for task in state.tasks:
        try:
            await task
        except asyncio.CancelledError:
            pass
        except Exception:  # a task that failed earlier; log and keep shutting down
            log.exception("background task %s ended with an error", task.get_name())
    state.tasks.clear()
    try:  # a last checkpoint, so a restart cannot hide what happened since the previous one
        await asyncio.to_thread(checkpoint_pass, state)
    except Exception:  # the database may already be gone; the log says so
        log.exception("final audit checkpoint failed")
