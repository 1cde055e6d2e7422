"""Sign-in, tokens, roles, lockout and unlock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rtcc_console.core.models import utcnow
from rtcc_console.server.security import issue_token, token_digest
from rtcc_console.store.schema import AuditEventRow, AuthTokenRow
from tests.server.conftest import API, PASSWORD, login


def test_login_returns_expiring_token_and_me(client: TestClient, app: Any) -> None:
    r = client.post(f"{API}/auth/login", json={"username": "ana", "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["user"] == {"username": "ana", "role": "analyst"}
    me = client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["username"] == "ana"
    # only the SHA-256 of the token is stored
    with app.state.rtcc.db.read() as s:
        assert s.get(AuthTokenRow, token_digest(body["access_token"])) is not None
        assert s.get(AuthTokenRow, body["access_token"]) is None


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic YTpi", "Bearer "])
def test_missing_or_bad_token_is_401(client: TestClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    r = client.get(f"{API}/cameras", headers=headers)
    assert r.status_code == 401
    assert r.headers.get("www-authenticate") == "Bearer"


def test_expired_token_is_401(client: TestClient, app: Any) -> None:
    with app.state.rtcc.db.write() as s:
        token, _ = issue_token(s, username="ana", ttl_s=60, now=utcnow() - timedelta(hours=1))
    r = client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


def test_logout_revokes_token(client: TestClient, analyst: dict[str, str]) -> None:
    assert client.get(f"{API}/auth/me", headers=analyst).status_code == 200
    assert client.post(f"{API}/auth/logout", headers=analyst).status_code == 204
    assert client.get(f"{API}/auth/me", headers=analyst).status_code == 401


def test_roles_are_enforced(
    client: TestClient, analyst: dict[str, str], supervisor: dict[str, str], admin: dict[str, str]
) -> None:
    assert client.get(f"{API}/users", headers=analyst).status_code == 403
    assert client.get(f"{API}/users", headers=supervisor).status_code == 403
    assert client.get(f"{API}/users", headers=admin).status_code == 200
    assert client.get(f"{API}/audit", headers=analyst).status_code == 403
    assert client.get(f"{API}/audit", headers=supervisor).status_code == 200
    assert client.post(f"{API}/cameras", headers=supervisor, json={}).status_code == 403
    assert client.post(f"{API}/emergencies", headers=analyst, json={}).status_code == 403


def test_bad_password_401_and_audited(client: TestClient, app: Any) -> None:
    r = client.post(f"{API}/auth/login", json={"username": "ana", "password": "wrong password!"})
    assert r.status_code == 401
    r = client.post(f"{API}/auth/login", json={"username": "nobody", "password": "wrong password!"})
    assert r.status_code == 401
    with app.state.rtcc.db.read() as s:
        rows = s.query(AuditEventRow).filter(AuditEventRow.action == "auth.login").all()
    outcomes = [(r.username, r.outcome) for r in rows]
    assert ("ana", "failed") in outcomes and ("nobody", "failed") in outcomes
    assert all(r.client_addr for r in rows)


def test_unknown_user_costs_a_password_verification(
    client: TestClient, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No enumeration by timing: an unknown name runs the same argon2 verify (on a dummy)."""
    passwords = app.state.rtcc.passwords
    real = passwords.hasher
    calls: list[str] = []

    class Counting:
        def verify(self, stored: str, password: str) -> bool:
            calls.append(stored)
            return real.verify(stored, password)

    monkeypatch.setattr(passwords, "hasher", Counting())
    client.post(f"{API}/auth/login", json={"username": "ghost", "password": "whatever pass"})
    assert len(calls) == 1 and calls[0].startswith("$argon2id$")


def test_lockout_after_threshold_then_admin_unlock(
    client: TestClient, admin: dict[str, str]
) -> None:
    for _ in range(4):
        r = client.post(f"{API}/auth/login", json={"username": "ana", "password": "bad password 1"})
        assert r.status_code == 401
    r = client.post(f"{API}/auth/login", json={"username": "ana", "password": "bad password 1"})
    assert r.status_code == 423
    assert "locked until" in r.json()["detail"]
    assert int(r.headers["retry-after"]) > 500
    # even the right password is refused while locked
    r = client.post(f"{API}/auth/login", json={"username": "ana", "password": PASSWORD})
    assert r.status_code == 423
    users = client.get(f"{API}/users", headers=admin).json()["items"]
    assert next(u for u in users if u["username"] == "ana")["locked_until"] is not None
    assert client.post(f"{API}/users/ana/unlock", headers=admin).status_code == 200
    login(client, "ana")


def test_success_resets_failure_count(client: TestClient) -> None:
    for _ in range(4):
        client.post(f"{API}/auth/login", json={"username": "ana", "password": "bad password 1"})
    login(client, "ana")
    for _ in range(4):
        assert (
            client.post(
                f"{API}/auth/login", json={"username": "ana", "password": "bad password 1"}
            ).status_code
            == 401
        )


def test_login_validation_422(client: TestClient) -> None:
    r = client.post(f"{API}/auth/login", json={"username": "ana"})
    assert r.status_code == 422
    assert any("password" in e["loc"] for e in r.json()["detail"])


def test_users_create_and_list_never_show_hashes(client: TestClient, admin: dict[str, str]) -> None:
    r = client.post(
        f"{API}/users",
        headers=admin,
        json={"username": "Bob", "role": "analyst", "password": "a long enough password"},
    )
    assert r.status_code == 201 and r.json()["username"] == "bob"
    assert (
        client.post(
            f"{API}/users",
            headers=admin,
            json={"username": "bob", "role": "analyst", "password": "a long enough password"},
        ).status_code
        == 409
    )
    r = client.post(
        f"{API}/users",
        headers=admin,
        json={"username": "carl", "role": "analyst", "password": "short"},
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "password"
    r = client.post(
        f"{API}/users",
        headers=admin,
        json={"username": "dora", "role": "chief", "password": "a long enough password"},
    )
    assert r.status_code == 422
    listing = client.get(f"{API}/users", headers=admin).text
    assert "argon2" not in listing and "password" not in listing
    login(client, "bob", "a long enough password")
    assert client.post(f"{API}/users/nobody/unlock", headers=admin).status_code == 404


def test_system_routes_need_no_auth(client: TestClient) -> None:
    assert client.get(f"{API}/health").json()["status"] == "ok"
    notice = client.get(f"{API}/system/notice").json()
    assert "audited" in notice["text"] and notice["agency"]
    assert client.get("/docs").status_code == 200
    assert "/api/v1/calls" in client.get("/openapi.json").json()["paths"]


def test_admin_disable_role_change_and_password_reset_end_sessions(
    client: TestClient, admin: dict[str, str], analyst: dict[str, str]
) -> None:
    assert client.get(f"{API}/auth/me", headers=analyst).status_code == 200
    r = client.patch(f"{API}/users/ana", headers=admin, json={"disabled": True})
    assert r.status_code == 200 and r.json()["disabled"] is True
    assert client.get(f"{API}/auth/me", headers=analyst).status_code == 401  # session ended at once
    assert (
        client.post(f"{API}/auth/login", json={"username": "ana", "password": PASSWORD}).status_code
        == 401
    )
    client.patch(f"{API}/users/ana", headers=admin, json={"disabled": False, "role": "supervisor"})
    sue_like = login(client, "ana")
    assert client.get(f"{API}/audit", headers=sue_like).status_code == 200
    r = client.patch(f"{API}/users/ana", headers=admin, json={"password": "a brand new password"})
    assert r.status_code == 200
    assert client.get(f"{API}/auth/me", headers=sue_like).status_code == 401
    login(client, "ana", "a brand new password")
    assert (
        client.patch(f"{API}/users/ana", headers=admin, json={"password": "short"}).status_code
        == 422
    )
    assert client.patch(f"{API}/users/ana", headers=admin, json={}).status_code == 422
    assert (
        client.patch(f"{API}/users/adam", headers=admin, json={"disabled": True}).status_code == 422
    )
    assert (
        client.patch(f"{API}/users/nobody", headers=admin, json={"disabled": True}).status_code
        == 404
    )
    assert client.patch(
        f"{API}/users/ana", headers=sue_like, json={"disabled": True}
    ).status_code in (401, 403)


def test_password_spraying_from_one_address_is_throttled(settings_factory: Any) -> None:
    from rtcc_console.core.models import Role
    from rtcc_console.server.app import create_app
    from tests.server.conftest import add_user

    app = create_app(settings_factory(login_ip_max_failures=3, login_ip_window_s=600))
    with TestClient(app) as client:
        add_user(app, "ana", Role.ANALYST)
        for name in ("u1", "u2", "ana"):  # one password tried on several accounts
            assert (
                client.post(
                    f"{API}/auth/login", json={"username": name, "password": "Summer2026!!"}
                ).status_code
                == 401
            )
        r = client.post(f"{API}/auth/login", json={"username": "ana", "password": PASSWORD})
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


def test_role_refusals_are_audited(client: TestClient, app: Any, analyst: dict[str, str]) -> None:
    assert client.get(f"{API}/users", headers=analyst).status_code == 403
    with app.state.rtcc.db.read() as s:
        rows = s.query(AuditEventRow).filter(AuditEventRow.action == "access.denied").all()
    assert [(r.username, r.targets["route"]) for r in rows] == [("ana", "GET /api/v1/users")]
