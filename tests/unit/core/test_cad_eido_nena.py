"""EIDO as NENA-STA-021.1b writes it: the official sample, the registry, the media type,
and the schema-validity of every EIDO the project's simulators produce.

The official schema, sample and registry are kept under tests/data/eido/nena/ (source and
commit in its README)."""

from __future__ import annotations

import copy
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rtcc_console.core.cad import CadParseError, detect_format, parse_call
from rtcc_console.core.cad_types import INCIDENT_STATUS_REGISTRY
from rtcc_console.core.models import CallStatus
from rtcc_console.sim.cad import build_eido, generate_calls, simple_to_eido
from tests.unit.core.eido_schema import NENA_DIR, schema_errors

SAMPLE_FILE = NENA_DIR / "Sample call transfer EIDO.json"
REGISTRY = (NENA_DIR / "incident_status_registry.txt").read_text().split()
EXPECTED = {
    "Active": CallStatus.PENDING,
    "Cancelled": CallStatus.CLOSED,
    "Closed": CallStatus.CLOSED,
    "FireUnderControl": CallStatus.ON_SCENE,
    "NewLocation": CallStatus.PENDING,
    "ReOpened": CallStatus.PENDING,
    "ResourcesAssigned": CallStatus.DISPATCHED,
    "ResourcesEnroute": CallStatus.DISPATCHED,
    "ResourcesOnscene": CallStatus.ON_SCENE,
    "StructureCleared": CallStatus.ON_SCENE,
}


def sample() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(SAMPLE_FILE.read_text(encoding="utf-8"))
    return doc


def with_incident(**fields: Any) -> dict[str, Any]:
    """The official sample plus a conformant incident component (a single object)."""
    doc = sample()
    doc["incidentComponent"] = {
        "$id": "incident-1",
        "lastUpdateTimeStamp": "2021-04-30T14:43:00-04:00",
        "updatedByAgencyReference": {"$ref": "state.pa.us"},
        "incidentTypeCommonRegistryText": "BURGLARY",
        "incidentTypeInternalText": "Burglary",
        "locationReference": [{"$ref": "123e4567-dead-12d3-a456-426614174000"}],
        **fields,
    }
    return doc


def test_the_official_sample_is_schema_valid_and_accepted() -> None:
    doc = sample()
    assert schema_errors(doc) == []
    call = parse_call(doc, "application/emergency.eido+json")
    assert call.incident_id == "urn:emergency:uid:incidentid:a56e556d871:bcf.state.pa.us"
    assert call.location is None and call.address is not None
    assert "42" in call.address and "Wilmington" in call.address
    assert call.updated_at == datetime(2021, 4, 30, 18, 43, 49, 439000, tzinfo=UTC)
    assert call.reported_at == datetime(2021, 4, 30, 18, 40, tzinfo=UTC)  # callStartTimestamp
    assert call.status is CallStatus.PENDING and call.status_assumed
    assert call.type_code == "UNKNOWN"
    assert any(w.startswith("incidentComponent: none") for w in call.warnings)


def test_sample_without_a_format_hint_is_detected_as_eido() -> None:
    assert detect_format(sample(), None) == "eido"
    assert detect_format(sample(), "application/json") == "eido"


@pytest.mark.parametrize(
    "ctype",
    [
        "application/emergency.eido+json",
        "Application/Emergency.EIDO+JSON; charset=utf-8",
        "application/eido+json",
    ],
)
def test_registered_media_type_means_eido(ctype: str) -> None:
    assert detect_format({"incident_id": "x"}, ctype) == "eido"


def test_single_incident_component_is_read() -> None:
    doc = with_incident(
        incidentStatusCommonRegistryText=["ResourcesEnroute"], incidentCommonPriorityNumber=10
    )
    assert schema_errors(doc) == []
    call = parse_call(doc)
    assert call.incident_id == doc["$id"]
    assert (call.type_code, call.type_text, call.priority) == ("BURGLARY", "Burglary", 1)
    assert call.status is CallStatus.DISPATCHED and not call.status_assumed
    assert call.warnings == ()
    assert call.updated_at == datetime(2021, 4, 30, 18, 43, tzinfo=UTC)


def test_registry_file_is_what_the_parser_maps() -> None:
    assert len(REGISTRY) == 10
    assert set(REGISTRY) == set(INCIDENT_STATUS_REGISTRY) == set(EXPECTED)


@pytest.mark.parametrize("value", REGISTRY)
def test_every_registry_value_maps_without_warning(value: str) -> None:
    doc = with_incident(incidentStatusCommonRegistryText=[value])
    assert schema_errors(doc) == []
    call = parse_call(doc)
    assert call.status is EXPECTED[value]
    assert call.warnings == () and not call.status_assumed


def test_reopened_wins_over_closed_in_the_same_list() -> None:
    assert (
        parse_call(with_incident(incidentStatusCommonRegistryText=["Closed", "ReOpened"])).status
        is CallStatus.PENDING
    )
    assert (
        parse_call(with_incident(incidentStatusCommonRegistryText=["Active", "Cancelled"])).status
        is CallStatus.CLOSED
    )


def test_unknown_status_word_keeps_the_call_with_a_warning() -> None:
    call = parse_call(with_incident(incidentStatusCommonRegistryText=["Teleported"]))
    assert call.status is CallStatus.PENDING and call.status_assumed
    assert any("'Teleported'" in w for w in call.warnings)
    # A known internal word is used when the common one is unknown.
    call = parse_call(
        with_incident(
            incidentStatusCommonRegistryText=["Teleported"],
            incidentStatusInternalText=["ONSCN", "Arrived"],
        )
    )
    assert call.status is CallStatus.ON_SCENE and not call.status_assumed
    assert any("'Teleported'" in w for w in call.warnings) and any(
        "'ONSCN'" in w for w in call.warnings
    )
    # A mix: known words decide, unknown ones are reported.
    call = parse_call(
        with_incident(incidentStatusCommonRegistryText=["ResourcesOnscene", "Smouldering"])
    )
    assert call.status is CallStatus.ON_SCENE and len(call.warnings) == 1


def test_unknown_priority_text_is_a_warning_not_a_refusal() -> None:
    call = parse_call(with_incident(incidentPriorityInternalText="Purple"))
    assert call.priority == 5 and any("Purple" in w for w in call.warnings)


@pytest.mark.parametrize("where", ["component", "top"])
def test_incident_tracking_identifier_field_is_accepted_and_preferred(where: str) -> None:
    doc = with_incident()
    holder = doc["incidentComponent"] if where == "component" else doc
    holder["incidentTrackingIdentifier"] = "urn:emergency:uid:incidentid:older-draft:x"
    assert parse_call(doc).incident_id == "urn:emergency:uid:incidentid:older-draft:x"


def test_incident_component_as_a_list_latest_wins() -> None:
    doc = with_incident()
    older = copy.deepcopy(doc["incidentComponent"])
    older["lastUpdateTimeStamp"] = "2021-04-30T14:41:00-04:00"
    older["incidentTypeInternalText"] = "Old type"
    doc["incidentComponent"] = [doc["incidentComponent"], older]
    assert parse_call(doc).type_text == "Burglary"


def test_no_identifier_at_all_is_refused_naming_dollar_id() -> None:
    doc = sample()
    del doc["$id"]
    with pytest.raises(CadParseError) as info:
        parse_call(doc)
    assert info.value.field == "$id"


def test_schema_check_is_not_a_rubber_stamp() -> None:
    doc = with_incident()
    del doc["incidentComponent"]["incidentTypeCommonRegistryText"]
    doc["eidoVersion"] = "2.0"
    doc["callComponent"][0]["direction"] = "sideways"
    errors = schema_errors(doc)
    assert any("incidentTypeCommonRegistryText" in e for e in errors)
    assert any("eidoVersion" in e for e in errors)
    assert any("sideways" in e for e in errors)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_simulated_eido_is_schema_valid_and_round_trips(seed: int) -> None:
    records = generate_calls(random.Random(seed), 150, datetime(2026, 11, 21, 5, tzinfo=UTC))
    for record in records:
        doc = simple_to_eido(record)
        assert schema_errors(doc) == [], (record["incident_id"], schema_errors(doc)[:3])
        call = parse_call(doc, "application/emergency.eido+json")
        assert (call.incident_id, call.status.value, call.priority) == (
            record["incident_id"],
            record["status"],
            record["priority"],
        )
        assert call.warnings == ()


@pytest.mark.parametrize("status", list(CallStatus))
@pytest.mark.parametrize("civic_only", [False, True])
def test_build_eido_every_status_and_location_form_is_schema_valid(
    status: CallStatus, civic_only: bool
) -> None:
    now = datetime(2026, 11, 21, 5, tzinfo=UTC)
    doc = build_eido(
        incident_id="DPD-1",
        type_code="BURG",
        type_text="Burglary",
        priority=3,
        status=status,
        lat=32.78,
        lon=-96.8,
        address="1200 Elm St, Dallas, TX 75201",
        reported_at=now - timedelta(minutes=2),
        updated_at=now,
        uncertainty_m=None if civic_only else 25.0,
        civic_only=civic_only,
    )
    assert schema_errors(doc) == []
    call = parse_call(doc)
    assert call.status is status and (call.location is None) == civic_only
