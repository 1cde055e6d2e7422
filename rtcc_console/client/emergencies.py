"""Emergency calls the console makes besides the event stream (docs/api/portal.md), and the
structured details of a panic-button emergency: as the ``emergency.panic`` event carries
them, and as the emergency itself carries them (its ``panic`` field in ``GET /emergencies``
and ``emergency.started``, for a console that connects while the emergency runs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from rtcc_console.client.api import ApiClient


def acknowledge_emergency(api: ApiClient, emergency_id: str) -> None:
    """Record (audit) that this user saw the emergency alert."""
    api.request("POST", f"/emergencies/{quote(emergency_id, safe='')}/acknowledge")


@dataclass(frozen=True, slots=True)
class PanicAlert:
    """What an ``emergency.panic`` event says about a panic-button emergency (docs/api/portal.md):
    the site, its kind, the TMA AVS-01 alarm level and where in the site it was pressed."""

    emergency_id: str
    site_name: str
    kind: str  # business | school
    alarm_level: int | None  # 0..4; None when the event carried no usable level
    location: str = ""
    description: str = ""
    source: str = ""  # portal | alarm_panel | dc09 | supervisor
    lat: float | None = None
    lon: float | None = None


def _text(value: Any, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _coordinate(value: Any, bound: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if -bound <= value <= bound else None


def panic_from_event(data: Mapping[str, Any]) -> PanicAlert | None:
    """The structured panic details of an ``emergency.panic`` event's data; None when it
    lacks the emergency id or the site's name (the banner then reads the reason text)."""
    emergency, site = data.get("emergency"), data.get("site")
    if not isinstance(emergency, Mapping) or not isinstance(site, Mapping):
        return None
    emergency_id, name = emergency.get("id"), _text(site.get("name"), 200)
    if not isinstance(emergency_id, str) or not emergency_id or not name:
        return None
    level = _level(data.get("alarm_level"))
    return PanicAlert(
        emergency_id=emergency_id,
        site_name=name,
        kind=_text(site.get("kind"), 40) or "site",
        alarm_level=level,
        location=_text(data.get("location"), 200),
        description=_text(data.get("description"), 500),
        source=_text(data.get("source"), 40),
        lat=_coordinate(site.get("lat"), 90.0),
        lon=_coordinate(site.get("lon"), 180.0),
    )


def _level(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 4:
        return None
    return value


def panic_from_emergency(emergency: Mapping[str, Any]) -> PanicAlert | None:
    """The structured panic details an emergency record carries (``panic``: site name and
    kind, AVS-01 level, location, description, source); None for a declared emergency, a
    row from an older server, or fields without the site's name (the banner then reads the
    reason text)."""
    emergency_id, panic = emergency.get("id"), emergency.get("panic")
    if not isinstance(emergency_id, str) or not emergency_id or not isinstance(panic, Mapping):
        return None
    name = _text(panic.get("site_name"), 200)
    if not name:
        return None
    return PanicAlert(
        emergency_id=emergency_id,
        site_name=name,
        kind=_text(panic.get("site_kind"), 40) or "site",
        alarm_level=_level(panic.get("alarm_level")),
        location=_text(panic.get("location"), 200),
        description=_text(panic.get("description"), 500),
        source=_text(panic.get("source"), 40),
        lat=_coordinate(panic.get("lat"), 90.0),
        lon=_coordinate(panic.get("lon"), 180.0),
    )
