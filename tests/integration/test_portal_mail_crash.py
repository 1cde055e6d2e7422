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
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from rtcc_console.sim.smtp_sink import SmtpSink
from rtcc_console.store.db import make_engine, make_session_factory
from rtcc_console.store.pgcluster import free_port
from rtcc_console.store.schema import MailOutboxRow

pytestmark = [pytest.mark.slow]
N = 3
PW = "a long enough portal password"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_TOKEN = re.compile(r"/portal/link/([A-Za-z0-9_\-]+)")


def _env(smtp: SmtpSink | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RTCC_")}
    env.update(
        RTCC_ARGON2_TIME_COST="1",
        RTCC_ARGON2_MEMORY_KIB="8",
        RTCC_ARGON2_PARALLELISM="1",
        RTCC_SECRET_KEY="integration-test-secret-0123456789",
        RTCC_DEV_MODE="true",  # plain-HTTP cookies (no Secure flag) for this loopback client
        RTCC_MAIL_POLL_S="0.2",
        RTCC_SMTP_TIMEOUT_S="3",  # claims lapse after 12 s
    )
    if smtp is not None:
        env.update(
            RTCC_SMTP_HOST=smtp.host, RTCC_SMTP_PORT=str(smtp.port), RTCC_SMTP_SECURITY="none"
        )
    return env


def _start(url: str, log: Path, smtp: SmtpSink | None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [sys.executable, "-m", "rtcc_console.cli", "server", "--db", url, "--port", str(port)]
    cmd += ["--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=_env(smtp), stdout=log.open("ab"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail("server not healthy in 60 s")


def _kill(proc: subprocess.Popen[bytes]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)


def _states(url: str) -> Counter[str]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as s:
            return Counter(s.scalars(select(MailOutboxRow.state)))
    finally:
        engine.dispose()


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
        proc, base = _start(db_url, log, None)
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
            _kill(proc)
        assert _states(db_url) == Counter({"pending": N}) and sink.started == 0

        proc, _ = _start(db_url, log, sink)
        try:
            assert sink.wait_for_started(2, timeout=30), "the second server never started sending"
            deadline = time.monotonic() + 0.8  # the first one's "sent" mark lands meanwhile
            while _states(db_url)["sent"] < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert sink.count == 1, "message 2 must still be unconfirmed when the server dies"
        finally:
            _kill(proc)
        states = _states(db_url)
        assert states["sent"] == 1 and states["sending"] + states["pending"] == N - 1, states

        sink.handler.delay_s = 0.0
        both = [_start(db_url, log, sink) for _ in range(2)]  # two processes, one outbox
        try:
            deadline = time.monotonic() + 60
            while _states(db_url) != Counter({"sent": N}):
                assert time.monotonic() < deadline, _states(db_url)
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
