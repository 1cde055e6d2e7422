"""Misuse flags over HTTP: raised from the trail, explained with their entries, acknowledged
once with a note (audited); bad input answered 4xx."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from rtcc_console.core.models import utcnow
from rtcc_console.server.audit import Actor, append_audit
from tests.server.conftest import API


def _pattern(app: Any) -> None:
    """Two live views by ana without a reason, an hour ago (no open call needed)."""
    at = utcnow() - timedelta(hours=1)
    with app.state.rtcc.db.write() as s:
        for i, reason in enumerate(("", "x")):
            append_audit(
                s,
                actor=Actor("ana", "analyst"),
                action="live.grant",
                targets={"camera": f"cam-{i}"},
                reason=reason,
                at=at + timedelta(seconds=i),
            )
        append_audit(
            s,
            actor=Actor("ana", "analyst"),
            action="live.grant",
            targets={"camera": "cam-9"},
            reason="case 26-004411",
            at=at + timedelta(seconds=5),
        )


def test_flags_are_explained_listed_and_acknowledged_once(
    client: TestClient, app: Any, supervisor: dict[str, str]
) -> None:
    _pattern(app)
    r = client.get(f"{API}/audit/flags", headers=supervisor)
    assert r.status_code == 200, r.text
    flags = [f for f in r.json()["items"] if f["kind"] == "no_reason"]
    assert len(flags) == 1
    flag = flags[0]
    assert (
        flag["user"] == "ana"
        and not flag["acknowledged"]
        and "without a case number" in flag["explanation"]
    )
    assert [e["reason"] for e in flag["entries"]] == ["", "x"] and len(flag["entry_ids"]) == 2
    again = client.get(f"{API}/audit/flags", headers=supervisor).json()["items"]
    assert [f["id"] for f in again if f["kind"] == "no_reason"] == [
        flag["id"]
    ]  # same flag, not a new one

    ack = client.post(
        f"{API}/audit/flags/{flag['id']}/ack",
        headers=supervisor,
        json={"note": "spoke with ana; training"},
    )
    assert ack.status_code == 200, ack.text
    assert (
        ack.json()["acknowledged"]
        and ack.json()["ack_by"] == "sue"
        and ack.json()["ack_note"] == "spoke with ana; training"
    )
    again = client.post(
        f"{API}/audit/flags/{flag['id']}/ack", headers=supervisor, json={"note": "twice"}
    )
    assert again.status_code == 409
    listed = client.get(
        f"{API}/audit/flags", headers=supervisor, params={"acknowledged": "false"}
    ).json()["items"]
    assert flag["id"] not in [f["id"] for f in listed]
    rows = client.get(
        f"{API}/audit", headers=supervisor, params={"action": "audit.flag_ack"}
    ).json()["items"]
    assert (
        len(rows) == 1
        and rows[0]["reason"] == "spoke with ana; training"
        and rows[0]["targets"]["flag"] == flag["id"]
    )
    assert client.get(
        f"{API}/audit", headers=supervisor, params={"action": "audit.flags_view"}
    ).json()["items"]


def test_flag_input_errors(
    client: TestClient, app: Any, supervisor: dict[str, str], analyst: dict[str, str]
) -> None:
    _pattern(app)
    flag_id = client.get(f"{API}/audit/flags", headers=supervisor).json()["items"][0]["id"]
    assert (
        client.post(
            f"{API}/audit/flags/flag-nope/ack", headers=supervisor, json={"note": "n"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"{API}/audit/flags/{'x' * 300}/ack", headers=supervisor, json={"note": "n"}
        ).status_code
        == 404
    )
    for body in (
        {},
        {"note": ""},
        {"note": "x" * 2001},
        {"note": 5},
        {"note": "ok", "extra": 1},
        [1, 2],
    ):
        r = client.post(f"{API}/audit/flags/{flag_id}/ack", headers=supervisor, json=body)
        assert r.status_code == 422, (body, r.status_code)
    assert (
        client.post(
            f"{API}/audit/flags/{flag_id}/ack", headers=analyst, json={"note": "mine"}
        ).status_code
        == 403
    )
    for params in (
        {"since": "2026-01-01T00:00:00"},
        {"since": "2026-01-01T00:00:00+00:00", "until": "2026-03-01T00:00:00+00:00"},
        {"since": "2026-02-01T00:00:00+00:00", "until": "2026-01-01T00:00:00+00:00"},
    ):
        assert (
            client.get(f"{API}/audit/flags", headers=supervisor, params=params).status_code == 422
        ), params
    assert (
        client.get(f"{API}/audit/flags", headers=supervisor).json()["items"][0]["acknowledged"]
        is False
    )


def test_hostile_ack_bodies_are_4xx_and_change_nothing(
    client: TestClient, app: Any, supervisor: dict[str, str]
) -> None:
    _pattern(app)
    flag_id = client.get(f"{API}/audit/flags", headers=supervisor).json()["items"][0]["id"]
    headers = {**supervisor, "Content-Type": "application/json"}
    for body in (
        b'{"note": "ok\\ud800"}',
        b'{"note": "a\x00b"}',
        b"[" * 5000 + b"]" * 5000,
        b'{"note": "\xff\xfe"}',
        '{"note": "ok"}'.encode("utf-16"),
        b"",
        b"null",
    ):
        r = client.post(f"{API}/audit/flags/{flag_id}/ack", headers=headers, content=body)
        assert 400 <= r.status_code < 500, (body[:20], r.status_code)
    assert (
        client.get(f"{API}/audit/flags", headers=supervisor).json()["items"][0]["acknowledged"]
        is False
    )
    r = client.post(f"{API}/audit/flags/%ED%A0%80/ack", headers=supervisor, json={"note": "x"})
    assert r.status_code == 404
