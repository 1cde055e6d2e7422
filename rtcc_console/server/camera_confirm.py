"""The yearly "still there?" question to camera owners, and stale cameras (issue 12).

A sweep (every ``camera_confirm_sweep_s`` in each server process, :func:`run_sweeps`):

1. claims the cameras not confirmed for ``camera_confirm_interval_s`` and not asked yet
   (``store.confirmations.claim_due``: one claim, so several processes never ask twice) and
   e-mails each owner a single-use link to ``/portal/cameras/{id}/confirm`` (valid
   ``camera_confirm_link_ttl_s``) through the portal's durable outbox, in the same
   transaction as the claim (the e-mail exists if and only if the claim committed); an owner without a portal account cannot be e-mailed a
   link, which the audit entry says (``outcome="no_account"``);
2. marks stale the cameras asked ``camera_confirm_grace_s`` ago and still unconfirmed: a
   registry change (``camera.changed`` with the camera, and ``camera.stale``), audited.

The owner confirms from the link or with "Still there" on My cameras (:func:`confirm_camera`):
the stale mark goes, ``camera.changed`` and ``camera.confirmed`` are published, audited.
"""

from __future__ import annotations

import asyncio
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


def confirm_path(camera_id: str) -> str:
    return f"/portal/cameras/{camera_id}/confirm"


def _one_line(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _mail_text(state: AppState, camera: DueCamera, owner_name: str, url: str) -> tuple[str, str]:
    s = state.settings
    days = s.camera_confirm_link_ttl_s // 86400
    grace_days = max(1, s.camera_confirm_grace_s // 86400)
    subject = f"Is your camera “{_one_line(camera.name)}” still there?"
    body = (
        f"Hello {_one_line(owner_name, 120)},\n\n"
        "Once a year we ask every camera owner whether their registered camera is still in "
        "place and still as registered, so that the crime center does not ask for footage "
        "from a camera that is gone.\n\n"
        f"Camera: {_one_line(camera.name, 200)}\n"
        f"Address: {_one_line(camera.address, 300)}\n\n"
        f"If it is still there, open this link and press “Still there” (valid for {days} days, "
        f"usable once):\n\n{url}\n\n"
        f"Without an answer within {grace_days} days the crime center will see the camera as "
        "“not confirmed”. If the camera is gone, sign in to the portal and delete it.\n\n"
        f"{s.agency_name}\n"
    )
    return subject, body


def _queue_confirmation_mail(
    session: Session, state: AppState, *, camera: DueCamera, account_id: str, now: datetime
) -> bool:
    """The one place the yearly e-mail is sent from: queued in the sweep's transaction into
    the portal's durable outbox (``send_portal_mail``), with a single-use link (a
    ``portal_links`` row, purpose ``confirm``, valid ``camera_confirm_link_ttl_s``). False
    when the account is gone."""
    account = store_portal.get_account(session, account_id=account_id)
    if account is None:
        return False
    subject, body = _mail_text(state, camera, account.owner_name, LINK_PLACEHOLDER)
    send_portal_mail(
        session,
        state,
        account_id=account_id,
        subject=subject,
        body=body,
        link_purpose=store.LINK_PURPOSE,
        link_path=confirm_path(camera.camera_id) + "?token=" + TOKEN_PLACEHOLDER,
        link_ttl_s=state.settings.camera_confirm_link_ttl_s,
        idem_key=f"confirm:{camera.camera_id}:{now:%Y%m%dT%H%M%S}",
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
        for camera in store.claim_due(session, interval=interval, limit=BATCH, now=now):
            send = camera.account_id is not None and _queue_confirmation_mail(
                session, state, camera=camera, account_id=camera.account_id, now=now
            )
            (result.asked if send else result.unreachable).append(camera.camera_id)
            append_audit(
                session,
                actor=SWEEPER,
                action="registry.confirm_asked",
                outcome="ok" if send else "no_account",
                targets={"camera": camera.camera_id, "owner": camera.owner_id},
                at=now,
            )
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
            "camera confirmations: %d owner(s) asked, %d without a portal account, %d stale",
            len(result.asked),
            len(result.unreachable),
            len(result.stale),
        )
    return result


def confirm_camera(
    session: Session, *, camera_id: str, owner_id: str, actor: Actor, via: str
) -> Confirmed | None:
    """The owner says the camera is still there (``via``: ``link`` or ``portal``); None when
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
