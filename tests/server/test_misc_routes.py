"""Presets, CAD webhook signatures, emergencies listing, and users' isolation."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from rtcc_console.server.app import create_app
from rtcc_console.server.routes.webhook import sign
from rtcc_console.store.schema import CallRow
from tests.server.conftest import API, count_rows, simple_call

SECRET = "webhook-shared-secret-123"


def test_presets_are_per_user(
    client: TestClient, analyst: dict[str, str], supervisor: dict[str, str]
) -> None:
    layout = {"grid": "3x3", "tiles": ["cam-1", None]}
    r = client.put(f"{API}/me/presets/Night shift", headers=analyst, json={"layout": layout})
    assert r.status_code == 200 and r.json()["layout"] == layout
    assert (
        client.get(f"{API}/me/presets", headers=analyst).json()["items"][0]["name"] == "Night shift"
    )
    assert client.get(f"{API}/me/presets", headers=supervisor).json()["items"] == []
    assert client.get(f"{API}/me/presets/Night shift", headers=supervisor).status_code == 404
    assert (
        client.put(f"{API}/me/presets/x", headers=analyst, json={"layout": "nope"}).status_code
        == 422
    )
    assert client.delete(f"{API}/me/presets/Night shift", headers=analyst).status_code == 204
    assert client.delete(f"{API}/me/presets/Night shift", headers=analyst).status_code == 404
    assert client.get(f"{API}/me/presets").status_code == 401


def test_webhook_disabled_without_secret(client: TestClient) -> None:
    r = client.post(f"{API}/cad/webhook", content=b"{}")
    assert r.status_code == 503


def test_webhook_signature_good_and_bad(settings_factory: Any) -> None:
    app = create_app(settings_factory(cad_webhook_secret=SECRET))
    with TestClient(app) as client:
        body = json.dumps(simple_call(incident_id="W-1")).encode()
        ok = client.post(
            f"{API}/cad/webhook",
            content=body,
            headers={"X-RTCC-Signature": sign(body, SECRET), "Content-Type": "application/json"},
        )
        assert ok.status_code == 201, ok.text
        assert ok.json()["items"][0]["call"]["source"] == "webhook"
        again = client.post(
            f"{API}/cad/webhook", content=body, headers={"X-RTCC-Signature": sign(body, SECRET)}
        )
        assert again.status_code == 200 and again.json()["items"][0]["duplicate"] is True
        other = json.dumps(simple_call(incident_id="W-2")).encode()
        for header in (
            {},
            {"X-RTCC-Signature": "sha256=" + "0" * 64},
            {"X-RTCC-Signature": sign(body, SECRET)},
            {"X-RTCC-Signature": sign(other, "wrong-secret-xxxxxx")},
        ):
            assert (
                client.post(f"{API}/cad/webhook", content=other, headers=header).status_code == 401
            )
        batch = json.dumps(
            {"items": [simple_call(incident_id="W-3"), simple_call(incident_id="W-4", lat="x")]}
        ).encode()
        r = client.post(
            f"{API}/cad/webhook", content=batch, headers={"X-RTCC-Signature": sign(batch, SECRET)}
        )
        assert r.status_code == 422 and r.json()["detail"].startswith("items[1].lat")
        assert count_rows(app, CallRow) == 1


def test_emergency_listing_and_roles(
    client: TestClient, analyst: dict[str, str], supervisor: dict[str, str]
) -> None:
    r = client.post(
        f"{API}/emergencies", headers=supervisor, json={"owner_id": "own-x", "reason": "x"}
    )
    assert r.status_code == 422 and "owner_id" in r.text
    assert client.get(f"{API}/emergencies", headers=analyst).json()["items"] == []
    assert client.post(f"{API}/emergencies/nope/end", headers=supervisor).status_code == 404
    assert client.post(f"{API}/emergencies/nope/end", headers=analyst).status_code == 403
