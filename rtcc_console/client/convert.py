"""Wire JSON (``docs/api-contract.md``) to domain models (the map's rows: ``ui.map_rows``).

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
        confirmed_at=parse_time(d.get("confirmed_at")),
        stale=bool(d.get("stale", False)),
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
