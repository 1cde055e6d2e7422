"""Owner portal accounts: sign-up with a verification link (real SMTP sink), password and
e-mailed sign-in links, single-use expiring links, lockout, no enumeration, CSRF, cookies."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from rtcc_console.core.models import utcnow
from rtcc_console.server.app import create_app
from rtcc_console.server.portal.accounts import PortalSettings
from rtcc_console.sim.smtp_sink import SmtpSink
from rtcc_console.store.schema import AuditEventRow, PortalLinkRow, PortalSessionRow
from tests.server.conftest import make_settings
from tests.server.portal_support import PW, Portal, csrf_of, sign_up, wait_link

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as s:
        yield s


@pytest.fixture
def app(db_url: str, sink: SmtpSink) -> Iterator[Any]:
    app = create_app(
        make_settings(
            db_url,
            smtp_host=sink.host,
            smtp_port=sink.port,
            smtp_security="none",
            lockout_threshold=3,
            login_ip_max_failures=100,
        )
    )
    app.state.rtcc.extras["portal_settings"] = PortalSettings(link_ttl_s=60)
    with TestClient(app):
        yield app


def test_sign_up_verify_sign_out_and_sign_in_with_password(app: Any, sink: SmtpSink) -> None:
    p = Portal(app)
    sign_up(p, sink, email="Head@Lincoln.example")
    page = p.get("/portal/cameras")
    assert page.status_code == 200 and "My cameras" in page.text
    r = p.follow(p.submit("/portal/cameras", "/portal/sign-out"))
    assert "Sign in" in r.text
    assert p.get("/portal/cameras").status_code == 303  # the session ended on the server
    r = p.submit(
        "/portal/sign-in", "/portal/sign-in", {"email": "head@lincoln.example", "password": PW}
    )
    assert r.status_code == 303 and r.headers["location"] == "/portal/cameras"
    assert p.get("/portal/cameras").status_code == 200


def test_cookie_flags_and_token_stored_hashed(app: Any, sink: SmtpSink) -> None:
    p = Portal(app)
    sign_up(p, sink, email="a@b.example")
    r = p.submit("/portal/sign-in", "/portal/sign-in", {"email": "a@b.example", "password": PW})
    cookie = r.headers["set-cookie"]
    assert (
        "rtcc_portal=" in cookie
        and "HttpOnly" in cookie
        and "SameSite=lax" in cookie
        and "Path=/portal" in cookie
    )
    assert "Secure" not in cookie  # dev mode (tests) only
    token = cookie.split("rtcc_portal=")[1].split(";")[0]
    with app.state.rtcc.db.read() as s:
        hashes = set(s.scalars(select(PortalSessionRow.token_hash)))
    assert token not in hashes and len(hashes) == 2


def test_secure_cookie_outside_dev_mode(db_url: str, sink: SmtpSink) -> None:
    app = create_app(make_settings(db_url, dev_mode=False, secret_key="x" * 40))
    with TestClient(app, base_url="https://portal.example") as c:
        r = c.get("/portal/sign-in")
        assert "Secure" in r.headers["set-cookie"] and "HttpOnly" in r.headers["set-cookie"]


def test_link_is_single_use(app: Any, sink: SmtpSink) -> None:
    p = Portal(app)
    sign_up(p, sink, email="once@x.example")
    link = wait_link(sink, "once@x.example")
    other = Portal(app)
    r = other.submit(link, link)
    assert r.status_code == 410 and "already used" in r.text
    assert other.get("/portal/cameras").status_code == 303


def test_link_expires(app: Any, sink: SmtpSink) -> None:
    p = Portal(app)
    p.submit(
        "/portal/sign-up",
        "/portal/sign-up",
        {"name": "Shop", "kind": "business", "email": "late@x.example", "password": PW},
    )
    link = wait_link(sink, "late@x.example")
    with app.state.rtcc.db.write() as s:
        for row in s.scalars(select(PortalLinkRow)):
            row.expires_at = utcnow() - timedelta(seconds=1)
    r = p.submit(link, link)
    assert r.status_code == 410
    assert p.get("/portal/cameras").status_code == 303


def test_forged_link_refused_and_audited(app: Any) -> None:
    p = Portal(app)
    r = p.submit("/portal/link/forged-token-0123456789", "/portal/link/forged-token-0123456789")
    assert r.status_code == 410
    with app.state.rtcc.db.read() as s:
        assert (
            s.scalar(select(AuditEventRow).where(AuditEventRow.action == "portal.link_refused"))
            is not None
        )


def test_no_enumeration_same_answer_for_known_and_unknown(app: Any, sink: SmtpSink) -> None:
    p = Portal(app)
    sign_up(p, sink, email="known@x.example")
    q = Portal(app)
    known = q.submit(
        "/portal/sign-up",
        "/portal/sign-up",
        {"name": "X", "kind": "home", "email": "known@x.example", "password": PW},
    )
    unknown = q.submit(
        "/portal/sign-up",
        "/portal/sign-up",
        {"name": "X", "kind": "home", "email": "nobody@x.example", "password": PW},
    )
    assert known.status_code == unknown.status_code == 200
    strip = lambda t: t.split('name="csrf_token"')[0]  # noqa: E731 - pages equal up to the token
    assert strip(known.text) == strip(unknown.text)
    a = q.submit("/portal/sign-in", "/portal/sign-in/link", {"email": "known@x.example"})
    b = q.submit("/portal/sign-in", "/portal/sign-in/link", {"email": "ghost@x.example"})
    assert a.status_code == b.status_code == 200 and strip(a.text) == strip(b.text)
    wrong_pw = q.submit(
        "/portal/sign-in", "/portal/sign-in", {"email": "known@x.example", "password": "nope" * 4}
    )
    no_user = q.submit(
        "/portal/sign-in", "/portal/sign-in", {"email": "ghost@x.example", "password": "nope" * 4}
    )
    assert wrong_pw.status_code == no_user.status_code == 401
    assert (
        wrong_pw.text.replace("known@", "ghost@").split("csrf_token")[0]
        == no_user.text.split("csrf_token")[0]
    )
    # the known owner got a sign-in link (e-mail 2: after the verification e-mail), the unknown one nothing
    assert wait_link(sink, "known@x.example", 3)
    assert not [m for m in sink.messages if "ghost@x.example" in m.rcpt_tos]


def test_lockout_after_failures_even_with_right_password(app: Any, sink: SmtpSink) -> None:
    p = Portal(app)
    sign_up(p, sink, email="lock@x.example")
    for _ in range(3):
        r = p.submit(
            "/portal/sign-in",
            "/portal/sign-in",
            {"email": "lock@x.example", "password": "wrong password!"},
        )
        assert r.status_code == 401
    r = p.submit("/portal/sign-in", "/portal/sign-in", {"email": "lock@x.example", "password": PW})
    assert r.status_code == 401  # locked for lockout_s


def test_throttle_per_address(db_url: str) -> None:
    app = create_app(make_settings(db_url, login_ip_max_failures=3))
    with TestClient(app):
        p = Portal(app)
        codes = [
            p.submit(
                "/portal/sign-in",
                "/portal/sign-in",
                {"email": f"u{i}@x.example", "password": "x" * 12},
            ).status_code
            for i in range(5)
        ]
    assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]


def test_unverified_account_cannot_sign_in_with_password(app: Any, sink: SmtpSink) -> None:
    p = Portal(app)
    p.submit(
        "/portal/sign-up",
        "/portal/sign-up",
        {"name": "N", "kind": "home", "email": "nv@x.example", "password": PW},
    )
    r = p.submit("/portal/sign-in", "/portal/sign-in", {"email": "nv@x.example", "password": PW})
    assert r.status_code == 401


@pytest.mark.parametrize(
    "path",
    [
        "/portal/sign-up",
        "/portal/sign-in",
        "/portal/sign-in/link",
        "/portal/sign-out",
        "/portal/link/abc",
        "/portal/cameras/new",
        "/portal/panic",
        "/portal/keys",
    ],
)
def test_post_without_or_with_wrong_csrf_is_refused(app: Any, sink: SmtpSink, path: str) -> None:
    p = Portal(app)
    sign_up(p, sink, email="csrf@x.example")
    before = _audit_count(app)
    assert p.client.post(path, data={"email": "csrf@x.example", "password": PW}).status_code == 403
    assert (
        p.client.post(path, data={"csrf_token": "0" * 64, "email": "x@y.example"}).status_code
        == 403
    )
    page = p.get("/portal/cameras").text
    foreign = Portal(app)  # a token from another browser's page does not fit this session
    foreign_token = csrf_of(foreign.get("/portal/sign-in").text)
    assert foreign_token != csrf_of(page)
    assert p.client.post(path, data={"csrf_token": foreign_token}).status_code == 403
    assert _audit_count(app) == before  # nothing happened


def test_signup_validation_messages_beside_fields(app: Any) -> None:
    p = Portal(app)
    r = p.submit(
        "/portal/sign-up",
        "/portal/sign-up",
        {"name": "", "kind": "castle", "email": "not-an-address", "password": "short"},
    )
    assert r.status_code == 422
    for field in ("name", "kind", "email", "password"):
        shown = re.search(rf'id="{field}-error"\s*>([^<]+)</p>', r.text)
        assert shown and shown.group(1).strip(), field


def test_malformed_form_bodies_are_4xx(app: Any) -> None:
    p = Portal(app)
    p.get("/portal/sign-in")
    r = p.client.post(
        "/portal/sign-in",
        content=b"--x\r\nbroken",
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert 400 <= r.status_code < 500
    r = p.client.post(
        "/portal/sign-in",
        content=("csrf_token=" + "%ED%A0%80").encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert 400 <= r.status_code < 500


def _audit_count(app: Any) -> int:
    with app.state.rtcc.db.read() as s:
        return len(list(s.scalars(select(AuditEventRow.id))))
