"""Officers sign in to the field page with their own account (issue 16): the forms (CSRF,
no JS), lockout and throttling as for staff without telling which accounts exist, the
second factor (real TOTP codes from pyotp, and enrolment on the page when the agency
requires it), the session cookie's attributes and expiry, the share list (newest first),
another officer's share refused, sign-out; every step audited."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import quote_from_bytes

import httpx
import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from rtcc_console.config import ServerSettings
from rtcc_console.core.models import Role, utcnow
from rtcc_console.server.app import create_app
from rtcc_console.server.mfa import encrypt_secret
from rtcc_console.store.mfa import enable_mfa, set_pending_secret
from rtcc_console.store.schema import AuditEventRow, AuthTokenRow
from tests.server.conftest import API, PASSWORD, add_user, camera_body, simple_call
from tests.server.portal_support import csrf_of

SIGN_IN = "/field/account/sign-in"
SHARES = "/field/account/shares"
_SHARE_LINK = re.compile(r'href="/field/account/shares/(fs-[0-9a-f]+)"')


def audit(app: Any, action: str) -> list[tuple[str | None, str, str | None]]:
    with app.state.rtcc.db.read() as s:
        rows = (
            s.query(AuditEventRow)
            .filter(AuditEventRow.action == action)
            .order_by(AuditEventRow.id)
            .all()
        )
        return [(r.username, r.outcome, r.reason) for r in rows]


class Device:
    """One phone: its own cookie jar; fills the forms as a browser does (CSRF from the page)."""

    def __init__(self, app: Any, base_url: str = "http://testserver") -> None:
        self.http = TestClient(app, follow_redirects=False, base_url=base_url)

    def sign_in(self, name: str, password: str = PASSWORD) -> httpx.Response:
        page = self.http.get(SIGN_IN)
        assert page.status_code == 200, page.text
        return self.http.post(
            SIGN_IN,
            data={"csrf_token": csrf_of(page.text), "username": name, "password": password},
        )

    def code(self, page: httpx.Response, code: str) -> httpx.Response:
        token = re.search(r'name="mfa_token" value="([^"]+)"', page.text)
        assert token, page.text
        return self.http.post(
            "/field/account/code",
            data={"csrf_token": csrf_of(page.text), "mfa_token": token.group(1), "code": code},
        )

    def shares(self) -> list[str]:
        page = self.http.get(SHARES)
        assert page.status_code == 200, (page.status_code, page.headers.get("location"))
        return _SHARE_LINK.findall(page.text)


@pytest.fixture
def scene(client: TestClient, app: Any, admin: dict[str, str]) -> dict[str, Any]:
    add_user(app, "ofc.kim", Role.OFFICER)
    add_user(app, "ofc.lee", Role.OFFICER)
    r = client.post(f"{API}/cameras", headers=admin, json=camera_body(id="cam-a", name="Elm A"))
    assert r.status_code == 201, r.text
    return {}


def make_call(client: TestClient, analyst: dict[str, str], incident: str) -> str:
    r = client.post(f"{API}/calls", headers=analyst, json=simple_call(incident_id=incident))
    assert r.status_code == 201, r.text
    return str(r.json()["call"]["id"])


def share(client: TestClient, analyst: dict[str, str], call_id: str, officer: str) -> str:
    r = client.post(
        f"{API}/calls/{call_id}/field-shares",
        headers=analyst,
        json={"officers": [officer], "camera_ids": ["cam-a"]},
    )
    assert r.status_code == 201, r.text
    return str(r.json()[0]["id"])


def test_officer_signs_in_sees_own_shares_newest_first_and_opens_one(
    client: TestClient, app: Any, analyst: dict[str, str], scene: dict[str, Any]
) -> None:
    call1 = make_call(client, analyst, "DPD-1")
    first = share(client, analyst, call1, "ofc.kim")
    other = share(client, analyst, make_call(client, analyst, "DPD-2"), "ofc.lee")
    newest = share(client, analyst, make_call(client, analyst, "DPD-3"), "ofc.kim")
    phone = Device(app)
    assert phone.http.get("/field").headers["location"] == SHARES
    assert phone.http.get(SHARES).headers["location"] == SIGN_IN  # not signed in yet
    r = phone.sign_in("ofc.kim")
    assert r.status_code == 303 and r.headers["location"] == SHARES, r.text
    cookie = r.headers["set-cookie"].lower()
    assert cookie.startswith("rtcc_field_officer=")
    for attribute in ("httponly", "samesite=strict", "path=/field;", "max-age="):
        assert attribute in cookie, cookie
    assert "secure" not in cookie  # dev mode over http (see the non-dev test)
    assert phone.shares() == [newest, first]  # newest first; ofc.lee's is not listed
    opened = phone.http.get(f"{SHARES}/{first}")
    assert opened.status_code == 303 and opened.headers["location"] == f"/field/s/{first}"
    page = phone.http.get(f"/field/s/{first}")
    assert page.status_code == 200 and "field.js" in page.text
    state = phone.http.get(f"/field/s/{first}/state")
    assert state.status_code == 200 and state.json()["officer"] == "ofc.kim"
    # another officer's share: not in the list, refused by the list route and the page
    assert phone.http.get(f"{SHARES}/{other}").status_code == 404
    assert phone.http.get(f"/field/s/{other}/state").status_code == 403
    assert phone.http.get(f"/field/s/{other}").status_code == 403
    # the analyst still sees the link unspent: the officer came in through the account
    listed = client.get(f"{API}/calls/{call1}/field-shares", headers=analyst)
    assert [s["link_used"] for s in listed.json()["items"]] == [False]
    assert ("ofc.kim", "ok", "password") in audit(app, "field.sign_in")
    opens = audit(app, "field.open")
    assert ("ofc.kim", "ok", "signed in with the officer's account") in opens
    assert ("ofc.kim", "denied", "another officer's share") in opens


def test_the_session_cookie_is_not_a_staff_token_and_ends_at_sign_out(
    client: TestClient, app: Any, analyst: dict[str, str], scene: dict[str, Any]
) -> None:
    sid = share(client, analyst, make_call(client, analyst, "DPD-9"), "ofc.kim")
    phone = Device(app)
    assert phone.sign_in("ofc.kim").status_code == 303
    token = phone.http.cookies.get("rtcc_field_officer")
    assert token
    # the staff API refuses it as a bearer token
    bearer = client.get(f"{API}/calls", headers={"Authorization": f"Bearer {token}"})
    assert bearer.status_code == 403
    # sign-out needs the form's CSRF token
    assert phone.http.post("/field/account/sign-out", data={}).status_code == 403
    assert phone.shares() == [sid]
    page = phone.http.get(SHARES)
    out = phone.http.post("/field/account/sign-out", data={"csrf_token": csrf_of(page.text)})
    assert out.status_code == 303 and out.headers["location"] == SIGN_IN
    assert 'rtcc_field_officer=""' in out.headers["set-cookie"]
    # the old cookie value, replayed by another device, no longer works
    thief = TestClient(app, follow_redirects=False, cookies={"rtcc_field_officer": token})
    assert thief.get(SHARES).headers["location"] == SIGN_IN
    assert thief.get(f"/field/s/{sid}/state").status_code == 403
    assert audit(app, "field.sign_out") == [("ofc.kim", "ok", "signed out")]


def test_a_new_sign_in_on_the_device_ends_the_previous_session(
    client: TestClient, app: Any, analyst: dict[str, str], scene: dict[str, Any]
) -> None:
    sid = share(client, analyst, make_call(client, analyst, "DPD-8"), "ofc.kim")
    phone = Device(app)
    assert phone.sign_in("ofc.kim").status_code == 303
    kim = phone.http.cookies.get("rtcc_field_officer")
    # a sign-in form left open in another tab, used by the next officer on this phone
    csrf = csrf_of(phone.http.get(SHARES).text)
    again = phone.http.post(
        SIGN_IN, data={"csrf_token": csrf, "username": "ofc.lee", "password": PASSWORD}
    )
    assert again.status_code == 303
    assert phone.shares() == []  # ofc.lee has none
    old = TestClient(app, follow_redirects=False, cookies={"rtcc_field_officer": str(kim)})
    assert old.get(f"/field/s/{sid}/state").status_code == 403
    assert ("ofc.kim", "ok", "replaced by a new sign-in") in audit(app, "field.sign_out")


@pytest.fixture
def settings(settings_factory: Callable[..., ServerSettings]) -> ServerSettings:
    return settings_factory(lockout_threshold=3)


def test_wrong_password_locks_after_the_threshold_without_telling_who_exists(
    client: TestClient, app: Any, scene: dict[str, Any]
) -> None:
    phone = Device(app)
    unknown = phone.sign_in("nobody.here", "whatever password")
    assert unknown.status_code == 401
    answers = [phone.sign_in("ofc.kim", "wrong password!") for _ in range(3)]
    assert [a.status_code for a in answers] == [401, 401, 401]
    message = re.search(r'id="error">([^<]+)<', unknown.text)
    assert message and all(message.group(1) in a.text for a in answers)  # same words for all
    assert "set-cookie" not in answers[-1].headers or "rtcc_field_officer" not in str(
        answers[-1].headers.get_list("set-cookie")
    )
    # locked: the right password is refused now, with the same answer
    right = phone.sign_in("ofc.kim")
    assert right.status_code == 401 and message.group(1) in right.text
    assert "rtcc_field_officer" not in phone.http.cookies
    rows = audit(app, "field.sign_in")
    assert ("nobody.here", "failed", "unknown user") in rows
    outcomes = [o for u, o, _ in rows if u == "ofc.kim"]
    assert outcomes == ["failed", "failed", "locked", "denied"], rows
    assert "account locked until" in (rows[-1][2] or "")


def test_the_address_throttle_answers_429(
    settings_factory: Callable[..., ServerSettings], db_url: str
) -> None:
    app = create_app(settings_factory(login_ip_max_failures=2))
    with TestClient(app):
        phone = Device(app)
        assert phone.sign_in("a.b", "wrong password!").status_code == 401
        assert phone.sign_in("c.d", "wrong password!").status_code == 401
        third = phone.sign_in("e.f", "wrong password!")
        assert third.status_code == 429 and int(third.headers["retry-after"]) > 0
        assert ("e.f", "denied", "too many failed sign-ins from this address") in audit(
            app, "field.sign_in"
        )


def test_an_analyst_is_refused_here_with_a_clear_word(client: TestClient, app: Any) -> None:
    phone = Device(app)
    r = phone.sign_in("ana")
    assert r.status_code == 403 and "officers' field devices only" in html.unescape(r.text)
    assert "RTCC console" in r.text and "rtcc_field_officer" not in phone.http.cookies
    assert ("ana", "denied", "not an officer account (role analyst)") in audit(app, "field.sign_in")


def _enrolled(app: Any, name: str) -> str:
    secret = pyotp.random_base32(32)
    state = app.state.rtcc
    with state.db.write() as session:
        set_pending_secret(
            session,
            username=name,
            secret_enc=encrypt_secret(state.settings.secret_key.get_secret_value(), secret),
        )
        enable_mfa(session, username=name, now=utcnow())
    return secret


def test_an_officer_with_a_second_factor_is_asked_for_the_code(
    client: TestClient, app: Any, scene: dict[str, Any]
) -> None:
    secret = _enrolled(app, "ofc.kim")
    phone = Device(app)
    step = phone.sign_in("ofc.kim")
    assert step.status_code == 200 and 'name="code"' in step.text, step.text
    assert "rtcc_field_officer" not in phone.http.cookies  # no session before the code
    bad = phone.code(step, "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    assert bad.status_code == 401 and "not accepted (wrong code)" in bad.text
    assert "rtcc_field_officer" not in phone.http.cookies
    good = phone.code(bad, pyotp.TOTP(secret).now())
    assert good.status_code == 303 and good.headers["location"] == SHARES
    assert "rtcc_field_officer" in phone.http.cookies
    # the same code again (another sign-in) is refused: a code is accepted once
    again = Device(app)
    second = again.sign_in("ofc.kim")
    reused = again.code(second, pyotp.TOTP(secret).now())
    assert reused.status_code == 401 and "code already used" in reused.text
    rows = audit(app, "field.sign_in")
    assert ("ofc.kim", "mfa_required", "password accepted; second factor due") in rows
    assert ("ofc.kim", "failed", "second factor: wrong code") in rows
    assert ("ofc.kim", "ok", "second factor: totp") in rows


def test_wrong_codes_count_toward_the_lockout(
    client: TestClient, app: Any, scene: dict[str, Any]
) -> None:
    secret = _enrolled(app, "ofc.kim")
    wrong = "123456" if pyotp.TOTP(secret).now() != "123456" else "654321"
    phone = Device(app)
    page = phone.sign_in("ofc.kim")
    for _ in range(2):
        page = phone.code(page, wrong)
        assert page.status_code == 401
    locked = phone.code(page, wrong)
    assert locked.status_code == 423 and "locked until" in locked.text
    assert phone.sign_in("ofc.kim").status_code == 401  # the password alone cannot get in now


def test_when_the_agency_requires_it_the_officer_enrols_on_the_page(
    settings_factory: Callable[..., ServerSettings],
) -> None:
    app = create_app(settings_factory(mfa_required_roles=["officer"]))
    with TestClient(app):
        add_user(app, "ofc.kim", Role.OFFICER)
        _enrol_on_the_page(app)


def _enrol_on_the_page(app: Any) -> None:
    phone = Device(app)
    step = phone.sign_in("ofc.kim")
    assert step.status_code == 200 and "Set up your authenticator" in step.text
    secret = re.search(r'id="secret">([A-Z2-7]+)<', step.text)
    assert secret and 'src="data:image/svg+xml;base64,' in step.text
    assert "otpauth://totp/" in step.text
    done = phone.code(step, pyotp.TOTP(secret.group(1)).now())
    assert done.status_code == 200 and "rtcc_field_officer" in phone.http.cookies
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", done.text)
    assert len(set(codes)) == 10, done.text  # the recovery codes, shown this once
    assert done.headers["cache-control"] == "no-store"
    assert phone.shares() == []  # signed in; nothing shared yet
    # from now on the code is asked; a recovery code works once instead of the app's code
    later = Device(app)
    page = later.sign_in("ofc.kim")
    assert page.status_code == 200 and "Enter your code" in page.text
    assert later.code(page, codes[3]).status_code == 303
    replay = Device(app)
    again = replay.code(replay.sign_in("ofc.kim"), codes[3])
    assert again.status_code == 401 and "unknown or already used recovery code" in again.text
    assert (
        "ofc.kim",
        "ok",
        "enrolled on the field page; 10 recovery codes issued",
    ) in audit(app, "auth.mfa_enrol")
    assert ("ofc.kim", "ok", "second factor: recovery code") in audit(app, "field.sign_in")


def test_csrf_missing_or_foreign_is_refused(client: TestClient, app: Any, scene: Any) -> None:
    phone, other = Device(app), Device(app)
    form = {"username": "ofc.kim", "password": PASSWORD}
    assert phone.http.post(SIGN_IN, data=form).status_code == 403
    foreign = csrf_of(other.http.get(SIGN_IN).text)  # another browser's token
    phone.http.get(SIGN_IN)
    assert phone.http.post(SIGN_IN, data={**form, "csrf_token": foreign}).status_code == 403
    assert phone.http.post(SIGN_IN, json=form).status_code == 403
    assert "rtcc_field_officer" not in phone.http.cookies
    assert phone.sign_in("ofc.kim").status_code == 303  # with the page's own token: in


def _raw_form(**fields: str) -> bytes:
    """A urlencoded body as a hostile client sends it (lone surrogates as their bytes)."""
    return "&".join(
        f"{k}={quote_from_bytes(v.encode('utf-8', 'surrogatepass'))}" for k, v in fields.items()
    ).encode("ascii")


def test_hostile_form_input_is_a_clear_4xx(client: TestClient, app: Any, scene: Any) -> None:
    phone = Device(app)
    csrf = csrf_of(phone.http.get(SIGN_IN).text)
    for username in ("\ud800kim", "ofc\x00kim", "k" * 5000, ""):
        r = phone.http.post(
            SIGN_IN,
            content=_raw_form(csrf_token=csrf, username=username, password=PASSWORD),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code in (400, 401), (username[:10], r.status_code)
    many = {f"f{i}": "x" for i in range(30)}
    too_many = phone.http.post(SIGN_IN, data={"csrf_token": csrf, **many})
    assert too_many.status_code == 400
    bad = phone.http.post(
        "/field/account/code",
        data={"csrf_token": csrf, "mfa_token": "mfa_forged", "code": "123456"},
    )
    assert bad.status_code == 401 and "expired or was already used" in bad.text
    assert phone.http.get(f"{SHARES}/fs-nope").headers["location"] == SIGN_IN


def test_an_expired_session_is_refused(
    client: TestClient, app: Any, analyst: dict[str, str], scene: dict[str, Any]
) -> None:
    sid = share(client, analyst, make_call(client, analyst, "DPD-5"), "ofc.kim")
    phone = Device(app)
    assert phone.sign_in("ofc.kim").status_code == 303
    assert phone.http.get(f"/field/s/{sid}/state").status_code == 200
    with app.state.rtcc.db.write() as session:
        session.execute(
            update(AuthTokenRow)
            .where(AuthTokenRow.username == "ofc.kim")
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    time.sleep(0.01)
    assert phone.http.get(SHARES).headers["location"] == SIGN_IN
    assert phone.http.get(f"/field/s/{sid}/state").status_code == 403
    assert phone.http.get(f"{SHARES}/{sid}").headers["location"] == SIGN_IN


def test_a_closed_calls_share_leaves_the_list(
    client: TestClient, app: Any, analyst: dict[str, str], scene: dict[str, Any]
) -> None:
    call = make_call(client, analyst, "DPD-7")
    sid = share(client, analyst, call, "ofc.kim")
    phone = Device(app)
    phone.sign_in("ofc.kim")
    assert phone.shares() == [sid]
    closed = client.post(
        f"{API}/calls",
        headers=analyst,
        json=simple_call(
            incident_id="DPD-7", status="closed", updated_at="2026-11-21T06:00:00+00:00"
        ),
    )
    assert closed.status_code == 200
    assert phone.shares() == []
    gone = phone.http.get(f"{SHARES}/{sid}")
    assert gone.status_code == 410 and "call closed" in gone.text


def test_outside_dev_mode_the_cookie_is_secure(
    settings_factory: Callable[..., ServerSettings],
) -> None:
    app = create_app(
        settings_factory(dev_mode=False, secret_key="a-real-secret-for-this-test-0123456789")
    )
    with TestClient(app):
        add_user(app, "ofc.kim", Role.OFFICER)
        phone = Device(app, base_url="https://testserver")
        r = phone.sign_in("ofc.kim")
        assert r.status_code == 303, r.text
        cookie = r.headers["set-cookie"].lower()
        assert "; secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie
