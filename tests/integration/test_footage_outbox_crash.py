"""A real `rtcc server` killed with SIGKILL loses no owner e-mail and sends none twice.

1. Server 1 (no SMTP configured) commits a request to ten owners, then is killed: the ten
   messages are in the outbox, nothing was sent.
2. Server 2 sends to a slow SMTP server (1.5 s before each "250") and is killed while a
   message is on the wire (DATA received, not yet confirmed).
3. Server 3 finishes: every owner has exactly one message, each with its own Message-ID,
   and the message that was on the wire is re-sent after its claim lapsed.
Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from rtcc_console.core.models import Camera, CameraKind, GeoPoint, Owner, SharingMode, Tier
from rtcc_console.sim.smtp_sink import SmtpSink
from rtcc_console.store.bulk import bulk_insert_cameras, bulk_insert_owners
from rtcc_console.store.db import make_engine, make_session_factory
from rtcc_console.store.pgcluster import free_port
from rtcc_console.store.schema import MailOutboxRow
from tests.server.conftest import PASSWORD

pytestmark = [pytest.mark.slow]
N = 10
FAST_HASH = {
    "RTCC_ARGON2_TIME_COST": "1",
    "RTCC_ARGON2_MEMORY_KIB": "8",
    "RTCC_ARGON2_PARALLELISM": "1",
}


def _env(smtp: SmtpSink | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RTCC_")}
    env.update(FAST_HASH)
    env["RTCC_SECRET_KEY"] = "integration-test-secret-0123456789"
    env["RTCC_MAIL_POLL_S"] = "0.2"
    env["RTCC_SMTP_TIMEOUT_S"] = "3"  # claims lapse after 12 s
    if smtp is not None:
        env.update(
            RTCC_SMTP_HOST=smtp.host, RTCC_SMTP_PORT=str(smtp.port), RTCC_SMTP_SECURITY="none"
        )
    return env


def _start(url: str, port: int, log: Path, smtp: SmtpSink | None) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "rtcc_console.cli",
        "server",
        "--db",
        url,
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, env=_env(smtp), stdout=log.open("ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail("server not healthy in 60 s")


def _kill(proc: subprocess.Popen[bytes]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)


def _outbox_states(url: str) -> Counter[str]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as s:
            return Counter(s.scalars(select(MailOutboxRow.state)))
    finally:
        engine.dispose()


def _seed(url: str) -> None:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as s:
            bulk_insert_owners(
                s,
                owners=[
                    Owner(
                        id=f"own-{i}",
                        name=f"Owner {i}",
                        kind=CameraKind.RESIDENTIAL,
                        email=f"owner{i}@example.org",
                    )
                    for i in range(N)
                ],
            )
            bulk_insert_cameras(
                s,
                cameras=[
                    Camera(
                        id=f"cam-{i}",
                        name=f"Cam {i}",
                        tier=Tier.REGISTERED,
                        location=GeoPoint(32.78 + i * 5e-5, -96.8),
                        kind=CameraKind.RESIDENTIAL,
                        sharing_mode=SharingMode.REQUEST_ONLY,
                        owner_id=f"own-{i}",
                    )
                    for i in range(N)
                ],
            )
            s.commit()
    finally:
        engine.dispose()


def test_killed_servers_lose_no_email_and_send_none_twice(db_url: str, tmp_path: Path) -> None:
    _seed(db_url)
    add = subprocess.run(
        [
            sys.executable,
            "-m",
            "rtcc_console.cli",
            "user",
            "add",
            "ana",
            "--role",
            "analyst",
            "--password-stdin",
            "--db",
            db_url,
        ],
        input=PASSWORD + "\n",
        text=True,
        capture_output=True,
        env=_env(None),
        timeout=60,
    )
    assert add.returncode == 0, add.stderr
    log = tmp_path / "server.log"
    with SmtpSink(delay_s=1.5) as sink:
        port = free_port()
        proc = _start(db_url, port, log, None)
        try:
            base = f"http://127.0.0.1:{port}/api/v1"
            token = httpx.post(
                f"{base}/auth/login", json={"username": "ana", "password": PASSWORD}
            ).json()
            now = datetime.now(UTC)
            r = httpx.post(
                f"{base}/footage-requests",
                headers={"Authorization": f"Bearer {token['access_token']}"},
                json={
                    "client_key": "crash-test-0001",
                    "case_number": "26-777",
                    "area": {
                        "kind": "circle",
                        "center": {"lat": 32.7802, "lon": -96.8},
                        "radius_m": 200,
                    },
                    "window_start": (now - timedelta(hours=3)).isoformat(),
                    "window_end": (now - timedelta(hours=2)).isoformat(),
                    "message": "please",
                },
                timeout=30,
            )
            assert r.status_code == 201, r.text
            assert len(r.json()["items"]) == N
        finally:
            _kill(proc)
        assert _outbox_states(db_url) == Counter({"pending": N}) and sink.started == 0

        proc = _start(db_url, free_port(), log, sink)
        try:
            assert sink.wait_for_started(4, timeout=30), "the second server never started sending"
            # message 4 is on the wire (DATA received, not confirmed for 1.5 s); the three
            # accepted before it get their "sent" mark from the sender's marker thread
            deadline = time.monotonic() + 0.8
            while _outbox_states(db_url)["sent"] < 3 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert sink.count == 3, "message 4 must still be unconfirmed when the server dies"
        finally:
            _kill(proc)
        states = _outbox_states(db_url)
        assert states["sent"] == 3 and states["sending"] + states["pending"] == N - 3, states

        sink.handler.delay_s = 0.0
        proc = _start(db_url, free_port(), log, sink)
        try:
            deadline = time.monotonic() + 60
            while _outbox_states(db_url) != Counter({"sent": N}):
                assert time.monotonic() < deadline, _outbox_states(db_url)
                time.sleep(0.2)
        finally:
            proc.terminate()
            proc.wait(20)
    ids = Counter(m.message()["Message-ID"] for m in sink.messages)
    rcpts = Counter(m.rcpt_tos[0] for m in sink.messages)
    assert len(ids) == N and set(ids.values()) == {1}, ids
    assert rcpts == Counter({f"owner{i}@example.org": 1 for i in range(N)})
