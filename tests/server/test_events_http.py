"""The event stream over real HTTP (uvicorn on loopback): live, replay, auth, heartbeats."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from rtcc_console.config import ServerSettings
from rtcc_console.core.models import Role
from rtcc_console.server.embedded import EmbeddedServer
from tests.server.conftest import PASSWORD, add_user, camera_body, simple_call
from tests.server.sse_client import SseReader


@pytest.fixture
def server(settings: ServerSettings) -> Iterator[EmbeddedServer]:
    srv = EmbeddedServer(settings.model_copy(update={"port": 0}))
    srv.start()
    assert srv.ensure_user("ana", "analyst", PASSWORD) is True
    assert srv.ensure_user("ana", "analyst", PASSWORD) is False
    add_user(srv.app, "adam", Role.ADMIN)
    try:
        yield srv
    finally:
        srv.stop()


def token(srv: EmbeddedServer, name: str = "ana") -> str:
    r = httpx.post(f"{srv.api_url}/auth/login", json={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def post_call(srv: EmbeddedServer, tok: str, **kw: Any) -> dict[str, Any]:
    r = httpx.post(
        f"{srv.api_url}/calls", json=simple_call(**kw), headers={"Authorization": f"Bearer {tok}"}
    )
    assert r.status_code in (200, 201), r.text
    return r.json()  # type: ignore[no-any-return]


def test_embedded_server_reports_real_port_and_health(server: EmbeddedServer) -> None:
    assert not server.base_url.endswith(":0")
    r = httpx.get(f"{server.api_url}/health")
    assert r.json() == {"status": "ok", "db": server.state.db.backend}


def test_live_event_arrives_with_increasing_ids(server: EmbeddedServer) -> None:
    tok = token(server)
    reader = SseReader(f"{server.api_url}/events", headers={"Authorization": f"Bearer {tok}"})
    try:
        assert reader.status == 200
        created = post_call(server, tok, incident_id="E-1")
        post_call(server, tok, incident_id="E-2")
        first, second = reader.get(), reader.get()
        assert first is not None and second is not None
        assert (
            first.event == "call.created"
            and json.loads(first.data)["call"]["id"] == created["call"]["id"]
        )
        assert int(second.id or 0) > int(first.id or 0)
    finally:
        reader.close()


def test_replay_from_last_event_id_then_live(server: EmbeddedServer) -> None:
    tok = token(server)
    for i in range(4):
        post_call(server, tok, incident_id=f"R-{i}")
    auth = {"Authorization": f"Bearer {tok}"}
    reader = SseReader(f"{server.api_url}/events", headers={**auth, "Last-Event-ID": "2"})
    try:
        got = [reader.get() for _ in range(2)]
        assert [e.id for e in got if e] == ["3", "4"]
        post_call(server, tok, incident_id="R-live")
        live = reader.get()
        assert live is not None and live.id == "5" and "R-live" in live.data
    finally:
        reader.close()
    # query-string form for clients that cannot set headers
    reader = SseReader(
        f"{server.api_url}/events", params={"access_token": tok, "last_event_id": "4"}
    )
    try:
        got = reader.get()
        assert got is not None and got.id == "5"
    finally:
        reader.close()


def test_stream_requires_token_and_valid_id(server: EmbeddedServer) -> None:
    reader = SseReader(f"{server.api_url}/events")
    assert reader.status == 401
    reader.close()
    reader = SseReader(f"{server.api_url}/events", params={"access_token": "bogus"})
    assert reader.status == 401
    reader.close()
    reader = SseReader(
        f"{server.api_url}/events",
        headers={"Authorization": f"Bearer {token(server)}", "Last-Event-ID": "x1"},
    )
    assert reader.status == 422
    reader.close()


def test_heartbeat_comments(server: EmbeddedServer) -> None:
    reader = SseReader(
        f"{server.api_url}/events", headers={"Authorization": f"Bearer {token(server)}"}
    )
    try:
        item = reader.get(skip_comments=False)
        assert item is not None and item.comment is not None  # sse_ping_s = 0.5 in tests
    finally:
        reader.close()


def test_revocation_event_reaches_stream(server: EmbeddedServer) -> None:
    admin = {"Authorization": f"Bearer {token(server, 'adam')}"}
    ana = {"Authorization": f"Bearer {token(server)}"}
    assert (
        httpx.post(
            f"{server.api_url}/cameras", headers=admin, json=camera_body(id="cam-1")
        ).status_code
        == 201
    )
    g = httpx.post(
        f"{server.api_url}/cameras/cam-1/live-grants", headers=ana, json={"reason": "case 7"}
    ).json()
    reader = SseReader(f"{server.api_url}/events", headers=ana)
    try:
        httpx.post(
            f"{server.api_url}/cameras/cam-1/revoke",
            headers=admin,
            json={"reason": "owner said no"},
        )
        seen = [reader.get(), reader.get()]
        kinds = {e.event: json.loads(e.data) for e in seen if e}
        assert kinds["grant.revoked"]["grant_id"] == g["id"]
        assert kinds["camera.changed"]["change"] == "revoked"
    finally:
        reader.close()


def test_replay_older_than_retention_says_truncated(server: EmbeddedServer) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from rtcc_console.core.models import utcnow
    from rtcc_console.server.background import housekeeping_pass
    from rtcc_console.store.schema import EventRow

    tok = token(server)
    for i in range(3):
        post_call(server, tok, incident_id=f"T-{i}")
    state = server.state
    with state.db.write() as s:
        s.execute(update(EventRow).values(at=utcnow() - timedelta(days=30)))
    housekeeping_pass(state, prune=True)
    reader = SseReader(
        f"{server.api_url}/events", headers={"Authorization": f"Bearer {tok}", "Last-Event-ID": "1"}
    )
    try:
        first = reader.get()
        assert first is not None and first.event == "replay.truncated"
        assert json.loads(first.data)["oldest_id"] == 3
        nxt = reader.get()
        assert nxt is not None and nxt.id == "3"
    finally:
        reader.close()


def test_main_flow_over_real_http(server: EmbeddedServer) -> None:
    """Login, registry write, nearest, call intake + detail, live grant, logout: over loopback."""
    api = server.api_url
    admin = {"Authorization": f"Bearer {token(server, 'adam')}"}
    ana_token = token(server)
    ana = {"Authorization": f"Bearer {ana_token}"}
    with httpx.Client(timeout=10) as c:
        assert (
            c.post(f"{api}/cameras", headers=admin, json=camera_body(id="cam-h1")).status_code
            == 201
        )
        assert (
            c.post(f"{api}/cameras", headers=ana, json=camera_body(id="cam-h2")).status_code == 403
        )
        near = c.get(
            f"{api}/cameras/nearest", params={"lat": 32.78, "lon": -96.8}, headers=ana
        ).json()
        assert [i["camera"]["id"] for i in near["items"]] == ["cam-h1"]
        call = c.post(
            f"{api}/calls",
            headers={**ana, "Content-Type": "application/json"},
            content=json.dumps(simple_call()),
        )
        assert call.status_code == 201
        detail = c.get(f"{api}/calls/{call.json()['call']['id']}", headers=ana).json()
        assert detail["cameras"][0]["camera"]["id"] == "cam-h1" and "s3cret" not in json.dumps(
            detail
        )
        g = c.post(f"{api}/cameras/cam-h1/live-grants", headers=ana, json={"reason": "case 9"})
        assert g.status_code == 201 and "s3cret" in g.json()["stream_url"]
        assert (
            c.post(
                f"{api}/media/auth",
                json={"password": g.json()["token"], "action": "read", "path": "cam/cam-h1"},
            ).status_code
            == 200
        )
        bad = c.post(f"{api}/calls", headers=ana, json=simple_call(lat="north"))
        assert bad.status_code == 422 and bad.json()["detail"].startswith("lat")
        assert c.post(f"{api}/auth/logout", headers=ana).status_code == 204
        assert c.get(f"{api}/auth/me", headers=ana).status_code == 401


def test_unknown_future_id_is_reported_not_silently_skipped(server: EmbeddedServer) -> None:
    tok = token(server)
    post_call(server, tok, incident_id="F-1")
    reader = SseReader(
        f"{server.api_url}/events",
        headers={"Authorization": f"Bearer {tok}", "Last-Event-ID": "999"},
    )
    try:
        first = reader.get()
        assert first is not None and first.event == "replay.truncated"
        assert json.loads(first.data)["newest_id"] == 1
        post_call(server, tok, incident_id="F-2")
        nxt = reader.get()
        assert nxt is not None and nxt.id == "2"
    finally:
        reader.close()


def test_stream_ends_when_session_is_revoked(server: EmbeddedServer) -> None:
    tok = token(server)
    reader = SseReader(f"{server.api_url}/events", headers={"Authorization": f"Bearer {tok}"})
    try:
        assert (
            httpx.post(
                f"{server.api_url}/auth/logout", headers={"Authorization": f"Bearer {tok}"}
            ).status_code
            == 204
        )
        end = reader.get(timeout=20)  # heartbeats skipped; None = the server closed the stream
        assert end is None
    finally:
        reader.close()
