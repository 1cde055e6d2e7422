"""Acknowledging a new call: per user, audited, 404 for an unknown call, staff only."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.server.conftest import API, simple_call


def test_acknowledgement_is_audited_per_user(
    client: TestClient, analyst: dict[str, str], supervisor: dict[str, str]
) -> None:
    call_id = client.post(f"{API}/calls", headers=analyst, json=simple_call()).json()["call"]["id"]
    assert client.post(f"{API}/calls/{call_id}/acknowledge", headers=analyst).status_code == 204
    rows = client.get(
        f"{API}/audit", headers=supervisor, params={"action": "call.acknowledged"}
    ).json()["items"]
    assert len(rows) == 1
    assert rows[0]["user"] != "" and rows[0]["targets"] == {"call": call_id}


def test_unknown_call_and_no_token(client: TestClient, analyst: dict[str, str], app: Any) -> None:
    assert client.post(f"{API}/calls/call-nope/acknowledge", headers=analyst).status_code == 404
    assert client.post(f"{API}/calls/call-nope/acknowledge").status_code == 401
