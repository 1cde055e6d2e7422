"""Portal e-mail has the outbox's guarantees: a real `rtcc server` killed with SIGKILL loses
no sign-up e-mail and sends none twice, also when two server processes send at once.

1. Server 1 (no SMTP configured): three owners sign up through the portal's forms; it is
   killed: three verification e-mails wait in the outbox, nothing was sent.
2. Server 2 sends to a slow SMTP server (1.5 s before each "250") and is killed while the
   second message is on the wire (DATA received, not yet confirmed).
3. Servers 3 and 4 start together on the same database and finish: every owner has exactly
   one e-mail, and each e-mailed link signs its owner in once.
Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import html
import re
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from rtcc_console.sim.smtp_sink import SmtpSink
from tests.integration.server_process import kill, outbox_states, server_env, start_server

pytestmark = [pytest.mark.slow]
N = 3
PW = "a long enough portal password"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_TOKEN = re.compile(r"/portal/link/([A-Za-z0-9_\-]+)")


def _env(smtp: SmtpSink | None) -> dict[str, str]:
    # plain-HTTP cookies (no Secure flag) for this loopback client
    return server_env(smtp, RTCC_DEV_MODE="true")


def _post_form(
    client: httpx.Client, page: str, action: str, data: dict[str, str]
) -> httpx.Response:
    got = client.get(page)
    assert got.status_code == 200, got.text[:300]
    found = _CSRF.search(got.text)
    assert found, "no CSRF token on the page"
    return client.post(action, data={"csrf_token": html.unescape(found.group(1)), **data})


def test_killed_servers_lose_no_portal_email_and_send_none_twice(
    db_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    emails = [f"owner{i}@school.example" for i in range(N)]
    with SmtpSink(delay_s=1.5) as sink:
        proc, base = start_server(db_url, log, _env(None))
        try:
            for i, address in enumerate(emails):
                with httpx.Client(base_url=base, timeout=30) as browser:
                    r = _post_form(
                        browser,
                        "/portal/sign-up",
                        "/portal/sign-up",
                        {"name": f"School {i}", "kind": "school", "email": address, "password": PW},
                    )
                    assert r.status_code == 200 and "Check your e-mail" in r.text, r.text[:500]
        finally:
            kill(proc)
        assert outbox_states(db_url) == Counter({"pending": N}) and sink.started == 0

        proc, _ = start_server(db_url, log, _env(sink))
        try:
            assert sink.wait_for_started(2, timeout=30), "the second server never started sending"
            deadline = time.monotonic() + 0.8  # the first one's "sent" mark lands meanwhile
            while outbox_states(db_url)["sent"] < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert sink.count == 1, "message 2 must still be unconfirmed when the server dies"
        finally:
            kill(proc)
        states = outbox_states(db_url)
        assert states["sent"] == 1 and states["sending"] + states["pending"] == N - 1, states

        sink.handler.delay_s = 0.0
        both = [
            start_server(db_url, log, _env(sink)) for _ in range(2)
        ]  # two processes, one outbox
        try:
            deadline = time.monotonic() + 60
            while outbox_states(db_url) != Counter({"sent": N}):
                assert time.monotonic() < deadline, outbox_states(db_url)
                time.sleep(0.2)
            time.sleep(1.0)  # a duplicate would have arrived by now
            assert sink.count == N

            rcpts = Counter(m.rcpt_tos[0] for m in sink.messages)
            assert rcpts == Counter({a: 1 for a in emails})
            assert len({m.message()["Message-ID"] for m in sink.messages}) == N
            for m in sink.messages:  # each link signs its owner in, once
                body = m.message().get_body(preferencelist=("plain",))
                assert body is not None
                found = _TOKEN.search(body.get_content())
                assert found, body.get_content()
                link = f"/portal/link/{found.group(1)}"
                with httpx.Client(base_url=both[0][1], timeout=30) as browser:
                    r = _post_form(browser, link, link, {})
                    assert r.status_code == 303 and r.headers["location"] == "/portal/cameras"
                    assert browser.get("/portal/cameras").status_code == 200
                    assert _post_form(browser, link, link, {}).status_code == 410
        finally:
            for proc, _ in both:
                proc.terminate()
                proc.wait(20)
