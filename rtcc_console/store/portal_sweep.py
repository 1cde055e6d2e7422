"""Pruning of the portal's short-lived secrets: sessions and e-mailed links.

A session is over once it expired or was ended (sign-out); a link once it expired or was
used. Neither can be used again (``store.portal`` refuses them), so their rows are deleted.
Each delete is one statement with the same condition as the check, so several server
processes can sweep at once: a row is deleted once, and a second sweeper finds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.orm import Session

from rtcc_console.core.models import utcnow
from rtcc_console.store.schema import PortalLinkRow, PortalSessionRow


@dataclass(frozen=True, slots=True)
class Swept:
    sessions: int
    links: int


def _sessions_over(now: datetime) -> ColumnElement[bool]:
    return or_(PortalSessionRow.expires_at <= now, PortalSessionRow.ended_at.is_not(None))


def _links_over(now: datetime) -> ColumnElement[bool]:
    return or_(PortalLinkRow.expires_at <= now, PortalLinkRow.used_at.is_not(None))


def sweep_due(session: Session, *, now: datetime | None = None) -> bool:
    """Whether any session or link is over (a cheap read before taking the write lock)."""
    now = now or utcnow()
    return (
        session.scalar(select(PortalSessionRow.token_hash).where(_sessions_over(now)).limit(1))
        is not None
        or session.scalar(select(PortalLinkRow.token_hash).where(_links_over(now)).limit(1))
        is not None
    )


def sweep(session: Session, *, now: datetime | None = None) -> Swept:
    """Delete sessions that expired or ended and links that expired or were used."""
    now = now or utcnow()
    sessions = session.execute(delete(PortalSessionRow).where(_sessions_over(now)))
    links = session.execute(delete(PortalLinkRow).where(_links_over(now)))
    return Swept(
        sessions=int(sessions.rowcount),  # type: ignore[attr-defined]
        links=int(links.rowcount),  # type: ignore[attr-defined]
    )
