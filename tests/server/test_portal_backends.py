"""The portal's core path on both back ends (SQLite and PostgreSQL): sign-up with the
e-mailed link, register with credentials, a live view ended by a downgrade, receipts, a
single-use link used twice, a signed panic and its replay."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rtcc_console.core.models import Role
from rtcc_console.server.app import create_app
from rtcc_console.server.portal.panic import signature
from rtcc_console.sim.smtp_sink import SmtpSink
from tests.server.conftest import API, add_user, events_of, login, make_settings
from tests.server.portal_support import Portal, register, sign_up, wait_link


@pytest.fixture
def env(db_url: str) -> Iterator[tuple[Any, SmtpSink, TestClient]]:
    with SmtpSink() as sink:
        app = create_app(
            make_settings(db_url, smtp_host=sink.host, smtp_port=sink.port, smtp_security="none")
        )
        with TestClient(app) as api:
            add_user(app, "ana", Role.ANALYST)
            yield app, sink, api


def test_portal_core_path(env: Any) -> None:
    import re

    app, sink, api = env
    p = Portal(app)
    sign_up(p, sink, email="b@x.example", name="Back End School", kind="school")
    link = wait_link(sink, "b@x.example")
    assert Portal(app).submit(link, link).status_code == 410  # used once already
    cid = register(
        p,
        kind="school",
        sharing_mode="live_always",
        stream_url="rtsp://10.0.0.1/a",
        stream_user="u",
        stream_password="p\u00e4ss",
    )
    g = api.post(
        f"{API}/cameras/{cid}/live-grants", headers=login(api, "ana"), json={"reason": "case 26-9"}
    )
    assert g.status_code == 201, g.text
    assert (
        p.submit(
            "/portal/cameras", f"/portal/cameras/{cid}/sharing", {"sharing_mode": "request_only"}
        ).status_code
        == 303
    )
    assert [json.loads(d)["grant_id"] for _i, _t, d in events_of(app, "grant.revoked")] == [
        g.json()["id"]
    ]
    assert "case 26-9" in p.get("/portal/receipts").text
    page = p.submit("/portal/panic", "/portal/keys", {"label": "panel"})
    key_id = re.search(r'id="new-key-id">([^<]+)<', page.text).group(1)  # type: ignore[union-attr]
    secret = re.search(r'class="secret">([^<]+)<', page.text).group(1)  # type: ignore[union-attr]
    body = json.dumps({"alarm_level": 2, "description": "caf\u00e9 \u202e"}).encode()
    stamp = str(int(time.time()))
    headers = {
        "X-RTCC-Key": key_id,
        "X-RTCC-Timestamp": stamp,
        "X-RTCC-Signature": signature(secret, stamp, body),
        "Content-Type": "application/json",
    }
    assert api.post(f"{API}/panic", content=body, headers=headers).status_code == 201
    assert api.post(f"{API}/panic", content=body, headers=headers).status_code == 409
