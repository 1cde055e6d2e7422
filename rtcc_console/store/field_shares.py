"""Field share repository: a call's cameras shared to one responding officer (issue 16).

The server decides consent (``core.policy``), audits and serves the page; this module
stores. Only SHA-256 digests of the single-use link and of the session cookie are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from rtcc_console.store.schema import (
    AuthTokenRow,
    CallRow,
    CameraRow,
    FieldShareRow,
    OwnerRow,
    UserRow,
)


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


@dataclass(frozen=True, slots=True)
class VideoAccessRow:
    """What one officer video request is checked against, read in one query."""

    share: FieldShareRow
    call_status: str | None  # None: the call row is gone
    camera: CameraRow | None  # None: unknown or deleted camera
    owner_accepts_requests: bool  # True when the camera has no owner record
    token_user: str | None  # the officer token's username (None: no such token)
    token_role: str | None
    token_expires_at: datetime | None
    token_revoked: bool
    token_user_disabled: bool


def video_access(
    session: Session, *, share_id: str, camera_id: str, officer_jti: str | None
) -> VideoAccessRow | None:
    """The share, its call's status, the camera (not deleted) with its owner's consent flag,
    and the officer sign-in token (by its digest ``officer_jti``) with its user: one SELECT
    on primary keys (the hot path of every HLS part and playlist reload). None: no share."""
    token_user = aliased(UserRow)
    stmt = (
        select(
            FieldShareRow,
            CallRow.status,
            CameraRow,
            OwnerRow.accepts_requests,
            AuthTokenRow.expires_at,
            AuthTokenRow.revoked_at,
            token_user.username,
            token_user.role,
            token_user.disabled,
        )
        .select_from(FieldShareRow)
        .outerjoin(CallRow, CallRow.id == FieldShareRow.call_id)
        .outerjoin(CameraRow, and_(CameraRow.id == camera_id, CameraRow.deleted.is_(False)))
        .outerjoin(OwnerRow, OwnerRow.id == CameraRow.owner_id)
        .outerjoin(AuthTokenRow, AuthTokenRow.jti == (officer_jti or ""))
        .outerjoin(token_user, token_user.username == AuthTokenRow.username)
        .where(FieldShareRow.id == share_id)
    )
    row = session.execute(stmt).first()
    if row is None:
        return None
    share, status, camera, accepts, t_exp, t_rev, t_user, t_role, t_disabled = row
    return VideoAccessRow(
        share=share,
        call_status=None if status is None else str(status),
        camera=camera,
        owner_accepts_requests=True if accepts is None else bool(accepts),
        token_user=t_user,
        token_role=t_role,
        token_expires_at=t_exp,
        token_revoked=t_rev is not None,
        token_user_disabled=bool(t_disabled),
    )
