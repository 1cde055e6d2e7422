"""The simple call form (docs/api-contract.md, ``"format": "simple"``) and its CSV twin.

Fields: ``incident_id``, ``type_code``, ``type_text`` (defaults to the code), ``priority``
(1..9, 1 most urgent), ``status`` (pending/dispatched/on_scene/closed or a CAD word,
default pending), ``lat`` + ``lon`` (both or neither), ``address`` (required without a
position), ``reported_at``, ``updated_at`` (defaults to ``reported_at``), and optionally
``uncertainty_m``. Unknown fields are ignored so senders can add their own.
"""

from __future__ import annotations

from collections.abc import Mapping

from rtcc_console.core.cad_types import (
    MAX_ID,
    MAX_NOTE,
    CadParseError,
    ParsedCall,
    clean_text,
    expect_object,
    make_point,
    optional_text,
    parse_number,
    parse_priority,
    parse_status,
    parse_time,
    text_list,
)
from rtcc_console.core.categories import CategoryTable
from rtcc_console.core.models import CallStatus, GeoPoint

REQUIRED_FIELDS = ("incident_id", "type_code", "priority", "reported_at")
ALL_FIELDS = (
    "incident_id",
    "type_code",
    "type_text",
    "priority",
    "status",
    "lat",
    "lon",
    "address",
    "reported_at",
    "updated_at",
    "uncertainty_m",
)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _position(data: Mapping[str, object]) -> GeoPoint | None:
    lat, lon = data.get("lat"), data.get("lon")
    if _blank(lat) and _blank(lon):
        return None
    if _blank(lat) or _blank(lon):
        missing = "lat" if _blank(lat) else "lon"
        raise CadParseError(missing, "lat and lon must both be given, or both be null")
    return make_point(parse_number(lat, "lat"), parse_number(lon, "lon"), "lat")


def parse_simple(obj: object, *, categories: CategoryTable, source: str = "simple") -> ParsedCall:
    """Parse one call in the simple form (a JSON object or a CSV row as a dict)."""
    data = expect_object(obj, "$")
    for name in REQUIRED_FIELDS:
        if _blank(data.get(name)):
            raise CadParseError(name, "missing (required)")
    incident_id = clean_text(data["incident_id"], "incident_id", limit=MAX_ID)
    type_code = clean_text(data["type_code"], "type_code", limit=60)
    type_text = optional_text(data.get("type_text"), "type_text") or type_code
    priority = parse_priority(data["priority"], "priority")
    status = (
        CallStatus.PENDING if _blank(data.get("status")) else parse_status(data["status"], "status")
    )
    location = _position(data)
    address = optional_text(data.get("address"), "address")
    if location is None and address is None:
        raise CadParseError("address", "required when lat/lon are not given")
    reported_at = parse_time(data["reported_at"], "reported_at")
    updated_at = (
        reported_at
        if _blank(data.get("updated_at"))
        else parse_time(data["updated_at"], "updated_at")
    )
    if updated_at < reported_at:
        raise CadParseError(
            "updated_at",
            f"is before reported_at ({updated_at.isoformat()} < {reported_at.isoformat()})",
        )
    uncertainty: float | None = None
    if not _blank(data.get("uncertainty_m")):
        uncertainty = parse_number(data["uncertainty_m"], "uncertainty_m")
        if uncertainty < 0:
            raise CadParseError("uncertainty_m", f"must not be negative, got {uncertainty}")
    return ParsedCall(
        incident_id=incident_id,
        type_code=type_code,
        type_text=type_text,
        priority=priority,
        status=status,
        location=location,
        address=address,
        reported_at=reported_at,
        updated_at=updated_at,
        source=source,
        uncertainty_m=uncertainty,
        category=categories.category_for(type_code, type_text),
        notes=text_list(data.get("notes"), "notes", limit=MAX_NOTE),
        units=text_list(data.get("units"), "units"),
        agencies=text_list(data.get("agencies"), "agencies"),
    )
