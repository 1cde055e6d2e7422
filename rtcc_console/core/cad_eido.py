"""NENA i3 EIDO (Emergency Incident Data Object, NENA-STA-021/024) JSON to a ParsedCall.

Fields read (names as in the EIDO JSON schema):

* ``incidentComponent`` (object or array; the latest by ``lastUpdateTimeStamp`` wins):
  ``incidentTrackingIdentifier``, ``incidentTypeInternalCode`` / ``incidentTypeInternalText``
  (the agency's codes) and ``incidentTypeCommonRegistryText`` (the IANA registry value),
  ``incidentCommonPriorityNumber`` (0..10, 10 most urgent) or ``incidentPriorityInternalText``,
  ``incidentStatusCommonRegistryText`` / ``incidentStatusInternalText`` (arrays of words),
  ``locationReference``.
* ``lastUpdateTimeStamp`` in the component or at the top level; ``LastUpdateTimeStamp``
  (capitalised, as some vendors send it) is tolerated in both places.
* ``callComponent[].callStartTimestamp``: the earliest is the time the call was reported.
* ``locationComponent`` (object or array): ``locationByValue`` is a PIDF-LO document
  (see :mod:`cad_pidf`); components named by the incident's ``locationReference`` first.
  ``locationDescriptionText`` stands in for an address when there is no civic address.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from rtcc_console.core.cad_pidf import parse_pidf_lo
from rtcc_console.core.cad_types import (
    MAX_ID,
    CadParseError,
    ParsedCall,
    clean_text,
    expect_object,
    join,
    optional_text,
    parse_number,
    parse_status,
    parse_time,
    short,
)
from rtcc_console.core.categories import CategoryTable
from rtcc_console.core.models import CallStatus, GeoPoint

DEFAULT_PRIORITY = 5  # when the EIDO gives none: the middle of the 1..9 scale
_PRIORITY_WORDS = {"critical": 1, "emergency": 1, "urgent": 2, "high": 2, "medium": 4,
                   "normal": 5, "routine": 6, "low": 7, "lowest": 9}  # fmt: skip
_UPDATE_KEYS = ("lastUpdateTimeStamp", "LastUpdateTimeStamp")


def _components(doc: dict[str, Any], key: str) -> list[tuple[str, dict[str, Any]]]:
    """An EIDO component that may be one object or an array of objects, with JSON paths."""
    value = doc.get(key)
    if value is None:
        return []
    if isinstance(value, dict):
        return [(key, value)]
    if not isinstance(value, list):
        raise CadParseError(
            key, f"expected an object or an array of objects, got {type(value).__name__}"
        )
    return [(join(key, i), expect_object(item, join(key, i))) for i, item in enumerate(value)]


def _update_time(obj: dict[str, Any], path: str) -> datetime | None:
    for key in _UPDATE_KEYS:
        if obj.get(key) is not None:
            return parse_time(obj[key], join(path, key))
    return None


def _first_text(value: object, path: str, *, limit: int = 200) -> str | None:
    """Optional text that some senders wrap in a one-element array."""
    if isinstance(value, list):
        if not value:
            return None
        return optional_text(value[0], join(path, 0), limit=limit)
    return optional_text(value, path, limit=limit)


def _priority(comp: dict[str, Any], path: str) -> int:
    common = comp.get("incidentCommonPriorityNumber")
    if common is not None:
        field = join(path, "incidentCommonPriorityNumber")
        number = parse_number(common, field)
        if number != int(number) or not 0 <= number <= 10:
            raise CadParseError(
                field, f"expected a whole number 0..10 (10 most urgent), got {short(common)}"
            )
        return 1 + round((10 - int(number)) * 0.8)  # 10 -> 1, 5 -> 5, 0 -> 9
    field = join(path, "incidentPriorityInternalText")
    text = _first_text(comp.get("incidentPriorityInternalText"), field, limit=40)
    if text is None:
        return DEFAULT_PRIORITY
    match = re.fullmatch(r"(?i)(?:p|pri|priority)?\s*[-#:]?\s*([1-9])", text)
    if match:
        return int(match.group(1))
    if text.lower() in _PRIORITY_WORDS:
        return _PRIORITY_WORDS[text.lower()]
    raise CadParseError(
        field, f"unrecognised priority {short(text)}; expected 1..9 or a word such as High, Low"
    )


def _status(comp: dict[str, Any], path: str) -> CallStatus:
    common = comp.get("incidentStatusCommonRegistryText")
    internal = comp.get("incidentStatusInternalText")
    if common is None or common == []:
        if internal is None or internal == []:
            return CallStatus.PENDING
        return parse_status(internal, join(path, "incidentStatusInternalText"))
    try:
        return parse_status(common, join(path, "incidentStatusCommonRegistryText"))
    except CadParseError as common_error:
        if internal is None or internal == []:
            raise
        try:
            return parse_status(internal, join(path, "incidentStatusInternalText"))
        except CadParseError:
            raise common_error from None


def _reported_at(doc: dict[str, Any], fallback: datetime) -> datetime:
    starts = [
        parse_time(call["callStartTimestamp"], join(path, "callStartTimestamp"))
        for path, call in _components(doc, "callComponent")
        if call.get("callStartTimestamp") is not None
    ]
    # Call handling and CAD clocks differ by seconds; a call cannot be reported after its
    # own latest update, so the earlier of the two is the honest reading.
    return min([*starts, fallback])


def _ref_ids(value: object) -> list[str]:
    """Ids named by a locationReference: [{"$ref": "#id"}], "$ref:id", "#id", or lists."""
    items = value if isinstance(value, list) else [value]
    ids: list[str] = []
    for item in items:
        ref = item.get("$ref") if isinstance(item, dict) else item
        if isinstance(ref, str):
            ids.append(ref.removeprefix("$ref:").lstrip("#"))
    return ids


def _location(
    doc: dict[str, Any], comp: dict[str, Any]
) -> tuple[GeoPoint | None, float | None, str | None]:
    locations = _components(doc, "locationComponent")
    if not locations:
        raise CadParseError(
            "locationComponent", "missing: a call needs a PIDF-LO position or a civic address"
        )
    wanted = _ref_ids(comp.get("locationReference"))

    def rank(item: tuple[str, dict[str, Any]]) -> tuple[int, int]:
        """Referenced by the incident first, then typed as the incident's location."""
        own_id = item[1].get("$id")
        own = own_id.lstrip("#") if isinstance(own_id, str) else None
        kind = item[1].get("locationTypeDescriptionRegistryText")
        kinds = kind if isinstance(kind, list) else [kind]
        is_incident = any(isinstance(k, str) and "incident" in k.lower() for k in kinds)
        return (wanted.index(own) if own in wanted else len(wanted), 0 if is_incident else 1)

    point: GeoPoint | None = None
    uncertainty: float | None = None
    address: str | None = None
    description: str | None = None
    for path, loc in sorted(locations, key=rank):
        if loc.get("locationByValue") is not None:
            found = parse_pidf_lo(loc["locationByValue"], join(path, "locationByValue"))
            if point is None and found.point is not None:
                point, uncertainty = found.point, found.uncertainty_m
            address = address or found.address
        if description is None:
            description = optional_text(
                loc.get("locationDescriptionText"), join(path, "locationDescriptionText")
            )
    address = address or description
    if point is None and address is None:
        raise CadParseError(
            "locationComponent",
            "no usable location: no PIDF-LO position or civic address by value "
            "(locations given only by reference URL are not fetched)",
        )
    return point, uncertainty, address


def parse_eido(obj: object, *, categories: CategoryTable) -> ParsedCall:
    """Parse one EIDO JSON document (already decoded from JSON). Raises CadParseError."""
    doc = expect_object(obj, "$")
    incidents = _components(doc, "incidentComponent")
    if not incidents:
        raise CadParseError("incidentComponent", "missing: an EIDO needs an incident component")
    top_update = _update_time(doc, "")
    dated: list[tuple[datetime, int, str, dict[str, Any]]] = []
    for index, (path, comp) in enumerate(incidents):
        updated = _update_time(comp, path) or top_update
        if updated is None:
            raise CadParseError(
                join(path, "lastUpdateTimeStamp"), "missing (in the incident component or the EIDO)"
            )
        dated.append((updated, index, path, comp))
    updated_at, _, path, comp = max(dated, key=lambda item: (item[0], item[1]))

    incident_id = clean_text(
        comp.get("incidentTrackingIdentifier"),
        join(path, "incidentTrackingIdentifier"),
        limit=MAX_ID,
    )
    common = _first_text(
        comp.get("incidentTypeCommonRegistryText"), join(path, "incidentTypeCommonRegistryText")
    )
    code = _first_text(
        comp.get("incidentTypeInternalCode"), join(path, "incidentTypeInternalCode"), limit=60
    )
    text = _first_text(comp.get("incidentTypeInternalText"), join(path, "incidentTypeInternalText"))
    type_code = code or common
    type_text = text or common or code
    if type_code is None or type_text is None:
        raise CadParseError(
            join(path, "incidentTypeCommonRegistryText"), "missing: no incident type code or text"
        )
    point, uncertainty, address = _location(doc, comp)
    return ParsedCall(
        incident_id=incident_id,
        type_code=type_code[:60],
        type_text=type_text,
        priority=_priority(comp, path),
        status=_status(comp, path),
        location=point,
        address=address,
        reported_at=_reported_at(doc, updated_at),
        updated_at=updated_at,
        source="eido",
        uncertainty_m=uncertainty,
        category=categories.category_for(type_code, " ".join(t for t in (type_text, common) if t)),
    )
