"""The structured panic fields live on the emergency itself (revision 0111): a panic raised
through ``POST /api/v1/panic`` is listed by ``GET /emergencies`` and published in
``emergency.started`` with its site name and kind, AVS-01 level, location, description and
source, so a console that connects later needs no reason text. Hostile text comes back as
the same characters, as JSON; over-long text is refused and starts nothing; declared
emergencies and rows from before 0111 carry ``panic: null`` (the console reads the reason).
SQLite and PostgreSQL (``db_url``)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from rtcc_console.core.models import Role
from rtcc_console.server.app import create_app
from rtcc_console.server.portal.accounts import PortalSettings
from rtcc_console.sim.smtp_sink import SmtpSink
from rtcc_console.store import emergencies as store_emergencies
from rtcc_console.store.schema import AuditEventRow, EmergencyRow
from tests.server.conftest import API, add_user, events_of, login, make_settings
from tests.server.portal_support import Portal, csrf_of, register, sign_up
from tests.server.test_portal_panic import _key, _signed

HOSTILE_NAME = '<script>alert("x")</script> O\'Hara \u202eloohcS\u202c & Co'
HOSTILE_WHERE = '<img src=x onerror=alert(1)> "Room" 12 \u200f'
HOSTILE_TEXT = "</script><b>hold-up</b> ' \" \u202e & \\ end"


@pytest.fixture
def env(db_url: str) -> Iterator[tuple[Any, SmtpSink, TestClient]]:
    with SmtpSink() as sink:
        app = create_app(
            make_settings(db_url, smtp_host=sink.host, smtp_port=sink.port, smtp_security="none")
        )
        app.state.rtcc.extras["portal_settings"] = PortalSettings(
            panic_duration_s=600, panic_max_skew_s=60
        )
        with TestClient(app) as api:
            add_user(app, "ana", Role.ANALYST)
            add_user(app, "sue", Role.SUPERVISOR)
            yield app, sink, api


def _site(app: Any, sink: SmtpSink, name: str, kind: str) -> tuple[str, str, str]:
    """A business/school site with one live-in-emergency camera; (camera id, key id, secret)."""
    p = Portal(app)
    sign_up(p, sink, email=f"{kind}@site.example", name=name, kind=kind)
    cid = register(
        p, name="Hall", kind=kind, sharing_mode="live_in_emergency", stream_url="rtsp://10.1.1.1/h"
    )
    key_id, secret = _key(p)
    return cid, key_id, secret


def _listed(api: TestClient, *, active: bool = True) -> list[dict[str, Any]]:
    r = api.get(
        f"{API}/emergencies", params={"active": str(active).lower()}, headers=login(api, "ana")
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    return list(r.json()["items"])


def test_panic_fields_are_listed_and_published_with_the_emergency(env: Any) -> None:
    app, sink, api = env
    cid, key_id, secret = _site(app, sink, HOSTILE_NAME, "business")
    body = json.dumps(
        {"alarm_level": 3, "location": HOSTILE_WHERE, "description": HOSTILE_TEXT}
    ).encode()
    r = api.post(f"{API}/panic", content=body, headers=_signed(key_id, secret, body))
    assert r.status_code == 201, r.text
    emergency_id = r.json()["id"]
    expected = {
        "site_name": HOSTILE_NAME,
        "site_kind": "business",
        "alarm_level": 3,
        "location": HOSTILE_WHERE,
        "description": HOSTILE_TEXT,
        "source": "alarm_panel",
    }
    panic = r.json()["panic"]  # the panel's own answer carries them too
    assert {k: panic[k] for k in expected} == expected

    [listed] = _listed(api)
    assert listed["id"] == emergency_id and listed["camera_ids"] == [cid]
    assert {k: listed["panic"][k] for k in expected} == expected  # same characters, as JSON
    assert isinstance(listed["panic"]["lat"], float) and isinstance(listed["panic"]["lon"], float)
    [started] = [json.loads(d)["emergency"] for _i, _t, d in events_of(app, "emergency.started")]
    assert started["id"] == emergency_id and started["panic"] == listed["panic"]
    # the separate emergency.panic event says the same
    [event] = [json.loads(d) for _i, _t, d in events_of(app, "emergency.panic")]
    assert event["site"]["name"] == HOSTILE_NAME and event["location"] == HOSTILE_WHERE

    # ended: still listed with its fields (the history), and emergency.ended carries them
    r = api.post(f"{API}/emergencies/{emergency_id}/end", headers=login(api, "sue"), json={})
    assert r.status_code == 200 and r.json()["panic"]["alarm_level"] == 3
    assert _listed(api) == []
    [ended] = _listed(api, active=False)
    assert ended["panic"]["site_name"] == HOSTILE_NAME and not ended["active"]
    [gone] = [json.loads(d)["emergency"] for _i, _t, d in events_of(app, "emergency.ended")]
    assert gone["panic"]["source"] == "alarm_panel"


def test_portal_button_records_its_source_and_the_site_kind(env: Any) -> None:
    app, sink, _api = env
    p = Portal(app)
    sign_up(p, sink, email="head@school.example", name="Lincoln Elementary", kind="school")
    register(p, name="Gym", sharing_mode="live_in_emergency", stream_url="rtsp://10.1.1.1/gym")
    first = p.submit("/portal/panic", "/portal/panic", {"location": "gym", "description": ""})
    assert first.status_code == 200
    r = p.client.post(
        "/portal/panic",
        data={"csrf_token": csrf_of(first.text), "confirm": "yes", "location": "gym"},
    )
    assert r.status_code == 303
    [listed] = _listed(_api)
    assert listed["panic"]["source"] == "portal" and listed["panic"]["site_kind"] == "school"
    assert listed["panic"]["site_name"] == "Lincoln Elementary"
    # a person pressed it: the portal raises AVS-01 level 4 (threat to life)
    assert (listed["panic"]["alarm_level"], listed["panic"]["location"]) == (4, "gym")


@pytest.mark.parametrize(
    "field,value",
    [("location", "x" * 201), ("description", "y" * 501), ("alarm_level", 5)],
)
def test_over_long_or_out_of_scale_panic_fields_start_nothing(
    env: Any, field: str, value: Any
) -> None:
    app, sink, api = env
    _cid, key_id, secret = _site(app, sink, "Oak Street Business", "business")
    body = json.dumps({"alarm_level": 2, field: value}).encode()
    r = api.post(f"{API}/panic", content=body, headers=_signed(key_id, secret, body))
    assert r.status_code == 422 and field in r.json()["detail"]
    assert _listed(api) == [] and not events_of(app, "emergency.started")
    with app.state.rtcc.db.read() as s:
        assert s.scalars(select(EmergencyRow.id)).all() == []


def test_declared_and_old_rows_carry_null_panic_and_keep_their_reason(env: Any) -> None:
    app, sink, api = env
    cid, _key_id, _secret = _site(app, sink, "Oak Street Business", "business")
    r = api.post(
        f"{API}/emergencies",
        headers=login(api, "sue"),
        json={"camera_ids": [cid], "reason": "declared: flood", "duration_s": 600},
    )
    assert r.status_code == 201 and r.json()["panic"] is None
    old_reason = "Panic (portal): Oak Street Business, AVS-01 level 2 (threat to property)"
    with app.state.rtcc.db.write() as s:  # a row as written before revision 0111
        old = store_emergencies.insert_emergency(
            s, owner_id=None, camera_ids=[cid], reason=old_reason, duration_s=600, created_by="x"
        )
        assert s.get(EmergencyRow, old.id).panic is None  # type: ignore[union-attr]
        # stored as SQL NULL, like the rows the migration left
        nulls = s.scalars(select(EmergencyRow.id).where(EmergencyRow.panic.is_(None))).all()
        assert sorted(nulls) == sorted([old.id, r.json()["id"]])
    listed = {e["id"]: e for e in _listed(api)}
    assert listed[old.id]["panic"] is None and listed[old.id]["reason"] == old_reason
    assert listed[r.json()["id"]]["panic"] is None
    with app.state.rtcc.db.read() as s:  # the declaration was audited as before
        assert s.scalars(
            select(AuditEventRow.id).where(AuditEventRow.action == "emergency.start")
        ).all()
    assert re.fullmatch(r"emg-[0-9a-f]{12}", old.id)


def _owner_of(app: Any, camera_id: str) -> str:
    from rtcc_console.store.schema import CameraRow

    with app.state.rtcc.db.read() as s:
        owner = s.get(CameraRow, camera_id).owner_id  # type: ignore[union-attr]
    assert owner
    return str(owner)


def test_a_supervisor_raises_a_sites_panic_with_its_fields(env: Any) -> None:
    app, sink, api = env
    cid, _key_id, _secret = _site(app, sink, HOSTILE_NAME, "school")
    owner_id = _owner_of(app, cid)
    r = api.post(
        f"{API}/emergencies",
        headers=login(api, "sue"),
        json={
            "owner_id": owner_id,
            "reason": "911 call: shots heard near the school",
            "duration_s": 600,
            "alarm_level": 4,
            "location": HOSTILE_WHERE,
        },
    )
    assert r.status_code == 201, r.text
    [listed] = _listed(api)
    assert listed["id"] == r.json()["id"] and listed["owner_id"] == owner_id  # all its cameras
    assert listed["reason"] == "911 call: shots heard near the school"
    panic = listed["panic"]
    assert (panic["source"], panic["site_kind"], panic["alarm_level"]) == (
        "supervisor",
        "school",
        4,
    )
    assert panic["site_name"] == HOSTILE_NAME and panic["location"] == HOSTILE_WHERE
    [event] = [json.loads(d) for _i, _t, d in events_of(app, "emergency.panic")]
    assert event["source"] == "supervisor" and event["site"]["name"] == HOSTILE_NAME


def test_a_supervisors_panic_fields_are_refused_when_they_make_no_sense(env: Any) -> None:
    app, sink, api = env
    cid, _key_id, _secret = _site(app, sink, "Oak Street Business", "business")
    owner_id = _owner_of(app, cid)
    home = Portal(app)
    sign_up(home, sink, email="home@x.example", name="A Home", kind="home")
    home_cam = register(home, kind="home")
    base = {"reason": "r", "duration_s": 600}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"camera_ids": [cid], "alarm_level": 2}, "owner_id"),  # a site's panic names the site
        ({"owner_id": _owner_of(app, home_cam), "alarm_level": 2}, "business and school"),
        ({"owner_id": owner_id, "location": "Gym"}, "alarm_level"),  # no level: no panic
        ({"owner_id": owner_id, "alarm_level": 5}, "alarm_level"),
        ({"owner_id": owner_id, "alarm_level": 1, "location": "x" * 201}, "location"),
        ({"owner_id": owner_id, "alarm_level": 1, "description": "\ud800"}, "surrogate"),
    ]
    for extra, words in cases:
        r = api.post(
            f"{API}/emergencies",
            headers={**login(api, "sue"), "Content-Type": "application/json"},
            content=json.dumps({**base, **extra}).encode(),  # "\ud800" stays a JSON escape
        )
        assert r.status_code == 422 and words in r.text, (extra, r.text)
    assert _listed(api) == [] and not events_of(app, "emergency.started")
    # an analyst may not declare at all
    r = api.post(
        f"{API}/emergencies",
        headers=login(api, "ana"),
        json={**base, "owner_id": owner_id, "alarm_level": 2},
    )
    assert r.status_code == 403
