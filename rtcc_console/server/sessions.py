"""Ending sessions: the token is revoked and every live grant it opened ends with it.

No live view outlives the session that opened it. Each way a session ends goes through
here: sign-out (:func:`end_session`), an admin change to the account (disable, role,
password, second-factor reset: :func:`end_user_sessions`) and expiry or a revocation made
outside the API (:func:`end_grants_of_ended_sessions`, run by the housekeeping sweep).
Every ended grant is audited (``live.end``) and published as ``grant.revoked``; the media
hook independently refuses a grant whose session is over (``grants.check_grant_secret``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from rtcc_console.core.models import utcnow
from rtcc_console.server.audit import Actor
from rtcc_console.server.grants import end_grant
from rtcc_console.server.security import revoke_all_tokens, revoke_token
from rtcc_console.store.auth_sessions import (
    grants_of_ended_sessions,
    open_grants_of_session,
    open_grants_of_user,
    rebind_grants,
)

SYSTEM = Actor(username="system", role=None, client_addr=None)


def end_session(
    session: Session,
    *,
    jti: str,
    actor: Actor,
    reason: str = "signed out",
    now: datetime | None = None,
) -> int:
    """End the live grants of one session, then revoke its token; returns the grants ended."""
    now = now or utcnow()
    grants = open_grants_of_session(session, jti=jti, now=now)
    for grant in grants:
        end_grant(
            session,
            grant=grant,
            actor=actor,
            reason=f"session ended: {reason}",
            publish=True,
            now=now,
        )
    revoke_token(session, jti=jti, now=now)
    return len(grants)


def end_user_sessions(
    session: Session, *, username: str, actor: Actor, reason: str, now: datetime | None = None
) -> tuple[int, int]:
    """End every session of a user and every grant they hold; returns (sessions, grants)."""
    now = now or utcnow()
    grants = open_grants_of_user(session, username=username, now=now)
    for grant in grants:
        end_grant(
            session,
            grant=grant,
            actor=actor,
            reason=f"session ended: {reason}",
            publish=True,
            now=now,
        )
    revoked = revoke_all_tokens(session, username=username, now=now)
    from rtcc_console.server.field_shares import end_officer_shares  # issue 16

    end_officer_shares(
        session, username=username, actor=actor, reason=f"access revoked: {reason}", now=now
    )
    return revoked, len(grants)


def end_grants_of_ended_sessions(session: Session, *, now: datetime | None = None) -> int:
    """End open grants whose session expired or was revoked behind the API's back."""
    now = now or utcnow()
    found = grants_of_ended_sessions(session, now=now)
    for grant, why in found:
        end_grant(
            session,
            grant=grant,
            actor=SYSTEM,
            reason=f"session ended: {why}",
            publish=True,
            now=now,
        )
    return len(found)


def continue_session(
    session: Session, *, old_jti: str, new_jti: str, now: datetime | None = None
) -> int:
    """A signed-in user proved who they are again (unlock): the new session takes over the
    old one's live views and the old token is revoked, so no token is left dangling and no
    open view ends because the token it started under was replaced."""
    now = now or utcnow()
    moved = rebind_grants(session, old_jti=old_jti, new_jti=new_jti, now=now)
    revoke_token(session, jti=old_jti, now=now)
    return moved
