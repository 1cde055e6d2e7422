"""NENA i3 EIDO (Emergency Incident Data Object, NENA-STA-021/024) JSON to a ParsedCall.

Written to NENA-STA-021.1b (the official schema and sample are kept under
tests/data/eido/nena/). A conformant EIDO is accepted and the call is built from whatever
it carries; what had to be guessed is listed in ``ParsedCall.warnings`` (the server puts
them in the call's history) rather than refusing the call.

Fields read (names as in the EIDO JSON schema):

* The incident tracking identifier: ``incidentTrackingIdentifier`` in the incident
  component or at the top (older drafts, some vendors), else the EIDO's own top-level
  ``$id`` (STA-021.1b: "in this data component, the identifier ($id) is the Incident
  Tracking Identifier").
* ``incidentComponent`` (optional; one object as the standard says, or an array as some
  vendors send it: the latest by ``lastUpdateTimeStamp`` wins):
  ``incidentTypeInternalCode`` / ``incidentTypeInternalText``
  (the agency's codes) and ``incidentTypeCommonRegistryText`` (the IANA registry value),
  ``incidentCommonPriorityNumber`` (0..10, 10 most urgent) or ``incidentPriorityInternalText``,
  ``incidentStatusCommonRegistryText`` / ``incidentStatusInternalText`` (arrays of words;
  every value of the Incident Status registry is mapped, unknown words become warnings),
  ``locationReference``. Without an incident component (or without a type) the call is
  kept as type ``UNKNOWN``, priority 5, status pending.
* ``lastUpdateTimeStamp`` in the component or at the top level; ``LastUpdateTimeStamp``
  (capitalised, as some vendors send it) is tolerated in both places.
* ``callComponent[].callStartTimestamp``: the earliest is the time the call was reported.
* ``locationComponent`` (object or array): ``locationByValue`` is a PIDF-LO document
  (see :mod:`cad_pidf`); components named by the incident's ``locationReference`` first.
  ``locationDescriptionText`` stands in for an address when there is no civic address.
  Components referenced by the incident (then by the calls) come first.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any

from rtcc_console.core.cad_pidf import parse_pidf_lo
from rtcc_console.core.cad_types import (
    MAX_DETAIL_ITEMS,
    MAX_ID,
    MAX_NOTE,
    CadParseError,
    ParsedCall,
    clean_text,
    expect_object,
    join,
    optional_text,
    parse_number,
    parse_time,
    read_status_lenient,
    short,
)
from rtcc_console.core.categories import CategoryTable
from rtcc_console.core.models import CallStatus, GeoPoint

DEFAULT_PRIORITY = 5  # when the EIDO gives none: the middle of the 1..9 scale
UNKNOWN_TYPE = ("UNKNOWN", "Incident type not given")
_PRIORITY_WORDS = {
    "critical": 1,
    "emergency": 1,
    "urgent": 2,
    "high": 2,
    "medium": 4,
    "normal": 5,
    "routine": 6,
    "low": 7,
    "lowest": 9,
}
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


def _priority(comp: dict[str, Any], path: str, warnings: list[str]) -> int:
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
    warnings.append(
        f"{field}: unrecognised priority {short(text)}; priority {DEFAULT_PRIORITY} assumed"
    )
    return DEFAULT_PRIORITY


def _status(comp: dict[str, Any], path: str, warnings: list[str]) -> tuple[CallStatus, bool]:
    """The call status and whether it was assumed (no known word in the message).

    The common registry words decide, then the agency's internal words. Unknown words are
    warnings, not errors: a vendor's new status must not cost the call.
    """
    given = False
    for key in ("incidentStatusCommonRegistryText", "incidentStatusInternalText"):
        value = comp.get(key)
        if value is None or value == []:
            continue
        given = True
        status, problems = read_status_lenient(value, join(path, key))
        warnings.extend(problems)
        if status is not None:
            return status, False
    if given:
        warnings.append(
            f"{path}: no known status word; the call keeps its current status (pending when new)"
        )
    return CallStatus.PENDING, True


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
    for _path, call in _components(doc, "callComponent"):
        wanted += [ref for ref in _ref_ids(call.get("locationReference")) if ref not in wanted]

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


def _incident_id(doc: dict[str, Any], comp: dict[str, Any], path: str) -> str:
    """incidentTrackingIdentifier (component, then top level), else the EIDO's ``$id``."""
    for where, holder, key in (
        (path, comp, "incidentTrackingIdentifier"),
        ("", doc, "incidentTrackingIdentifier"),
        ("", doc, "$id"),
    ):
        if holder.get(key) is not None:
            return clean_text(holder[key], join(where, key), limit=MAX_ID)
    raise CadParseError(
        "$id",
        "missing: the incident tracking identifier (the EIDO's $id, or incidentTrackingIdentifier)",
    )


def _latest_incident(
    doc: dict[str, Any], top_update: datetime | None
) -> tuple[datetime, str, dict[str, Any]]:
    incidents = _components(doc, "incidentComponent")
    if not incidents:
        if top_update is None:
            raise CadParseError(
                "lastUpdateTimeStamp", "missing (the EIDO has no incident component)"
            )
        return top_update, "incidentComponent", {}
    dated: list[tuple[datetime, int, str, dict[str, Any]]] = []
    for index, (path, comp) in enumerate(incidents):
        updated = _update_time(comp, path) or top_update
        if updated is None:
            raise CadParseError(
                join(path, "lastUpdateTimeStamp"), "missing (in the incident component or the EIDO)"
            )
        dated.append((updated, index, path, comp))
    updated_at, _, path, comp = max(dated, key=lambda item: (item[0], item[1]))
    return updated_at, path, comp


def _plain(html_text: str) -> str:
    """EIDO notes are HTML5: tags dropped, entities decoded, whitespace folded."""
    text = re.sub(r"<[^>]*>", " ", html_text)
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def _details(doc: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Notes, units and agencies of the EIDO, as short texts, in document order.

    Malformed entries in these optional components are skipped rather than refusing the
    call: the narrative is helpful, the call itself matters more.
    """
    notes: list[str] = []
    for comp in _components_lenient(doc, "notesComponent"):
        value = comp.get("notesActionComments")
        if isinstance(value, str) and _plain(value):
            notes.append(_plain(value)[:MAX_NOTE])
    units: list[str] = []
    for comp in _components_lenient(doc, "emergencyResourceComponent"):
        name = comp.get("emergencyResourceName") or comp.get("$id")
        if not isinstance(name, str) or not name.strip():
            continue
        status = comp.get("primaryUnitStatusRegistryText")
        kind = comp.get("emergencyResourceTypeCommonRegistryText")
        extra = ", ".join(t for t in (kind, status) if isinstance(t, str) and t.strip())
        units.append(f"{name.strip()[:120]} ({extra[:120]})" if extra else name.strip()[:120])
    agencies: list[str] = []
    for comp in _components_lenient(doc, "agencyComponent"):
        ident = comp.get("$id")
        if not isinstance(ident, str) or not ident.strip():
            continue
        roles = comp.get("agencyRoleDescriptionRegistryText")
        role = ", ".join(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else ""
        agencies.append(f"{ident.strip()[:120]} ({role[:120]})" if role else ident.strip()[:120])
    return (
        tuple(notes[:MAX_DETAIL_ITEMS]),
        tuple(units[:MAX_DETAIL_ITEMS]),
        tuple(agencies[:MAX_DETAIL_ITEMS]),
    )


def _components_lenient(doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = doc.get(key)
    items = [value] if isinstance(value, dict) else value if isinstance(value, list) else []
    return [item for item in items if isinstance(item, dict)]


def parse_eido(obj: object, *, categories: CategoryTable) -> ParsedCall:
    """Parse one EIDO JSON document (already decoded from JSON). Raises CadParseError."""
    doc = expect_object(obj, "$")
    warnings: list[str] = []
    updated_at, path, comp = _latest_incident(doc, _update_time(doc, ""))
    if not comp:
        warnings.append("incidentComponent: none in this EIDO; type, priority and status not given")
    incident_id = _incident_id(doc, comp, path)
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
        if comp:
            warnings.append(
                f"{join(path, 'incidentTypeCommonRegistryText')}: missing; type {UNKNOWN_TYPE[0]} assumed"
            )
        type_code, type_text = UNKNOWN_TYPE
    point, uncertainty, address = _location(doc, comp)
    priority = _priority(comp, path, warnings)
    status, assumed = _status(comp, path, warnings)
    notes, units, agencies = _details(doc)
    return ParsedCall(
        incident_id=incident_id,
        type_code=type_code[:60],
        type_text=type_text,
        priority=priority,
        status=status,
        location=point,
        address=address,
        reported_at=_reported_at(doc, updated_at),
        updated_at=updated_at,
        source="eido",
        uncertainty_m=uncertainty,
        category=categories.category_for(type_code, " ".join(t for t in (type_text, common) if t)),
        warnings=tuple(warnings),
        status_assumed=assumed,
        notes=notes,
        units=units,
        agencies=agencies,
    )
