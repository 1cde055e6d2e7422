"""Sign-in, sign-out and "who am I" for staff.

Every attempt is audited (success or failure, with the client address). Five failures in
a row (``lockout_threshold``) lock the account for ``lockout_s`` seconds: 423 with the
unlock time. Unknown usernames cost the same argon2 verification as known ones. Too many
failures from one address across any accounts (password spraying) answer 429.

When the user needs a second factor (``mfa_required_roles``, or enrolled anyway), a right
password answers 401 with ``"mfa_required": true`` and a single-use ``mfa_token``; the
code goes to ``POST /auth/mfa`` (``auth_mfa``). Failed codes count toward the lockout.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from rtcc_console.server import sign_in
from rtcc_console.server.audit import append_audit
from rtcc_console.server.deps import CurrentUser, StateDep, actor_of, client_addr
from rtcc_console.server.routes import auth_mfa
from rtcc_console.server.routes.auth_common import (
    LoginPublic,
    MfaRequired,
    UserBrief,
    finish_continuation,
    locked,
    prior_session,
)
from rtcc_console.server.security import normalize_username, token_digest
from rtcc_console.server.sessions import continue_session, end_session

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)


class MePublic(BaseModel):
    username: str
    role: str
    expires_at: datetime


_locked = locked


@router.post(
    "/login",
    response_model=LoginPublic,
    responses={
        401: {
            "model": MfaRequired,
            "description": "bad credentials, or (with mfa_required) a code is due",
        }
    },
)
def login(body: LoginRequest, request: Request, state: StateDep) -> Any:
    """Exchange username + password for a bearer token (expires after ``token_ttl_s``),
    or for a second-factor challenge when the user needs one."""
    db = state.db
    addr = client_addr(request)
    check = sign_in.check_password(
        state,
        username=normalize_username(body.username),
        password=body.password,
        addr=addr,
        wording=sign_in.STAFF,
    )
    if check.outcome == "throttled":
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many failed sign-ins from this address; try again in {check.retry_after_s} s",
            headers={"Retry-After": str(check.retry_after_s)},
        )
    if check.locked_until is not None:
        raise _locked(check.locked_until)
    if check.outcome != "ok":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "invalid username or password",
            {"WWW-Authenticate": "Bearer"},
        )
    username, now, actor, enrolled = check.username, check.now, check.actor, check.enrolled
    new_hash = sign_in.rehashed(state, check, body.password)
    prior = prior_session(request, state, username)
    if sign_in.mfa_due(state, check):
        with db.write() as session:
            challenge, expires = sign_in.open_code_challenge(
                session, state, check, wording=sign_in.STAFF
            )
        answer = MfaRequired(
            detail="a second factor is required: "
            + (
                "enter the code from your authenticator app"
                if enrolled
                else "enrol an authenticator app first"
            ),
            mfa_enrol=not enrolled,
            mfa_token=challenge,
            mfa_expires_at=expires,
        )
        return JSONResponse(
            answer.model_dump(mode="json"), status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )
    with db.write() as session:
        token, expires = sign_in.start_session(
            session, state, username=username, now=now, new_hash=new_hash
        )
        moved = (
            continue_session(session, old_jti=prior, new_jti=token_digest(token), now=now)
            if prior
            else 0
        )
        append_audit(
            session,
            actor=actor,
            action="auth.login",
            outcome="ok",
            reason=f"continues the previous session ({moved} live view(s) kept)" if prior else None,
        )
    finish_continuation(state, prior)
    return LoginPublic(
        access_token=token, expires_at=expires, user=UserBrief(username=username, role=check.role)
    )


@router.post("/logout", status_code=204)
def logout(user: CurrentUser, state: StateDep) -> Response:
    """Revoke the presented token at once; every live grant it opened ends with it."""
    with state.db.write() as session:
        ended = end_session(session, jti=user.jti, actor=actor_of(user), reason="signed out")
        append_audit(
            session,
            actor=actor_of(user),
            action="auth.logout",
            reason=f"{ended} live view(s) ended",
        )
    if state.token_cache is not None:
        state.token_cache.invalidate(user.jti)
    return Response(status_code=204)


@router.get("/me", response_model=MePublic)
def me(user: CurrentUser) -> MePublic:
    return MePublic(username=user.username, role=user.role.value, expires_at=user.expires_at)


router.include_router(auth_mfa.router)
