"""Officers for "Send to field" (issue 16): unit ids mapped to officer accounts, the list an
analyst picks from, shares by unit id and duration, and every share's start and end in
the event stream and the audit trail (the incident review's "Field" lane reads them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rtcc_console.core.models import Role
from rtcc_console.store.schema import AuditEventRow, FieldShareRow, OfficerUnitRow
from tests.server.conftest import (
    API,
    PASSWORD,
    add_user,
    camera_body,
    count_rows,
    events_of,
    login,
    make_settings,
    simple_call,
)


def audit(app: Any, action: str) -> list[AuditEventRow]:
    with app.state.rtcc.db.read() as s:
        rows = s.query(AuditEventRow).filter(AuditEventRow.action == action).all()
        s.expunge_all()
        return rows


@pytest.fixture
def officers(client: TestClient, app: Any, admin: dict[str, str]) -> dict[str, str]:
    add_user(app, "ofc.kim", Role.OFFICER)
    add_user(app, "ofc.lee", Role.OFFICER)
    add_user(app, "ofc.gone", Role.OFFICER)
    for name, units, display in (
        ("ofc.kim", ["1a23", " 1A24 "], "Kim, J."),
        ("ofc.lee", ["1A23"], None),
    ):
        body: dict[str, Any] = {"unit_ids": units}
        if display:
            body["display_name"] = display
        r = client.put(f"{API}/users/{name}/units", headers=admin, json=body)
        assert r.status_code == 200, r.text
    return admin


@pytest.fixture
def call_id(client: TestClient, admin: dict[str, str], analyst: dict[str, str]) -> str:
    for cid, lat in (("cam-a", 32.7800), ("cam-b", 32.7803)):
        r = client.post(
            f"{API}/cameras", headers=admin, json=camera_body(id=cid, name=f"Elm {cid}", lat=lat)
        )
        assert r.status_code == 201, r.text
    r = client.post(f"{API}/calls", headers=analyst, json=simple_call())
    assert r.status_code == 201, r.text
    return str(r.json()["call"]["id"])


def test_units_are_set_by_admins_only_and_listed_for_analysts(
    client: TestClient, app: Any, officers: dict[str, str], analyst: dict[str, str]
) -> None:
    r = client.get(f"{API}/officers", headers=analyst)
    assert r.status_code == 200, r.text
    body = r.json()
    by_name = {o["username"]: o for o in body["items"]}
    assert set(by_name) == {"ofc.kim", "ofc.lee", "ofc.gone"}  # staff accounts are not officers
    assert by_name["ofc.kim"] == {
        "username": "ofc.kim",
        "display_name": "Kim, J.",
        "unit_ids": ["1A23", "1A24"],  # trimmed, upper case, sorted
    }
    assert by_name["ofc.lee"]["unit_ids"] == ["1A23"]
    assert body["default_duration_s"] == app.state.rtcc.settings.field_share_ttl_s
    text = r.text.lower()
    assert "password" not in text and "mfa" not in text and "@" not in text
    # the admin changes are audited
    reasons = [a.reason for a in audit(app, "admin.user_units")]
    assert any("1A23, 1A24" in (x or "") for x in reasons)
    # replace: the list is replaced, not merged; an empty list clears
    r = client.put(f"{API}/users/ofc.lee/units", headers=officers, json={"unit_ids": []})
    assert r.status_code == 200 and r.json()["unit_ids"] == []
    with app.state.rtcc.db.read() as s:
        assert s.query(OfficerUnitRow).filter_by(username="ofc.lee").count() == 0


def test_officer_list_refuses_officers_and_units_refuse_non_admins(
    client: TestClient, app: Any, officers: dict[str, str], analyst: dict[str, str]
) -> None:
    officer = login(client, "ofc.kim")
    assert client.get(f"{API}/officers", headers=officer).status_code == 403
    assert client.get(f"{API}/officers").status_code == 401
    assert client.get(f"{API}/officers", headers=login(client, "sue")).status_code == 200
    put = {"unit_ids": ["9Z9"]}
    assert client.put(f"{API}/users/ofc.kim/units", headers=analyst, json=put).status_code == 403
    assert client.put(f"{API}/users/ofc.kim/units", headers=officer, json=put).status_code == 403
    with app.state.rtcc.db.read() as s:
        assert s.query(OfficerUnitRow).filter_by(unit_id="9Z9").count() == 0


@pytest.mark.parametrize(
    ("user", "body", "status"),
    [
        ("ana", {"unit_ids": ["1A23"]}, 422),  # not an officer account
        ("nobody", {"unit_ids": ["1A23"]}, 404),
        ("ofc.kim", {"unit_ids": ["1A 23"]}, 422),
        ("ofc.kim", {"unit_ids": ["-1A"]}, 422),
        ("ofc.kim", {"unit_ids": ["x" * 40]}, 422),
        ("ofc.kim", {"unit_ids": ["1A\ud800"]}, 422),
        ("ofc.kim", {"unit_ids": [f"U{n}" for n in range(20)]}, 422),
        ("ofc.kim", {"unit_ids": "1A23"}, 422),
        ("ofc.kim", {"unit_ids": ["1A23"], "role": "admin"}, 422),
        ("ofc.kim", {}, 422),
    ],
)
def test_bad_unit_updates_change_nothing(
    client: TestClient,
    officers: dict[str, str],
    app: Any,
    user: str,
    body: dict[str, Any],
    status: int,
) -> None:
    raw = json.dumps(body).encode()  # lone surrogates survive as \\ud800 escapes
    r = client.put(
        f"{API}/users/{user}/units",
        headers={**officers, "Content-Type": "application/json"},
        content=raw,
    )
    assert r.status_code == status, r.text
    with app.state.rtcc.db.read() as s:
        units = sorted(u.unit_id for u in s.query(OfficerUnitRow).filter_by(username="ofc.kim"))
    assert units == ["1A23", "1A24"]


def test_share_by_unit_with_a_duration_is_published_and_ends_published(
    client: TestClient,
    app: Any,
    officers: dict[str, str],
    analyst: dict[str, str],
    call_id: str,
) -> None:
    r = client.post(
        f"{API}/calls/{call_id}/field-shares",
        headers=analyst,
        json={"units": ["1a23"], "camera_ids": ["cam-a", "cam-b"], "duration_s": 900},
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert sorted(s["officer"] for s in made) == ["ofc.kim", "ofc.lee"]  # both in car 1A23
    from datetime import datetime

    for s in made:
        span = datetime.fromisoformat(s["expires_at"]) - datetime.fromisoformat(s["created_at"])
        assert span.total_seconds() == 900
    created = [json.loads(d) for _i, _t, d in events_of(app, "field_share.created")]
    assert sorted(e["share"]["officer"] for e in created) == ["ofc.kim", "ofc.lee"]
    assert all("link" not in e["share"] for e in created)  # the link is shown once, to the analyst
    assert all(e["share"]["camera_ids"] == ["cam-a", "cam-b"] for e in created)
    # a unit and an officer named twice: each officer once
    r = client.post(
        f"{API}/calls/{call_id}/field-shares",
        headers=analyst,
        json={"units": ["1A24"], "officers": ["ofc.kim"], "camera_ids": ["cam-a"]},
    )
    assert r.status_code == 201 and [s["officer"] for s in r.json()] == ["ofc.kim"]
    # the analyst ends one
    first = made[0]["id"]
    r = client.delete(f"{API}/calls/{call_id}/field-shares/{first}", headers=analyst)
    assert r.status_code == 200 and r.json()["end_reason"] == "ended by ana"
    ended = [json.loads(d)["share"] for _i, _t, d in events_of(app, "field_share.ended")]
    assert [(e["id"], e["end_reason"]) for e in ended] == [(first, "ended by ana")]
    # the call closes: the rest end with it, each published and audited
    r = client.patch(f"{API}/calls/{call_id}", headers=analyst, json={"status": "closed"})
    assert r.status_code == 200, r.text
    listed = client.get(f"{API}/calls/{call_id}/field-shares", headers=analyst).json()["items"]
    assert all(s["ended_at"] for s in listed)
    ended = [json.loads(d)["share"] for _i, _t, d in events_of(app, "field_share.ended")]
    assert sorted(e["end_reason"] for e in ended) == ["call closed", "call closed", "ended by ana"]
    assert len([a for a in audit(app, "field.end")]) == 3
    # a second DELETE ends nothing more and publishes nothing
    client.delete(f"{API}/calls/{call_id}/field-shares/{first}", headers=analyst)
    assert len(events_of(app, "field_share.ended")) == 3


def test_bad_unit_shares_are_refused_and_audited(
    client: TestClient,
    app: Any,
    officers: dict[str, str],
    analyst: dict[str, str],
    call_id: str,
) -> None:
    cases: list[tuple[dict[str, Any], int]] = [
        ({"units": ["9Z99"], "camera_ids": ["cam-a"]}, 422),  # maps to no officer
        ({"units": ["1A 23"], "camera_ids": ["cam-a"]}, 422),
        ({"units": [], "officers": [], "camera_ids": ["cam-a"]}, 422),
        ({"units": ["1A23"], "camera_ids": ["cam-a"], "duration_s": 5}, 422),
        ({"units": ["1A23"], "camera_ids": ["cam-a"], "duration_s": 10**9}, 422),
        ({"units": ["1A23"], "camera_ids": ["cam-a"], "duration_s": "long"}, 422),
    ]
    for body, want in cases:
        r = client.post(f"{API}/calls/{call_id}/field-shares", headers=analyst, json=body)
        assert r.status_code == want, (body, r.text)
    assert count_rows(app, FieldShareRow) == 0
    assert events_of(app, "field_share.created") == []
    denied = [a for a in audit(app, "field.share") if a.outcome == "denied"]
    assert any("9Z99" in (a.reason or "") for a in denied)


def test_disabling_an_officer_ends_their_shares(
    client: TestClient,
    app: Any,
    officers: dict[str, str],
    analyst: dict[str, str],
    call_id: str,
) -> None:
    r = client.post(
        f"{API}/calls/{call_id}/field-shares",
        headers=analyst,
        json={"officers": ["ofc.kim", "ofc.lee"], "camera_ids": ["cam-a"]},
    )
    assert r.status_code == 201, r.text
    r = client.patch(f"{API}/users/ofc.kim", headers=officers, json={"disabled": True})
    assert r.status_code == 200, r.text
    items = client.get(f"{API}/calls/{call_id}/field-shares", headers=analyst).json()["items"]
    state = {s["officer"]: s for s in items}
    assert state["ofc.kim"]["ended_at"] and "account disabled" in state["ofc.kim"]["end_reason"]
    assert state["ofc.lee"]["ended_at"] is None
    assert "ofc.kim" not in {
        o["username"] for o in client.get(f"{API}/officers", headers=analyst).json()["items"]
    }


def test_cli_set_units(tmp_path: Path) -> None:
    from rtcc_console.server.app import create_app

    db = f"sqlite:///{tmp_path}/units.sqlite"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RTCC_")}
    env.update(RTCC_ARGON2_TIME_COST="1", RTCC_ARGON2_MEMORY_KIB="64", RTCC_ARGON2_PARALLELISM="1")

    def rtcc(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "rtcc_console.cli", "user", *args, "--db", db],
            input=stdin,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    for name, role in (("ofc.ray", "officer"), ("ana", "analyst")):
        made = rtcc("add", name, "--role", role, "--password-stdin", stdin=PASSWORD + "\n")
        assert made.returncode == 0, made.stderr
    done = rtcc("set-units", "ofc.ray", "2b11", "2B12", "--display-name", "Ray, P.")
    assert done.returncode == 0, done.stderr
    assert "2B11, 2B12" in done.stdout
    refused = rtcc("set-units", "ana", "2B11")
    assert refused.returncode == 2 and "not an officer" in refused.stderr
    assert rtcc("set-units", "ofc.nobody", "2B11").returncode == 1
    assert rtcc("set-units", "ofc.ray", "2B 11").returncode == 2
    app = create_app(
        make_settings(db, argon2_time_cost=1, argon2_memory_kib=64, argon2_parallelism=1)
    )
    with TestClient(app) as client:
        analyst = login(client, "ana")
        items = client.get(f"{API}/officers", headers=analyst).json()["items"]
        assert items == [
            {"username": "ofc.ray", "display_name": "Ray, P.", "unit_ids": ["2B11", "2B12"]}
        ]
        assert [a.reason for a in audit(app, "admin.user_units")] == [
            "units 2B11, 2B12; display name 'Ray, P.'"
        ]


def test_hostile_bodies_for_units_are_4xx(
    client: TestClient, officers: dict[str, str], app: Any
) -> None:
    headers = {**officers, "Content-Type": "application/json"}
    for raw in (
        b'{"unit_ids": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"unit_ids": ["1A23"], "display_name": "' + b"x" * 500 + b'"}',
        b'{"unit_ids": ["1A23"',
        b"[]",
    ):
        r = client.put(f"{API}/users/ofc.kim/units", headers=headers, content=raw)
        assert 400 <= r.status_code < 500, (raw[:40], r.status_code)
    long_name = "o" * 300
    r = client.put(f"{API}/users/{long_name}/units", headers=officers, json={"unit_ids": []})
    assert r.status_code == 404
    with app.state.rtcc.db.read() as s:
        units = sorted(u.unit_id for u in s.query(OfficerUnitRow).filter_by(username="ofc.kim"))
    assert units == ["1A23", "1A24"]
