"""The yearly "still there?" question to camera owners, and stale cameras (issue 12).

A sweep (every ``camera_confirm_sweep_s`` in each server process, :func:`run_sweeps`):

1. claims the cameras not confirmed for ``camera_confirm_interval_s`` and not asked yet
   (``store.confirmations.claim_due``: one claim, so several processes never ask twice) and
   e-mails each owner ONE message listing all their claimed cameras, with one single-use
   link to ``/portal/confirm`` (valid ``camera_confirm_link_ttl_s``) that confirms exactly
   the listed cameras, through the portal's durable outbox, in the same transaction as the
   claim (the e-mail exists if and only if the claim committed); an owner without a portal
   account cannot be e-mailed a link, which the audit entry says (``outcome="no_account"``);
2. marks stale the cameras asked ``camera_confirm_grace_s`` ago and still unconfirmed: a
   registry change (``camera.changed`` with the camera, and ``camera.stale``), audited.

The owner confirms from the link, with "Still there" on My cameras, or by editing the camera
or changing its sharing on the portal (the owner demonstrably manages it) (:func:`confirm_camera`):
the stale mark goes, ``camera.changed`` and ``camera.confirmed`` are published, audited.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from rtcc_console.core.models import utcnow
from rtcc_console.server.audit import Actor, append_audit
from rtcc_console.server.camera_store import camera_public, get_camera
from rtcc_console.server.eventlog import record_event
from rtcc_console.server.portal.mail import LINK_PLACEHOLDER, TOKEN_PLACEHOLDER, send_portal_mail
from rtcc_console.server.state import AppState
from rtcc_console.store import confirmations as store
from rtcc_console.store import portal as store_portal
from rtcc_console.store.confirmations import Confirmed, DueCamera
from rtcc_console.store.schema import CameraRow

log = logging.getLogger(__name__)
SWEEPER = Actor(username="confirmations", role="service")
BATCH = 200  # cameras asked, and cameras marked stale, per sweep at most


@dataclass
class SweepResult:
    asked: list[str] = field(default_factory=list)  # camera ids whose owner was e-mailed
    unreachable: list[str] = field(default_factory=list)  # asked, but no portal account
    stale: list[str] = field(default_factory=list)  # camera ids marked stale
    emails: int = 0  # e-mails queued: one per owner asked


CONFIRM_PATH = "/portal/confirm"


def confirm_path(camera_id: str) -> str:
    """One camera's "Still there" page for a signed-in owner (My cameras)."""
    return f"/portal/cameras/{camera_id}/confirm"


def _one_line(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _mail_text(
    state: AppState, cameras: list[DueCamera], owner_name: str, url: str
) -> tuple[str, str]:
    s = state.settings
    days = s.camera_confirm_link_ttl_s // 86400
    grace_days = max(1, s.camera_confirm_grace_s // 86400)
    if len(cameras) == 1:
        subject = f"Is your camera “{_one_line(cameras[0].name)}” still there?"
        what, them = "this camera", "it"
    else:
        subject = f"Are your {len(cameras)} cameras still there?"
        what, them = f"these {len(cameras)} cameras", "them"
    listed = "\n".join(
        f"* {_one_line(c.name, 200)}, {_one_line(c.address, 300) or 'no address'}" for c in cameras
    )
    body = (
        f"Hello {_one_line(owner_name, 120)},\n\n"
        "Once a year we ask every camera owner whether their registered cameras are still in "
        "place and still as registered, so that the crime center does not ask for footage "
        "from a camera that is gone.\n\n"
        f"We ask about {what}:\n\n{listed}\n\n"
        f"Open this link, see the list and press “Still there” (valid for {days} days, usable "
        f"once; untick a camera that is gone):\n\n{url}\n\n"
        f"Without an answer within {grace_days} days the crime center will see {them} as "
        "“not confirmed”. If a camera is gone, sign in to the portal and delete it.\n\n"
        f"{s.agency_name}\n"
    )
    return subject, body


def _queue_confirmation_mail(
    session: Session,
    state: AppState,
    *,
    cameras: list[DueCamera],
    account_id: str,
    now: datetime,
) -> bool:
    """The one place the yearly e-mail is sent from: ONE e-mail per owner per sweep listing
    every camera of theirs this sweep claimed, queued in the sweep's transaction into the
    portal's durable outbox (``send_portal_mail``), with one single-use link (a
    ``portal_links`` row, purpose ``confirm``, valid ``camera_confirm_link_ttl_s``) whose
    ``created_at`` is the claim time: it confirms exactly the listed cameras
    (``store.confirmations.link_cameras``). False when the account is gone."""
    account = store_portal.get_account(session, account_id=account_id)
    if account is None:
        return False
    subject, body = _mail_text(state, cameras, account.owner_name, LINK_PLACEHOLDER)
    basis = "|".join([account_id, now.isoformat(), *sorted(c.camera_id for c in cameras)])
    send_portal_mail(
        session,
        state,
        account_id=account_id,
        subject=subject,
        body=body,
        link_purpose=store.LINK_PURPOSE,
        link_path=CONFIRM_PATH + "?token=" + TOKEN_PLACEHOLDER,
        link_ttl_s=state.settings.camera_confirm_link_ttl_s,
        idem_key="confirm:" + hashlib.sha256(basis.encode()).hexdigest()[:40],
        now=now,
    )
    return True


def _publish(session: Session, row: CameraRow, change: str, payload: dict[str, object]) -> None:
    record_event(
        session, type="camera.changed", payload={"camera": camera_public(row), "change": change}
    )
    record_event(session, type=f"camera.{change}", payload={"camera_id": row.id, **payload})


def sweep_pass(state: AppState, *, now: datetime | None = None) -> SweepResult:
    """One sweep: ask the owners of due cameras, then mark the unanswered ones stale."""
    now = now or utcnow()
    s = state.settings
    interval = timedelta(seconds=s.camera_confirm_interval_s)
    grace = timedelta(seconds=s.camera_confirm_grace_s)
    result = SweepResult()
    with state.db.read() as session:
        if not store.any_due(session, now=now, interval=interval, grace=grace):
            return result
    with state.db.write() as session:
        claimed = store.claim_due(session, interval=interval, limit=BATCH, now=now)
        by_account: dict[str, list[DueCamera]] = {}
        for camera in claimed:
            if camera.account_id is not None:
                by_account.setdefault(camera.account_id, []).append(camera)
        sent = {
            account_id
            for account_id, cameras in by_account.items()
            if _queue_confirmation_mail(
                session, state, cameras=cameras, account_id=account_id, now=now
            )
        }
        for camera in claimed:
            send = camera.account_id in sent
            (result.asked if send else result.unreachable).append(camera.camera_id)
            append_audit(
                session,
                actor=SWEEPER,
                action="registry.confirm_asked",
                outcome="ok" if send else "no_account",
                targets={"camera": camera.camera_id, "owner": camera.owner_id},
                at=now,
            )
        result.emails = len(sent)
    with state.db.write() as session:
        for row in store.mark_stale_due(session, grace=grace, limit=BATCH, now=now):
            since = row.confirmed_at.date().isoformat() if row.confirmed_at else "never"
            append_audit(
                session,
                actor=SWEEPER,
                action="registry.camera_stale",
                targets={"camera": row.id, "owner": row.owner_id},
                reason=f"not confirmed since {since}",
                at=now,
            )
            _publish(
                session,
                row,
                "stale",
                {
                    "confirmed_at": row.confirmed_at.isoformat() if row.confirmed_at else None,
                    "stale_since": now.isoformat(),
                },
            )
            result.stale.append(row.id)
    if result.asked or result.unreachable or result.stale:
        log.info(
            "camera confirmations: %d camera(s) asked in %d e-mail(s), %d without a portal account, %d stale",
            len(result.asked),
            result.emails,
            len(result.unreachable),
            len(result.stale),
        )
    return result


def confirm_camera(
    session: Session, *, camera_id: str, owner_id: str, actor: Actor, via: str
) -> Confirmed | None:
    """The owner says the camera is still there (``via``: ``link``, ``portal``, ``edit`` or ``sharing``); None when
    it is not this owner's camera (nothing written). Audited and published."""
    done = store.confirm(session, camera_id=camera_id, owner_id=owner_id)
    if done is None:
        return None
    row = get_camera(session, camera_id=camera_id)
    assert row is not None
    append_audit(
        session,
        actor=actor,
        action="registry.camera_confirmed",
        targets={"camera": camera_id, "by": "owner", "via": via},
        reason="was stale" if done.was_stale else None,
    )
    _publish(
        session,
        row,
        "confirmed",
        {"confirmed_at": done.confirmed_at.isoformat(), "was_stale": done.was_stale},
    )
    return done


async def run_sweeps(state: AppState) -> None:
    """The background loop of one server process (``server.background``)."""
    while True:
        try:
            await asyncio.to_thread(sweep_pass, state)
        except asyncio.CancelledError:
            raise
        except Exception:  # keep sweeping; the next pass retries
            log.exception("camera confirmation sweep failed")
        await asyncio.sleep(state.settings.camera_confirm_sweep_s)
