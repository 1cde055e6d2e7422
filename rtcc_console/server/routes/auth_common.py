"""Answer shapes and refusals shared by sign-in (``auth``) and its second step (``auth_mfa``)."""

from __future__ import annotations

from datetime import datetime

from fastapi import HTTPException, Request, status
from pydantic import BaseModel, Field

from rtcc_console.core.models import utcnow
from rtcc_console.server.state import AppState


class UserBrief(BaseModel):
    username: str
    role: str


class LoginPublic(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    user: UserBrief
    recovery_codes: list[str] | None = Field(
        default=None,
        description="Only when this sign-in completed MFA enrolment: one-time recovery codes, shown once",
    )


class MfaRequired(BaseModel):
    """401 answer of ``POST /auth/login`` when the password was right and a code is due."""

    detail: str
    mfa_required: bool = True
    mfa_enrol: bool = Field(
        description="True: the user has no second factor yet and must enrol first"
    )
    mfa_token: str = Field(
        description="Single-use challenge for POST /auth/mfa (and /auth/mfa/enrol)"
    )
    mfa_expires_at: datetime


def locked(until: datetime) -> HTTPException:
    seconds = max(1, int((until - utcnow()).total_seconds()))
    return HTTPException(
        status.HTTP_423_LOCKED,
        f"account locked until {until.isoformat(timespec='seconds')} after repeated failed sign-ins; "
        "an administrator can unlock it",
        headers={"Retry-After": str(seconds)},
    )


def prior_session(request: Request, state: AppState, username: str) -> str | None:
    """The jti of a still-valid bearer token of ``username`` sent along with a sign-in (the
    console's screen unlock): that session is continued by the new one. A token of
    anyone else, or an invalid one, is ignored (never revoked)."""
    from rtcc_console.server.deps import bearer_token
    from rtcc_console.server.security import resolve_token

    token = bearer_token(request)
    if not token:
        return None
    with state.db.engine.connect() as conn:
        principal = resolve_token(conn, token=token)
    return principal.jti if principal is not None and principal.username == username else None


def finish_continuation(state: AppState, old_jti: str | None) -> None:
    if old_jti is not None and state.token_cache is not None:
        state.token_cache.invalidate(old_jti)
