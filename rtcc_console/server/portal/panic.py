"""The panic button: one emergency for an owner's site, started by the owner (portal), by
an alarm panel (``POST /api/v1/panic``, HMAC-signed) and ended by the owner, a supervisor
(the emergencies API) or its timeout (the app's housekeeping).

It reuses ``server.emergencies`` (audit ``emergency.start``, event ``emergency.started``,
grant re-checks on the end) and publishes one extra ``emergency.panic`` event with what the
console's alert shows (site name, kind, alarm level, location, description, site position).
The same fields are kept on the emergency itself (``panic``), so ``GET /emergencies`` and
``emergency.started`` carry them to a console that connects while the emergency runs.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from rtcc_console.core.models import utcnow
from rtcc_console.server.audit import Actor
from rtcc_console.server.emergencies import emergency_public, end_emergency, start_emergency
from rtcc_console.server.eventlog import record_event
from rtcc_console.store import emergencies as store_emergencies
from rtcc_console.store import owners as store_owners
from rtcc_console.store import portal as store_portal
from rtcc_console.store.emergencies import EmergencyRecord

PANIC_KINDS = ("business", "school")
AVS01 = {
    0: "level 0 (no additional information)",
    1: "level 1 (call verified, no threat)",
    2: "level 2 (threat to property)",
    3: "level 3 (threat to people)",
    4: "level 4 (threat to life)",
}


class PanicRefused(Exception):
    """Not allowed for this owner (kind, no cameras); ``str`` is the reason for the page."""


@dataclass(frozen=True, slots=True)
class PanicDetails:
    level: int
    location: str
    description: str
    source: str  # portal | alarm_panel | dc09 (SIA DC-09 receiver) | supervisor


def active_for_owner(
    session: Session, *, owner_id: str, now: datetime | None = None
) -> list[EmergencyRecord]:
    return [
        r
        for r in store_emergencies.list_emergencies(session, active_only=True, now=now)
        if r.owner_id == owner_id
    ]


def press(
    session: Session,
    *,
    owner_id: str,
    actor: Actor,
    details: PanicDetails,
    duration_s: int,
    now: datetime | None = None,
) -> EmergencyRecord:
    """Start the site's emergency (or return the one already running)."""
    now = now or utcnow()
    owner = store_owners.get_owner(session, owner_id=owner_id)
    if owner is None or owner.kind.value not in PANIC_KINDS:
        raise PanicRefused("the panic button is for business and school sites")
    running = active_for_owner(session, owner_id=owner_id, now=now)
    if running:
        return running[0]
    cameras = store_portal.owner_camera_ids(session, owner_id=owner_id)
    if not cameras:
        raise PanicRefused("register at least one camera for this site first")
    fields = site_panic_fields(session, owner_id=owner_id, details=details)
    text = f"Panic ({details.source}): {owner.name}, AVS-01 {AVS01[details.level]}"
    if details.location:
        text += f", at {details.location}"
    if details.description:
        text += f": {details.description}"
    record = start_emergency(
        session,
        actor=actor,
        owner_id=owner_id,
        camera_ids=cameras,
        reason=text[:1000],
        duration_s=duration_s,
        panic=fields,
        now=now,
    )
    publish_panic(session, record=record, now=now)
    return record


def site_panic_fields(session: Session, *, owner_id: str, details: PanicDetails) -> dict[str, Any]:
    """The structured panic details kept on the emergency (``EmergencyPanic``: site name and
    kind, AVS-01 level, location, description, source, the site cameras' centre); raises
    ``PanicRefused`` for a site that is not a business or a school."""
    owner = store_owners.get_owner(session, owner_id=owner_id)
    if owner is None or owner.kind.value not in PANIC_KINDS:
        raise PanicRefused("the panic button is for business and school sites")
    site = store_portal.owner_cameras(session, owner_id=owner_id)
    return {
        "site_name": owner.name[:200],
        "site_kind": owner.kind.value,
        "alarm_level": details.level,
        "location": details.location[:200],
        "description": details.description[:500],
        "source": details.source,
        "lat": sum(c.lat for c in site) / len(site) if site else None,
        "lon": sum(c.lon for c in site) / len(site) if site else None,
    }


def publish_panic(session: Session, *, record: EmergencyRecord, now: datetime) -> None:
    """The ``emergency.panic`` event (after ``emergency.started``) from the record's fields."""
    fields = record.panic or {}
    record_event(
        session,
        type="emergency.panic",
        payload={
            "emergency": emergency_public(record, now=now),
            "site": {
                "owner_id": record.owner_id,
                "name": fields.get("site_name"),
                "kind": fields.get("site_kind"),
                "lat": fields.get("lat"),
                "lon": fields.get("lon"),
            },
            "alarm_level": fields.get("alarm_level"),
            "location": fields.get("location", ""),
            "description": fields.get("description", ""),
            "source": fields.get("source", ""),
        },
    )


def end_for_owner(
    session: Session, *, owner_id: str, emergency_id: str, actor: Actor, now: datetime | None = None
) -> EmergencyRecord | None:
    """End the owner's own running emergency; None when it is not theirs or not running."""
    found = store_emergencies.get_emergency(session, emergency_id=emergency_id)
    if found is None or found.owner_id != owner_id or not found.active(now or utcnow()):
        return None
    return end_emergency(
        session, emergency_id=emergency_id, actor=actor, reason="ended by the site", now=now
    )


def signature(secret_hex: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 (hex) over ``timestamp + "." + body`` with the site key."""
    return hmac.new(
        secret_hex.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
