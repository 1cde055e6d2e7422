"""Field share repository: a call's cameras shared to one responding officer (issue 16).

The server decides consent (``core.policy``), audits and serves the page; this module
stores. Only SHA-256 digests of the single-use link and of the session cookie are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rtcc_console.store.schema import CallRow, FieldShareRow, UserRow


def insert_share(
    session: Session,
    *,
    share_id: str,
    call_id: str,
    officer: str,
    camera_ids: Sequence[str],
    created_by: str,
    created_at: datetime,
    expires_at: datetime,
    link_hash: str,
) -> FieldShareRow:
    row = FieldShareRow(
        id=share_id,
        call_id=call_id,
        officer=officer,
        camera_ids=list(camera_ids),
        created_by=created_by,
        created_at=created_at,
        expires_at=expires_at,
        link_hash=link_hash,
    )
    session.add(row)
    session.flush()
    return row


def get_share(session: Session, *, share_id: str) -> FieldShareRow | None:
    return session.get(FieldShareRow, share_id)


def share_by_link_hash(session: Session, *, link_hash: str) -> FieldShareRow | None:
    return session.scalars(
        select(FieldShareRow).where(FieldShareRow.link_hash == link_hash)
    ).first()


def call_shares(session: Session, *, call_id: str) -> list[FieldShareRow]:
    """Every share of a call (open and ended), oldest first."""
    stmt = (
        select(FieldShareRow)
        .where(FieldShareRow.call_id == call_id)
        .order_by(FieldShareRow.created_at, FieldShareRow.id)
    )
    return list(session.scalars(stmt).all())


def open_shares_of_officer(session: Session, *, officer: str) -> list[FieldShareRow]:
    """The officer's shares that have not ended (whatever their call or expiry)."""
    stmt = select(FieldShareRow).where(
        FieldShareRow.officer == officer, FieldShareRow.ended_at.is_(None)
    )
    return list(session.scalars(stmt.order_by(FieldShareRow.created_at)).all())


def officer_roles(session: Session, *, usernames: Sequence[str]) -> dict[str, tuple[str, bool]]:
    """``username -> (role, disabled)`` for those of ``usernames`` that exist."""
    if not usernames:
        return {}
    rows = session.execute(
        select(UserRow.username, UserRow.role, UserRow.disabled).where(
            UserRow.username.in_(list(usernames))
        )
    )
    return {r.username: (r.role, bool(r.disabled)) for r in rows}


def use_link(session: Session, *, share: FieldShareRow, session_hash: str, now: datetime) -> bool:
    """Spend the single-use link: binds the session cookie. False when it was used already."""
    if share.link_used_at is not None:
        return False
    share.link_used_at = now
    share.session_hash = session_hash
    session.flush()
    return True


def end_share(session: Session, *, share: FieldShareRow, reason: str, now: datetime) -> bool:
    """Mark the share ended (idempotent: False when it had ended already)."""
    if share.ended_at is not None:
        return False
    share.ended_at = now
    share.end_reason = reason
    session.flush()
    return True


def shares_to_end(session: Session, *, now: datetime, limit: int = 500) -> list[FieldShareRow]:
    """Open shares that are over: expired at ``now`` or whose call closed (the sweep's work)."""
    stmt = (
        select(FieldShareRow)
        .join(CallRow, CallRow.id == FieldShareRow.call_id)
        .where(
            FieldShareRow.ended_at.is_(None),
            (FieldShareRow.expires_at <= now) | (CallRow.status == "closed"),
        )
        .limit(limit)
    )
    return list(session.scalars(stmt).all())
