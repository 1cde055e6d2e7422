"""Staff accounts and bearer-token sessions: the rows behind sign-in, lockout and revocation.

``server.security`` owns the rules (token format and hashing, lockout policy, caches);
this module stores. Only the SHA-256 of a token is ever stored (its ``jti``).
Revocations are announced on :data:`SESSIONS_CHANNEL` (PostgreSQL NOTIFY, delivered at
commit), so other server processes drop their cached tokens.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, select, text, update
from sqlalchemy.orm import Session

from rtcc_console.core.models import Role, utcnow
from rtcc_console.store.schema import AuthTokenRow, UserRow

#: PostgreSQL NOTIFY channel: a revoked token's jti, or "*" for "drop every cached token".
SESSIONS_CHANNEL = "rtcc_sessions"

_TOKENS = cast(Table, AuthTokenRow.__table__)
_USERS = cast(Table, UserRow.__table__)


def get_user(session: Session, *, username: str) -> UserRow | None:
    return session.get(UserRow, username)


def list_users(session: Session) -> list[UserRow]:
    return list(session.scalars(select(UserRow).order_by(UserRow.username)).all())


def create_user(session: Session, *, username: str, role: Role, password_hash: str) -> UserRow:
    row = UserRow(username=username, role=role.value, password_hash=password_hash, failed_logins=0)
    session.add(row)
    session.flush()
    return row


def insert_token(
    session: Session, *, jti: str, username: str, issued_at: datetime, expires_at: datetime
) -> None:
    session.add(
        AuthTokenRow(jti=jti, username=username, issued_at=issued_at, expires_at=expires_at)
    )
    session.flush()


def token_with_user(conn: Session | Connection, *, jti: str) -> Any:
    """(jti, expires_at, revoked_at, username, role, disabled) of a token, or None.

    Runs on every authenticated request: one Core query on the token's primary key."""
    return conn.execute(
        select(
            _TOKENS.c.jti,
            _TOKENS.c.expires_at,
            _TOKENS.c.revoked_at,
            _USERS.c.username,
            _USERS.c.role,
            _USERS.c.disabled,
        )
        .join(_USERS, _USERS.c.username == _TOKENS.c.username)
        .where(_TOKENS.c.jti == jti)
    ).first()


def announce(session: Session, payload: str) -> None:
    """Tell the other server processes (PostgreSQL, delivered at commit) to drop cached tokens."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:ch, :p)"), {"ch": SESSIONS_CHANNEL, "p": payload})


def revoke_token(session: Session, *, jti: str, now: datetime | None = None) -> None:
    session.execute(
        update(AuthTokenRow)
        .where(AuthTokenRow.jti == jti, AuthTokenRow.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )
    announce(session, jti)


def revoke_all_tokens(session: Session, *, username: str, now: datetime | None = None) -> int:
    """Revoke every open session of a user (disable, role change, password reset)."""
    result = session.execute(
        update(AuthTokenRow)
        .where(AuthTokenRow.username == username, AuthTokenRow.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )
    announce(session, "*")
    return int(getattr(result, "rowcount", 0) or 0)


def record_failure(
    session: Session, *, username: str, threshold: int, lockout_s: int, now: datetime
) -> datetime | None:
    """Count a failed login; returns the lock expiry when this failure locks the account."""
    session.execute(
        update(UserRow)
        .where(UserRow.username == username)
        .values(failed_logins=UserRow.failed_logins + 1)
    )
    user = session.get(UserRow, username, populate_existing=True)
    if user is not None and user.failed_logins >= threshold:
        user.locked_until = now + timedelta(seconds=lockout_s)
        user.failed_logins = 0
        return user.locked_until
    return None


def record_success(
    session: Session, *, username: str, now: datetime, new_hash: str | None = None
) -> None:
    values: dict[str, object] = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
    if new_hash:
        values["password_hash"] = new_hash
    session.execute(update(UserRow).where(UserRow.username == username).values(**values))


def unlock_user(session: Session, *, username: str) -> bool:
    result = session.execute(
        update(UserRow)
        .where(UserRow.username == username)
        .values(failed_logins=0, locked_until=None)
    )
    return bool(getattr(result, "rowcount", 0))
