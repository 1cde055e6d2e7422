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

import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from rtcc_console.core.models import Camera, CameraKind, GeoPoint, Owner, SharingMode, Tier
from rtcc_console.sim.smtp_sink import SmtpSink
from rtcc_console.store.bulk import bulk_insert_cameras, bulk_insert_owners
from rtcc_console.store.db import make_engine, make_session_factory
from tests.integration.server_process import kill, outbox_states, server_env, start_server
from tests.server.conftest import PASSWORD

pytestmark = [pytest.mark.slow]
N = 10


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
        env=server_env(None),
        timeout=60,
    )
    assert add.returncode == 0, add.stderr
    log = tmp_path / "server.log"
    with SmtpSink(delay_s=1.5) as sink:
        proc, base = start_server(db_url, log, server_env(None))
        base += "/api/v1"
        try:
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
            kill(proc)
        assert outbox_states(db_url) == Counter({"pending": N}) and sink.started == 0

        proc, _ = start_server(db_url, log, server_env(sink))
        try:
            assert sink.wait_for_started(4, timeout=30), "the second server never started sending"
            # message 4 is on the wire (DATA received, not confirmed for 1.5 s); the three
            # accepted before it get their "sent" mark from the sender's marker thread
            deadline = time.monotonic() + 0.8
            while outbox_states(db_url)["sent"] < 3 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert sink.count == 3, "message 4 must still be unconfirmed when the server dies"
        finally:
            kill(proc)
        states = outbox_states(db_url)
        assert states["sent"] == 3 and states["sending"] + states["pending"] == N - 3, states

        sink.handler.delay_s = 0.0
        proc, _ = start_server(db_url, log, server_env(sink))
        try:
            deadline = time.monotonic() + 60
            while outbox_states(db_url) != Counter({"sent": N}):
                assert time.monotonic() < deadline, outbox_states(db_url)
                time.sleep(0.2)
        finally:
            proc.terminate()
            proc.wait(20)
    ids = Counter(m.message()["Message-ID"] for m in sink.messages)
    rcpts = Counter(m.rcpt_tos[0] for m in sink.messages)
    assert len(ids) == N and set(ids.values()) == {1}, ids
    assert rcpts == Counter({f"owner{i}@example.org": 1 for i in range(N)})
