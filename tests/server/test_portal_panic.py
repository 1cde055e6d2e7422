"""The panic button (portal, no-JS confirmation) and POST /api/v1/panic for alarm panels:
HMAC over timestamp + body with the site key, replay protection, clear 4xx; the emergency
opens the site's live-in-emergency cameras, ends by the owner; another owner cannot end it."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from rtcc_console.core.models import Role
from rtcc_console.server.app import create_app
from rtcc_console.server.portal.accounts import PortalSettings
from rtcc_console.server.portal.panic import signature
from rtcc_console.sim.smtp_sink import SmtpSink
from rtcc_console.store.schema import AuditEventRow, EmergencyRow
from tests.server.conftest import API, add_user, events_of, login, make_settings
from tests.server.portal_support import Portal, csrf_of, register, sign_up

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


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


def _school(app: Any, sink: SmtpSink, email: str = "head@school.example") -> tuple[Portal, str]:
    p = Portal(app)
    sign_up(p, sink, email=email, name="Lincoln Elementary", kind="school")
    cid = register(
        p, name="Gym", sharing_mode="live_in_emergency", stream_url="rtsp://10.1.1.1/gym"
    )
    return p, cid


def _grant(api: TestClient, cid: str) -> Any:
    return api.post(
        f"{API}/cameras/{cid}/live-grants", headers=login(api, "ana"), json={"reason": "case 26-1"}
    )


def test_press_confirm_and_end_panic_in_the_portal(env: Any) -> None:
    app, sink, api = env
    p, cid = _school(app, sink)
    assert _grant(api, cid).status_code in (403, 409)  # not viewable before an emergency
    first = p.submit(
        "/portal/panic", "/portal/panic", {"location": "gym", "description": "intruder"}
    )
    assert (
        first.status_code == 200 and "Yes, start the emergency" in first.text
    )  # the no-JS confirmation
    assert not events_of(app, "emergency.started")
    r = p.client.post(
        "/portal/panic",
        data={
            "csrf_token": csrf_of(first.text),
            "confirm": "yes",
            "location": "gym",
            "description": "intruder",
        },
    )
    assert r.status_code == 303
    started = [json.loads(d) for _i, _t, d in events_of(app, "emergency.started")]
    panic = [json.loads(d) for _i, _t, d in events_of(app, "emergency.panic")]
    assert len(started) == 1 and started[0]["emergency"]["camera_ids"] == [cid]
    assert panic[0]["site"]["name"] == "Lincoln Elementary" and panic[0]["site"]["kind"] == "school"
    assert panic[0]["alarm_level"] == 4 and panic[0]["location"] == "gym"
    g = _grant(api, cid)
    assert g.status_code == 201, g.text  # the live-in-emergency camera opens
    page = p.get("/portal/panic")
    assert "End emergency" in page.text
    eid = started[0]["emergency"]["id"]
    other = Portal(app)
    sign_up(other, sink, email="shop@x.example", name="Shop", kind="business")
    assert (
        other.submit("/portal/panic", f"/portal/panic/{eid}/end").status_code == 404
    )  # not theirs
    assert not events_of(app, "emergency.ended")
    assert p.submit("/portal/panic", f"/portal/panic/{eid}/end").status_code == 303
    assert events_of(app, "emergency.ended")
    revoked = [json.loads(d) for _i, _t, d in events_of(app, "grant.revoked")]
    assert [x["grant_id"] for x in revoked] == [g.json()["id"]]  # that access closes


def test_home_accounts_have_no_panic_button(env: Any) -> None:
    app, sink, _ = env
    p = Portal(app)
    sign_up(p, sink, email="home@x.example", name="Home", kind="home")
    register(p, kind="home")
    assert "for business and school sites" in p.get("/portal/panic").text
    r = p.submit("/portal/panic", "/portal/panic", {"confirm": "yes"})
    assert r.status_code == 409 and not events_of(app, "emergency.started")
    assert p.submit("/portal/panic", "/portal/keys", {"label": "x"}).status_code == 403


def _key(p: Portal) -> tuple[str, str]:
    r = p.submit("/portal/panic", "/portal/keys", {"label": "front desk panel"})
    assert r.status_code == 200
    key_id = re.search(r'id="new-key-id">([^<]+)<', r.text).group(1)  # type: ignore[union-attr]
    secret = re.search(r'id="new-key-secret" class="secret">([^<]+)<', r.text).group(1)  # type: ignore[union-attr]
    assert secret not in p.get("/portal/panic").text  # shown once
    return key_id, secret


def _signed(key_id: str, secret: str, body: bytes, ts: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if ts is None else ts)
    return {
        "X-RTCC-Key": key_id,
        "X-RTCC-Timestamp": stamp,
        "X-RTCC-Signature": signature(secret, stamp, body),
        "Content-Type": "application/json",
    }


def test_alarm_panel_signed_panic_starts_the_emergency(env: Any) -> None:
    app, sink, api = env
    p, cid = _school(app, sink)
    key_id, secret = _key(p)
    owner_id = re.search(r"owner:(own-[0-9a-f]+)", _audit_actors(app)).group(1)  # type: ignore[union-attr]
    body = json.dumps(
        {
            "site_id": owner_id,
            "alarm_level": 3,
            "location": "Room 12",
            "description": "hold-up alarm",
        }
    ).encode()
    r = api.post(f"{API}/panic", content=body, headers=_signed(key_id, secret, body))
    assert r.status_code == 201, r.text
    assert r.json()["camera_ids"] == [cid] and r.json()["active"]
    panic = [json.loads(d) for _i, _t, d in events_of(app, "emergency.panic")]
    assert (
        panic[0]["alarm_level"] == 3
        and panic[0]["source"] == "alarm_panel"
        and panic[0]["location"] == "Room 12"
    )
    # replay of the very same request
    replay = api.post(
        f"{API}/panic",
        content=body,
        headers=_signed(key_id, secret, body, int(r.request.headers["X-RTCC-Timestamp"])),
    )
    assert replay.status_code == 409 and "replay" in replay.json()["detail"]
    assert "Emergency running" in p.get("/portal/panic").text
    with app.state.rtcc.db.read() as s:
        assert len(list(s.scalars(select(EmergencyRow.id)))) == 1


def test_alarm_panel_refusals_are_clear_4xx_and_start_nothing(env: Any) -> None:
    app, sink, api = env
    p, _ = _school(app, sink)
    key_id, secret = _key(p)
    good = json.dumps({"alarm_level": 2}).encode()
    cases: list[tuple[bytes, dict[str, str], int]] = [
        (good, {"Content-Type": "application/json"}, 401),  # unsigned
        (good, {**_signed(key_id, "0" * 64, good)}, 401),  # wrong key
        (good, {**_signed("sk-unknown", secret, good)}, 401),  # unknown key id
        (good, _signed(key_id, secret, good, int(time.time()) - 3600), 401),  # old timestamp
        (good, _signed(key_id, secret, good, int(time.time()) + 3600), 401),  # future timestamp
        (b'{"alarm_level": 9}', _signed(key_id, secret, b'{"alarm_level": 9}'), 422),  # not AVS-01
        (
            b'{"alarm_level": 1, "x": 1}',
            _signed(key_id, secret, b'{"alarm_level": 1, "x": 1}'),
            422,
        ),
        (
            b'{"alarm_level": 1, "description": "\\ud800"}',
            _signed(key_id, secret, b'{"alarm_level": 1, "description": "\\ud800"}'),
            422,
        ),  # lone surrogate
        (b"[[[[[[[[", _signed(key_id, secret, b"[[[[[[[["), 422),
        (
            b'{"alarm_level": 1, "site_id": "own-other"}',
            _signed(key_id, secret, b'{"alarm_level": 1, "site_id": "own-other"}'),
            403,
        ),
    ]
    tampered = dict(_signed(key_id, secret, good))
    cases.append(
        (json.dumps({"alarm_level": 4}).encode(), tampered, 401)
    )  # body changed after signing
    for body, headers, status in cases:
        r = api.post(f"{API}/panic", content=body, headers=headers)
        assert r.status_code == status, (body, r.status_code, r.text)
    big = b'{"alarm_level": 1, "description": "' + b"x" * 20000 + b'"}'
    assert api.post(
        f"{API}/panic", content=big, headers=_signed(key_id, secret, big)
    ).status_code in (413, 422)
    assert not events_of(app, "emergency.started")
    # a revoked key stops working
    page = p.get("/portal/panic")
    assert (
        p.client.post(
            f"/portal/keys/{key_id}/revoke", data={"csrf_token": csrf_of(page.text)}
        ).status_code
        == 303
    )
    assert (
        api.post(f"{API}/panic", content=good, headers=_signed(key_id, secret, good)).status_code
        == 401
    )
    with app.state.rtcc.db.read() as s:
        assert (
            s.scalar(select(AuditEventRow).where(AuditEventRow.action == "panic.refused"))
            is not None
        )


def test_another_owner_cannot_revoke_my_key(env: Any) -> None:
    app, sink, api = env
    p, _ = _school(app, sink)
    key_id, secret = _key(p)
    q = Portal(app)
    sign_up(q, sink, email="other@x.example", name="Other", kind="business")
    assert q.submit("/portal/panic", f"/portal/keys/{key_id}/revoke").status_code == 404
    assert key_id not in q.get("/portal/panic").text
    good = json.dumps({"alarm_level": 1}).encode()
    assert (
        api.post(f"{API}/panic", content=good, headers=_signed(key_id, secret, good)).status_code
        == 201
    )


def test_supervisor_ends_a_panic_emergency(env: Any) -> None:
    app, sink, api = env
    p, _ = _school(app, sink)
    p.submit("/portal/panic", "/portal/panic", {"confirm": "yes"})
    eid = json.loads(events_of(app, "emergency.started")[0][2])["emergency"]["id"]
    r = api.post(
        f"{API}/emergencies/{eid}/end", headers=login(api, "sue"), json={"reason": "all clear"}
    )
    assert r.status_code == 200
    assert "Emergency running" not in p.get("/portal/panic").text


def _audit_actors(app: Any) -> str:
    with app.state.rtcc.db.read() as s:
        return " ".join(u or "" for u in s.scalars(select(AuditEventRow.username)))
