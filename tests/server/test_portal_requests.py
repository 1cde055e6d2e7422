"""The footage request page reached by the e-mailed link: what is asked, and the answers
(decline / no footage with CSRF, plain form upload to the vault without JS with its SHA-256
receipt); forged and used links refused; the owner's receipts list the request."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rtcc_console.core.models import Role
from rtcc_console.server.app import create_app
from rtcc_console.sim.smtp_sink import SmtpSink
from tests.server.conftest import API, add_user, login, make_settings
from tests.server.portal_support import Portal, csrf_of, register, sign_up
from tests.server.vault_helpers import mp4_bytes

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
CASE = "26-004242"


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> Iterator[tuple[Any, SmtpSink, TestClient]]:
    with SmtpSink() as sink:
        app = create_app(
            make_settings(
                db_url,
                smtp_host=sink.host,
                smtp_port=sink.port,
                smtp_security="none",
                vault_dir=tmp_path / "vault",
            )
        )
        with TestClient(app) as api:
            add_user(app, "ana", Role.ANALYST)
            yield app, sink, api


def request_link(
    app: Any, api: TestClient, lat: float, lon: float, key: str = "portal-req-1"
) -> str:
    """A footage request around (lat, lon); returns the owner's link token."""
    from sqlalchemy import select

    from rtcc_console.core.request_items import link_token
    from rtcc_console.store.schema import RequestItemRow

    now = datetime.now(UTC)
    r = api.post(
        f"{API}/footage-requests",
        headers=login(api, "ana"),
        json={
            "client_key": key,
            "case_number": CASE,
            "offence_category": "burglary",
            "call_id": None,
            "area": {"kind": "circle", "center": {"lat": lat, "lon": lon}, "radius_m": 40},
            "window_start": (now - timedelta(hours=3)).isoformat(),
            "window_end": (now - timedelta(hours=2)).isoformat(),
            "message": "Break-in <b>at</b> the corner shop. Please check your cameras.",
        },
    )
    assert r.status_code == 201, r.text
    item_id = r.json()["items"][0]["id"]
    with app.state.rtcc.db.read() as session:
        nonce = session.scalars(
            select(RequestItemRow.link_nonce).where(RequestItemRow.id == item_id)
        ).one()
    return link_token(
        app.state.rtcc.settings.secret_key.get_secret_value().encode(), item_id, nonce
    )


def _owner(app: Any, sink: SmtpSink, email: str = "porch@x.example") -> Portal:
    p = Portal(app)
    sign_up(p, sink, email=email, name="Porch owner", kind="home")
    register(p, name="Porch", kind="home", lat="40.7130", lon="-74.0060")
    return p


def test_request_page_shows_the_ask_and_decline_is_single_use(env: Any) -> None:
    app, sink, api = env
    p = _owner(app, sink)
    token = request_link(app, api, 40.7130, -74.0060)
    page = p.get(f"/portal/requests/{token}")
    assert page.status_code == 200
    assert CASE in page.text and "Porch" in page.text and "&lt;b&gt;at&lt;/b&gt;" in page.text
    assert 'action="/api/v1/evidence/form-upload"' in page.text and "tus.min.js" in page.text
    r = p.client.post(
        f"/portal/requests/{token}/answer",
        data={"csrf_token": csrf_of(page.text), "answer": "declined", "note": "not comfortable"},
    )
    assert r.status_code == 200 and "your answer was recorded" in r.text and "declined" in r.text
    again = p.client.post(
        f"/portal/requests/{token}/answer",
        data={"csrf_token": csrf_of(page.text), "answer": "no_footage"},
    )
    assert again.status_code in (409, 410)
    receipts = p.get("/portal/receipts")
    assert CASE in receipts.text and "declined" in receipts.text


def test_no_footage_answer_and_csrf_required(env: Any) -> None:
    app, sink, api = env
    p = _owner(app, sink)
    token = request_link(app, api, 40.7130, -74.0060)
    assert (
        p.client.post(f"/portal/requests/{token}/answer", data={"answer": "no_footage"}).status_code
        == 403
    )
    page = p.get(f"/portal/requests/{token}")
    r = p.client.post(
        f"/portal/requests/{token}/answer",
        data={"csrf_token": csrf_of(page.text), "answer": "hack"},
    )
    assert r.status_code == 422
    r = p.client.post(
        f"/portal/requests/{token}/answer",
        data={"csrf_token": csrf_of(page.text), "answer": "no_footage"},
    )
    assert r.status_code == 200 and "no footage for that time" in r.text
    assert p.get(f"/portal/requests/{token}").status_code == 410


def test_plain_form_upload_gives_a_sha256_receipt(env: Any) -> None:
    app, sink, api = env
    p = _owner(app, sink)
    token = request_link(app, api, 40.7130, -74.0060)
    data = mp4_bytes(seed=5)
    r = p.client.post(
        f"{API}/evidence/form-upload",
        headers={"Accept": "text/html"},
        data={"request_token": token},
        files={"file": ("porch.mp4", data, "video/mp4")},
    )
    assert r.status_code == 201 and hashlib.sha256(data).hexdigest() in r.text


def test_forged_link_is_a_clear_page_not_an_error(env: Any) -> None:
    app, _, _ = env
    p = Portal(app)
    for token in ("forged-token-0123456789abcdef0123456789abcdef", "x" * 500, "%F0%9F%98%80"):
        r = p.get(f"/portal/requests/{token}")
        assert r.status_code in (404, 410) and "cannot be used" in r.text
