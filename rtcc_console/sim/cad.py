"""Simulated CAD feed: plausible Dallas dispatch calls as EIDO or simple JSON.

The generator functions are pure (a seeded ``random.Random`` in, dicts out) so tests,
benchmarks and the demo can use them without a server. ``rtcc sim cad`` posts them to
``POST /api/v1/calls`` (see :mod:`rtcc_console.sim.cad_post`).

``build_eido`` is the inverse of ``core.cad.parse_call`` for EIDO: what it builds parses
back to the same call (a round-trip the tests hold it to).
"""

from __future__ import annotations

import html
import math
import random
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from rtcc_console.core.models import CallStatus

# Dallas as the simulator draws it: a bounding box and a denser centre (downtown).
LAT_MIN, LAT_MAX, LON_MIN, LON_MAX = 32.62, 33.02, -97.00, -96.55
CENTER_LAT, CENTER_LON = 32.7831, -96.8067
GRID_DEG = 0.0018  # ~200 m between parallel streets
CIVIC_ONLY_SHARE = 0.03
UPDATE_SHARE = 0.25  # share of records that are status updates of earlier incidents

NS = {
    "": "urn:ietf:params:xml:ns:pidf",
    "gp": "urn:ietf:params:xml:ns:pidf:geopriv10",
    "gml": "http://www.opengis.net/gml",
    "gs": "http://www.opengis.net/pidflo/1.0",
    "ca": "urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr",
}
# Our status as the EIDO Incident Status – Common registry value (NENA-STA-021.1b Table 33)
# and as the CAD's own word (incidentStatusInternalText).
_EIDO_STATUS = {
    CallStatus.PENDING: "Active",
    CallStatus.DISPATCHED: "ResourcesAssigned",
    CallStatus.ON_SCENE: "ResourcesOnscene",
    CallStatus.CLOSED: "Closed",
}
_INTERNAL_STATUS = {
    CallStatus.PENDING: "Queued",
    CallStatus.DISPATCHED: "Dispatched",
    CallStatus.ON_SCENE: "OnScene",
    CallStatus.CLOSED: "Closed",
}
SIM_AGENCY = "dallas-pd.cad.example"


@dataclass(frozen=True, slots=True)
class CallType:
    """One line of the simulated call mix."""

    code: str
    text: str
    registry: str  # EIDO Incident Type – Common registry value (APCO 2.103.2 code)
    weight: float
    priorities: tuple[int, ...]


CALL_MIX: tuple[CallType, ...] = (
    CallType("DIST", "Disturbance", "DISORD", 14, (2, 3, 3)),
    CallType("SUSP", "Suspicious person", "PERSUSP", 11, (3, 3, 4)),
    CallType("THEFT", "Theft report", "LARCENY", 9, (4, 4, 5)),
    CallType("MVA", "Motor vehicle accident", "MVA", 9, (2, 3, 3)),
    CallType("BURG", "Burglary", "BURGLARY", 6, (2, 3)),
    CallType("BURGIP", "Burglary in progress", "BURGLARY", 2, (1,)),
    CallType("ALRMB", "Burglar alarm, business", "ALMB", 6, (3, 4)),
    CallType("ASLT", "Assault", "ASSAULT", 6, (1, 2)),
    CallType("DV", "Domestic violence", "DVA", 4, (1, 2)),
    CallType("UUMV", "Unauthorized use of motor vehicle", "VEHSTLN", 5, (4,)),
    CallType("BMV", "Burglary of motor vehicle", "BURGLARY", 5, (4, 5)),
    CallType("WELF", "Welfare check", "WELFARE", 6, (3, 4)),
    CallType("MED", "Medical emergency", "SICK", 5, (1, 2)),
    CallType("ROBB", "Robbery", "ROBBERY", 3, (1, 2)),
    CallType("SHOTS", "Shots fired", "SHOOT", 3, (1,)),
    CallType("MISS", "Missing person", "PERMISS", 2, (2, 3)),
    CallType("FIRE", "Structure fire", "FSTRU", 2, (1,)),
    CallType("NOISE", "Loud noise / party", "NOISE", 2, (5, 6)),
)

REGISTRY_TEXT = {t.code: t.registry for t in CALL_MIX}

# East-west streets (constant latitude) and north-south streets (constant longitude).
EW_STREETS = (
    "Elm St",
    "Main St",
    "Commerce St",
    "Jackson St",
    "Wood St",
    "Young St",
    "Canton St",
    "Ross Ave",
    "San Jacinto St",
    "Live Oak St",
    "Swiss Ave",
    "Gaston Ave",
    "Columbia Ave",
    "Lemmon Ave",
    "McKinney Ave",
    "Maple Ave",
    "Forest Ln",
    "Royal Ln",
    "Northwest Hwy",
    "Lovers Ln",
    "Mockingbird Ln",
    "Davis St",
    "Jefferson Blvd",
    "Illinois Ave",
    "Ledbetter Dr",
    "Kiest Blvd",
    "Camp Wisdom Rd",
    "Walnut Hill Ln",
)
NS_STREETS = (
    "Akard St",
    "Ervay St",
    "Harwood St",
    "St Paul St",
    "Pearl St",
    "Hall St",
    "Haskell Ave",
    "Peak St",
    "Carroll Ave",
    "Fitzhugh Ave",
    "Munger Ave",
    "Beckley Ave",
    "Zang Blvd",
    "Lamar St",
    "Industrial Blvd",
    "Hampton Rd",
    "Westmoreland Rd",
    "Cockrell Hill Rd",
    "Marsh Ln",
    "Preston Rd",
    "Hillcrest Rd",
    "Coit Rd",
    "Greenville Ave",
    "Abrams Rd",
    "Skillman St",
    "Ferguson Rd",
    "Buckner Blvd",
)

_STREET_RE = re.compile(
    r"^(?P<HNO>\d+)(?P<HNS>[A-Z]?)\s+(?:(?P<PRD>[NSEW])\s+)?(?P<RD>.+?)"
    r"\s+(?P<STS>St|Ave|Blvd|Rd|Dr|Ln|Pkwy|Fwy|Hwy|Way|Ct|Pl)$"
)
_REGION_RE = re.compile(r"^(?P<A1>[A-Z]{2})(?:\s+(?P<PC>\d{5}))?$")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _civic_fields(address: str) -> list[tuple[str, str]]:
    """Split "1200 Elm St, Dallas, TX 75201" into RFC 5139 civic elements."""
    parts = [p.strip() for p in address.split(",")]
    fields: list[tuple[str, str]] = [("country", "US")]
    region = ", ".join(parts[2:])
    match = _REGION_RE.match(region)
    if match:
        fields.append(("A1", match["A1"]))
    elif region:
        fields.append(("A1", region))
    if len(parts) > 1 and parts[1]:
        fields.append(("A3", parts[1]))
    street = _STREET_RE.match(parts[0])
    if street:
        fields += [(k, street[k]) for k in ("PRD", "RD", "STS", "HNO", "HNS") if street[k]]
    else:
        fields.append(("RD", parts[0]))
    if match and match["PC"]:
        fields.append(("PC", match["PC"]))
    return fields


def build_pidf_lo(
    *, lat: float | None, lon: float | None, address: str | None, uncertainty_m: float | None
) -> str:
    """A PIDF-LO document with a point or circle and/or a civic address."""
    for prefix, uri in NS.items():
        if prefix:
            ET.register_namespace(prefix, uri)  # only affects prefixes in the output
    root = ET.Element(f"{{{NS['']}}}presence", {"entity": "pres:incident@cad.dallas.example"})
    tup = ET.SubElement(root, f"{{{NS['']}}}tuple", {"id": "incident-location"})
    geopriv = ET.SubElement(ET.SubElement(tup, f"{{{NS['']}}}status"), f"{{{NS['gp']}}}geopriv")
    info = ET.SubElement(geopriv, f"{{{NS['gp']}}}location-info")
    if lat is not None and lon is not None:
        srs = {"srsName": "urn:ogc:def:crs:EPSG::4326"}
        shape = ET.SubElement(
            info,
            f"{{{NS['gs' if uncertainty_m is not None else 'gml']}}}"
            + ("Circle" if uncertainty_m is not None else "Point"),
            srs,
        )
        ET.SubElement(shape, f"{{{NS['gml']}}}pos").text = f"{lat!r} {lon!r}"
        if uncertainty_m is not None:
            radius = ET.SubElement(
                shape, f"{{{NS['gs']}}}radius", {"uom": "urn:ogc:def:uom:EPSG::9001"}
            )
            radius.text = repr(float(uncertainty_m))
    if address:
        civic = ET.SubElement(info, f"{{{NS['ca']}}}civicAddress")
        for name, value in _civic_fields(address):
            ET.SubElement(civic, f"{{{NS['ca']}}}{name}").text = value
    ET.SubElement(geopriv, f"{{{NS['gp']}}}usage-rules")
    ET.SubElement(geopriv, f"{{{NS['gp']}}}method").text = "Manual" if lat is None else "GPS"
    return ET.tostring(root, encoding="unicode")


def eido_priority(priority: int) -> int:
    """Our 1..9 (1 most urgent) as EIDO's 0..10 (10 most urgent); inverse of the parser."""
    return 10 - round((priority - 1) * 10 / 8)


def build_eido(
    *,
    incident_id: str,
    type_code: str,
    type_text: str,
    priority: int,
    status: CallStatus | str,
    lat: float | None,
    lon: float | None,
    address: str | None,
    reported_at: datetime,
    updated_at: datetime,
    uncertainty_m: float | None = None,
    civic_only: bool = False,
    registry_text: str | None = None,
    notes: list[str] | None = None,
    units: list[str] | None = None,
) -> dict[str, Any]:
    """An EIDO JSON document for one call, as NENA-STA-021.1b writes it (valid against the
    official schema): the EIDO's ``$id`` is the incident tracking id, one incident
    component, location as PIDF-LO by value.

    ``civic_only`` (or a missing lat/lon) leaves coordinates out, as a CAD does when it has
    only a street address.
    """
    state = CallStatus(status)
    if civic_only or lat is None or lon is None:
        lat = lon = None
        uncertainty_m = None
    stamp = _iso(updated_at)
    serial = re.sub(r"[^A-Za-z0-9]+", "-", incident_id).strip("-")[-40:] or "x"
    agency = {"$ref": SIM_AGENCY}
    prologue: dict[str, Any] = {"lastUpdateTimeStamp": stamp, "updatedByAgencyReference": agency}
    extra: dict[str, Any] = {}
    if notes:
        extra["notesComponent"] = [
            {"$id": f"note-{serial}-{i}", **prologue, "notesActionComments": html.escape(text)}
            for i, text in enumerate(notes)
        ]
    if units:
        extra["emergencyResourceComponent"] = [
            {
                "$id": f"unit-{serial}-{unit}",
                **prologue,
                "emergencyResourceName": unit,
                "agentReference": [{"$ref": f"agent-{unit}"}],
                "emergencyResourceTypeCommonRegistryText": "Law Enforcement",
                "resourceAttributeRegistryText": [],
                "primaryUnitStatusRegistryText": "Dispatched",
                "secondaryUnitStatusRegistryText": [],
            }
            for unit in units
        ]
    return extra | {
        "$id": incident_id,  # STA-021.1b: the EIDO's $id is the incident tracking identifier
        **prologue,
        "eidoVersion": "1.0",
        "issuingElementIdentification": "urn:nena:element:cad:rtcc-sim",
        "agencyComponent": [
            {
                "$id": SIM_AGENCY,
                **prologue,
                "agencyRoleDescriptionRegistryText": ["Dispatching"],
                "agencyType": ["police"],
                "incidentOwningAgencyIndicator": True,
            }
        ],
        "incidentComponent": {
            "$id": f"incident-{serial}",
            **prologue,
            "incidentTypeCommonRegistryText": registry_text or type_code,
            "incidentTypeInternalCode": type_code,
            "incidentTypeInternalText": type_text,
            "incidentCommonPriorityNumber": eido_priority(priority),
            "incidentPriorityInternalText": f"P{priority}",
            "incidentStatusCommonRegistryText": [_EIDO_STATUS[state]],
            "incidentStatusInternalText": [_INTERNAL_STATUS[state]],
            "locationReference": [{"$ref": f"location-{serial}"}],
        },
        "callComponent": [
            {
                "$id": f"call-{serial}",
                **prologue,
                "callStartTimestamp": _iso(reported_at),
                "callStateRegistryText": "callEnd",
                "standardPrimaryCallType": "emergency",
                "direction": "incoming",
            }
        ],
        "locationComponent": [
            {
                "$id": f"location-{serial}",
                **prologue,
                "locationTypeDescriptionRegistryText": "Incident",
                "locationByValue": build_pidf_lo(
                    lat=lat, lon=lon, address=address, uncertainty_m=uncertainty_m
                ),
            }
        ],
    }


def simple_to_eido(record: dict[str, Any]) -> dict[str, Any]:
    """The EIDO form of a record made by :func:`generate_calls`."""
    return build_eido(
        incident_id=record["incident_id"],
        type_code=record["type_code"],
        type_text=record["type_text"],
        priority=record["priority"],
        status=record["status"],
        lat=record["lat"],
        lon=record["lon"],
        address=record["address"],
        reported_at=datetime.fromisoformat(record["reported_at"]),
        updated_at=datetime.fromisoformat(record["updated_at"]),
        uncertainty_m=record.get("uncertainty_m"),
        registry_text=REGISTRY_TEXT.get(record["type_code"]),
        notes=record.get("notes"),
        units=record.get("units"),
    )


def _position(rng: random.Random) -> tuple[float, float, str, str]:
    """A point on the street grid, dense downtown: (lat, lon, address, street name)."""
    if rng.random() < 0.6:
        lat, lon = rng.gauss(CENTER_LAT, 0.045), rng.gauss(CENTER_LON, 0.055)
    else:
        lat, lon = rng.uniform(LAT_MIN, LAT_MAX), rng.uniform(LON_MIN, LON_MAX)
    lat = min(max(lat, LAT_MIN + 0.001), LAT_MAX - 0.001)
    lon = min(max(lon, LON_MIN + 0.001), LON_MAX - 0.001)
    if rng.random() < 0.5:  # on an east-west street; numbers count from the centre
        row = round((lat - CENTER_LAT) / GRID_DEG)
        lat = CENTER_LAT + row * GRID_DEG
        street = EW_STREETS[row % len(EW_STREETS)]
        block = abs(round((lon - CENTER_LON) / GRID_DEG)) * 100
        prefix = "W" if lon < CENTER_LON else "E"
    else:  # on a north-south street
        col = round((lon - CENTER_LON) / GRID_DEG)
        lon = CENTER_LON + col * GRID_DEG
        street = NS_STREETS[col % len(NS_STREETS)]
        block = abs(round((lat - CENTER_LAT) / GRID_DEG)) * 100
        prefix = "S" if lat < CENTER_LAT else "N"
    number = max(block + rng.randrange(0, 100), 1)
    return round(lat, 6), round(lon, 6), f"{number} {prefix} {street}, Dallas, TX", street


#: what a call taker might type, per call type (the console's detail pane shows it)
NARRATIVE: dict[str, tuple[str, ...]] = {
    "ROBB": (
        "Caller states two males took her purse and ran north.",
        "Suspect vehicle: white pickup, partial plate 7K.",
    ),
    "BURGIP": (
        "Caller hears glass breaking at the back of the house.",
        "Caller is hiding upstairs, line kept open.",
    ),
    "SHOTS": (
        "Several shots heard near the corner store.",
        "Possible dark sedan leaving eastbound.",
    ),
    "MVA": (
        "Two vehicles, one on its side; unknown injuries.",
        "Fluid leaking, traffic blocked in both lanes.",
    ),
    "ASLT": ("Fight in the parking lot, one person on the ground.",),
    "DV": ("Neighbour reports yelling and a door slamming.",),
    "BMV": (
        "Window smashed on a parked SUV overnight.",
        "Owner asks whether a doorbell camera saw it.",
    ),
    "THEFT": ("Packages taken from the porch this afternoon.",),
    "SUSP": ("Person trying car door handles along the block.",),
    "ALRMB": ("Alarm company: front door contact, no keyholder yet.",),
    "FIRE": ("Smoke showing from the second floor.",),
}
NARRATIVE_DEFAULT = ("Caller requests an officer.",)


def _details(incident_id: str, code: str) -> dict[str, list[str]]:
    """Notes and units for a new incident, from its id (the main generator's random
    sequence is left as it was)."""
    narr = random.Random(incident_id)
    lines = NARRATIVE.get(code, NARRATIVE_DEFAULT)
    units = [
        f"{narr.randint(1, 7)}{narr.choice('ABCDE')}{narr.randint(10, 99)}"
        for _ in range(narr.randint(1, 2))
    ]
    return {
        "notes": list(lines[: narr.randint(1, len(lines))]),
        "units": units,
        "agencies": ["Dallas Police Department"],
    }


def _new_incident(rng: random.Random, incident_id: str, moment: datetime) -> dict[str, Any]:
    kind = rng.choices(CALL_MIX, [t.weight for t in CALL_MIX])[0]
    lat, lon, address, street = _position(rng)
    if kind.code == "MVA" and rng.random() < 0.3:
        cross = NS_STREETS if street in EW_STREETS else EW_STREETS
        address = f"{street} & {rng.choice(cross)}, Dallas, TX"
    civic_only = rng.random() < CIVIC_ONLY_SHARE
    record: dict[str, Any] = {
        "format": "simple",
        "incident_id": incident_id,
        "type_code": kind.code,
        "type_text": kind.text,
        "priority": rng.choice(kind.priorities),
        "status": CallStatus.PENDING.value,
        "lat": None if civic_only else lat,
        "lon": None if civic_only else lon,
        "address": address,
        "reported_at": moment.isoformat(),
        "updated_at": moment.isoformat(),
    }
    if not civic_only and rng.random() < 0.4:
        record["uncertainty_m"] = float(rng.choice((8, 15, 25, 50, 100)))
    record.update(_details(incident_id, kind.code))
    return record


def generate_calls(
    rng: random.Random,
    n: int,
    now: datetime,
    *,
    span: timedelta = timedelta(hours=1),
    id_prefix: str | None = None,
) -> list[dict[str, Any]]:
    """``n`` simple-form call records whose update times fall in ``(now - span, now]``.

    About a quarter of the records are later status updates of earlier incidents (same
    incident id, content and reported time; newer update time; a status further along);
    about 3 % of incidents have only a civic address. Sorted by update time, so posting
    them in order replays the feed as a CAD would have sent it. Incident ids are
    ``{id_prefix}-{index}``; the default prefix is derived from ``now``.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    step = span / max(n, 1)
    prefix = id_prefix if id_prefix is not None else f"DPD-{now:%y%m%d%H%M%S}"
    order = list(_EIDO_STATUS)
    records: list[dict[str, Any]] = []
    open_incidents: list[dict[str, Any]] = []
    for i in range(n):
        moment = now - span + step * (i + 1)
        if step >= timedelta(seconds=2):
            moment = moment.replace(microsecond=0)
        earlier = [r for r in open_incidents if datetime.fromisoformat(r["updated_at"]) < moment]
        if earlier and rng.random() < UPDATE_SHARE:
            previous = rng.choice(earlier)
            index = order.index(CallStatus(previous["status"])) + rng.choice((1, 1, 2))
            status = order[min(index, len(order) - 1)]
            record = {**previous, "status": status.value, "updated_at": moment.isoformat()}
            open_incidents.remove(previous)
            if status is not CallStatus.CLOSED:
                open_incidents.append(record)
        else:
            record = _new_incident(rng, f"{prefix}-{i:05d}", moment)
            open_incidents.append(record)
        records.append(record)
    return records


def distance_from_center_m(lat: float, lon: float) -> float:
    """Rough metres from downtown (equirectangular; fine for a city)."""
    dy = (lat - CENTER_LAT) * 111_320.0
    dx = (lon - CENTER_LON) * 111_320.0 * math.cos(math.radians(CENTER_LAT))
    return math.hypot(dx, dy)
