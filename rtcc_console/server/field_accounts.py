"""An officer signs in to the field page with their own account (issue 16).

The other way in is the single-use link of one share (``server.field_shares``). Signed in,
the officer sees every open share made for them and opens any of them on this device.

Rules, the same as staff sign-in (the shared steps live in ``server.sign_in``):

* Only accounts with the ``officer`` role sign in here. Another role's right password is
  refused with a clear word ("use the console"), audited; it does not count as a failure.
* ``lockout_threshold`` failures in a row lock the account for ``lockout_s``; codes count
  too. Too many failures from one address (any accounts): throttled (the staff throttle).
* No account enumeration: an unknown user, a wrong password, a disabled or a locked account
  all get the same answer, and an unknown user costs one argon2 verification as well.
* Second factor when the account has one, or when ``mfa_required_roles`` names
  ``officer``: the password step opens a single-use challenge (``store.mfa``); an officer
  who has not enrolled yet enrols on the page (secret, ``otpauth:`` link, QR code).
* The session is a staff session token (``auth_tokens``, expiring after ``token_ttl_s``,
  revoked at sign-out or when an admin disables the account or changes its role). Every
  ``/api/v1`` route refuses officer tokens (``deps``); the field routes accept it as the
  ``rtcc_field_officer`` cookie for the shares of that officer only.
* Audited: ``field.sign_in`` (ok / failed / locked / denied / mfa_required),
  ``field.sign_out``, ``field.open`` (a share opened from the list, or refused).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from rtcc_console.core.models import Role, utcnow
from rtcc_console.server import field_shares as shares
from rtcc_console.server import mfa, sign_in, web_forms
from rtcc_console.server.audit import Actor, append_audit
from rtcc_console.server.security import (
    get_user,
    normalize_username,
    resolve_token,
)
from rtcc_console.server.sessions import end_session
from rtcc_console.server.state import AppState
from rtcc_console.store import field_officer_shares as store
from rtcc_console.store import field_shares as store_shares
from rtcc_console.store import mfa as store_mfa

OFFICER_COOKIE = shares.OFFICER_COOKIE
PRE_COOKIE = "rtcc_field_pre"  # the CSRF basis before sign-in
SIGN_IN = "field.sign_in"

Outcome = Literal["ok", "refused", "throttled", "not_officer", "code_due", "gone", "locked"]


@dataclass(frozen=True, slots=True)
class Enrolment:
    """A new second factor to put into an authenticator app (shown once, then confirmed)."""

    secret: str
    otpauth_uri: str
    qr_svg: str


@dataclass(frozen=True, slots=True)
class SignIn:
    """What one sign-in step came to; the page picks the words."""

    outcome: Outcome
    username: str = ""
    token: str | None = None  # ok: the session token (the cookie's value)
    expires_at: datetime | None = None
    mfa_token: str | None = None  # code_due: the challenge for the code form
    enrolment: Enrolment | None = None  # code_due for an officer who must enrol first
    retry_after_s: int | None = None
    locked_until: datetime | None = None
    detail: str = ""
    recovery_codes: tuple[str, ...] = ()  # ok after an enrolment: shown once


@dataclass(frozen=True, slots=True)
class ShareItem:
    """One line of the signed-in officer's list."""

    id: str
    call_type: str
    priority: int
    address: str | None
    reported_at: datetime
    created_at: datetime
    created_by: str
    expires_at: datetime
    cameras: int
    emergency: bool = False  # an emergency's share (call_type: its site and kind)


CSRF_PURPOSE = "field-csrf"


def csrf_for(state: AppState, basis: str) -> str:
    return web_forms.csrf_for(state, CSRF_PURPOSE, basis)


FIELD = sign_in.Wording(
    action=SIGN_IN,
    code_action=SIGN_IN,
    code_reason_prefix="second factor: ",
    locks_audited_as="locked",
    locked_reason_with_time=True,
    enrolled_where="enrolled on the field page; ",
)


def _audit(
    state: AppState, actor: Actor, outcome: str, reason: str | None, action: str = SIGN_IN
) -> None:
    with state.db.write() as session:
        append_audit(session, actor=actor, action=action, outcome=outcome, reason=reason)


def password_step(state: AppState, *, username: str, password: str, addr: str | None) -> SignIn:
    """Check the password: a session (``ok``), a code to ask (``code_due``), or a refusal."""
    name = normalize_username(username)[:64]
    check = sign_in.check_password(
        state, username=name, password=password, addr=addr, wording=FIELD
    )
    if check.outcome == "throttled":
        return SignIn("throttled", name, retry_after_s=check.retry_after_s)
    if check.outcome != "ok":
        return SignIn("refused", name)
    actor, role = check.actor, check.role
    if role != Role.OFFICER.value:
        _audit(state, actor, "denied", f"not an officer account (role {role})")
        return SignIn("not_officer", name, detail=role)
    if sign_in.mfa_due(state, check):
        return _open_challenge(state, check)
    new_hash = sign_in.rehashed(state, check, password)
    with state.db.write() as session:
        token, expires = sign_in.start_session(
            session, state, username=name, now=check.now, new_hash=new_hash
        )
        append_audit(session, actor=actor, action=SIGN_IN, outcome="ok", reason="password")
    return SignIn("ok", name, token=token, expires_at=expires)


def _open_challenge(state: AppState, check: sign_in.PasswordCheck) -> SignIn:
    settings = state.settings
    name = check.username
    enrolment = None
    with state.db.write() as session:
        if not check.enrolled:
            secret = mfa.new_secret()
            store_mfa.set_pending_secret(
                session,
                username=name,
                secret_enc=mfa.encrypt_secret(settings.secret_key.get_secret_value(), secret),
            )
            uri = mfa.provisioning_uri(secret, username=name, issuer=settings.mfa_issuer)
            enrolment = Enrolment(secret=secret, otpauth_uri=uri, qr_svg=mfa.qr_svg(uri, scale=4))
        challenge, _expires = sign_in.open_code_challenge(session, state, check, wording=FIELD)
    return SignIn("code_due", name, mfa_token=challenge, enrolment=enrolment)


def code_step(state: AppState, *, mfa_token: str, code: str, addr: str | None) -> SignIn:
    """Finish sign-in with a TOTP code (or a recovery code); finishing an enrolment turns
    the second factor on. Failures count toward the lockout, as for staff."""
    wait_s = sign_in.throttle_wait(state, addr)
    if wait_s is not None:
        return SignIn("throttled", retry_after_s=wait_s)
    now = utcnow()
    token_id = mfa.token_hash(mfa_token)
    with state.db.read() as session:
        challenge = (
            store_mfa.open_challenge(session, id_hash=token_id, now=now)
            if 0 < len(mfa_token) <= 200
            else None
        )
        user = get_user(session, username=challenge.username) if challenge else None
        purpose = challenge.purpose if challenge else ""
        if user is not None:
            session.expunge(user)
    if challenge is None or user is None or user.disabled or user.role != Role.OFFICER.value:
        return SignIn("gone")
    actor = Actor(user.username, user.role, addr)
    if user.locked_until is not None and user.locked_until > now:
        return SignIn("locked", user.username, locked_until=user.locked_until)
    enrolling = purpose == "enrol"
    if (enrolling and user.mfa_enabled_at is not None) or (
        not enrolling and user.mfa_enabled_at is None
    ):
        return SignIn("gone")
    if not user.mfa_secret:
        return SignIn("gone")
    try:
        secret = mfa.decrypt_secret(state.settings.secret_key.get_secret_value(), user.mfa_secret)
    except mfa.MfaSecretError:
        _audit(state, actor, "failed", "stored second-factor secret unreadable")
        return SignIn("gone")
    with state.db.write() as session:
        check = sign_in.check_code(
            session,
            state,
            actor=actor,
            username=user.username,
            secret=secret,
            code=code,
            enrolling=enrolling,
            challenge_hash=token_id,
            now=now,
            wording=FIELD,
        )
        if check.failure is None:
            how = "totp (enrolled)" if enrolling else "recovery code" if check.recovery else "totp"
            token, expires = sign_in.start_session(session, state, username=user.username, now=now)
            append_audit(
                session, actor=actor, action=SIGN_IN, outcome="ok", reason=f"second factor: {how}"
            )
    if check.failure is not None:
        sign_in.throttle_failed(state, addr)
        if check.locked_until is not None:
            return SignIn("locked", user.username, locked_until=check.locked_until)
        return SignIn("refused", user.username, mfa_token=mfa_token, detail=check.failure)
    return SignIn(
        "ok", user.username, token=token, expires_at=expires, recovery_codes=check.recovery_codes
    )


def officer_of(state: AppState, token: str | None) -> str | None:
    """The officer a field sign-in cookie stands for now, or None."""
    if not token or len(token) > 200:
        return None
    with state.db.read() as session:
        principal = resolve_token(session, token=token)
    if principal is None or principal.role is not Role.OFFICER:
        return None
    return principal.username


def sign_out(state: AppState, *, token: str, addr: str | None, reason: str = "signed out") -> bool:
    """Revoke the officer's field session (audited); False when it was not one."""
    from rtcc_console.server.security import token_digest

    with state.db.write() as session:
        principal = resolve_token(session, token=token) if len(token) <= 200 else None
        if principal is None or principal.role is not Role.OFFICER:
            return False
        actor = Actor(principal.username, principal.role.value, addr)
        end_session(session, jti=principal.jti, actor=actor, reason=reason)
        append_audit(session, actor=actor, action="field.sign_out", reason=reason)
    if state.token_cache is not None:
        state.token_cache.invalidate(token_digest(token))
    return True


def open_shares(state: AppState, *, officer: str) -> list[ShareItem]:
    """The officer's open shares, newest first, calls' and emergencies' (those whose call
    closed or whose emergency ended end here, audited)."""
    now = utcnow()
    items = []
    with state.db.write() as session:
        for share, call, emergency in store.open_shares_with_calls(
            session, officer=officer, now=now
        ):
            if shares.share_problem(session, share=share, now=now) is not None:
                continue
            if call is None:
                if emergency is None:
                    continue
                panic = emergency.panic if isinstance(emergency.panic, dict) else {}
                site = str(panic.get("site_name") or "")
                kind = str(panic.get("site_kind") or "")
                level = panic.get("alarm_level")
                items.append(
                    ShareItem(
                        id=share.id,
                        call_type=" · ".join(
                            p
                            for p in (
                                f"Emergency: {site}" if site else "Emergency",
                                kind,
                                f"level {level}" if isinstance(level, int) else "",
                            )
                            if p
                        ),
                        priority=1,
                        address=str(panic.get("location") or "") or emergency.reason or None,
                        reported_at=emergency.started_at,
                        created_at=share.created_at,
                        created_by=share.created_by,
                        expires_at=share.expires_at,
                        cameras=len(share.camera_ids),
                        emergency=True,
                    )
                )
                continue
            items.append(
                ShareItem(
                    id=share.id,
                    call_type=call.type_text or call.type_code,
                    priority=call.priority,
                    address=call.address,
                    reported_at=call.reported_at,
                    created_at=share.created_at,
                    created_by=share.created_by,
                    expires_at=share.expires_at,
                    cameras=len(share.camera_ids),
                )
            )
    return items


def open_share(state: AppState, *, officer: str, share_id: str, addr: str | None) -> None:
    """The officer opens one of their shares from the list (audited ``field.open``).

    Raises ``ShareError``: 404 unknown or another officer's share, 410 over (audited)."""
    now = utcnow()
    actor = Actor(officer, Role.OFFICER.value, addr)
    error: shares.ShareError | None = None
    with state.db.write() as session:
        share = store_shares.get_share(session, share_id=share_id) if len(share_id) < 64 else None
        targets = {"share": share_id[:64]}
        if share is None or share.officer != officer:
            reason = "unknown share" if share is None else "another officer's share"
            append_audit(
                session,
                actor=actor,
                action="field.open",
                outcome="denied",
                targets=targets,
                reason=reason,
            )
            error = shares.ShareError(404, "no such share among yours")
        else:
            targets = shares.subject_targets(share)
            problem = shares.share_problem(session, share=share, now=now)
            append_audit(
                session,
                actor=actor,
                action="field.open",
                outcome="ok" if problem is None else "denied",
                targets=targets,
                reason="signed in with the officer's account" if problem is None else problem,
            )
            if problem is not None:
                error = shares.ShareError(410, f"share ended: {problem}")
    if error is not None:
        raise error
