"""The compact rows the map page draws, made from domain models (Qt-free).

Cameras travel as one JSON array of short arrays (30,000 of them parse in a few
milliseconds); calls as small objects. The codes here are the page's codes
(``resources/map/rtcc_map.js``: TIER, MODE, KIND): change both together.
"""

from __future__ import annotations

from typing import Any

from rtcc_console.core.models import CallStatus, Camera, CameraKind, DispatchCall, SharingMode, Tier

TIER_CODE = {Tier.REGISTERED: 0, Tier.INTEGRATED: 1}
MODE_CODE = {
    SharingMode.REQUEST_ONLY: 0,
    SharingMode.LIVE_ALWAYS: 1,
    SharingMode.LIVE_IN_EMERGENCY: 2,
}
KIND_CODE = {
    CameraKind.RESIDENTIAL: 0,
    CameraKind.BUSINESS: 1,
    CameraKind.SCHOOL: 2,
    CameraKind.PUBLIC: 3,
}


def _r(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def stale_label(cam: Camera) -> str | None:
    """For a stale camera (its owner did not confirm it in time) the date it was last
    confirmed ("" when never); None for a camera that is not stale."""
    if not cam.stale:
        return None
    return cam.confirmed_at.date().isoformat() if cam.confirmed_at else ""


def camera_map_row(cam: Camera) -> list[Any]:
    """``[id, lat, lon, tier, mode, kind, heading, fov, range, name, stale]`` (never a stream
    URL); ``stale``: :func:`stale_label`."""
    return [
        cam.id,
        round(cam.location.lat, 6),
        round(cam.location.lon, 6),
        TIER_CODE[cam.tier],
        MODE_CODE[cam.sharing_mode],
        KIND_CODE[cam.kind],
        _r(cam.heading_deg, 1),
        _r(cam.fov_deg, 1),
        _r(cam.range_m, 1),
        cam.name,
        stale_label(cam),
    ]


def call_map_row(call: DispatchCall) -> dict[str, Any] | None:
    """What the map needs of a call, or None when it has no coordinates (address only)."""
    if call.location is None:
        return None
    return {
        "id": call.id,
        "lat": call.location.lat,
        "lon": call.location.lon,
        "priority": call.priority,
        "type": call.type_text or call.type_code,
        "address": call.address or "",
        "closed": call.status is CallStatus.CLOSED,
    }
