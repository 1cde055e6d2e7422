"""`rtcc sim cad` against the real server over real HTTP (uvicorn on loopback, SQLite).

Checks what a CAD integrator cares about: every generated call arrives once, updates are
applied to the same incident, a replay is recognised as duplicates, and a server restart
in the middle of a feed loses nothing.
"""

from __future__ import annotations

import io
import random
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

pytest.importorskip("uvicorn")
server_app = pytest.importorskip("rtcc_console.server.app")

import uvicorn  # noqa: E402

from rtcc_console.config import ServerSettings  # noqa: E402
from rtcc_console.core.models import Role  # noqa: E402
from rtcc_console.server.security import create_user  # noqa: E402
from rtcc_console.sim import cad_post  # noqa: E402
from rtcc_console.sim.cad import generate_calls  # noqa: E402
from rtcc_console.sim.cad_post import CallPoster, to_outgoing  # noqa: E402

PASSWORD = "cad feed password 42"
NOW = datetime.now(UTC).replace(microsecond=0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """uvicorn serving create_app(settings) in a thread; can be stopped and started again."""

    def __init__(self, db_path: Path, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.settings = ServerSettings(
            db_url=f"sqlite:///{db_path}",
            dev_mode=True,
            argon2_time_cost=1,
            argon2_memory_kib=8,
            argon2_parallelism=1,
        )  # type: ignore[call-arg]
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None
        self.app: Any = None

    def start(self) -> None:
        self.app = server_app.create_app(self.settings)
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        assert self.server is not None and self.thread is not None
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path / "rtcc.sqlite", _free_port())
    server.start()
    state = server.app.state.rtcc
    with state.db.write() as session:
        create_user(
            session, username="cad", role=Role.ANALYST, password_hash=state.passwords.hash(PASSWORD)
        )
    yield server
    if server.thread is not None and server.thread.is_alive():
        server.stop()


def _calls_on_server(live: LiveServer) -> dict[str, dict[str, Any]]:
    token = requests.post(
        f"{live.url}/api/v1/auth/login", json={"username": "cad", "password": PASSWORD}, timeout=5
    ).json()["access_token"]
    reply = requests.get(
        f"{live.url}/api/v1/calls",
        params={"status": "all", "limit": 1000},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert reply.status_code == 200, reply.text
    return {item["incident_id"]: item for item in reply.json()["items"]}


@pytest.mark.parametrize("fmt", ["eido", "simple"])
def test_cli_feed_arrives_once_and_a_replay_is_duplicates(
    live: LiveServer, fmt: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "--server",
        live.url,
        "--username",
        "cad",
        "--password-stdin",
        "--rate",
        "0",
        "--count",
        "40",
        "--seed",
        "9",
        "--format",
        fmt,
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cad_post.main(args) == 0
    summary = capsys.readouterr().out
    assert "delivered 40" in summary and "rejected 0" in summary

    stored = _calls_on_server(live)
    records = generate_calls(random.Random(9), 40, NOW)
    latest = {r["incident_id"]: r for r in records}  # last version of each incident
    assert len(stored) == len(latest)
    for call in stored.values():
        assert call["source"] == fmt
        assert call["category"] != "other"
    statuses = sorted(call["status"] for call in stored.values())
    assert statuses == sorted(r["status"] for r in latest.values())


def test_server_restart_mid_feed_loses_nothing(live: LiveServer) -> None:
    records = generate_calls(random.Random(4), 30, NOW)
    calls = [to_outgoing(r, "eido") for r in records]
    poster = CallPoster(
        live.url,
        username="cad",
        password=PASSWORD,
        max_backoff_s=0.3,
        timeout_s=5,
        give_up_after_s=60,
    )
    poster.run(iter(calls[:10]))
    live.stop()
    restarter = threading.Timer(1.0, live.start)
    restarter.start()
    tally = poster.run(iter(calls[10:]), total=20)  # first attempts hit a dead port
    restarter.join()
    assert tally.unsent == 0 and tally.rejected == 0
    assert tally.retries >= 1
    assert tally.created + tally.updated == 30
    assert len(_calls_on_server(live)) == len({r["incident_id"] for r in records})


def test_replayed_feed_is_recognised_as_duplicates(live: LiveServer) -> None:
    records = generate_calls(random.Random(2), 20, NOW)
    calls = [to_outgoing(r, "simple") for r in records]
    poster = CallPoster(live.url, username="cad", password=PASSWORD, timeout_s=5)
    first = poster.run(iter(calls))
    assert first.created + first.updated == 20 and first.duplicate == 0
    before = _calls_on_server(live)
    poster.tally = cad_post.Tally()
    again = poster.run(iter(calls))
    assert (again.duplicate, again.created, again.updated) == (20, 0, 0)
    assert _calls_on_server(live) == before
