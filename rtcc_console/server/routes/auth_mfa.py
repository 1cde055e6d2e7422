"""The second step of sign-in: TOTP codes, recovery codes, enrolment by QR code.

Mounted under ``/auth`` (``POST /auth/mfa``, ``/auth/mfa/enrol``...). The only credential
these routes accept is the single-use ``mfa_token`` that ``POST /auth/login`` hands out
after a right password; see ``server.mfa`` for the rules and docs/api/security.md for the
contract.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from rtcc_console.core.models import utcnow
from rtcc_console.server import sign_in
from rtcc_console.server.audit import Actor, append_audit
from rtcc_console.server.deps import StateDep, client_addr
from rtcc_console.server.mfa import (
    DIGITS,
    PERIOD_S,
    MfaSecretError,
    decrypt_secret,
    encrypt_secret,
    new_secret,
    provisioning_uri,
    qr_png,
    qr_svg,
    token_hash,
)
from rtcc_console.server.routes.auth_common import (
    LoginPublic,
    UserBrief,
    finish_continuation,
    locked,
    prior_session,
)
from rtcc_console.server.security import (
    get_user,
    token_digest,
)
from rtcc_console.server.sessions import continue_session
from rtcc_console.server.state import AppState
from rtcc_console.store.mfa import (
    open_challenge,
    recovery_codes_left,
    set_pending_secret,
)
from rtcc_console.store.schema import MfaChallengeRow, UserRow

router = APIRouter(prefix="/mfa", tags=["auth"])
_GONE = "this sign-in step expired, was used, or is unknown: sign in again with your password"


class ChallengeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mfa_token: str = Field(min_length=1, max_length=200)


class CodeBody(ChallengeBody):
    code: str = Field(
        min_length=1,
        max_length=64,
        description="6-digit TOTP code, or a recovery code (xxxxx-xxxxx)",
    )


class Enrolment(BaseModel):
    secret: str = Field(
        description="Base32 shared secret (for typing into an app that cannot scan)"
    )
    otpauth_uri: str
    issuer: str
    account: str
    digits: int = DIGITS
    period_s: int = PERIOD_S
    qr_svg: str = Field(description="The otpauth URI as an SVG QR code")


def _challenge(state: AppState, token: str, *, purpose: str) -> tuple[MfaChallengeRow, UserRow]:
    now = utcnow()
    with state.db.read() as session:
        challenge = open_challenge(session, id_hash=token_hash(token), now=now)
        user = get_user(session, username=challenge.username) if challenge is not None else None
        if challenge is None or user is None or challenge.purpose != purpose:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, _GONE, {"WWW-Authenticate": "Bearer"})
        session.expunge_all()
    if user.disabled:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "invalid username or password",
            {"WWW-Authenticate": "Bearer"},
        )
    if user.locked_until is not None and user.locked_until > now:
        raise locked(user.locked_until)
    return challenge, user


def _secret(state: AppState, user: UserRow) -> str | None:
    if not user.mfa_secret:
        return None
    try:
        return decrypt_secret(state.settings.secret_key.get_secret_value(), user.mfa_secret)
    except MfaSecretError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None


@router.post("/enrol", response_model=Enrolment)
def start_enrolment(body: ChallengeBody, request: Request, state: StateDep) -> Enrolment:
    """Create a new shared secret for a user who must enrol (replaces an unfinished one)."""
    _challenge_row, user = _challenge(state, body.mfa_token, purpose="enrol")
    secret = new_secret()
    issuer = state.settings.mfa_issuer
    with state.db.write() as session:
        set_pending_secret(
            session,
            username=user.username,
            secret_enc=encrypt_secret(state.settings.secret_key.get_secret_value(), secret),
        )
        append_audit(
            session,
            actor=Actor(user.username, user.role, client_addr(request)),
            action="auth.mfa_enrol",
            outcome="started",
        )
    uri = provisioning_uri(secret, username=user.username, issuer=issuer)
    return Enrolment(
        secret=secret, otpauth_uri=uri, issuer=issuer, account=user.username, qr_svg=qr_svg(uri)
    )


def _pending_uri(state: AppState, token: str) -> str:
    _challenge_row, user = _challenge(state, token, purpose="enrol")
    secret = _secret(state, user)
    if secret is None or user.mfa_enabled_at is not None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "no enrolment in progress: POST /auth/mfa/enrol first"
        )
    return provisioning_uri(secret, username=user.username, issuer=state.settings.mfa_issuer)


@router.post(
    "/enrol/qr.png", response_class=Response, responses={200: {"content": {"image/png": {}}}}
)
def enrolment_png(body: ChallengeBody, state: StateDep) -> Response:
    """The pending enrolment's QR code as a PNG."""
    return Response(
        qr_png(_pending_uri(state, body.mfa_token)),
        media_type="image/png",
        headers={"Cache-Control": "no-store"},
    )


@router.post(
    "/enrol/qr.svg", response_class=Response, responses={200: {"content": {"image/svg+xml": {}}}}
)
def enrolment_svg(body: ChallengeBody, state: StateDep) -> Response:
    """The pending enrolment's QR code as SVG."""
    return Response(
        qr_svg(_pending_uri(state, body.mfa_token)),
        media_type="image/svg+xml",
        headers={"Cache-Control": "no-store"},
    )


@router.post("", response_model=LoginPublic)
def second_factor(body: CodeBody, request: Request, state: StateDep) -> Any:
    """Finish sign-in with a TOTP code (or a recovery code); finishing enrolment also
    answers the recovery codes, once."""
    db = state.db
    addr = client_addr(request)
    wait_s = sign_in.throttle_wait(state, addr)
    if wait_s is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many failed sign-ins from this address; try again in {wait_s} s",
            headers={"Retry-After": str(wait_s)},
        )
    token_id = token_hash(body.mfa_token)
    with db.read() as session:
        pending = open_challenge(session, id_hash=token_id, now=utcnow())
        purpose = pending.purpose if pending is not None else "login"
    challenge, user = _challenge(state, body.mfa_token, purpose=purpose)
    enrolling = challenge.purpose == "enrol"
    if enrolling and (user.mfa_secret is None or user.mfa_enabled_at is not None):
        raise HTTPException(
            status.HTTP_409_CONFLICT, "no enrolment in progress: POST /auth/mfa/enrol first"
        )
    if not enrolling and user.mfa_enabled_at is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, _GONE, {"WWW-Authenticate": "Bearer"})
    secret = _secret(state, user)
    assert secret is not None
    actor = Actor(user.username, user.role, addr)
    prior = prior_session(request, state, user.username)  # screen unlock: continue that session
    now = utcnow()
    with db.write() as session:
        check = sign_in.check_code(
            session,
            state,
            actor=actor,
            username=user.username,
            secret=secret,
            code=body.code,
            enrolling=enrolling,
            challenge_hash=token_id,
            now=now,
            wording=sign_in.STAFF,
        )
        if check.failure is None:
            how = "totp"
            if check.recovery:
                how = f"recovery code ({recovery_codes_left(session, username=user.username)} left)"
            token, expires = sign_in.start_session(session, state, username=user.username, now=now)
            if prior is not None:
                moved = continue_session(
                    session, old_jti=prior, new_jti=token_digest(token), now=now
                )
                how += f"; continues the previous session ({moved} live view(s) kept)"
            append_audit(
                session,
                actor=actor,
                action="auth.login",
                outcome="ok",
                reason=f"second factor: {how}",
            )
    if check.failure is not None:
        sign_in.throttle_failed(state, addr)
        if check.locked_until is not None:
            raise locked(check.locked_until)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            f"second factor refused: {check.failure}",
            {"WWW-Authenticate": "Bearer"},
        )
    finish_continuation(state, prior)
    return LoginPublic(
        access_token=token,
        expires_at=expires,
        user=UserBrief(username=user.username, role=user.role),
        recovery_codes=list(check.recovery_codes) if enrolling else None,
    )
