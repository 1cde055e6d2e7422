"""The portal sweep: delete sessions that expired or ended and links that expired or were
used (run every minute by the server's housekeeping; safe with several server processes)."""

from __future__ import annotations

import logging
from datetime import datetime

from rtcc_console.core.models import utcnow
from rtcc_console.server.state import AppState
from rtcc_console.store import portal_sweep

log = logging.getLogger(__name__)


def sweep_portal(state: AppState, *, now: datetime | None = None) -> portal_sweep.Swept:
    """One sweep; the write lock is taken only when something is over."""
    now = now or utcnow()
    with state.db.read() as session:
        if not portal_sweep.sweep_due(session, now=now):
            return portal_sweep.Swept(sessions=0, links=0)
    with state.db.write() as session:
        swept = portal_sweep.sweep(session, now=now)
    log.info("portal sweep: %d session(s) and %d link(s) removed", swept.sessions, swept.links)
    return swept
