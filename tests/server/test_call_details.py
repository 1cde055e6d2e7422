"""The CAD narrative, units and agencies: read from EIDO (notesComponent,
emergencyResourceComponent, agencyComponent) and from the simple form, kept in the call's
history and answered by GET /calls/{id}."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from rtcc_console.core.cad import parse_call
from tests.server.conftest import API, simple_call

SAMPLE = Path(__file__).parents[1] / "data" / "eido" / "nena" / "Sample call transfer EIDO.json"


def test_official_sample_agencies_are_read() -> None:
    parsed = parse_call(json.loads(SAMPLE.read_text()), "application/emergency.eido+json")
    assert parsed.agencies == ("state.pa.us (CallReceiving)",)


def eido_with_details() -> dict[str, Any]:
    doc = copy.deepcopy(json.loads(SAMPLE.read_text()))
    doc["notesComponent"] = [
        {
            "$id": "n1",
            "lastUpdateTimeStamp": "2021-04-30T14:41:00.0-04:00",
            "updatedByAgencyReference": {"$ref": "state.pa.us"},
            "notesActionComments": "<p>Caller reports <b>two males</b> fleeing north &amp; a white pickup.</p>",
        },
        {"$id": "n2", "notesActionComments": 42},  # malformed entry: skipped, the call is kept
    ]
    doc["emergencyResourceComponent"] = {
        "$id": "unit-1A12",
        "emergencyResourceName": "1A12",
        "emergencyResourceTypeCommonRegistryText": "Patrol",
        "primaryUnitStatusRegistryText": "Enroute",
        "agentReference": [{"$ref": "x"}],
        "resourceAttributeRegistryText": [],
        "secondaryUnitStatusRegistryText": [],
    }
    return doc


def test_eido_notes_units_agencies_reach_the_call_detail(
    client: TestClient, analyst: dict[str, str]
) -> None:
    r = client.post(
        f"{API}/calls",
        headers={**analyst, "Content-Type": "application/emergency.eido+json"},
        content=json.dumps(eido_with_details()),
    )
    assert r.status_code == 201, r.text
    detail = client.get(f"{API}/calls/{r.json()['call']['id']}", headers=analyst).json()
    assert detail["notes"] == ["Caller reports two males fleeing north & a white pickup."]
    assert detail["units"] == ["1A12 (Patrol, Enroute)"]
    assert detail["agencies"] == ["state.pa.us (CallReceiving)"]


def test_simple_form_details_and_an_update_without_them(
    client: TestClient, analyst: dict[str, str]
) -> None:
    first = simple_call(
        notes=["Alarm company reports glass break"], units=["Engine 12", "1A12"], agencies=["DPD"]
    )
    call = client.post(f"{API}/calls", headers=analyst, json=first).json()["call"]
    later = simple_call(
        status="dispatched", updated_at="2026-11-21T05:40:00+00:00", units=["1A12", "1B07"]
    )
    assert client.post(f"{API}/calls", headers=analyst, json=later).status_code == 200
    detail = client.get(f"{API}/calls/{call['id']}", headers=analyst).json()
    assert detail["units"] == ["1A12", "1B07"]  # the newest update's units
    assert detail["notes"] == ["Alarm company reports glass break"]  # not repeated: still shown
    assert detail["agencies"] == ["DPD"]


def test_bad_details_are_a_clear_422(client: TestClient, analyst: dict[str, str]) -> None:
    r = client.post(f"{API}/calls", headers=analyst, json=simple_call(units=[1, 2]))
    assert r.status_code == 422 and "units[0]" in r.text
    r = client.post(f"{API}/calls", headers=analyst, json=simple_call(notes=["x"] * 51))
    assert r.status_code == 422 and "more than 50" in r.text
