"""Live grant repository: short-lived permissions to open one camera's stream.

The server decides (``core.policy``), audits and publishes; this module stores. Rows are
returned as the ORM objects of the caller's session, and every change to one goes
through a function here (``extend_grant``, ``end_grant``), so the server holds no SQL.
Only the SHA-256 of a grant's secret is stored (``token_hash``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rtcc_console.store.schema import LiveGrantRow, OwnerRow


def insert_grant(
    session: Session,
    *,
    grant_id: str,
    camera_id: str,
    username: str,
    reason: str,
    issued_at: datetime,
    expires_at: datetime,
    emergency_id: str | None,
    token_hash: str,
    session_jti: str | None,
) -> LiveGrantRow:
    grant = LiveGrantRow(
        id=grant_id,
        camera_id=camera_id,
        username=username,
        reason=reason,
        issued_at=issued_at,
        expires_at=expires_at,
        emergency_id=emergency_id,
        token_hash=token_hash,
        session_jti=session_jti,
    )
    session.add(grant)
    session.flush()
    return grant


def get_grant(session: Session, *, grant_id: str) -> LiveGrantRow | None:
    return session.get(LiveGrantRow, grant_id)


def grant_by_token_hash(session: Session, *, token_hash: str) -> LiveGrantRow | None:
    """The grant whose secret hashes to ``token_hash`` (the media relay's question)."""
    return session.scalars(
        select(LiveGrantRow).where(LiveGrantRow.token_hash == token_hash)
    ).first()


def open_grants(
    session: Session,
    *,
    now: datetime,
    camera_id: str | None = None,
    emergency_id: str | None = None,
) -> list[LiveGrantRow]:
    """Grants not ended and not expired at ``now``, oldest first; optionally of one camera
    or of one emergency."""
    stmt = select(LiveGrantRow).where(
        LiveGrantRow.ended_at.is_(None), LiveGrantRow.expires_at > now
    )
    if camera_id is not None:
        stmt = stmt.where(LiveGrantRow.camera_id == camera_id)
    if emergency_id is not None:
        stmt = stmt.where(LiveGrantRow.emergency_id == emergency_id)
    return list(session.scalars(stmt.order_by(LiveGrantRow.issued_at)).all())


def extend_grant(
    session: Session, *, grant: LiveGrantRow, expires_at: datetime, emergency_id: str | None
) -> None:
    """A renewal or a re-check that still allows the view: new end, new covering emergency."""
    grant.expires_at = expires_at
    grant.emergency_id = emergency_id
    session.flush()


def end_grant(session: Session, *, grant: LiveGrantRow, reason: str, now: datetime) -> bool:
    """Mark the grant ended (idempotent: False when it had ended already)."""
    if grant.ended_at is not None:
        return False
    grant.ended_at = now
    grant.end_reason = reason
    session.flush()
    return True


def owner_accepts_requests(session: Session, *, owner_id: str | None) -> bool:
    """Whether the camera's owner takes requests (True when the camera has no owner record)."""
    owner = session.get(OwnerRow, owner_id) if owner_id else None
    return owner.accepts_requests if owner is not None else True
