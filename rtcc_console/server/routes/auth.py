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

from rtcc_console.core.models import utcnow
from rtcc_console.server.audit import Actor, append_audit
from rtcc_console.server.deps import CurrentUser, StateDep, actor_of, client_addr
from rtcc_console.server.mfa import new_challenge_token, required_for, token_hash
from rtcc_console.server.routes import auth_mfa
from rtcc_console.server.routes.auth_common import (
    LoginPublic,
    MfaRequired,
    UserBrief,
    finish_continuation,
    locked,
    prior_session,
)
from rtcc_console.server.security import (
    get_user,
    issue_token,
    normalize_username,
    record_failure,
    record_success,
    token_digest,
)
from rtcc_console.server.sessions import continue_session, end_session
from rtcc_console.store.mfa import create_challenge

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
    settings, db = state.settings, state.db
    username = normalize_username(body.username)
    addr = client_addr(request)
    throttle = state.login_throttle
    wait_s = throttle.retry_after(addr) if throttle is not None else None
    if wait_s is not None:
        with db.write() as session:
            append_audit(
                session,
                actor=Actor(username=username[:64], role=None, client_addr=addr),
                action="auth.login",
                outcome="denied",
                reason="too many failed sign-ins from this address",
            )
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many failed sign-ins from this address; try again in {wait_s} s",
            headers={"Retry-After": str(wait_s)},
        )
    with db.read() as session:
        user = get_user(session, username=username)
        stored = (
            (user.password_hash, user.locked_until, user.role, bool(user.disabled))
            if user
            else None
        )
        enrolled = bool(user and user.mfa_enabled_at is not None)
    now = utcnow()
    actor = Actor(username=username[:64], role=stored[2] if stored else None, client_addr=addr)
    if stored and stored[1] is not None and stored[1] > now:
        state.passwords.verify(None, body.password)  # same cost as a real attempt
        with db.write() as session:
            append_audit(
                session, actor=actor, action="auth.login", outcome="denied", reason="account locked"
            )
        raise _locked(stored[1])
    ok = state.passwords.verify(stored[0] if stored else None, body.password)
    if not ok or stored is None or stored[3]:
        lock_until = None
        with db.write() as session:
            why = (
                "unknown user"
                if stored is None
                else ("account disabled" if stored[3] else "bad password")
            )
            if stored is not None:
                lock_until = record_failure(
                    session,
                    username=username,
                    threshold=settings.lockout_threshold,
                    lockout_s=settings.lockout_s,
                    now=now,
                )
                if lock_until:
                    why += f"; account locked until {lock_until.isoformat(timespec='seconds')}"
            append_audit(session, actor=actor, action="auth.login", outcome="failed", reason=why)
        if throttle is not None:
            throttle.failed(addr)
        if lock_until:
            raise _locked(lock_until)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "invalid username or password",
            {"WWW-Authenticate": "Bearer"},
        )
    new_hash = (
        state.passwords.hash(body.password) if state.passwords.needs_rehash(stored[0]) else None
    )
    prior = prior_session(request, state, username)
    if enrolled or required_for(stored[2], list(settings.mfa_required_roles)):
        # The password step does not reset the failure count: only a full sign-in does.
        challenge = new_challenge_token()
        with db.write() as session:
            expires = create_challenge(
                session,
                id_hash=token_hash(challenge),
                username=username,
                purpose="login" if enrolled else "enrol",
                now=now,
                ttl_s=settings.mfa_challenge_s,
            )
            append_audit(
                session,
                actor=actor,
                action="auth.login",
                outcome="mfa_required",
                reason="password accepted; second factor due"
                + ("" if enrolled else " (enrolment)"),
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
        record_success(session, username=username, now=now, new_hash=new_hash)
        token, expires = issue_token(
            session, username=username, ttl_s=settings.token_ttl_s, now=now
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
        access_token=token, expires_at=expires, user=UserBrief(username=username, role=stored[2])
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
