"""Live grants seen through the session (bearer token) that opened them.

A live view must never outlive its session: these queries find the open grants of one
session, of every session of a user, and the grants whose session has ended (revoked,
expired, account disabled) so that the server can end them. ``session_valid`` is the media
hook's check that a grant's session is still open.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from rtcc_console.store.schema import AuthTokenRow, LiveGrantRow, UserRow


def _open(now: datetime) -> list[object]:
    return [LiveGrantRow.ended_at.is_(None), LiveGrantRow.expires_at > now]


def open_grants_of_session(session: Session, *, jti: str, now: datetime) -> list[LiveGrantRow]:
    """Open grants opened by the session whose token digest is ``jti``."""
    stmt = select(LiveGrantRow).where(LiveGrantRow.session_jti == jti, *_open(now))  # type: ignore[arg-type]
    return list(session.scalars(stmt.order_by(LiveGrantRow.issued_at)).all())


def open_grants_of_user(session: Session, *, username: str, now: datetime) -> list[LiveGrantRow]:
    """Open grants held by ``username`` (any session)."""
    stmt = select(LiveGrantRow).where(LiveGrantRow.username == username, *_open(now))  # type: ignore[arg-type]
    return list(session.scalars(stmt.order_by(LiveGrantRow.issued_at)).all())


def grants_of_ended_sessions(
    session: Session, *, now: datetime, limit: int = 500
) -> list[tuple[LiveGrantRow, str]]:
    """Open grants whose session is over, each with why: ``expired``, ``revoked``,
    ``account disabled`` or ``no session`` (a grant opened before sessions were recorded)."""
    stmt = (
        select(LiveGrantRow, AuthTokenRow.expires_at, AuthTokenRow.revoked_at, UserRow.disabled)
        .outerjoin(AuthTokenRow, AuthTokenRow.jti == LiveGrantRow.session_jti)
        .outerjoin(UserRow, UserRow.username == AuthTokenRow.username)
        .where(
            *_open(now),  # type: ignore[arg-type]
            or_(
                AuthTokenRow.jti.is_(None),
                AuthTokenRow.revoked_at.is_not(None),
                AuthTokenRow.expires_at <= now,
                UserRow.disabled.is_(True),
            ),
        )
        .order_by(LiveGrantRow.issued_at)
        .limit(limit)
    )
    found: list[tuple[LiveGrantRow, str]] = []
    for grant, expires_at, revoked_at, disabled in session.execute(stmt).all():
        if expires_at is None:
            why = "no session"
        elif revoked_at is not None:
            why = "revoked"
        elif disabled:
            why = "account disabled"
        else:
            why = "expired"
        found.append((grant, why))
    return found


def session_problem(session: Session, *, jti: str | None, now: datetime) -> str | None:
    """Why the session ``jti`` can no longer back a live view, or None when it is open."""
    if not jti:
        return "the grant is not tied to a session"
    row = session.execute(
        select(AuthTokenRow.expires_at, AuthTokenRow.revoked_at, UserRow.disabled)
        .join(UserRow, UserRow.username == AuthTokenRow.username)
        .where(AuthTokenRow.jti == jti)
    ).first()
    if row is None:
        return "the session that opened the grant is gone"
    if row.revoked_at is not None:
        return "the session that opened the grant has ended"
    if row.expires_at <= now:
        return "the session that opened the grant has expired"
    if row.disabled:
        return "the account holding the grant is disabled"
    return None


def rebind_grants(session: Session, *, old_jti: str, new_jti: str, now: datetime) -> int:
    """Move the open grants of one session to another of the same user (screen unlock)."""
    from sqlalchemy import update

    result = session.execute(
        update(LiveGrantRow)
        .where(
            LiveGrantRow.session_jti == old_jti,
            LiveGrantRow.ended_at.is_(None),
            LiveGrantRow.expires_at > now,
        )
        .values(session_jti=new_jti)
    )
    return int(getattr(result, "rowcount", 0) or 0)
