"""Multi-factor sign-in (CJIS): TOTP with real codes computed from the shared secret.

The server's clock for TOTP (``server.mfa.clock``) is pinned in the tests that depend on
step boundaries (skew, reuse), so that they cannot flake at the edge of a 30 s step.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import segno
from fastapi.testclient import TestClient
from sqlalchemy import update

from rtcc_console.config import ServerSettings
from rtcc_console.core.models import Role, utcnow
from rtcc_console.server import mfa
from rtcc_console.server.app import create_app
from rtcc_console.server.cli import user_main
from rtcc_console.store.schema import AuditEventRow, MfaChallengeRow, UserRow
from tests.server.conftest import PASSWORD, add_user, camera_body, events_of, login
from tests.server.mfa_support import API, code_at, enrol, password_step

T0 = 1_900_000_020.0  # 20 s into a step (step 63_333_334)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [T0]
    monkeypatch.setattr(mfa, "clock", lambda: now[0])
    return now


def _app(factory: Callable[..., ServerSettings], **kw: Any) -> Any:
    return create_app(factory(mfa_required_roles=kw.pop("roles", ["supervisor", "admin"]), **kw))


@pytest.fixture
def mfa_client(settings_factory: Callable[..., ServerSettings]) -> Iterator[tuple[TestClient, Any]]:
    app = _app(settings_factory)
    with TestClient(app) as c:
        add_user(app, "ana", Role.ANALYST)
        add_user(app, "sue", Role.SUPERVISOR)
        add_user(app, "adam", Role.ADMIN)
        yield c, app


def _audit(app: Any, action: str) -> list[AuditEventRow]:
    with app.state.rtcc.db.read() as s:
        rows = (
            s.query(AuditEventRow)
            .filter(AuditEventRow.action == action)
            .order_by(AuditEventRow.id)
            .all()
        )
        s.expunge_all()
        return rows


def _second(client: TestClient, token: str, code: str) -> Any:
    return client.post(f"{API}/auth/mfa", json={"mfa_token": token, "code": code})


def test_default_policy_supervisors_and_admins_need_a_code_analysts_do_not(
    mfa_client: tuple[TestClient, Any],
) -> None:
    client, app = mfa_client
    assert (
        client.post(f"{API}/auth/login", json={"username": "ana", "password": PASSWORD}).status_code
        == 200
    )
    for name in ("sue", "adam"):
        r = client.post(f"{API}/auth/login", json={"username": name, "password": PASSWORD})
        assert r.status_code == 401
        body = r.json()
        assert (
            body["mfa_required"] is True
            and body["mfa_enrol"] is True
            and body["mfa_token"].startswith("mfa_")
        )
        assert "access_token" not in body and "second factor" in body["detail"]
    wrong = client.post(
        f"{API}/auth/login", json={"username": "sue", "password": "not the password"}
    )
    assert (
        wrong.status_code == 401
        and "mfa_required" not in wrong.json()
        and "mfa_token" not in wrong.json()
    )
    assert [r.outcome for r in _audit(app, "auth.login")].count("mfa_required") == 2


def test_production_default_is_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RTCC_MFA_REQUIRED_ROLES", raising=False)  # the test suite relaxes it
    assert ServerSettings(dev_mode=True).mfa_required_roles == ["supervisor", "admin"]


def test_policy_can_require_analysts_too(settings_factory: Callable[..., ServerSettings]) -> None:
    app = _app(settings_factory, roles=["analyst", "supervisor", "admin"])
    with TestClient(app) as client:
        add_user(app, "ana", Role.ANALYST)
        assert password_step(client, "ana", PASSWORD)["mfa_enrol"] is True


def test_enrolment_by_qr_then_sign_in_with_real_codes(mfa_client: tuple[TestClient, Any]) -> None:
    client, app = mfa_client
    challenge = password_step(client, "sue", PASSWORD)
    token = challenge["mfa_token"]
    assert (
        client.post(f"{API}/auth/mfa/enrol/qr.png", json={"mfa_token": token}).status_code == 409
    )  # not started
    r = client.post(f"{API}/auth/mfa/enrol", json={"mfa_token": token})
    assert r.status_code == 200, r.text
    enrolment = r.json()
    secret, uri = enrolment["secret"], enrolment["otpauth_uri"]
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri and "issuer=RTCC" in uri
    assert enrolment["qr_svg"].lstrip().startswith("<svg")
    png = client.post(f"{API}/auth/mfa/enrol/qr.png", json={"mfa_token": token})
    assert (
        png.status_code == 200
        and png.headers["content-type"] == "image/png"
        and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    )
    expected = io.BytesIO()
    segno.make(uri, error="m").save(expected, kind="png", scale=6, border=4)
    assert png.content == expected.getvalue()  # the QR code encodes exactly the otpauth URI
    svg = client.post(f"{API}/auth/mfa/enrol/qr.svg", json={"mfa_token": token})
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert (
        _second(
            client, token, "000000" if code_at(secret, time.time()) != "000000" else "111111"
        ).status_code
        == 401
    )
    r = _second(client, token, code_at(secret, time.time()))
    assert r.status_code == 200, r.text
    done = r.json()
    assert (
        done["user"] == {"username": "sue", "role": "supervisor"}
        and len(set(done["recovery_codes"])) == 10
    )
    assert (
        client.get(
            f"{API}/auth/me", headers={"Authorization": f"Bearer {done['access_token']}"}
        ).status_code
        == 200
    )
    assert (
        _second(client, token, code_at(secret, time.time() + 30)).status_code == 401
    )  # the challenge was single-use
    with app.state.rtcc.db.read() as s:
        stored = s.get(UserRow, "sue").mfa_secret
    assert stored and secret not in stored  # encrypted at rest
    # the next sign-in asks for a code, not for enrolment
    again = password_step(client, "sue", PASSWORD)
    assert again["mfa_enrol"] is False
    assert (
        client.post(f"{API}/auth/mfa/enrol", json={"mfa_token": again["mfa_token"]}).status_code
        == 401
    )
    users = client.get(f"{API}/users", headers=login_admin(client)).json()["items"]
    assert {u["username"]: u["mfa_enabled"] for u in users}["sue"] is True


def login_admin(client: TestClient, at: float | None = None) -> dict[str, str]:
    _secret, headers, _codes = enrol(client, "adam", PASSWORD, at=at)
    return headers


def test_reused_code_refused_and_one_step_of_skew_accepted(
    mfa_client: tuple[TestClient, Any], clock: list[float]
) -> None:
    client, _app_ = mfa_client
    secret, _h, _codes = enrol(client, "sue", PASSWORD, at=T0)  # accepted for step s
    token = password_step(client, "sue", PASSWORD)["mfa_token"]
    r = _second(client, token, code_at(secret, T0))
    assert r.status_code == 401 and "already used" in r.json()["detail"]  # same step again
    clock[0] = T0 + 300  # ten steps later
    assert (
        _second(client, token, code_at(secret, clock[0], -2)).status_code == 401
    )  # two steps behind: too old
    assert (
        _second(client, token, code_at(secret, clock[0], +2)).status_code == 401
    )  # two ahead: too new
    assert (
        _second(client, token, code_at(secret, clock[0], -1)).status_code == 200
    )  # one step of skew behind
    token = password_step(client, "sue", PASSWORD)["mfa_token"]
    assert (
        _second(client, token, code_at(secret, clock[0], -1)).status_code == 401
    )  # that code again: reused
    assert (
        _second(client, token, code_at(secret, clock[0], +1)).status_code == 200
    )  # one step of skew ahead
    token = password_step(client, "sue", PASSWORD)["mfa_token"]
    assert (
        _second(client, token, code_at(secret, clock[0])).status_code == 401
    )  # not later than the last accepted


def test_failed_codes_count_toward_the_lockout(
    mfa_client: tuple[TestClient, Any], clock: list[float]
) -> None:
    client, app = mfa_client
    secret, _h, _codes = enrol(client, "sue", PASSWORD, at=T0)
    clock[0] = T0 + 60
    token = password_step(client, "sue", PASSWORD)["mfa_token"]
    good = code_at(secret, clock[0])
    bad = f"{(int(good) + 1) % 1_000_000:06d}"
    for _ in range(4):
        assert _second(client, token, bad).status_code == 401
    # a right password in between does not clear the count (only a full sign-in would)
    token = password_step(client, "sue", PASSWORD)["mfa_token"]
    r = _second(client, token, bad)
    assert r.status_code == 423 and "Retry-After" in r.headers
    assert _second(client, token, good).status_code == 423  # even the right code, while locked
    assert (
        client.post(f"{API}/auth/login", json={"username": "sue", "password": PASSWORD}).status_code
        == 423
    )
    fails = [r for r in _audit(app, "auth.mfa") if r.outcome == "failed"]
    assert len(fails) == 5 and "locked until" in (fails[-1].reason or "")


def test_recovery_codes_work_once(mfa_client: tuple[TestClient, Any], clock: list[float]) -> None:
    client, app = mfa_client
    _secret, _h, codes = enrol(client, "sue", PASSWORD, at=T0)
    token = password_step(client, "sue", PASSWORD)["mfa_token"]
    r = _second(client, token, codes[3].upper().replace("-", " - "))  # typed loosely
    assert r.status_code == 200, r.text
    token = password_step(client, "sue", PASSWORD)["mfa_token"]
    r = _second(client, token, codes[3])
    assert r.status_code == 401 and "recovery code" in r.json()["detail"]
    ok = [r for r in _audit(app, "auth.login") if r.outcome == "ok"]
    assert ok[-1].reason == "second factor: recovery code (9 left)"
    with app.state.rtcc.db.read() as s:
        from rtcc_console.store.schema import MfaRecoveryCodeRow

        stored = {r.code_hash for r in s.query(MfaRecoveryCodeRow).all()}
    assert not any(c.replace("-", "") in h for c in codes for h in stored)


def test_challenge_tokens_forged_expired_or_oversized(mfa_client: tuple[TestClient, Any]) -> None:
    client, app = mfa_client
    assert _second(client, "mfa_forged", "123456").status_code == 401
    token = password_step(client, "sue", PASSWORD)["mfa_token"]
    with app.state.rtcc.db.write() as s:
        s.execute(update(MfaChallengeRow).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.post(f"{API}/auth/mfa/enrol", json={"mfa_token": token}).status_code == 401
    assert _second(client, "x" * 201, "123456").status_code == 422
    assert _second(client, token, "1" * 65).status_code == 422
    assert client.post(f"{API}/auth/mfa", json={"mfa_token": token}).status_code == 422
    assert (
        client.post(
            f"{API}/auth/mfa", json={"mfa_token": token, "code": "123456", "extra": 1}
        ).status_code
        == 422
    )


def test_reset_mfa_from_the_cli_is_audited_and_ends_sessions_and_views(
    mfa_client: tuple[TestClient, Any], clock: list[float], settings_factory: Any
) -> None:
    client, app = mfa_client
    admin = login_admin(client, T0)
    assert (
        client.post(f"{API}/cameras", headers=admin, json=camera_body(id="cam-1")).status_code
        == 201
    )
    _secret, sue, _codes = enrol(client, "sue", PASSWORD, at=T0 + 30)
    g = client.post(
        f"{API}/cameras/cam-1/live-grants", headers=sue, json={"reason": "case 26-7"}
    ).json()
    url = str(app.state.rtcc.settings.db_url)
    assert user_main(["reset-mfa", "sue", "--db", url]) == 0
    assert user_main(["reset-mfa", "nobody", "--db", url]) == 1
    if (
        app.state.rtcc.token_cache is not None
    ):  # the CLI is another process: its NOTIFY would do this on PostgreSQL
        app.state.rtcc.token_cache.clear()
    assert client.get(f"{API}/auth/me", headers=sue).status_code == 401
    hook = {"password": g["token"], "action": "read", "path": "cam/cam-1"}
    assert client.post(f"{API}/media/auth", json=hook).status_code == 401
    rows = _audit(app, "admin.user_reset_mfa")
    assert len(rows) == 1 and rows[0].targets == {"user": "sue"} and rows[0].username == "cli"
    assert password_step(client, "sue", PASSWORD)["mfa_enrol"] is True
    assert any("second factor reset" in d for _i, _t, d in events_of(app, "grant.revoked"))


def test_reset_mfa_by_an_admin_over_the_api(
    mfa_client: tuple[TestClient, Any], clock: list[float]
) -> None:
    client, app = mfa_client
    admin = login_admin(client, T0)
    enrol(client, "sue", PASSWORD, at=T0 + 30)
    analyst = login(client, "ana")
    assert client.post(f"{API}/users/sue/reset-mfa", headers=analyst).status_code == 403
    r = client.post(f"{API}/users/sue/reset-mfa", headers=admin)
    assert r.status_code == 200 and r.json()["mfa_enabled"] is False
    assert client.post(f"{API}/users/nobody/reset-mfa", headers=admin).status_code == 404
    assert _audit(app, "admin.user_reset_mfa")[0].username == "adam"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_second_step_routes_refuse_anything_but_a_live_challenge(
    mfa_client: tuple[TestClient, Any],
) -> None:
    client, _app_ = mfa_client
    for path in (
        "/auth/mfa",
        "/auth/mfa/enrol",
        "/auth/mfa/enrol/qr.png",
        "/auth/mfa/enrol/qr.svg",
    ):
        assert client.post(f"{API}{path}", json={}).status_code == 422
        assert (
            client.post(
                f"{API}{path}",
                json={"mfa_token": "mfa_nope", "code": "123456"}
                if path == "/auth/mfa"
                else {"mfa_token": "mfa_nope"},
            ).status_code
            == 401
        )


def test_an_enrolled_user_is_asked_even_when_the_policy_no_longer_requires_it(
    settings_factory: Callable[..., ServerSettings], clock: list[float]
) -> None:
    app = _app(settings_factory)
    with TestClient(app) as client:
        add_user(app, "sue", Role.SUPERVISOR)
        secret, _h, _codes = enrol(client, "sue", PASSWORD, at=T0)
    relaxed = _app(settings_factory, roles=[])  # same database, policy relaxed later
    with TestClient(relaxed) as client:
        challenge = password_step(client, "sue", PASSWORD)
        assert challenge["mfa_enrol"] is False
        assert _second(client, challenge["mfa_token"], code_at(secret, T0, +1)).status_code == 200


def test_unlock_with_a_second_factor_continues_the_session(
    mfa_client: tuple[TestClient, Any], clock: list[float]
) -> None:
    client, app = mfa_client
    admin = login_admin(client, T0)
    assert (
        client.post(f"{API}/cameras", headers=admin, json=camera_body(id="cam-1")).status_code
        == 201
    )
    secret, sue, _codes = enrol(client, "sue", PASSWORD, at=T0)
    g = client.post(
        f"{API}/cameras/cam-1/live-grants", headers=sue, json={"reason": "case 26-8"}
    ).json()
    r = client.post(
        f"{API}/auth/login", headers=sue, json={"username": "sue", "password": PASSWORD}
    )
    assert r.status_code == 401 and r.json()["mfa_required"] is True
    r = client.post(
        f"{API}/auth/mfa",
        headers=sue,
        json={"mfa_token": r.json()["mfa_token"], "code": code_at(secret, T0, +1)},
    )
    assert r.status_code == 200, r.text
    if app.state.rtcc.token_cache is not None:
        app.state.rtcc.token_cache.clear()
    assert client.get(f"{API}/auth/me", headers=sue).status_code == 401
    hook = {"password": g["token"], "action": "read", "path": "cam/cam-1"}
    assert client.post(f"{API}/media/auth", json=hook).status_code == 200
    ok = [a for a in _audit(app, "auth.login") if a.outcome == "ok" and a.username == "sue"]
    assert "continues the previous session (1 live view(s) kept)" in (ok[-1].reason or "")
