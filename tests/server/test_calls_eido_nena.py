"""POST /calls with EIDO as NENA-STA-021.1b writes it, through the real API: the official
sample, the registered media type, every incident-status registry value, and unknown
status words kept as warnings in the call's history."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from tests.server.conftest import API
from tests.unit.core.test_cad_eido_nena import REGISTRY, sample, with_incident

EIDO = "application/emergency.eido+json"


def post(
    client: TestClient, headers: dict[str, str], doc: dict[str, Any], ctype: str = EIDO
) -> Any:
    return client.post(
        f"{API}/calls", headers={**headers, "Content-Type": ctype}, content=json.dumps(doc)
    )


def test_official_sample_is_accepted_with_its_warning_in_history(
    client: TestClient, analyst: dict[str, str]
) -> None:
    r = post(client, analyst, sample())
    assert r.status_code == 201, r.text
    call = r.json()["call"]
    assert call["incident_id"] == "urn:emergency:uid:incidentid:a56e556d871:bcf.state.pa.us"
    assert call["source"] == "eido" and "Wilmington" in call["address"]
    detail = client.get(f"{API}/calls/{call['id']}", headers=analyst).json()
    assert any(w.startswith("incidentComponent: none") for w in detail["history"][0]["warnings"])
    assert post(client, analyst, sample()).json()["duplicate"] is True


def test_every_registry_value_is_accepted_in_order(
    client: TestClient, analyst: dict[str, str]
) -> None:
    base = with_incident()
    for minute, value in enumerate(REGISTRY):
        doc = json.loads(json.dumps(base))
        doc["lastUpdateTimeStamp"] = doc["incidentComponent"]["lastUpdateTimeStamp"] = (
            f"2021-04-30T15:{minute:02d}:00-04:00"
        )
        doc["incidentComponent"]["incidentStatusCommonRegistryText"] = [value]
        r = post(client, analyst, doc)
        assert r.status_code in (200, 201), (value, r.text)
    detail = client.get(f"{API}/calls/{r.json()['call']['id']}", headers=analyst).json()
    assert len(detail["history"]) == len(REGISTRY)
    assert all(h["warnings"] == [] for h in detail["history"])
    assert detail["status"] == "on_scene"  # StructureCleared, the last one


def test_unknown_status_keeps_the_call_and_its_status_with_a_warning(
    client: TestClient, analyst: dict[str, str]
) -> None:
    first = with_incident(incidentStatusCommonRegistryText=["ResourcesAssigned"])
    r = post(client, analyst, first, ctype="application/eido+json")
    assert r.status_code == 201 and r.json()["call"]["status"] == "dispatched"
    update = with_incident(
        incidentStatusCommonRegistryText=["Teleported"],
        incidentTypeInternalText="Burglary, suspect gone",
    )
    update["lastUpdateTimeStamp"] = update["incidentComponent"]["lastUpdateTimeStamp"] = (
        "2021-04-30T14:50:00-04:00"
    )
    r = post(client, analyst, update)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["updated"] is True
    assert body["call"]["status"] == "dispatched"  # the unknown word did not reset it
    assert body["call"]["type_text"] == "Burglary, suspect gone"  # the rest of the update applied
    history = client.get(f"{API}/calls/{body['call']['id']}", headers=analyst).json()["history"]
    assert [bool(h["warnings"]) for h in history] == [False, True]
    assert any("'Teleported'" in w for w in history[1]["warnings"])


def test_a_new_call_with_only_an_unknown_status_is_pending(
    client: TestClient, analyst: dict[str, str]
) -> None:
    r = post(client, analyst, with_incident(incidentStatusCommonRegistryText=["Smouldering"]))
    assert r.status_code == 201 and r.json()["call"]["status"] == "pending"
