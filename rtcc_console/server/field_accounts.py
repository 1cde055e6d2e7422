"""An officer signs in to the field page with their own account (issue 16).

The other way in is the single-use link of one share (``server.field_shares``). Signed in,
the officer sees every open share made for them and opens any of them on this device.

Rules, the same as staff sign-in (``routes/auth.py``, ``routes/auth_mfa.py``):

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

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from rtcc_console.core.models import Role, utcnow
from rtcc_console.server import field_shares as shares
from rtcc_console.server import mfa
from rtcc_console.server.audit import Actor, append_audit
from rtcc_console.server.security import (
    get_user,
    issue_token,
    normalize_username,
    record_failure,
    record_success,
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


def csrf_for(state: AppState, basis: str) -> str:
    key = hmac.new(
        state.settings.secret_key.get_secret_value().encode(), b"field-csrf", hashlib.sha256
    ).digest()
    return hmac.new(key, basis.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def csrf_ok(state: AppState, basis: str | None, sent: str | None) -> bool:
    if not basis or not sent or len(sent) > 200:
        return False
    return hmac.compare_digest(
        csrf_for(state, basis).encode(), sent.encode("utf-8", "surrogatepass")
    )


def _audit(
    state: AppState, actor: Actor, outcome: str, reason: str | None, action: str = SIGN_IN
) -> None:
    with state.db.write() as session:
        append_audit(session, actor=actor, action=action, outcome=outcome, reason=reason)


def _throttled(state: AppState, addr: str | None) -> int | None:
    throttle = state.login_throttle
    return throttle.retry_after(addr) if throttle is not None else None


def _failed(state: AppState, addr: str | None) -> None:
    if state.login_throttle is not None:
        state.login_throttle.failed(addr)


def _mfa_due(state: AppState, role: str, enrolled: bool) -> bool:
    return enrolled or mfa.required_for(role, [str(r) for r in state.settings.mfa_required_roles])


def password_step(state: AppState, *, username: str, password: str, addr: str | None) -> SignIn:
    """Check the password: a session (``ok``), a code to ask (``code_due``), or a refusal."""
    settings = state.settings
    name = normalize_username(username)[:64]
    wait_s = _throttled(state, addr)
    if wait_s is not None:
        _audit(
            state,
            Actor(name, None, addr),
            "denied",
            "too many failed sign-ins from this address",
        )
        return SignIn("throttled", name, retry_after_s=wait_s)
    with state.db.read() as session:
        user = get_user(session, username=name)
        stored = (
            (user.password_hash, user.locked_until, user.role, bool(user.disabled))
            if user
            else None
        )
        enrolled = bool(user and user.mfa_enabled_at is not None)
    now = utcnow()
    actor = Actor(name, stored[2] if stored else None, addr)
    if stored is not None and stored[1] is not None and stored[1] > now:
        state.passwords.verify(None, password)  # the same cost as a real attempt
        _audit(state, actor, "denied", f"account locked until {stored[1].isoformat()}")
        return SignIn("refused", name)
    ok = state.passwords.verify(stored[0] if stored else None, password)
    if not ok or stored is None or stored[3]:
        lock_until = None
        why = (
            "unknown user"
            if stored is None
            else ("account disabled" if stored[3] else "bad password")
        )
        with state.db.write() as session:
            if stored is not None:
                lock_until = record_failure(
                    session,
                    username=name,
                    threshold=settings.lockout_threshold,
                    lockout_s=settings.lockout_s,
                    now=now,
                )
            if lock_until is not None:
                why += f"; account locked until {lock_until.isoformat(timespec='seconds')}"
            append_audit(
                session,
                actor=actor,
                action=SIGN_IN,
                outcome="locked" if lock_until else "failed",
                reason=why,
            )
        _failed(state, addr)
        return SignIn("refused", name)
    role = stored[2]
    if role != Role.OFFICER.value:
        _audit(state, actor, "denied", f"not an officer account (role {role})")
        return SignIn("not_officer", name, detail=role)
    if _mfa_due(state, role, enrolled):
        return _open_challenge(state, actor, name, enrolled=enrolled, now=now)
    new_hash = state.passwords.hash(password) if state.passwords.needs_rehash(stored[0]) else None
    with state.db.write() as session:
        record_success(session, username=name, now=now, new_hash=new_hash)
        token, expires = issue_token(session, username=name, ttl_s=settings.token_ttl_s, now=now)
        append_audit(session, actor=actor, action=SIGN_IN, outcome="ok", reason="password")
    return SignIn("ok", name, token=token, expires_at=expires)


def _open_challenge(
    state: AppState, actor: Actor, name: str, *, enrolled: bool, now: datetime
) -> SignIn:
    settings = state.settings
    challenge = mfa.new_challenge_token()
    enrolment = None
    with state.db.write() as session:
        store_mfa.create_challenge(
            session,
            id_hash=mfa.token_hash(challenge),
            username=name,
            purpose="login" if enrolled else "enrol",
            now=now,
            ttl_s=settings.mfa_challenge_s,
        )
        if not enrolled:
            secret = mfa.new_secret()
            store_mfa.set_pending_secret(
                session,
                username=name,
                secret_enc=mfa.encrypt_secret(settings.secret_key.get_secret_value(), secret),
            )
            uri = mfa.provisioning_uri(secret, username=name, issuer=settings.mfa_issuer)
            enrolment = Enrolment(secret=secret, otpauth_uri=uri, qr_svg=mfa.qr_svg(uri, scale=4))
        append_audit(
            session,
            actor=actor,
            action=SIGN_IN,
            outcome="mfa_required",
            reason="password accepted; second factor due" + ("" if enrolled else " (enrolment)"),
        )
    return SignIn("code_due", name, mfa_token=challenge, enrolment=enrolment)


def code_step(state: AppState, *, mfa_token: str, code: str, addr: str | None) -> SignIn:
    """Finish sign-in with a TOTP code (or a recovery code); finishing an enrolment turns
    the second factor on. Failures count toward the lockout, as for staff."""
    settings = state.settings
    wait_s = _throttled(state, addr)
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
    server_secret = settings.secret_key.get_secret_value()
    try:
        secret = mfa.decrypt_secret(server_secret, user.mfa_secret)
    except mfa.MfaSecretError:
        _audit(state, actor, "failed", "stored second-factor secret unreadable")
        return SignIn("gone")
    step = mfa.matching_step(secret, code)
    recovery = step is None and not enrolling and mfa.looks_like_recovery_code(code)
    failure: str | None
    lock_until: datetime | None = None
    codes: tuple[str, ...] = ()
    with state.db.write() as session:
        if step is not None:
            ok = store_mfa.accept_step(session, username=user.username, step=step)
            failure = None if ok else "code already used"
        elif recovery:
            ok = store_mfa.use_recovery_code(
                session,
                username=user.username,
                code_hash=mfa.recovery_hash(server_secret, code),
                now=now,
            )
            failure = None if ok else "unknown or already used recovery code"
        else:
            failure = "wrong code"
        if failure is None and not store_mfa.use_challenge(session, id_hash=token_id, now=now):
            failure = "sign-in step already used"
        if failure is not None:
            lock_until = record_failure(
                session,
                username=user.username,
                threshold=settings.lockout_threshold,
                lockout_s=settings.lockout_s,
                now=now,
            )
            why = failure + (
                f"; account locked until {lock_until.isoformat(timespec='seconds')}"
                if lock_until
                else ""
            )
            append_audit(
                session,
                actor=actor,
                action=SIGN_IN,
                outcome="locked" if lock_until else "failed",
                reason=f"second factor: {why}",
            )
        else:
            how = "totp"
            if enrolling:
                store_mfa.enable_mfa(session, username=user.username, now=now)
                codes = tuple(mfa.new_recovery_codes())
                store_mfa.replace_recovery_codes(
                    session,
                    username=user.username,
                    code_hashes=[mfa.recovery_hash(server_secret, c) for c in codes],
                    now=now,
                )
                append_audit(
                    session,
                    actor=actor,
                    action="auth.mfa_enrol",
                    outcome="ok",
                    reason=f"enrolled on the field page; {len(codes)} recovery codes issued",
                )
                how = "totp (enrolled)"
            elif recovery:
                how = "recovery code"
            record_success(session, username=user.username, now=now)
            token, expires = issue_token(
                session, username=user.username, ttl_s=settings.token_ttl_s, now=now
            )
            append_audit(
                session, actor=actor, action=SIGN_IN, outcome="ok", reason=f"second factor: {how}"
            )
    if failure is not None:
        _failed(state, addr)
        if lock_until is not None:
            return SignIn("locked", user.username, locked_until=lock_until)
        return SignIn("refused", user.username, mfa_token=mfa_token, detail=failure)
    return SignIn("ok", user.username, token=token, expires_at=expires, recovery_codes=codes)


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
    """The officer's open shares, newest first (those whose call closed end here, audited)."""
    now = utcnow()
    items = []
    with state.db.write() as session:
        for share, call in store.open_shares_with_calls(session, officer=officer, now=now):
            if shares.share_problem(session, share=share, now=now) is not None:
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
            targets["call"] = share.call_id
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
