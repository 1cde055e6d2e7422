"""Live grants: short-lived permission to open one camera's stream, and the media hook.

A grant is issued only when ``core.policy.decide`` allows live view for the caller, now,
against the *database* state of the camera, its owner and the active emergencies (never a
cache: consent must be current). It carries a random secret (only its SHA-256 is stored)
that a media relay presents to ``POST /media/auth``. A grant never outlives the
emergency that allowed it. Revocation of the camera, its deletion or the end of the
emergency ends affected grants at once and publishes ``grant.revoked``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from rtcc_console.core.models import Role, utcnow
from rtcc_console.core.policy import Action, Decision, decide
from rtcc_console.server.audit import Actor, append_audit
from rtcc_console.server.camera_store import camera_domain, get_camera, stream_secret
from rtcc_console.server.eventlog import record_event
from rtcc_console.store import grants as store_grants
from rtcc_console.store.auth_sessions import session_problem
from rtcc_console.store.emergencies import active_emergencies
from rtcc_console.store.grants import open_grants as open_grants  # portal/routes.py's import
from rtcc_console.store.schema import LiveGrantRow


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class GrantOutcome:
    """The result of an issue/renew attempt: a grant row, or the refusal."""

    grant: LiveGrantRow | None
    decision: Decision
    secret: str | None = None
    status: int = 201


def _decide_live(
    session: Session, *, role: Role, camera_id: str, now: datetime
) -> tuple[Decision, Any]:
    row = get_camera(session, camera_id=camera_id)
    if row is None:
        return Decision(False, "Camera not found (deleted?)", "not_found"), None
    decision = decide(
        role,
        camera_domain(row),
        Action.VIEW_LIVE,
        now=now,
        emergencies=active_emergencies(session, now=now),
        owner_accepts_requests=store_grants.owner_accepts_requests(session, owner_id=row.owner_id),
    )
    return decision, row


def _expiry(decision: Decision, *, now: datetime, ttl_s: int) -> datetime:
    expires = now + timedelta(seconds=ttl_s)
    if decision.valid_until is not None and decision.valid_until < expires:
        expires = decision.valid_until
    return expires


def issue_grant(
    session: Session,
    *,
    actor: Actor,
    role: Role,
    camera_id: str,
    reason: str,
    ttl_s: int,
    now: datetime | None = None,
    session_jti: str | None = None,
) -> GrantOutcome:
    """Decide, audit, and (when allowed) create a grant. Denials are audited too.

    ``session_jti`` ties the grant to the bearer token that asked for it: when that session
    ends (sign-out, expiry, revocation, account disabled, role changed) the grant ends, and
    the media hook refuses it even before the sweep has ended it.
    """
    now = now or utcnow()
    decision, row = _decide_live(session, role=role, camera_id=camera_id, now=now)
    if not decision.allowed:
        append_audit(
            session,
            actor=actor,
            action="live.grant",
            outcome="denied",
            targets={"camera": camera_id, "code": decision.code},
            reason=reason,
        )
        return GrantOutcome(None, decision, status=404 if row is None else 403)
    secret = secrets.token_urlsafe(24)
    grant = store_grants.insert_grant(
        session,
        grant_id="grant-" + secrets.token_hex(8),
        camera_id=camera_id,
        username=actor.username or "",
        reason=reason,
        issued_at=now,
        expires_at=_expiry(decision, now=now, ttl_s=ttl_s),
        emergency_id=decision.emergency_id,
        token_hash=_digest(secret),
        session_jti=session_jti,
    )
    append_audit(
        session,
        actor=actor,
        action="live.grant",
        outcome="ok",
        targets={"camera": camera_id, "grant": grant.id, "emergency": decision.emergency_id},
        reason=reason,
    )
    return GrantOutcome(grant, decision, secret=secret)


def renew_grant(
    session: Session,
    *,
    actor: Actor,
    role: Role,
    grant: LiveGrantRow,
    ttl_s: int,
    now: datetime | None = None,
) -> GrantOutcome:
    """Extend a live grant after re-checking consent; ends it when consent is gone."""
    now = now or utcnow()
    targets = {"camera": grant.camera_id, "grant": grant.id}
    if grant.ended_at is not None or grant.expires_at <= now:
        why = grant.end_reason or "grant expired"
        append_audit(
            session, actor=actor, action="live.renew", outcome="denied", targets=targets, reason=why
        )
        return GrantOutcome(
            None, Decision(False, f"Grant is no longer valid: {why}", "gone"), status=410
        )
    decision, _row = _decide_live(session, role=role, camera_id=grant.camera_id, now=now)
    if not decision.allowed:
        store_grants.end_grant(session, grant=grant, reason=decision.reason, now=now)
        append_audit(
            session,
            actor=actor,
            action="live.renew",
            outcome="denied",
            targets=targets,
            reason=decision.reason,
        )
        return GrantOutcome(None, decision, status=403)
    store_grants.extend_grant(
        session,
        grant=grant,
        expires_at=_expiry(decision, now=now, ttl_s=ttl_s),
        emergency_id=decision.emergency_id,
    )
    append_audit(
        session,
        actor=actor,
        action="live.renew",
        outcome="ok",
        targets=targets,
        reason=grant.reason,
    )
    return GrantOutcome(grant, decision, status=200)


def end_grant(
    session: Session,
    *,
    grant: LiveGrantRow,
    actor: Actor,
    reason: str,
    publish: bool,
    now: datetime | None = None,
) -> None:
    """End one grant (tile closed, consent gone); ``publish`` sends ``grant.revoked``."""
    now = now or utcnow()
    if not store_grants.end_grant(session, grant=grant, reason=reason, now=now):
        return
    append_audit(
        session,
        actor=actor,
        action="live.end",
        targets={"camera": grant.camera_id, "grant": grant.id},
        reason=reason,
    )
    if publish:
        record_event(
            session,
            type="grant.revoked",
            payload={
                "grant_id": grant.id,
                "camera_id": grant.camera_id,
                "reason": reason,
                "username": grant.username,
            },
        )


def end_camera_grants(
    session: Session, *, camera_id: str, actor: Actor, reason: str, now: datetime | None = None
) -> int:
    """End every open grant of a camera (revoked / deleted / consent withdrawn)."""
    now = now or utcnow()
    grants = store_grants.open_grants(session, now=now, camera_id=camera_id)
    for grant in grants:
        end_grant(session, grant=grant, actor=actor, reason=reason, publish=True, now=now)
    return len(grants)


def recheck_grant(
    session: Session,
    *,
    grant: LiveGrantRow,
    actor: Actor,
    prefix: str = "",
    now: datetime | None = None,
) -> bool:
    """Re-decide one open grant against current consent; ends it when no longer allowed.

    The holder's role does not matter to live-view consent (all staff roles have the same
    camera rights), so the check runs as analyst.
    """
    now = now or utcnow()
    decision, _row = _decide_live(session, role=Role.ANALYST, camera_id=grant.camera_id, now=now)
    if decision.allowed:
        expires = grant.expires_at
        if decision.valid_until is not None and decision.valid_until < expires:
            expires = decision.valid_until
        store_grants.extend_grant(
            session, grant=grant, expires_at=expires, emergency_id=decision.emergency_id
        )
        return True
    end_grant(
        session, grant=grant, actor=actor, reason=prefix + decision.reason, publish=True, now=now
    )
    return False


def recheck_emergency_grants(
    session: Session, *, emergency_id: str, actor: Actor, now: datetime
) -> int:
    """After an emergency ended: keep grants another consent still covers, end the rest."""
    ended = 0
    for grant in store_grants.open_grants(session, now=now, emergency_id=emergency_id):
        if not recheck_grant(
            session, grant=grant, actor=actor, prefix="Emergency ended: ", now=now
        ):
            ended += 1
    return ended


def grant_public(
    grant: LiveGrantRow,
    *,
    session: Session,
    secret: str | None,
    relay_url: str | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The grant as returned to its holder: the stream URL to open (may carry credentials).

    With a media relay configured, the URL points at the relay path ``cam/<camera_id>``
    with the grant secret as the password; otherwise it is the camera's own URL.
    """
    now = now or utcnow()
    full, sub = stream_secret(session, camera_id=grant.camera_id)
    if relay_url:
        # The relay URL embeds the grant secret, which only exists at issue time (the
        # database keeps its hash): a renewal answers without a URL; keep the one you have.
        stream_url = _relay_url(relay_url, grant.camera_id, secret) if secret else None
        substream_url = None
    else:
        stream_url, substream_url = full, sub
    return {
        "id": grant.id,
        "camera_id": grant.camera_id,
        "stream_url": stream_url,
        "substream_url": substream_url,
        "token": secret,
        "expires_at": grant.expires_at.isoformat(),
        "ttl_s": max(0, int((grant.expires_at - now).total_seconds())),
        "emergency_id": grant.emergency_id,
        "reason": grant.reason,
    }


def _relay_url(base: str, camera_id: str, secret: str) -> str:
    scheme, sep, rest = base.partition("://")
    if not sep:
        return base
    return f"{scheme}://grant:{secret}@{rest.rstrip('/')}/cam/{camera_id}"


def grant_for_secret(
    session: Session, *, camera_id: str, secret: str, now: datetime | None = None
) -> LiveGrantRow | None:
    """The open, unexpired grant of ``camera_id`` whose secret is ``secret`` (media auth)."""
    return check_grant_secret(session, camera_id=camera_id, secret=secret, now=now)[0]


def check_grant_secret(
    session: Session, *, camera_id: str, secret: str, now: datetime | None = None
) -> tuple[LiveGrantRow | None, str | None]:
    """The grant a media relay's secret opens, or (None, why not).

    Besides the grant itself (right camera, not ended, not expired), the session that
    opened it must still be open: a signed-out, expired or revoked session, or a disabled
    account, is refused at once, before the background sweep has ended the grant.
    """
    now = now or utcnow()
    if not secret or len(secret) > 200:
        return None, "no valid live grant for this camera"
    digest = _digest(secret)
    row = store_grants.grant_by_token_hash(session, token_hash=digest)
    if row is None or not hmac.compare_digest(row.token_hash or "", digest):
        return None, "no valid live grant for this camera"
    if row.camera_id != camera_id or row.ended_at is not None or row.expires_at <= now:
        return None, "no valid live grant for this camera"
    problem = session_problem(session, jti=row.session_jti, now=now)
    if problem is not None:
        return None, problem
    return row, None
