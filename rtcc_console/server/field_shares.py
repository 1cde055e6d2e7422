"""Field shares: a call's cameras shared to responding officers' phones and laptops (issue 16).

An analyst shares a call with officer accounts (role ``officer``). Each officer gets a
single-use link (``/field/{link_token}``, expiring after ``field_link_ttl_s``); opening it
spends the link and sets an HttpOnly session cookie bound to that share only. The share
ends when the analyst ends it, when the call closes, or at ``expires_at``
A share may instead belong to an emergency with no call (a school's or business's panic
button; revision 0112): it ends when the emergency ends (by its owner, a supervisor or its
window running out), exactly as a call's share ends when the call closes.
(``field_share_ttl_s``); every use re-checks that (``share_problem``) and ends it lazily,
audited. Each camera is re-decided with ``core.policy.decide`` on every request (the same
consent as a live grant: a revocation or an ended emergency stops it at once). Only
SHA-256 digests of the link and the session are stored.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from rtcc_console.core.models import CallStatus, Role, utcnow
from rtcc_console.core.policy import Action, Decision, decide
from rtcc_console.server.audit import Actor, append_audit
from rtcc_console.server.camera_store import camera_domain, get_camera
from rtcc_console.server.eventlog import record_event
from rtcc_console.server.security import Principal, token_digest
from rtcc_console.store import calls as store_calls
from rtcc_console.store import field_shares as store
from rtcc_console.store import grants as store_grants
from rtcc_console.store import officers as store_officers
from rtcc_console.store.emergencies import EmergencyRecord, active_emergencies, get_emergency
from rtcc_console.store.schema import FieldShareRow

LINK_PREFIX = "fld_"
SESSION_COOKIE = "rtcc_field"
MAX_OFFICERS = 20
MAX_CAMERAS = 8
MAX_DURATION_S = 24 * 3600  # the longest share an analyst may ask for
MAX_UNITS = 8  # unit ids one officer account carries
UNIT_ID = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,31}$")


def normalize_unit_id(text: str) -> str | None:
    """A CAD unit id (call sign) as stored: trimmed, upper case; None when it is not one."""
    value = text.strip().upper()
    return value if UNIT_ID.match(value) else None


def share_public(row: FieldShareRow) -> dict[str, Any]:
    """The API (and event) shape of a share: never its link or session."""
    return {
        "id": row.id,
        "call_id": row.call_id,
        "emergency_id": row.emergency_id,
        "officer": row.officer,
        "camera_ids": [str(c) for c in row.camera_ids],
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
        "ended_at": row.ended_at.isoformat() if row.ended_at else None,
        "end_reason": row.end_reason,
        "link_used": row.link_used_at is not None,
    }


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


class ShareError(Exception):
    """A refused share request: HTTP status and a human reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class NewShare:
    share: FieldShareRow
    link_token: str


def officer_actor(share: FieldShareRow, client_addr: str | None) -> Actor:
    return Actor(username=share.officer, role=Role.OFFICER.value, client_addr=client_addr)


def subject_targets(share: FieldShareRow) -> dict[str, Any]:
    """Audit targets naming the share and what it belongs to (its call or emergency)."""
    if share.emergency_id is not None:
        return {"emergency": share.emergency_id, "share": share.id}
    return {"call": share.call_id, "share": share.id}


def emergency_over(record: EmergencyRecord | None, now: datetime) -> bool:
    """An emergency's share is over: the emergency is gone, ended, or past its window."""
    return record is None or not record.active(now)


def create_shares(
    session: Session,
    *,
    actor: Actor,
    call_id: str | None = None,
    officers: list[str],
    camera_ids: list[str],
    ttl_s: int,
    units: Sequence[str] = (),
    now: datetime | None = None,
    emergency_id: str | None = None,
) -> list[NewShare]:
    """One share (and single-use link) per officer, for the call ``call_id`` or the
    emergency ``emergency_id`` (exactly one); ``units`` adds the active officers answering
    to those unit ids. Refuses unknown/non-officer accounts, a unit with no officer, a
    closed call or an emergency no longer active (409), and cameras the policy does not
    allow live now. Refusals are audited; each share made is published
    (``field_share.created``)."""
    now = now or utcnow()
    if (call_id is None) == (emergency_id is None):
        raise ValueError("a share belongs to exactly one of a call or an emergency")
    subject: dict[str, Any] = (
        {"call": call_id} if call_id is not None else {"emergency": emergency_id}
    )
    targets: dict[str, Any] = dict(subject)

    def refuse(status: int, reason: str) -> ShareError:
        append_audit(
            session,
            actor=actor,
            action="field.share",
            outcome="denied",
            targets=targets,
            reason=reason,
        )
        return ShareError(status, reason)

    if call_id is not None:
        call = store_calls.get_call(session, call_id=call_id)
        if call is None:
            raise refuse(404, f"call {call_id!r} not found")
        if not call.status.is_open:
            raise refuse(409, "the call is closed")
    else:
        record = get_emergency(session, emergency_id=str(emergency_id))
        if record is None:
            raise refuse(404, f"emergency {emergency_id!r} not found")
        if emergency_over(record, now):
            raise refuse(409, "the emergency has ended")
    if units:
        targets["units"] = ",".join(units)
        by_unit = store_officers.officers_of_units(session, unit_ids=list(units))
        for unit in units:
            if unit not in by_unit:
                raise refuse(422, f"unit {unit!r} maps to no active officer account")
        officers = list(dict.fromkeys([*officers, *(n for u in units for n in by_unit[u])]))
    if not officers:
        raise refuse(422, "name at least one officer or unit")
    if len(officers) > MAX_OFFICERS:
        raise refuse(422, f"at most {MAX_OFFICERS} officers per share")
    accounts = store.officer_roles(session, usernames=officers)
    for name in officers:
        role, disabled = accounts.get(name, (None, True))
        if role != Role.OFFICER.value or disabled:
            raise refuse(422, f"{name!r} is not an active officer account")
    for camera_id in camera_ids:
        decision = decide_camera(session, camera_id=camera_id, now=now)
        if not decision.allowed:
            targets["camera"] = camera_id
            raise refuse(403, f"camera {camera_id!r}: {decision.reason}")
    out = []
    for name in officers:
        link = LINK_PREFIX + secrets.token_urlsafe(32)
        share = store.insert_share(
            session,
            share_id="fs-" + secrets.token_hex(8),
            call_id=call_id,
            emergency_id=emergency_id,
            officer=name,
            camera_ids=camera_ids,
            created_by=actor.username or "",
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_s),
            link_hash=digest(link),
        )
        append_audit(
            session,
            actor=actor,
            action="field.share",
            outcome="ok",
            targets={
                **subject,
                "share": share.id,
                "officer": name,
                "cameras": ",".join(camera_ids),
            },
            reason=f"until {share.expires_at.isoformat()}",
        )
        record_event(session, type="field_share.created", payload={"share": share_public(share)})
        out.append(NewShare(share, link))
    return out


def decide_camera(session: Session, *, camera_id: str, now: datetime) -> Decision:
    """Live-view consent for a shared camera now (as for a live grant)."""
    row = get_camera(session, camera_id=camera_id)
    if row is None:
        return Decision(False, "Camera not found (deleted?)", "not_found")
    return decide(
        Role.ANALYST,
        camera_domain(row),
        Action.VIEW_LIVE,
        now=now,
        emergencies=active_emergencies(session, now=now),
        owner_accepts_requests=store_grants.owner_accepts_requests(session, owner_id=row.owner_id),
    )


def share_problem(session: Session, *, share: FieldShareRow, now: datetime) -> str | None:
    """Why the share is over (ending it, audited, when it just became so), or None."""
    if share.ended_at is not None:
        return share.end_reason or "ended"
    reason = None
    if share.emergency_id is not None:
        record = get_emergency(session, emergency_id=share.emergency_id)
        if emergency_over(record, now):
            reason = "emergency ended"
    else:
        call = (
            store_calls.get_call(session, call_id=share.call_id)
            if share.call_id is not None
            else None
        )
        if call is None or not call.status.is_open:
            reason = "call closed"
    if reason is None and share.expires_at <= now:
        reason = "share expired"
    if reason is not None:
        end_share(
            session,
            share=share,
            actor=Actor(username=None, role=None, client_addr=None),
            reason=reason,
            now=now,
        )
    return reason


def end_share(
    session: Session,
    *,
    share: FieldShareRow,
    actor: Actor,
    reason: str,
    now: datetime | None = None,
) -> bool:
    now = now or utcnow()
    if not store.end_share(session, share=share, reason=reason, now=now):
        return False
    append_audit(
        session,
        actor=actor,
        action="field.end",
        targets=subject_targets(share),
        reason=reason,
    )
    record_event(session, type="field_share.ended", payload={"share": share_public(share)})
    return True


def end_officer_shares(
    session: Session, *, username: str, actor: Actor, reason: str, now: datetime | None = None
) -> int:
    """End (audited, published) every open share of an officer whose access was revoked
    (account disabled, role changed, sessions ended by an admin); the count."""
    now = now or utcnow()
    ended = 0
    for row in store.open_shares_of_officer(session, officer=username):
        ended += end_share(session, share=row, actor=actor, reason=reason, now=now)
    return ended


def end_emergency_shares(
    session: Session, *, emergency_id: str, actor: Actor, now: datetime | None = None
) -> int:
    """End (audited ``field.end``, published ``field_share.ended``) every open share of an
    emergency that just ended, in the same transaction; the count."""
    now = now or utcnow()
    ended = 0
    for row in store.open_emergency_shares(session, emergency_id=emergency_id):
        ended += end_share(session, share=row, actor=actor, reason="emergency ended", now=now)
    return ended


def set_officer_units(
    session: Session,
    *,
    actor: Actor,
    username: str,
    unit_ids: Sequence[str],
    display_name: str | None = None,
    set_name: bool = False,
) -> tuple[str | None, tuple[str, ...]]:
    """Replace an officer account's unit ids (and, with ``set_name``, its display name);
    audited ``admin.user_units``. 404 no such account, 422 not an officer or a bad unit id.
    Returns (display name, unit ids)."""
    from rtcc_console.store.users import get_user

    row = get_user(session, username=username)
    if row is None:
        raise ShareError(404, f"no user {username!r}")
    if row.role != Role.OFFICER.value:
        raise ShareError(422, f"{username!r} is not an officer account (role {row.role})")
    clean: list[str] = []
    for text in unit_ids:
        unit = normalize_unit_id(text) if isinstance(text, str) else None
        if unit is None:
            raise ShareError(
                422, f"{str(text)[:40]!r} is not a unit id (letters, digits, '-', ≤ 32)"
            )
        clean.append(unit)
    if len(set(clean)) > MAX_UNITS:
        raise ShareError(422, f"at most {MAX_UNITS} unit ids per officer")
    stored = store_officers.set_units(session, username=username, unit_ids=clean)
    if set_name:
        store_officers.set_display_name(session, username=username, display_name=display_name)
    append_audit(
        session,
        actor=actor,
        action="admin.user_units",
        targets={"user": username},
        reason=f"units {', '.join(stored) or 'none'}"
        + (f"; display name {display_name!r}" if set_name else ""),
    )
    return row.display_name, stored


def open_link(
    session: Session,
    *,
    link_token: str,
    link_ttl_s: int,
    client_addr: str | None,
    now: datetime | None = None,
) -> tuple[FieldShareRow, str]:
    """Spend a single-use link: the share and a new session secret (for the cookie).

    Unknown: 404; used, expired, or the share over: 410 — each audited."""
    now = now or utcnow()
    anon = Actor(username=None, role=None, client_addr=client_addr)
    share = (
        store.share_by_link_hash(session, link_hash=digest(link_token))
        if 8 < len(link_token) < 200
        else None
    )
    if share is None:
        append_audit(
            session, actor=anon, action="field.open", outcome="denied", reason="unknown link"
        )
        raise ShareError(404, "unknown link")
    actor = officer_actor(share, client_addr)
    targets = subject_targets(share)
    problem = share_problem(session, share=share, now=now)
    if problem is None and share.link_used_at is not None:
        problem = "link already used"
    if problem is None and share.created_at + timedelta(seconds=link_ttl_s) <= now:
        problem = "link expired"
    if problem is not None:
        append_audit(
            session,
            actor=actor,
            action="field.open",
            outcome="denied",
            targets=targets,
            reason=problem,
        )
        raise ShareError(410, problem)
    secret = secrets.token_urlsafe(32)
    store.use_link(session, share=share, session_hash=digest(secret), now=now)
    append_audit(session, actor=actor, action="field.open", outcome="ok", targets=targets)
    return share, secret


OFFICER_COOKIE = "rtcc_field_officer"  # an officer's account sign-in on the field page


def signed_in_officer(session: Session, *, token: str | None, now: datetime) -> str | None:
    """The officer account a field sign-in cookie (``routes/field_auth.py``: an officer's
    session token) stands for, or None when absent/expired/revoked/not an officer."""
    from rtcc_console.server.security import resolve_token

    principal = resolve_token(session, token=token, now=now) if token else None
    return principal.username if principal and principal.role is Role.OFFICER else None


def share_for_session(
    session: Session,
    *,
    share_id: str,
    cookie: str | None,
    client_addr: str | None,
    what: str,
    now: datetime | None = None,
    officer_token: str | None = None,
) -> FieldShareRow:
    """The share a field-page request may use: the cookie must be this share's session
    (its link's), or ``officer_token`` the signed-in session of the share's officer.

    403 for a missing/foreign cookie, 410 when the share is over; denials audited."""
    now = now or utcnow()
    share = store.get_share(session, share_id=share_id) if len(share_id) < 64 else None
    link_ok = (
        share is not None
        and cookie is not None
        and 0 < len(cookie) <= 200
        and share.session_hash == digest(cookie)
    )
    if share is None or not (
        link_ok or signed_in_officer(session, token=officer_token, now=now) == share.officer
    ):
        append_audit(
            session,
            actor=Actor(username=None, role=None, client_addr=client_addr),
            action="field.view",
            outcome="denied",
            targets={"share": share_id[:64], "what": what[:100]},
            reason="no session for this share",
        )
        raise ShareError(403, "this device has no session for this share")
    problem = share_problem(session, share=share, now=now)
    if problem is not None:
        append_audit(
            session,
            actor=officer_actor(share, client_addr),
            action="field.view",
            outcome="denied",
            targets={"share": share.id, "what": what[:100]},
            reason=problem,
        )
        raise ShareError(410, f"share ended: {problem}")
    return share


def sweep_shares(session: Session, *, now: datetime | None = None) -> int:
    """End (audited) every open share that expired, whose call closed or whose emergency
    ended; the count."""
    now = now or utcnow()
    rows = store.shares_to_end(session, now=now)
    for row in rows:
        share_problem(session, share=row, now=now)
    return len(rows)


# --- the hot path of officers' video (every playlist reload, part, segment, MJPEG re-check) ---

ACCESS_TTL_S = 0.5  # a decision trusted without the database: well inside the 1 s bound
# Events that never take access away (everything else clears the decision cache at once:
# grant.revoked, field_share.ended, camera.changed/stale, emergency.ended, call.updated...).
HARMLESS_EVENTS = frozenset(
    {"field_share.created", "call.created", "request.created", "request.updated"}
)


@dataclass(frozen=True, slots=True)
class VideoAccess:
    """A video request that every rule lets in now (``video_access``)."""

    share_expires_at: datetime
    via_link: bool  # the share's own link cookie (else the officer's signed-in session)
    principal: Principal | None  # the officer's sign-in (when it is what let the request in)


def video_access(
    session: Session,
    *,
    share_id: str,
    camera_id: str,
    cookie: str | None,
    officer_token: str | None,
    now: datetime,
) -> VideoAccess | None:
    """Read-only: whether a video request passes every rule of ``share_for_session`` and
    ``decide_camera`` now (this device's session for the share, the share running, its call
    open, not expired, the camera in the share, live consent by ``core.policy.decide``), from
    one SELECT (``store.video_access``) plus the active emergencies. None when any rule says
    no: the caller then runs the full check, which refuses, ends and audits as before.
    Nothing is written, so it runs in a read transaction."""
    if len(share_id) >= 64:
        return None
    token = officer_token if officer_token and len(officer_token) <= 200 else None
    jti = token_digest(token) if token else None
    row = store.video_access(session, share_id=share_id, camera_id=camera_id, officer_jti=jti)
    if row is None:
        return None
    via_link = cookie is not None and 0 < len(cookie) <= 200 and row.session_hash == digest(cookie)
    principal = None
    if not via_link:
        if (
            jti is None
            or row.token_user != row.officer
            or row.token_role != Role.OFFICER.value
            or row.token_revoked
            or row.token_user_disabled
            or row.token_expires_at is None
            or row.token_expires_at <= now
        ):
            return None
        principal = Principal(
            username=row.officer, role=Role.OFFICER, jti=jti, expires_at=row.token_expires_at
        )
    if row.ended_at is not None or row.expires_at <= now:
        return None
    if row.emergency_id is not None:
        if (
            not row.emergency_found
            or row.emergency_ended_at is not None
            or (row.emergency_ends_at is not None and row.emergency_ends_at <= now)
        ):
            return None
    elif row.call_status is None or not CallStatus(row.call_status).is_open:
        return None
    if camera_id not in row.camera_ids or row.camera is None:
        return None
    decision = decide(
        Role.ANALYST,
        row.camera,
        Action.VIEW_LIVE,
        now=now,
        emergencies=active_emergencies(session, now=now),
        owner_accepts_requests=row.owner_accepts_requests,
    )
    return VideoAccess(row.expires_at, via_link, principal) if decision.allowed else None


@dataclass(frozen=True, slots=True)
class _Entry:
    deadline: float  # time.monotonic()
    needs_token: bool  # let in by the officer's sign-in: trusted while the token cache is


class AccessCache:
    """Video requests let in recently, trusted for at most ``ttl_s`` (0.5 s) without the
    database, per (share, camera, link cookie, sign-in cookie).

    Only a yes is cached. Every committed event that can take access away clears it at
    once (``note_event``: the routes hang it on the database's after-commit hook, so a
    revocation in this process is seen before its request even answers); ``ttl_s`` bounds
    what no event announces (an emergency reaching its end time, changes committed by
    another server process). An entry let in by the officer's sign-in is also trusted only
    while the server's token cache holds that session (sign-out and admin revocations drop
    it there, in every process). A check that started before a clear never fills the cache
    (``generation``)."""

    def __init__(self, *, ttl_s: float = ACCESS_TTL_S, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._items: dict[str, _Entry] = {}
        self._seen: set[tuple[str, str]] = set()  # (share, camera) whose first look was audited
        self._lock = threading.Lock()
        self.generation = 0
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(share_id: str, camera_id: str, cookie: str | None, officer_token: str | None) -> str:
        text = "\0".join((share_id, camera_id, cookie or "", officer_token or ""))
        return digest(text)

    def get(self, key: str) -> _Entry | None:
        entry = self._items.get(key)
        if entry is None or entry.deadline <= time.monotonic():
            self.misses += 1
            return None
        self.hits += 1
        return entry

    def put(self, key: str, *, generation: int, needs_token: bool, share_left_s: float) -> bool:
        """Remember a yes (False when a clear happened since ``generation`` was read)."""
        deadline = time.monotonic() + min(self.ttl_s, share_left_s)
        with self._lock:
            if generation != self.generation:
                return False
            if len(self._items) >= self.max_entries:
                self._items.clear()
            self._items[key] = _Entry(deadline, needs_token)
            return True

    def seen(self, share_id: str, camera_id: str) -> bool:
        return (share_id, camera_id) in self._seen

    def mark_seen(self, share_id: str, camera_id: str) -> None:
        with self._lock:
            if len(self._seen) >= self.max_entries:
                self._seen.clear()
            self._seen.add((share_id, camera_id))

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._items.clear()

    def note_event(self, event_type: str) -> None:
        """A committed event: clear unless it can never take access away."""
        if event_type not in HARMLESS_EVENTS:
            self.clear()
