"""Second-factor repository: TOTP secrets, last accepted time-step, recovery codes, the
single-use challenge between password and code. Keyword-only functions; the server's
``mfa`` module holds the rules, this module only the SQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from rtcc_console.store.schema import MfaChallengeRow, MfaRecoveryCodeRow, UserRow


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def create_challenge(
    session: Session, *, id_hash: str, username: str, purpose: str, now: datetime, ttl_s: int
) -> datetime:
    """Store a challenge (its token's hash) and prune expired ones; returns its expiry."""
    session.execute(delete(MfaChallengeRow).where(MfaChallengeRow.expires_at <= now))
    expires = now + timedelta(seconds=ttl_s)
    session.add(
        MfaChallengeRow(
            id_hash=id_hash, username=username, purpose=purpose, created_at=now, expires_at=expires
        )
    )
    session.flush()
    return expires


def open_challenge(session: Session, *, id_hash: str, now: datetime) -> MfaChallengeRow | None:
    """The unused, unexpired challenge with this hash, or None."""
    row = session.get(MfaChallengeRow, id_hash)
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    return row


def use_challenge(session: Session, *, id_hash: str, now: datetime) -> bool:
    """Mark a challenge used; False when another request used it first."""
    result = session.execute(
        update(MfaChallengeRow)
        .where(MfaChallengeRow.id_hash == id_hash, MfaChallengeRow.used_at.is_(None))
        .values(used_at=now)
    )
    return _rowcount(result) == 1


def set_pending_secret(session: Session, *, username: str, secret_enc: str) -> None:
    """Start (or restart) enrolment: a secret that is not yet enabled."""
    session.execute(
        update(UserRow)
        .where(UserRow.username == username)
        .values(mfa_secret=secret_enc, mfa_enabled_at=None, mfa_last_step=None)
    )


def accept_step(session: Session, *, username: str, step: int) -> bool:
    """Record ``step`` as the last accepted time-step unless it (or a later one) already was.

    One conditional UPDATE, so two requests racing with the same code cannot both win.
    """
    result = session.execute(
        update(UserRow)
        .where(
            UserRow.username == username,
            or_(UserRow.mfa_last_step.is_(None), UserRow.mfa_last_step < step),
        )
        .values(mfa_last_step=step)
    )
    return _rowcount(result) == 1


def enable_mfa(session: Session, *, username: str, now: datetime) -> None:
    session.execute(update(UserRow).where(UserRow.username == username).values(mfa_enabled_at=now))


def replace_recovery_codes(
    session: Session, *, username: str, code_hashes: list[str], now: datetime
) -> None:
    session.execute(delete(MfaRecoveryCodeRow).where(MfaRecoveryCodeRow.username == username))
    session.add_all(
        MfaRecoveryCodeRow(username=username, code_hash=h, created_at=now) for h in code_hashes
    )
    session.flush()


def use_recovery_code(session: Session, *, username: str, code_hash: str, now: datetime) -> bool:
    """Spend one unused recovery code; False when it is unknown or already spent."""
    result = session.execute(
        update(MfaRecoveryCodeRow)
        .where(
            MfaRecoveryCodeRow.username == username,
            MfaRecoveryCodeRow.code_hash == code_hash,
            MfaRecoveryCodeRow.used_at.is_(None),
        )
        .values(used_at=now)
    )
    return _rowcount(result) >= 1


def recovery_codes_left(session: Session, *, username: str) -> int:
    stmt = (
        select(func.count())
        .select_from(MfaRecoveryCodeRow)
        .where(MfaRecoveryCodeRow.username == username, MfaRecoveryCodeRow.used_at.is_(None))
    )
    return int(session.scalar(stmt) or 0)


def reset_mfa(session: Session, *, username: str) -> bool:
    """Forget a user's second factor (secret, last step, recovery codes, open challenges)."""
    result = session.execute(
        update(UserRow)
        .where(UserRow.username == username)
        .values(mfa_secret=None, mfa_enabled_at=None, mfa_last_step=None)
    )
    session.execute(delete(MfaRecoveryCodeRow).where(MfaRecoveryCodeRow.username == username))
    session.execute(delete(MfaChallengeRow).where(MfaChallengeRow.username == username))
    return _rowcount(result) == 1
