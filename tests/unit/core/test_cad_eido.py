"""NENA EIDO + PIDF-LO parsing against hand-written samples and hostile variations."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from rtcc_console.core.cad import CadParseError, parse_call
from rtcc_console.core.models import CallStatus, GeoPoint

DATA = Path(__file__).resolve().parents[2] / "data" / "eido"

PIDF_HEAD = (
    '<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" '
    'xmlns:gml="http://www.opengis.net/gml" xmlns:gs="http://www.opengis.net/pidflo/1.0" '
    'xmlns:ca="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr" entity="pres:x@dallas.example">'
    '<tuple id="t"><status><gp:geopriv><gp:location-info>'
)
PIDF_TAIL = "</gp:location-info><gp:usage-rules/></gp:geopriv></status></tuple></presence>"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text())
    return data


def with_location(inner_xml: str) -> dict[str, Any]:
    doc = load("shots_civic_only.json")
    doc["locationComponent"] = {"locationByValue": PIDF_HEAD + inner_xml + PIDF_TAIL}
    return doc


def test_latest_component_wins_and_circle_gives_position_and_uncertainty() -> None:
    call = parse_call(load("burglary_circle_two_versions.json"))
    assert call.incident_id == "urn:emergency:uid:incidentid:2611210001:dallas.example"
    assert (call.type_code, call.type_text, call.category) == (
        "BURG",
        "Burglary in progress",
        "burglary",
    )
    assert call.priority == 1  # common priority 10 of the newer component, not 9 of the older
    assert call.status is CallStatus.DISPATCHED
    # The incident's locationReference (#loc-scene) beats the first (caller) location.
    assert call.location == GeoPoint(32.7812, -96.7968)
    assert call.uncertainty_m == pytest.approx(35.0)
    assert call.address == "1200 Elm St, Dallas, TX 75270"
    assert call.updated_at == datetime(2026, 11, 21, 11, 31, 10, tzinfo=UTC)
    assert call.reported_at == datetime(2026, 11, 21, 11, 28, 55, tzinfo=UTC)  # -06:00 converted
    assert call.source == "eido"


def test_civic_only_location_gives_no_position_and_a_readable_address() -> None:
    call = parse_call(load("shots_civic_only.json"), "application/eido+json; charset=utf-8")
    assert call.location is None and call.uncertainty_m is None
    assert call.address == "1500A N Akard St, Dallas, TX (Rear parking lot)"
    assert (call.priority, call.status, call.category) == (1, CallStatus.ON_SCENE, "shooting")
    # No callStartTimestamp: reported at the update time.
    assert call.reported_at == call.updated_at == datetime(2026, 11, 21, 11, 40, tzinfo=UTC)


def test_capitalised_update_stamp_ellipse_in_feet_and_registry_text_only() -> None:
    call = parse_call(load("mva_ellipse_lowercase.json"))
    assert call.updated_at == datetime(2026, 11, 21, 12, 2, 0, 250000, tzinfo=UTC)
    assert call.reported_at == datetime(2026, 11, 21, 11, 55, tzinfo=UTC)
    assert call.type_code == call.type_text == "Traffic.Collision"
    assert call.category == "traffic"
    assert call.status is CallStatus.CLOSED
    assert call.priority == 6  # EIDO 4 of 10 -> 6 of 9
    assert call.uncertainty_m == pytest.approx(30.48)
    assert call.location == GeoPoint(32.8210, -96.8715)


@pytest.mark.parametrize(("eido_priority", "ours"), [(10, 1), (9, 2), (5, 5), (1, 8), (0, 9)])
def test_common_priority_maps_onto_one_to_nine(eido_priority: int, ours: int) -> None:
    doc = load("shots_civic_only.json")
    doc["incidentComponent"]["incidentCommonPriorityNumber"] = eido_priority
    assert parse_call(doc).priority == ours


def test_polygon_gives_centroid_and_covering_radius() -> None:
    ring = "32.780 -96.800 32.780 -96.798 32.782 -96.798 32.782 -96.800 32.780 -96.800"
    call = parse_call(
        with_location(
            '<gml:Polygon srsName="urn:ogc:def:crs:EPSG::4326"><gml:exterior><gml:LinearRing>'
            f"<gml:posList>{ring}</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>"
        )
    )
    assert call.location is not None
    assert call.location.lat == pytest.approx(32.781) and call.location.lon == pytest.approx(
        -96.799
    )
    assert call.uncertainty_m is not None and 130 < call.uncertainty_m < 150


def test_crs84_axis_order_is_longitude_first() -> None:
    call = parse_call(
        with_location(
            '<gml:Point srsName="urn:ogc:def:crs:OGC:1.3:CRS84"><gml:pos>-96.8 32.7</gml:pos></gml:Point>'
        )
    )
    assert call.location == GeoPoint(32.7, -96.8)


def _set(doc: dict[str, Any], dotted: str, value: object) -> None:
    parts = dotted.split(".")
    target: Any = doc
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    target[parts[-1]] = value


@pytest.mark.parametrize(
    ("edit", "value", "field", "fragment"),
    [
        (
            "incidentComponent.1.lastUpdateTimeStamp",
            "2026-13-01",
            "incidentComponent[1].lastUpdateTimeStamp",
            "not an ISO-8601 time with a time zone: '2026-13-01'",
        ),
        (
            "incidentComponent.1.lastUpdateTimeStamp",
            "2026-11-21T11:31:10",
            "incidentComponent[1].lastUpdateTimeStamp",
            "no time zone",
        ),
        (
            "incidentComponent.1.incidentTrackingIdentifier",
            "  ",
            "incidentComponent[1].incidentTrackingIdentifier",
            "must not be empty",
        ),
        (
            "incidentComponent.1.incidentTrackingIdentifier",
            42,
            "incidentComponent[1].incidentTrackingIdentifier",
            "expected text, got int",
        ),
        (
            "incidentComponent.1.incidentCommonPriorityNumber",
            11,
            "incidentComponent[1].incidentCommonPriorityNumber",
            "0..10",
        ),
        (
            "incidentComponent.1.incidentCommonPriorityNumber",
            True,
            "incidentComponent[1].incidentCommonPriorityNumber",
            "expected a number",
        ),
        (
            "incidentComponent.1.incidentStatusCommonRegistryText",
            [42],
            "incidentComponent[1].incidentStatusCommonRegistryText[0]",
            "expected text, got int",
        ),
        (
            "callComponent.0.callStartTimestamp",
            "yesterday",
            "callComponent[0].callStartTimestamp",
            "not an ISO-8601 time",
        ),
        (
            "locationComponent.1.locationByValue",
            "<presence><unclosed></presence>",
            "locationComponent[1].locationByValue",
            "not well-formed XML",
        ),
        (
            "locationComponent.1.locationByValue",
            {"civicAddress": {}},
            "locationComponent[1].locationByValue",
            "expected a PIDF-LO XML document as text",
        ),
        ("incidentComponent", "burglary", "incidentComponent", "expected an object or an array"),
        ("locationComponent", [], "locationComponent", "missing"),
    ],
)
def test_bad_fields_are_named_with_a_json_path(
    edit: str, value: object, field: str, fragment: str
) -> None:
    doc = load("burglary_circle_two_versions.json")
    _set(doc, edit, value)
    with pytest.raises(CadParseError) as info:
        parse_call(doc)
    assert info.value.field == field
    assert fragment in info.value.problem
    assert str(info.value) == f"{field}: {info.value.problem}"


@pytest.mark.parametrize(
    ("inner", "fragment"),
    [
        ("<gml:Point><gml:pos>0 0</gml:pos></gml:Point>", "0,0 is not a real location"),
        (
            "<gml:Point><gml:pos>91.0 -96.8</gml:pos></gml:Point>",
            "latitude 91.0 is outside -90..90",
        ),
        ("<gml:Point><gml:pos>32.7 -196.8</gml:pos></gml:Point>", "longitude -196.8 is outside"),
        ("<gml:Point><gml:pos>32.7</gml:pos></gml:Point>", "groups of 2 coordinates"),
        ("<gml:Point><gml:pos>north west</gml:pos></gml:Point>", "not a number"),
        (
            '<gml:Point srsName="EPSG:3857"><gml:pos>1 2</gml:pos></gml:Point>',
            "unsupported coordinate reference",
        ),
        (
            '<gs:Circle><gml:pos>32.7 -96.8</gml:pos><gs:radius uom="furlong">2</gs:radius></gs:Circle>',
            "unsupported unit",
        ),
        ("<gs:Circle><gml:pos>32.7 -96.8</gml:pos></gs:Circle>", "has no gs:radius"),
        (
            "<gs:Circle><gml:pos>32.7 -96.8</gml:pos><gs:radius>-5</gs:radius></gs:Circle>",
            "must not be negative",
        ),
        (
            "<gml:Polygon><gml:posList>32.7 -96.8 32.8 -96.8</gml:posList></gml:Polygon>",
            "at least 3 vertices",
        ),
        ("<gp:nothing/>", "no usable location"),
    ],
)
def test_bad_positions_are_refused_with_a_reason(inner: str, fragment: str) -> None:
    doc = with_location(inner)
    doc["locationComponent"].pop("locationDescriptionText", None)
    with pytest.raises(CadParseError) as info:
        parse_call(doc)
    assert fragment in str(info.value)
    assert info.value.field.startswith("locationComponent")


def test_xml_bomb_is_refused_not_expanded() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        "<presence>&lol3;</presence>"
    )
    doc = load("shots_civic_only.json")
    doc["locationComponent"]["locationByValue"] = bomb
    with pytest.raises(CadParseError, match="DTD or entities"):
        parse_call(doc)


def test_external_entity_is_refused() -> None:
    xxe = '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><presence>&x;</presence>'
    doc = load("shots_civic_only.json")
    doc["locationComponent"]["locationByValue"] = xxe
    with pytest.raises(CadParseError, match="DTD or entities"):
        parse_call(doc)


def test_oversized_pidf_is_refused_before_parsing() -> None:
    doc = with_location("<gml:Point><gml:pos>32.7 -96.8</gml:pos></gml:Point>" + "<x/>" * 20000)
    with pytest.raises(CadParseError, match="larger than 64 KiB"):
        parse_call(doc)


def test_description_text_stands_in_for_a_missing_civic_address() -> None:
    doc = load("shots_civic_only.json")
    doc["locationComponent"] = {
        "locationByReferenceUrl": "https://lis.example/loc/1",
        "locationDescriptionText": "Fair Park, gate 3",
    }
    call = parse_call(doc)
    assert call.location is None and call.address == "Fair Park, gate 3"


def test_location_only_by_reference_is_an_error_saying_so() -> None:
    doc = load("shots_civic_only.json")
    doc["locationComponent"] = {"locationByReferenceUrl": "https://lis.example/loc/1"}
    with pytest.raises(CadParseError, match="by reference URL are not fetched"):
        parse_call(doc)


def test_missing_update_time_everywhere_is_named() -> None:
    doc = load("shots_civic_only.json")
    del doc["lastUpdateTimeStamp"]
    with pytest.raises(CadParseError) as info:
        parse_call(doc)
    assert info.value.field == "incidentComponent.lastUpdateTimeStamp"


def test_status_falls_back_to_internal_words_and_defaults_to_pending() -> None:
    doc = load("shots_civic_only.json")
    comp = doc["incidentComponent"]
    comp["incidentStatusCommonRegistryText"] = ["Whatever"]
    comp["incidentStatusInternalText"] = ["Cleared"]
    assert parse_call(doc).status is CallStatus.CLOSED
    del comp["incidentStatusCommonRegistryText"], comp["incidentStatusInternalText"]
    assert parse_call(doc).status is CallStatus.PENDING


def test_input_document_is_not_modified() -> None:
    doc = load("burglary_circle_two_versions.json")
    before = copy.deepcopy(doc)
    parse_call(doc)
    assert doc == before


def test_incident_typed_location_beats_the_caller_without_references() -> None:
    doc = load("burglary_circle_two_versions.json")
    for comp in doc["incidentComponent"]:
        del comp["locationReference"]
    assert parse_call(doc).location == GeoPoint(32.7812, -96.7968)  # the "Incident" one
    doc["locationComponent"][1]["locationTypeDescriptionRegistryText"] = "Other"
    assert parse_call(doc).location == GeoPoint(32.7901, -96.8102)  # first in the array


def test_civic_address_with_only_a_location_note() -> None:
    call = parse_call(
        with_location(
            "<ca:civicAddress><ca:country>US</ca:country><ca:LOC>Under the bridge</ca:LOC></ca:civicAddress>"
        )
    )
    assert call.location is None and call.address == "Under the bridge"
    with pytest.raises(CadParseError, match="no usable location"):
        doc = with_location("<ca:civicAddress><ca:country>US</ca:country></ca:civicAddress>")
        parse_call(doc)
