"""Staff accounts and token sessions as the server stores them, on both back ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from rtcc_console.core.models import Role
from rtcc_console.store import users

T0 = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)


def test_users_tokens_revocation(db_session: Session) -> None:
    users.create_user(db_session, username="ana", role=Role.ANALYST, password_hash="h1")
    users.create_user(db_session, username="adam", role=Role.ADMIN, password_hash="h2")
    for jti in ("t1", "t2"):
        users.insert_token(
            db_session, jti=jti, username="ana", issued_at=T0, expires_at=T0 + timedelta(hours=8)
        )
    db_session.commit()
    assert [u.username for u in users.list_users(db_session)] == ["adam", "ana"]
    row = users.token_with_user(db_session, jti="t1")
    assert row is not None and (row.username, row.role, row.revoked_at, bool(row.disabled)) == (
        "ana",
        "analyst",
        None,
        False,
    )
    assert row.expires_at == T0 + timedelta(hours=8)
    assert users.token_with_user(db_session, jti="nope") is None
    users.revoke_token(db_session, jti="t1", now=T0 + timedelta(minutes=1))
    db_session.commit()
    assert users.token_with_user(db_session, jti="t1").revoked_at == T0 + timedelta(minutes=1)
    assert (
        users.revoke_all_tokens(db_session, username="ana", now=T0 + timedelta(minutes=2)) == 1
    )  # t2 only
    db_session.commit()
    assert users.token_with_user(db_session, jti="t2").revoked_at == T0 + timedelta(minutes=2)


def test_failed_logins_lock_then_success_and_unlock(db_session: Session) -> None:
    users.create_user(db_session, username="ana", role=Role.ANALYST, password_hash="h1")
    db_session.commit()
    assert (
        users.record_failure(db_session, username="ana", threshold=2, lockout_s=60, now=T0) is None
    )
    locked = users.record_failure(db_session, username="ana", threshold=2, lockout_s=60, now=T0)
    db_session.commit()
    assert locked == T0 + timedelta(seconds=60)
    user = users.get_user(db_session, username="ana")
    assert user is not None and user.locked_until == locked and user.failed_logins == 0
    assert users.unlock_user(db_session, username="ana") and not users.unlock_user(
        db_session, username="nobody"
    )
    users.record_success(db_session, username="ana", now=T0 + timedelta(minutes=5), new_hash="h1b")
    db_session.commit()
    db_session.expire_all()
    user = users.get_user(db_session, username="ana")
    assert user is not None and user.locked_until is None and user.password_hash == "h1b"
    assert user.last_login_at == T0 + timedelta(minutes=5)
