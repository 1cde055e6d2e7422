"""Helpers for the owner portal tests: a form-filling client on top of TestClient (CSRF
token read from the page, as a browser submits it) and the e-mailed links from a real
aiosmtpd sink."""

from __future__ import annotations

import html
import re
import time
from typing import Any

import httpx
from fastapi.testclient import TestClient

from rtcc_console.sim.smtp_sink import SmtpSink

PW = "a long enough portal password"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_LINK = re.compile(r"(https?://\S+/portal/link/[A-Za-z0-9_\-]+)")


def csrf_of(page: str) -> str:
    found = _CSRF.search(page)
    assert found, "no CSRF token on the page"
    return html.unescape(found.group(1))


class Portal:
    """One browser: its own cookie jar."""

    def __init__(self, app: Any) -> None:
        self.client = TestClient(app, follow_redirects=False)

    def get(self, path: str) -> httpx.Response:
        return self.client.get(path)

    def submit(
        self, page_path: str, action: str, data: dict[str, Any] | None = None
    ) -> httpx.Response:
        """Load ``page_path`` (for its CSRF token) and post ``data`` to ``action``."""
        page = self.client.get(page_path)
        assert page.status_code == 200, (page_path, page.status_code, page.text[:300])
        return self.client.post(action, data={"csrf_token": csrf_of(page.text), **(data or {})})

    def follow(self, response: httpx.Response) -> httpx.Response:
        assert response.status_code == 303, (response.status_code, response.text[:500])
        return self.client.get(response.headers["location"])


def wait_link(sink: SmtpSink, to: str, n: int = 1, timeout: float = 10.0) -> str:
    """The newest portal link e-mailed to ``to`` (waits until ``n`` e-mails reached it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mails = [m for m in sink.messages if to.lower() in (r.lower() for r in m.rcpt_tos)]
        if len(mails) >= n:
            body = mails[-1].message().get_body(preferencelist=("plain",))
            assert body is not None
            found = _LINK.search(body.get_content())
            assert found, body.get_content()
            return "/portal/link/" + found.group(1).rsplit("/", 1)[1]
        time.sleep(0.05)
    raise AssertionError(f"no e-mail to {to}")


def sign_up(
    portal: Portal,
    sink: SmtpSink,
    *,
    email: str,
    name: str = "Lincoln School",
    kind: str = "school",
    n: int = 1,
) -> None:
    """Sign up, open the e-mailed link, continue: signed in."""
    r = portal.submit(
        "/portal/sign-up",
        "/portal/sign-up",
        {"name": name, "kind": kind, "email": email, "password": PW},
    )
    assert r.status_code == 200, r.text
    link = wait_link(sink, email, n)
    r = portal.submit(link, link)
    assert r.status_code == 303 and r.headers["location"] == "/portal/cameras", r.text


def register(portal: Portal, **fields: Any) -> str:
    """Register a camera through the form; returns its id."""
    data = {
        "name": "Front door",
        "address": "1 Main St",
        "lat": "40.7130",
        "lon": "-74.0060",
        "kind": "school",
        "sharing_mode": "request_only",
        "action": "save",
        **fields,
    }
    r = portal.submit("/portal/cameras/new", "/portal/cameras/new", data)
    assert r.status_code == 303, r.text[:2000]
    return r.headers["location"].split("saved=")[1]
