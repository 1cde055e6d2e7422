"""Field share repository: a call's (or an emergency's) cameras shared to one responding
officer (issue 16). A share belongs to exactly one of a call or an emergency (0112).

The server decides consent (``core.policy``), audits and serves the page; this module
stores. Only SHA-256 digests of the single-use link and of the session cookie are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import CursorResult, Table, and_, bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from rtcc_console.core.models import Camera
from rtcc_console.store.cameras import to_domain
from rtcc_console.store.schema import (
    AuthTokenRow,
    CallRow,
    CameraRow,
    EmergencyRow,
    FieldShareRow,
    OwnerRow,
    UserRow,
)


def insert_share(
    session: Session,
    *,
    share_id: str,
    call_id: str | None,
    officer: str,
    camera_ids: Sequence[str],
    created_by: str,
    created_at: datetime,
    expires_at: datetime,
    link_hash: str,
    emergency_id: str | None = None,
) -> FieldShareRow:
    row = FieldShareRow(
        id=share_id,
        call_id=call_id,
        emergency_id=emergency_id,
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


def emergency_shares(session: Session, *, emergency_id: str) -> list[FieldShareRow]:
    """Every share of an emergency (open and ended), oldest first."""
    stmt = (
        select(FieldShareRow)
        .where(FieldShareRow.emergency_id == emergency_id)
        .order_by(FieldShareRow.created_at, FieldShareRow.id)
    )
    return list(session.scalars(stmt).all())


def open_emergency_shares(session: Session, *, emergency_id: str) -> list[FieldShareRow]:
    """An emergency's shares that have not ended."""
    stmt = select(FieldShareRow).where(
        FieldShareRow.emergency_id == emergency_id, FieldShareRow.ended_at.is_(None)
    )
    return list(session.scalars(stmt.order_by(FieldShareRow.created_at)).all())


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
    """Mark the share ended (idempotent: False when it had ended already).

    One conditional UPDATE (``ended_at IS NULL``): of two transactions ending the same
    share at once (the housekeeping sweep and a request that found it over, on
    PostgreSQL), only one ends, audits and publishes it; the other sees it ended."""
    if share.ended_at is not None:
        return False
    session.flush()
    result = session.execute(
        update(FieldShareRow)
        .where(FieldShareRow.id == share.id, FieldShareRow.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], result).rowcount != 1:
        session.refresh(share)  # ended meanwhile by another transaction
        return False
    set_committed_value(share, "ended_at", now)
    set_committed_value(share, "end_reason", reason)
    return True


def shares_to_end(session: Session, *, now: datetime, limit: int = 500) -> list[FieldShareRow]:
    """Open shares that are over: expired at ``now``, whose call closed, or whose emergency
    ended (explicitly or by reaching ``ends_at``): the sweep's work."""
    stmt = (
        select(FieldShareRow)
        .outerjoin(CallRow, CallRow.id == FieldShareRow.call_id)
        .outerjoin(EmergencyRow, EmergencyRow.id == FieldShareRow.emergency_id)
        .where(
            FieldShareRow.ended_at.is_(None),
            (FieldShareRow.expires_at <= now)
            | (CallRow.status == "closed")
            | EmergencyRow.ended_at.is_not(None)
            | (EmergencyRow.ends_at <= now),
        )
        .limit(limit)
    )
    return list(session.scalars(stmt).all())


_SHARES = cast(Table, FieldShareRow.__table__)
_CALLS = cast(Table, CallRow.__table__)
_CAMERAS = cast(Table, CameraRow.__table__)
_OWNERS = cast(Table, OwnerRow.__table__)
_TOKENS = cast(Table, AuthTokenRow.__table__)
_USERS = cast(Table, UserRow.__table__)
_EMERGENCIES = cast(Table, EmergencyRow.__table__)


@dataclass(frozen=True, slots=True)
class VideoAccessRow:
    """What one officer video request is checked against, read in one query."""

    share_id: str
    officer: str
    camera_ids: tuple[str, ...]
    session_hash: str | None
    ended_at: datetime | None
    expires_at: datetime
    call_status: str | None  # None: the call row is gone (or an emergency's share)
    emergency_id: str | None  # the share's emergency (None: a call's share)
    emergency_found: bool  # the emergency row exists
    emergency_ended_at: datetime | None
    emergency_ends_at: datetime | None
    camera: Camera | None  # None: unknown or deleted camera
    owner_accepts_requests: bool  # True when the camera has no owner record
    token_user: str | None  # the officer token's username (None: no such token)
    token_role: str | None
    token_expires_at: datetime | None
    token_revoked: bool
    token_user_disabled: bool


_VIDEO_ACCESS = (
    select(
        _SHARES.c.id,
        _SHARES.c.officer,
        _SHARES.c.camera_ids,
        _SHARES.c.session_hash,
        _SHARES.c.ended_at,
        _SHARES.c.expires_at,
        _CALLS.c.status.label("call_status"),
        _SHARES.c.emergency_id,
        _EMERGENCIES.c.id.label("emergency_row_id"),
        _EMERGENCIES.c.ended_at.label("emergency_ended_at"),
        _EMERGENCIES.c.ends_at.label("emergency_ends_at"),
        _CAMERAS,
        _OWNERS.c.accepts_requests.label("owner_accepts"),
        _TOKENS.c.expires_at.label("token_expires_at"),
        _TOKENS.c.revoked_at.label("token_revoked_at"),
        _USERS.c.username.label("token_user"),
        _USERS.c.role.label("token_role"),
        _USERS.c.disabled.label("token_disabled"),
    )
    .select_from(_SHARES)
    .outerjoin(_CALLS, _CALLS.c.id == _SHARES.c.call_id)
    .outerjoin(_EMERGENCIES, _EMERGENCIES.c.id == _SHARES.c.emergency_id)
    .outerjoin(
        _CAMERAS,
        and_(_CAMERAS.c.id == bindparam("camera_id"), _CAMERAS.c.deleted.is_(False)),
    )
    .outerjoin(_OWNERS, _OWNERS.c.id == _CAMERAS.c.owner_id)
    .outerjoin(_TOKENS, _TOKENS.c.jti == bindparam("jti"))
    .outerjoin(_USERS, _USERS.c.username == _TOKENS.c.username)
    .where(_SHARES.c.id == bindparam("share_id"))
)


def video_access(
    session: Session, *, share_id: str, camera_id: str, officer_jti: str | None
) -> VideoAccessRow | None:
    """The share, its call's status (or its emergency's end), the camera (not deleted; its domain view) with its
    owner's consent flag, and the officer sign-in token (by its digest ``officer_jti``)
    with its user: one Core SELECT on primary keys (the hot path of every HLS part and
    playlist reload; no ORM objects). None: no such share."""
    row = session.execute(
        _VIDEO_ACCESS, {"share_id": share_id, "camera_id": camera_id, "jti": officer_jti or ""}
    ).first()
    if row is None:
        return None
    m = row._mapping
    camera = None
    if m[_CAMERAS.c.id] is not None:  # the camera's columns, by name (the share's id is "id" too)
        fields = SimpleNamespace(**{c.name: m[c] for c in _CAMERAS.c})
        camera = to_domain(cast(CameraRow, fields))
    accepts = m["owner_accepts"]
    return VideoAccessRow(
        share_id=m[_SHARES.c.id],
        officer=m[_SHARES.c.officer],
        camera_ids=tuple(str(c) for c in (m[_SHARES.c.camera_ids] or ())),
        session_hash=m[_SHARES.c.session_hash],
        ended_at=m[_SHARES.c.ended_at],
        expires_at=m[_SHARES.c.expires_at],
        call_status=m["call_status"],
        emergency_id=m[_SHARES.c.emergency_id],
        emergency_found=m["emergency_row_id"] is not None,
        emergency_ended_at=m["emergency_ended_at"],
        emergency_ends_at=m["emergency_ends_at"],
        camera=camera,
        owner_accepts_requests=True if accepts is None else bool(accepts),
        token_user=m["token_user"],
        token_role=m["token_role"],
        token_expires_at=m["token_expires_at"],
        token_revoked=m["token_revoked_at"] is not None,
        token_user_disabled=bool(m["token_disabled"]),
    )
