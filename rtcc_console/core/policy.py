"""Consent policy: may this staff member do this to this camera, right now?

:func:`decide` is the one rule book. The server calls it before issuing a live grant or
sending a footage request (and audits the :class:`Decision`); the console calls the same
function on its cached registry to grey out buttons and to tell the analyst *why*. Both
must agree, so nothing else may re-implement these rules.

The rules, in order:

1. No signed-in staff role: nothing is allowed.
2. The owner revoked access: nothing is allowed.
3. Footage requests go to any non-revoked camera whose owner accepts requests.
4. Live view (and snapshots of it) needs an integrated camera whose owner shares live,
   either at all times or only while an active emergency covers the camera.

All staff roles have the same camera rights; rank matters elsewhere (audit, users).
Policy is about consent only: whether a stream is configured and reachable is the media
layer's business. There is no facial recognition action, by design.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from rtcc_console.core.models import Camera, Emergency, Role, SharingMode, Tier


class Action(StrEnum):
    """What a staff member wants to do with a camera (wire names for audit rows)."""

    VIEW_LIVE = "view_live"
    SNAPSHOT = "snapshot"  # a still taken from a live view: same consent as live view
    REQUEST_FOOTAGE = "request_footage"


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of :func:`decide`.

    ``reason`` is a sentence an analyst can read; ``code`` is stable for programs and
    audit filters. When the permission depends on an emergency, ``emergency_id`` names it
    and ``valid_until`` says when it lapses (grants must not outlive it).
    """

    allowed: bool
    reason: str
    code: str
    emergency_id: str | None = None
    valid_until: datetime | None = None


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be a timezone-aware datetime, got naive {now.isoformat()}")


def _covers(emergency: Emergency, camera: Camera) -> bool:
    """An emergency covers a camera named in it, or, if it names none, its owner's cameras."""
    if camera.id in emergency.camera_ids:
        return True
    return (
        not emergency.camera_ids
        and emergency.owner_id is not None
        and emergency.owner_id == camera.owner_id
    )


def active_emergency_for(
    camera: Camera, emergencies: Iterable[Emergency], now: datetime
) -> Emergency | None:
    """The active emergency covering ``camera`` that lasts longest, or None.

    An open-ended emergency (no ``ends_at``) outlasts any with an end time; ties keep the
    first one given.
    """
    _require_aware(now)
    best: Emergency | None = None
    for emergency in emergencies:
        if not (_covers(emergency, camera) and emergency.active(now)):
            continue
        if best is None or _ends_later(emergency, best):
            best = emergency
    return best


def live_now(camera: Camera, emergencies: Iterable[Emergency], now: datetime) -> bool:
    """Whether ``camera`` can be opened live at ``now``: an integrated, unrevoked camera
    that shares live always, or live in emergencies under an active one. The server's
    ranking bonus and the console's local list both use it, so they rank alike."""
    if camera.tier is not Tier.INTEGRATED or camera.revoked:
        return False
    if camera.sharing_mode is SharingMode.LIVE_ALWAYS:
        return True
    if camera.sharing_mode is SharingMode.LIVE_IN_EMERGENCY:
        return active_emergency_for(camera, emergencies, now) is not None
    return False


def _ends_later(a: Emergency, b: Emergency) -> bool:
    if b.ends_at is None:
        return False
    return a.ends_at is None or a.ends_at > b.ends_at


def _until_text(ends_at: datetime | None, now: datetime) -> str:
    if ends_at is None:
        return "until it is ended"
    end = ends_at.astimezone(UTC)
    if end.date() == now.astimezone(UTC).date():
        return f"until {end:%H:%M} UTC"
    return f"until {end:%Y-%m-%d %H:%M} UTC"


def _describe(emergency: Emergency) -> str:
    label = emergency.reason.strip() or "declared emergency"
    return f"'{label}'"


def decide(
    role: Role | None,
    camera: Camera,
    action: Action,
    *,
    now: datetime,
    emergencies: Iterable[Emergency] = (),
    owner_accepts_requests: bool = True,
) -> Decision:
    """Decide whether ``role`` may perform ``action`` on ``camera`` at ``now``.

    ``emergencies`` may include inactive or unrelated ones; only active emergencies that
    cover the camera count. ``owner_accepts_requests`` comes from the camera's owner
    record. Raises ValueError only for a naive ``now`` (a programming error).
    """
    _require_aware(now)
    if role is None:
        return Decision(False, "Sign in as staff to use cameras", "not_authenticated")
    if camera.revoked:
        return Decision(False, "Owner revoked access", "revoked")

    if action is Action.REQUEST_FOOTAGE:
        if not owner_accepts_requests:
            return Decision(
                False, "Owner does not accept footage requests", "owner_declines_requests"
            )
        return Decision(True, "Footage request allowed: owner accepts requests", "allowed_request")

    # VIEW_LIVE and SNAPSHOT share the live-view consent.
    if camera.tier is Tier.REGISTERED:
        return Decision(
            False, "Registered camera: no live stream — request footage instead", "no_stream"
        )
    if camera.sharing_mode is SharingMode.REQUEST_ONLY:
        return Decision(
            False,
            "Owner shares recorded footage on request only — request footage instead",
            "request_only",
        )
    if camera.sharing_mode is SharingMode.LIVE_ALWAYS:
        return Decision(
            True, "Live view allowed: owner shares live at all times", "allowed_live_always"
        )

    emergency = active_emergency_for(camera, emergencies, now)
    if emergency is None:
        return Decision(
            False,
            "Live only during an emergency; none active for this camera",
            "emergency_only",
        )
    return Decision(
        True,
        f"Live view allowed during emergency {_describe(emergency)} "
        f"{_until_text(emergency.ends_at, now)}",
        "allowed_emergency",
        emergency_id=emergency.id,
        valid_until=emergency.ends_at,
    )
