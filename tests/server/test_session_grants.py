"""No live view outlives its session: every way a session ends ends its grants at once.

Checked through the media hook (``POST /media/auth``, what a relay asks before it serves a
single frame), through ``grant.revoked`` events and the audit trail; one test over real
HTTP with the server in uvicorn.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import update

from rtcc_console.config import ServerSettings
from rtcc_console.core.models import Role, utcnow
from rtcc_console.server.app import create_app
from rtcc_console.server.background import housekeeping_pass
from rtcc_console.server.embedded import EmbeddedServer
from rtcc_console.store.schema import AuditEventRow, AuthTokenRow, LiveGrantRow
from tests.server.conftest import API, PASSWORD, add_user, camera_body, events_of, login


def _cam(client: Any, admin: dict[str, str], cid: str = "cam-1") -> None:
    r = client.post(f"{API}/cameras", headers=admin, json=camera_body(id=cid))
    assert r.status_code == 201, r.text


def _grant(client: Any, headers: dict[str, str], cid: str = "cam-1") -> dict[str, Any]:
    r = client.post(
        f"{API}/cameras/{cid}/live-grants", headers=headers, json={"reason": "case 26-000042"}
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def _hook(client: Any, grant: dict[str, Any]) -> int:
    body = {
        "user": "grant",
        "password": grant["token"],
        "ip": "10.9.9.9",
        "action": "read",
        "path": f"cam/{grant['camera_id']}",
        "protocol": "rtsp",
    }
    return int(client.post(f"{API}/media/auth", json=body).status_code)


def _revoked(app: Any) -> dict[str, dict[str, Any]]:
    return {
        d["grant_id"]: d
        for d in (json.loads(raw) for _i, _t, raw in events_of(app, "grant.revoked"))
    }


def _ended_at(app: Any, grant_id: str) -> Any:
    with app.state.rtcc.db.read() as s:
        row = s.get(LiveGrantRow, grant_id)
        return row.ended_at, row.end_reason


def _denials(app: Any) -> list[str]:
    with app.state.rtcc.db.read() as s:
        rows = (
            s.query(AuditEventRow)
            .filter(AuditEventRow.action == "media.auth")
            .order_by(AuditEventRow.id)
        )
        return [r.reason or "" for r in rows]


def test_sign_out_ends_that_sessions_grants_only(
    client: TestClient, app: Any, admin: dict[str, str]
) -> None:
    _cam(client, admin)
    first, second = login(client, "ana"), login(client, "ana")  # two consoles of one analyst
    g1, g2 = _grant(client, first), _grant(client, second)
    assert _hook(client, g1) == 200 and _hook(client, g2) == 200
    assert client.post(f"{API}/auth/logout", headers=first).status_code == 204
    assert _hook(client, g1) == 401  # at once: the same request cycle, no sweep needed
    assert _hook(client, g2) == 200  # the other session is still open
    ended, why = _ended_at(app, g1["id"])
    assert ended is not None and why == "session ended: signed out"
    assert _revoked(app)[g1["id"]]["reason"] == "session ended: signed out"
    assert g2["id"] not in _revoked(app)
    mine = client.get(f"{API}/live-grants", headers=second).json()["items"]
    assert [g["id"] for g in mine] == [g2["id"]]
    with app.state.rtcc.db.read() as s:
        ends = s.query(AuditEventRow).filter(AuditEventRow.action == "live.end").all()
        assert [r.targets["grant"] for r in ends] == [g1["id"]]
        logout = s.query(AuditEventRow).filter(AuditEventRow.action == "auth.logout").one()
        assert logout.reason == "1 live view(s) ended"


def test_disabling_or_demoting_the_holder_ends_every_grant(
    client: TestClient, app: Any, admin: dict[str, str], supervisor: dict[str, str]
) -> None:
    _cam(client, admin)
    _cam(client, admin, "cam-2")
    g_ana = _grant(client, login(client, "ana"))
    g_sue = _grant(client, supervisor, "cam-2")
    r = client.patch(f"{API}/users/ana", headers=admin, json={"disabled": True})
    assert r.status_code == 200, r.text
    assert _hook(client, g_ana) == 401
    assert _revoked(app)[g_ana["id"]]["reason"] == "session ended: account disabled"
    assert _hook(client, g_sue) == 200
    r = client.patch(f"{API}/users/sue", headers=admin, json={"role": "analyst"})
    assert r.status_code == 200, r.text
    assert _hook(client, g_sue) == 401
    assert _revoked(app)[g_sue["id"]]["reason"] == "session ended: role changed"
    assert client.get(f"{API}/live-grants", headers=admin).json()["items"] == []


def test_expired_session_is_refused_by_the_hook_before_the_sweep_then_ended(
    settings_factory: Callable[..., ServerSettings],
) -> None:
    app = create_app(settings_factory(housekeeping_s=60.0))  # the sweep will not run by itself here
    with TestClient(app) as client:
        add_user(app, "ana", Role.ANALYST)
        add_user(app, "adam", Role.ADMIN)
        admin = login(client, "adam")
        _cam(client, admin)
        analyst = login(client, "ana")
        g = _grant(client, analyst)
        assert _hook(client, g) == 200
        with app.state.rtcc.db.write() as s:  # the analyst's token reaches its expiry
            jti = s.get(LiveGrantRow, g["id"]).session_jti
            s.execute(
                update(AuthTokenRow)
                .where(AuthTokenRow.jti == jti)
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        assert _hook(client, g) == 401
        assert _denials(app)[-1] == "the session that opened the grant has expired"
        assert _ended_at(app, g["id"])[0] is None  # refused by the hook's own check
        housekeeping_pass(app.state.rtcc, prune=False)
        ended, why = _ended_at(app, g["id"])
        assert ended is not None and why == "session ended: expired"
        assert _revoked(app)[g["id"]]["username"] == "ana"


def test_revocation_behind_the_apis_back_is_swept(
    client: TestClient, app: Any, admin: dict[str, str]
) -> None:
    """A token revoked directly in the database (another tool, another process)."""
    _cam(client, admin)
    g = _grant(client, login(client, "ana"))
    with app.state.rtcc.db.write() as s:
        jti = s.get(LiveGrantRow, g["id"]).session_jti
        s.execute(update(AuthTokenRow).where(AuthTokenRow.jti == jti).values(revoked_at=utcnow()))
    assert _hook(client, g) == 401
    assert _denials(app)[-1] == "the session that opened the grant has ended"
    # the housekeeping task runs every 0.2 s in the tests
    deadline = utcnow() + timedelta(seconds=10)
    while _ended_at(app, g["id"])[0] is None and utcnow() < deadline:
        client.get(f"{API}/health")
    assert _ended_at(app, g["id"])[1] == "session ended: revoked"
    assert g["id"] in _revoked(app)


def test_grant_without_a_session_is_refused(
    client: TestClient, app: Any, admin: dict[str, str]
) -> None:
    """A grant row from before sessions were recorded (or forged into the table) opens nothing."""
    _cam(client, admin)
    g = _grant(client, login(client, "ana"))
    with app.state.rtcc.db.write() as s:
        s.execute(update(LiveGrantRow).where(LiveGrantRow.id == g["id"]).values(session_jti=None))
    assert _hook(client, g) == 401


def test_sign_out_over_real_http_closes_the_relay_at_once(settings: ServerSettings) -> None:
    srv = EmbeddedServer(settings.model_copy(update={"port": 0}))
    srv.start()
    try:
        add_user(srv.app, "ana", Role.ANALYST)
        add_user(srv.app, "adam", Role.ADMIN)
        with httpx.Client(base_url=srv.base_url, timeout=10) as http:

            def tok(name: str) -> dict[str, str]:
                r = http.post(f"{API}/auth/login", json={"username": name, "password": PASSWORD})
                assert r.status_code == 200, r.text
                return {"Authorization": f"Bearer {r.json()['access_token']}"}

            _cam(http, tok("adam"))
            ana = tok("ana")
            g = _grant(http, ana)
            assert _hook(http, g) == 200
            assert http.post(f"{API}/auth/logout", headers=ana).status_code == 204
            assert _hook(http, g) == 401
            assert http.get(f"{API}/live-grants", headers=ana).status_code == 401
        assert _revoked(srv.app)[g["id"]]["reason"] == "session ended: signed out"
    finally:
        srv.stop()


def test_unlock_continues_the_session_its_views_stay_and_the_old_token_ends(
    client: TestClient, app: Any, admin: dict[str, str]
) -> None:
    """The console's screen unlock signs in again sending its current token along."""
    from rtcc_console.server.security import token_digest

    _cam(client, admin)
    old = login(client, "ana")
    g = _grant(client, old)
    r = client.post(
        f"{API}/auth/login", headers=old, json={"username": "ana", "password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    new_token = r.json()["access_token"]
    new = {"Authorization": f"Bearer {new_token}"}
    app.state.rtcc.token_cache.clear()
    assert client.get(f"{API}/auth/me", headers=old).status_code == 401  # no dangling token
    assert _hook(client, g) == 200 and g["id"] not in _revoked(app)  # the view goes on
    with app.state.rtcc.db.read() as s:
        assert s.get(LiveGrantRow, g["id"]).session_jti == token_digest(new_token)
    assert client.post(f"{API}/auth/logout", headers=new).status_code == 204
    assert _hook(client, g) == 401  # and still ends with the session that now holds it


def test_another_users_token_sent_along_is_ignored(
    client: TestClient, app: Any, admin: dict[str, str]
) -> None:
    _cam(client, admin)
    ana = login(client, "ana")
    g = _grant(client, ana)
    r = client.post(
        f"{API}/auth/login", headers=ana, json={"username": "sue", "password": PASSWORD}
    )
    assert r.status_code == 200
    assert client.get(f"{API}/auth/me", headers=ana).status_code == 200  # not revoked
    assert _hook(client, g) == 200
    with app.state.rtcc.db.read() as s:
        assert s.get(LiveGrantRow, g["id"]).session_jti != r.json()["access_token"]
