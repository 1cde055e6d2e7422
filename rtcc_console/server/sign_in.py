"""The security steps of signing in, in one place for staff (``routes/auth.py``,
``routes/auth_mfa.py``) and for officers on the field page (``server.field_accounts``).

* Too many failures from one address (any accounts, password spraying): throttled
  (``state.login_throttle``), before anything is looked up.
* A locked account is refused (audited) after one argon2 verification, as is an unknown
  user: an attempt costs the same whoever it names.
* ``lockout_threshold`` failures in a row (passwords and codes alike) lock the account for
  ``lockout_s``; each failure feeds the address throttle.
* Second factor when the account has one, or its role is in ``mfa_required_roles``:
  a single-use challenge (``store.mfa``); its code (TOTP step, used once, or a recovery
  code) finishes sign-in or an enrolment (recovery codes issued then).

The callers turn the outcomes into their own answers (HTTP errors for staff, page words
for officers); :class:`Wording` holds the only differences in what is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from rtcc_console.core.models import utcnow
from rtcc_console.server import mfa
from rtcc_console.server.audit import Actor, append_audit
from rtcc_console.server.security import get_user, issue_token, record_failure, record_success
from rtcc_console.server.state import AppState
from rtcc_console.store import mfa as store_mfa

THROTTLED = "too many failed sign-ins from this address"


@dataclass(frozen=True, slots=True)
class Wording:
    """How one way in audits its sign-in steps."""

    action: str  # the password step and a finished sign-in
    code_action: str  # a refused code
    code_reason_prefix: str = ""  # before a refused code's reason
    locks_audited_as: str = "failed"  # outcome of the failure that locks the account
    locked_reason_with_time: bool = False  # "account locked until ..." (else "account locked")
    enrolled_where: str = ""  # before "N recovery codes issued"


STAFF = Wording(action="auth.login", code_action="auth.mfa")


@dataclass(frozen=True, slots=True)
class PasswordCheck:
    """What the password step came to. ``ok``: the password is right and the account may
    sign in (its role is the caller's to judge); ``locked``: the account was locked already
    (``locked_until``); ``refused``: unknown user, wrong password or disabled account
    (``locked_until`` when this failure locked it); ``throttled``: ``retry_after_s``."""

    outcome: Literal["ok", "throttled", "locked", "refused"]
    username: str
    actor: Actor
    now: datetime
    role: str = ""
    password_hash: str = ""
    enrolled: bool = False  # the account has a second factor
    retry_after_s: int | None = None
    locked_until: datetime | None = None


def _count_failure(
    session: Session, state: AppState, *, username: str, now: datetime
) -> datetime | None:
    """One more failure in a row; when it reaches ``lockout_threshold``, the lock's end."""
    settings = state.settings
    return record_failure(
        session,
        username=username,
        threshold=settings.lockout_threshold,
        lockout_s=settings.lockout_s,
        now=now,
    )


def _lock_note(lock_until: datetime | None) -> str:
    if lock_until is None:
        return ""
    return f"; account locked until {lock_until.isoformat(timespec='seconds')}"


def throttle_wait(state: AppState, addr: str | None) -> int | None:
    """Seconds this address must wait before another attempt, or None."""
    throttle = state.login_throttle
    return throttle.retry_after(addr) if throttle is not None else None


def throttle_failed(state: AppState, addr: str | None) -> None:
    if state.login_throttle is not None:
        state.login_throttle.failed(addr)


def check_password(
    state: AppState, *, username: str, password: str, addr: str | None, wording: Wording
) -> PasswordCheck:
    """Throttle, lockout and password checks of a sign-in (``username`` normalised);
    failures audited and counted."""
    wait_s = throttle_wait(state, addr)
    if wait_s is not None:
        actor = Actor(username[:64], None, addr)
        with state.db.write() as session:
            append_audit(
                session, actor=actor, action=wording.action, outcome="denied", reason=THROTTLED
            )
        return PasswordCheck("throttled", username, actor, utcnow(), retry_after_s=wait_s)
    with state.db.read() as session:
        user = get_user(session, username=username)
        stored = (
            (user.password_hash, user.locked_until, user.role, bool(user.disabled))
            if user
            else None
        )
        enrolled = bool(user and user.mfa_enabled_at is not None)
    now = utcnow()
    actor = Actor(username[:64], stored[2] if stored else None, addr)
    if stored is not None and stored[1] is not None and stored[1] > now:
        state.passwords.verify(None, password)  # the same cost as a real attempt
        reason = (
            f"account locked until {stored[1].isoformat()}"
            if wording.locked_reason_with_time
            else "account locked"
        )
        with state.db.write() as session:
            append_audit(
                session, actor=actor, action=wording.action, outcome="denied", reason=reason
            )
        return PasswordCheck("locked", username, actor, now, locked_until=stored[1])
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
                lock_until = _count_failure(session, state, username=username, now=now)
            why += _lock_note(lock_until)
            append_audit(
                session,
                actor=actor,
                action=wording.action,
                outcome=wording.locks_audited_as if lock_until else "failed",
                reason=why,
            )
        throttle_failed(state, addr)
        return PasswordCheck("refused", username, actor, now, locked_until=lock_until)
    return PasswordCheck(
        "ok", username, actor, now, role=stored[2], password_hash=stored[0], enrolled=enrolled
    )


def rehashed(state: AppState, check: PasswordCheck, password: str) -> str | None:
    """A new hash of the right password when the stored one uses outdated parameters."""
    if not state.passwords.needs_rehash(check.password_hash):
        return None
    return state.passwords.hash(password)


def mfa_due(state: AppState, check: PasswordCheck) -> bool:
    """Whether a second factor is due: enrolled, or the role must have one."""
    return check.enrolled or mfa.required_for(
        check.role, [str(r) for r in state.settings.mfa_required_roles]
    )


def open_code_challenge(
    session: Session, state: AppState, check: PasswordCheck, *, wording: Wording
) -> tuple[str, datetime]:
    """The single-use challenge for the code step (enrolment when the account has no
    second factor yet), audited; the challenge token and its expiry. The password step
    does not reset the failure count: only a full sign-in does."""
    challenge = mfa.new_challenge_token()
    expires = store_mfa.create_challenge(
        session,
        id_hash=mfa.token_hash(challenge),
        username=check.username,
        purpose="login" if check.enrolled else "enrol",
        now=check.now,
        ttl_s=state.settings.mfa_challenge_s,
    )
    append_audit(
        session,
        actor=check.actor,
        action=wording.action,
        outcome="mfa_required",
        reason="password accepted; second factor due" + ("" if check.enrolled else " (enrolment)"),
    )
    return challenge, expires


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """What a second-factor code came to (inside the caller's write transaction)."""

    failure: str | None  # None: accepted, and the challenge used up
    recovery: bool = False  # a recovery code was used
    locked_until: datetime | None = None  # this failure locked the account
    recovery_codes: tuple[str, ...] = ()  # a finished enrolment's new codes (shown once)


def check_code(
    session: Session,
    state: AppState,
    *,
    actor: Actor,
    username: str,
    secret: str,
    code: str,
    enrolling: bool,
    challenge_hash: str,
    now: datetime,
    wording: Wording,
) -> CodeCheck:
    """Accept a TOTP code (each step once) or, outside enrolment, a recovery code, and use
    up the challenge; a failure counts toward the lockout and is audited; a finished
    enrolment turns the second factor on and issues recovery codes (audited)."""
    settings = state.settings
    server_secret = settings.secret_key.get_secret_value()
    step = mfa.matching_step(secret, code)
    recovery = step is None and not enrolling and mfa.looks_like_recovery_code(code)
    failure: str | None
    if step is not None:
        ok = store_mfa.accept_step(session, username=username, step=step)
        failure = None if ok else "code already used"
    elif recovery:
        ok = store_mfa.use_recovery_code(
            session,
            username=username,
            code_hash=mfa.recovery_hash(server_secret, code),
            now=now,
        )
        failure = None if ok else "unknown or already used recovery code"
    else:
        failure = "wrong code"
    if failure is None and not store_mfa.use_challenge(session, id_hash=challenge_hash, now=now):
        failure = "sign-in step already used"
    if failure is not None:
        lock_until = _count_failure(session, state, username=username, now=now)
        why = failure + _lock_note(lock_until)
        append_audit(
            session,
            actor=actor,
            action=wording.code_action,
            outcome=wording.locks_audited_as if lock_until else "failed",
            reason=wording.code_reason_prefix + why,
        )
        return CodeCheck(failure, recovery, lock_until)
    codes: tuple[str, ...] = ()
    if enrolling:
        store_mfa.enable_mfa(session, username=username, now=now)
        codes = tuple(mfa.new_recovery_codes())
        store_mfa.replace_recovery_codes(
            session,
            username=username,
            code_hashes=[mfa.recovery_hash(server_secret, c) for c in codes],
            now=now,
        )
        append_audit(
            session,
            actor=actor,
            action="auth.mfa_enrol",
            outcome="ok",
            reason=f"{wording.enrolled_where}{len(codes)} recovery codes issued",
        )
    return CodeCheck(None, recovery, recovery_codes=codes)


def start_session(
    session: Session,
    state: AppState,
    *,
    username: str,
    now: datetime,
    new_hash: str | None = None,
) -> tuple[str, datetime]:
    """A full sign-in: the failure count reset, a session token (``token_ttl_s``)."""
    record_success(session, username=username, now=now, new_hash=new_hash)
    return issue_token(session, username=username, ttl_s=state.settings.token_ttl_s, now=now)
