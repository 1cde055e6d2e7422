"""PIDF-LO (RFC 4119 / RFC 5491 / RFC 5139) location documents inside EIDO messages.

An EIDO ``locationComponent`` carries its location by value as a PIDF-LO XML document:
a geodetic shape (``gml:Point``, ``gs:Circle``, ``gs:Ellipse``, ``gml:Polygon``...) and/or a
civic address (``ca:civicAddress`` with A1..A6, RD, STS, HNO...). This module reads the
first of each into a position, an uncertainty radius in metres and a one-line address.

The XML comes from outside, so it is parsed with defusedxml: no DTDs, no entity
expansion (billion-laughs), no external fetches, and a size cap before parsing.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import defusedxml
import defusedxml.ElementTree as SafeET

from rtcc_console.core.cad_types import CadParseError, join, make_point, parse_number, short
from rtcc_console.core.models import GeoPoint

MAX_PIDF_BYTES = 64 * 1024

# Units of length PIDF-LO uses (EPSG unit codes), in metres.
_UOM_METRES = {"9001": 1.0, "9002": 0.3048, "9003": 1200.0 / 3937.0, "9036": 1000.0}
_SHAPES = {"Point", "Circle", "Sphere", "Ellipse", "Ellipsoid", "ArcBand", "Polygon", "Prism"}
_EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, slots=True)
class PidfLocation:
    """What a PIDF-LO document says about where the incident is."""

    point: GeoPoint | None
    uncertainty_m: float | None
    address: str | None


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(element: ET.Element, name: str) -> ET.Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _parse_xml(text: str, path: str) -> ET.Element:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_PIDF_BYTES:
        raise CadParseError(path, f"PIDF-LO document is larger than {MAX_PIDF_BYTES // 1024} KiB")
    try:
        root: ET.Element = SafeET.fromstring(text, forbid_dtd=True)
    except defusedxml.DefusedXmlException:
        raise CadParseError(
            path, "PIDF-LO document declares a DTD or entities, which are refused"
        ) from None
    except (ET.ParseError, ValueError) as exc:
        raise CadParseError(path, f"PIDF-LO document is not well-formed XML ({exc})") from None
    return root


def _length_m(element: ET.Element, path: str) -> float:
    value = parse_number((element.text or "").strip(), path)
    uom = element.get("uom", "urn:ogc:def:uom:EPSG::9001")
    code = uom.rsplit(":", 1)[-1]
    factor = _UOM_METRES.get(code)
    if factor is None:
        raise CadParseError(
            path, f"unsupported unit of length {short(uom)} (expected EPSG::9001 metres)"
        )
    if value < 0:
        raise CadParseError(path, f"distance must not be negative, got {value}")
    return value * factor


def _lat_lon_pairs(text: str, srs: str, path: str) -> list[tuple[float, float]]:
    """Coordinates from a gml:pos / gml:posList, honouring the axis order of the CRS."""
    numbers = [parse_number(token, path) for token in text.split()]
    dims = 3 if srs.endswith("4979") or srs.endswith("4978") else 2
    if not numbers or len(numbers) % dims:
        raise CadParseError(path, f"expected groups of {dims} coordinates, got {short(text)}")
    pairs = [(numbers[i], numbers[i + 1]) for i in range(0, len(numbers), dims)]
    if "CRS84" in srs:  # longitude first
        pairs = [(lat, lon) for lon, lat in pairs]
    return pairs


def _srs(shape: ET.Element, path: str) -> str:
    srs = shape.get("srsName", "urn:ogc:def:crs:EPSG::4326")
    if not (srs.endswith(("4326", "4979")) or "CRS84" in srs):
        raise CadParseError(
            path, f"unsupported coordinate reference system {short(srs)} (expected EPSG::4326)"
        )
    return srs


def _distance_m(a: GeoPoint, b: GeoPoint) -> float:
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _read_shape(shape: ET.Element, path: str) -> tuple[GeoPoint, float | None]:
    name = _local(shape.tag)
    srs = _srs(shape, path)
    if name in {"Polygon", "Prism"}:
        texts = [e.text or "" for e in shape.iter() if _local(e.tag) in {"pos", "posList"}]
        pairs = [
            pair for text in texts for pair in _lat_lon_pairs(text, srs, join(path, "posList"))
        ]
        if len(pairs) > 1 and pairs[0] == pairs[-1]:
            pairs = pairs[:-1]  # a closed ring repeats its first vertex
        if len(pairs) < 3:
            raise CadParseError(path, "a polygon needs at least 3 vertices")
        center = make_point(
            sum(p[0] for p in pairs) / len(pairs), sum(p[1] for p in pairs) / len(pairs), path
        )
        for lat, lon in pairs:
            make_point(lat, lon, join(path, "posList"))
        return center, max(_distance_m(center, GeoPoint(lat, lon)) for lat, lon in pairs)
    pos = _child(shape, "pos")
    if pos is None:
        raise CadParseError(path, f"gml {name} has no gml:pos")
    pairs = _lat_lon_pairs(pos.text or "", srs, join(path, "pos"))
    if len(pairs) != 1:
        raise CadParseError(join(path, "pos"), f"expected one position, got {short(pos.text)}")
    point = make_point(pairs[0][0], pairs[0][1], join(path, "pos"))
    radius_name = {
        "Circle": "radius",
        "Sphere": "radius",
        "Ellipse": "semiMajorAxis",
        "Ellipsoid": "semiMajorAxis",
        "ArcBand": "outerRadius",
    }.get(name)
    if radius_name is None:
        return point, None
    radius = _child(shape, radius_name)
    if radius is None:
        raise CadParseError(path, f"gs:{name} has no gs:{radius_name}")
    return point, _length_m(radius, join(path, radius_name))


def civic_address_line(civic: ET.Element) -> str | None:
    """A one-line address ("1200 Elm St, Dallas, TX 75201") from an RFC 5139 civicAddress."""
    fields: dict[str, str] = {}
    for child in civic:
        text = " ".join((child.text or "").split())
        if text and _local(child.tag) not in fields:
            fields[_local(child.tag)] = text

    def pick(*names: str) -> list[str]:
        return [fields[n] for n in names if n in fields]

    number = "".join(pick("HNO", "HNS"))
    street_name = fields.get("RD") or fields.get("A6")
    street = " ".join(p for p in (fields.get("PRD"), street_name) if p)
    street_line = " ".join(p for p in (number, street, *pick("STS", "POD")) if p)
    unit = [
        f"{label} {fields[n]}"
        for n, label in (("BLD", "Bldg"), ("FLR", "Floor"), ("UNIT", "Unit"), ("ROOM", "Room"))
        if n in fields
    ]
    region = " ".join(pick("A1", "PC"))
    parts = [p for p in (street_line, *unit, *pick("A3"), region) if p]
    if not parts and not any(n in fields for n in ("NAM", "LMK", "LOC")):
        return None
    line = ", ".join(parts)
    extras = "; ".join(pick("NAM", "LMK", "LOC"))
    return f"{line} ({extras})" if line and extras else (line or extras)


def parse_pidf_lo(text: object, path: str) -> PidfLocation:
    """Read the first geodetic shape and the first civic address of a PIDF-LO document."""
    if not isinstance(text, str):
        raise CadParseError(
            path,
            f"expected a PIDF-LO XML document as text, got {type(text).__name__} {short(text)}",
        )
    root = _parse_xml(text, path)
    point: GeoPoint | None = None
    uncertainty: float | None = None
    address: str | None = None
    for element in root.iter():
        name = _local(element.tag)
        if point is None and name in _SHAPES:
            point, uncertainty = _read_shape(element, join(path, name))
        elif address is None and name == "civicAddress":
            address = civic_address_line(element)
    return PidfLocation(point, uncertainty, address)
