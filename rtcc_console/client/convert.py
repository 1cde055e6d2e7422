"""Wire JSON (``docs/api-contract.md``) to domain models, and back for the map and cache.

Parsing is strict about what the console depends on (ids, coordinates, enums) and lenient
about the rest, so a newer server adding fields never breaks an older console.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rtcc_console.core.models import (
    CallStatus,
    Camera,
    CameraKind,
    DispatchCall,
    Emergency,
    GeoPoint,
    SharingMode,
    Tier,
)
from rtcc_console.core.redact import redact_stream_url


def parse_time(value: str | None) -> datetime | None:
    """ISO-8601 to an aware UTC datetime (naive input is taken as UTC)."""
    if not value:
        return None
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def camera_from_json(d: dict[str, Any]) -> Camera:
    """A camera object of the API; stream URLs pass through redaction before they are kept."""
    stream = d.get("stream_url")
    sub = d.get("substream_url")
    return Camera(
        id=str(d["id"]),
        name=str(d.get("name") or d["id"]),
        tier=Tier(d["tier"]),
        location=GeoPoint(float(d["lat"]), float(d["lon"])),
        kind=CameraKind(d.get("kind") or "residential"),
        sharing_mode=SharingMode(d.get("sharing_mode") or "request_only"),
        address=str(d.get("address") or ""),
        owner_id=d.get("owner_id"),
        heading_deg=_opt_float(d.get("heading_deg")),
        fov_deg=_opt_float(d.get("fov_deg")),
        range_m=_opt_float(d.get("range_m")),
        revoked=bool(d.get("revoked", False)),
        stream_ref=redact_stream_url(stream) if stream else None,
        substream_ref=redact_stream_url(sub) if sub else None,
        updated_at=parse_time(d.get("updated_at")),
    )


def call_from_json(d: dict[str, Any]) -> tuple[DispatchCall, int]:
    """A call object of the API and its version (for version-aware updates)."""
    lat, lon = d.get("lat"), d.get("lon")
    location = GeoPoint(float(lat), float(lon)) if lat is not None and lon is not None else None
    reported = parse_time(d.get("reported_at")) or datetime.now(UTC)
    call = DispatchCall(
        id=str(d["id"]),
        incident_id=str(d.get("incident_id") or d["id"]),
        type_code=str(d.get("type_code") or ""),
        type_text=str(d.get("type_text") or d.get("type_code") or ""),
        priority=int(d.get("priority") or 9),
        status=CallStatus(d.get("status") or "pending"),
        reported_at=reported,
        updated_at=parse_time(d.get("updated_at")) or reported,
        location=location,
        address=d.get("address"),
        category=str(d.get("category") or "other"),
        source=str(d.get("source") or "cad"),
    )
    return call, int(d.get("version") or 0)


def emergency_from_json(d: dict[str, Any]) -> Emergency:
    started = parse_time(d.get("started_at")) or datetime.now(UTC)
    return Emergency(
        id=str(d["id"]),
        owner_id=d.get("owner_id"),
        camera_ids=frozenset(str(c) for c in d.get("camera_ids") or ()),
        started_at=started,
        ends_at=parse_time(d.get("ends_at")),
        reason=str(d.get("reason") or ""),
    )


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


def camera_map_row(cam: Camera) -> list[Any]:
    """The compact row the map page draws: [id, lat, lon, tier, mode, kind, heading, fov, range]."""
    return [
        cam.id,
        round(cam.location.lat, 6),
        round(cam.location.lon, 6),
        TIER_CODE[cam.tier],
        MODE_CODE[cam.sharing_mode],
        KIND_CODE[cam.kind],
        None if cam.heading_deg is None else round(cam.heading_deg, 1),
        None if cam.fov_deg is None else round(cam.fov_deg, 1),
        None if cam.range_m is None else round(cam.range_m, 1),
    ]


def call_map_row(call: DispatchCall) -> dict[str, Any] | None:
    """What the map needs of a call, or None when it has no coordinates."""
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
