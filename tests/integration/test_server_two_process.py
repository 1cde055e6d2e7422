"""Two real `rtcc server` processes on one PostgreSQL: an event posted to A reaches B.

Proves the LISTEN/NOTIFY fan-out: B's SSE client gets `call.created` for a call that was
ingested by A (B never handled the request), plus replay by Last-Event-ID on B.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rtcc_console.store.pgcluster import free_port
from tests.server.conftest import PASSWORD, simple_call
from tests.server.sse_client import SseReader

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
FAST_HASH = {
    "RTCC_ARGON2_TIME_COST": "1",
    "RTCC_ARGON2_MEMORY_KIB": "8",
    "RTCC_ARGON2_PARALLELISM": "1",
}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RTCC_")}
    env.update(FAST_HASH)
    env["RTCC_SECRET_KEY"] = "integration-test-secret-0123456789"
    env["RTCC_SSE_PING_S"] = "1"
    env["RTCC_TOKEN_CACHE_S"] = "60"  # so only NOTIFY can explain a fast revocation
    return env


def _start(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
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
    return subprocess.Popen(cmd, env=_env(), stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _wait_healthy(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"server not healthy in 60 s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def two_servers(pg_cluster: Any, tmp_path: Path) -> Iterator[tuple[str, str]]:
    name = f"rtcc_twoproc_{os.getpid()}"
    url = pg_cluster.create_database(name, template="rtcc")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        bases = []
        for label in ("a", "b"):  # A migrates the database; B starts on the migrated schema
            port = free_port()
            log = tmp_path / f"server-{label}.log"
            proc = _start(url, port, log)
            procs.append(proc)
            base = f"http://127.0.0.1:{port}"
            _wait_healthy(base, proc, log)
            bases.append(base)
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
                url,
            ],
            input=PASSWORD + "\n",
            text=True,
            capture_output=True,
            env=_env(),
            timeout=60,
        )
        assert add.returncode == 0, add.stderr
        yield bases[0], bases[1]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        pg_cluster.drop_database(name)


def _token(base: str) -> str:
    r = httpx.post(f"{base}/api/v1/auth/login", json={"username": "ana", "password": PASSWORD})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def test_event_posted_to_a_arrives_at_sse_client_of_b(two_servers: tuple[str, str]) -> None:
    a, b = two_servers
    tok_a, tok_b = _token(a), _token(b)
    reader = SseReader(f"{b}/api/v1/events", headers={"Authorization": f"Bearer {tok_b}"})
    try:
        assert reader.status == 200
        ids = []
        for i in range(3):
            r = httpx.post(
                f"{a}/api/v1/calls",
                json=simple_call(incident_id=f"TWO-{i}"),
                headers={"Authorization": f"Bearer {tok_a}"},
            )
            assert r.status_code == 201, r.text
            ids.append(r.json()["call"]["id"])
        got = [reader.get(timeout=20) for _ in range(3)]
        assert [e.event for e in got if e] == ["call.created"] * 3
        assert [json.loads(e.data)["call"]["id"] for e in got if e] == ids
        first_id = got[0].id if got[0] else None
    finally:
        reader.close()
    # B replays what A wrote, from the shared event log
    reader = SseReader(
        f"{b}/api/v1/events",
        headers={"Authorization": f"Bearer {tok_b}", "Last-Event-ID": str(first_id)},
    )
    try:
        replay = [reader.get(timeout=20) for _ in range(2)]
        assert [json.loads(e.data)["call"]["id"] for e in replay if e] == ids[1:]
    finally:
        reader.close()
    # a token issued by A is valid on B (shared state, no sticky sessions)
    assert (
        httpx.get(f"{b}/api/v1/auth/me", headers={"Authorization": f"Bearer {tok_a}"}).status_code
        == 200
    )


def test_logout_on_a_is_honoured_by_b_at_once(two_servers: tuple[str, str]) -> None:
    a, b = two_servers
    tok = _token(a)
    auth = {"Authorization": f"Bearer {tok}"}
    assert httpx.get(f"{b}/api/v1/auth/me", headers=auth).status_code == 200  # now cached on B
    assert httpx.post(f"{a}/api/v1/auth/logout", headers=auth).status_code == 204
    deadline = time.monotonic() + 10  # far below B's 60 s cache lifetime
    status = 200
    while time.monotonic() < deadline and status == 200:
        status = httpx.get(f"{b}/api/v1/auth/me", headers=auth).status_code
        if status == 200:
            time.sleep(0.05)
    assert status == 401


def test_concurrent_writers_on_both_processes_give_one_ordered_stream(
    two_servers: tuple[str, str],
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    a, b = two_servers
    tokens = {a: _token(a), b: _token(b)}
    reader = SseReader(f"{b}/api/v1/events", headers={"Authorization": f"Bearer {tokens[b]}"})
    try:

        def post(i: int) -> str:
            base = a if i % 2 else b
            r = httpx.post(
                f"{base}/api/v1/calls",
                json=simple_call(incident_id=f"MIX-{i}"),
                headers={"Authorization": f"Bearer {tokens[base]}"},
                timeout=30,
            )
            assert r.status_code == 201, r.text
            return str(r.json()["call"]["incident_id"])

        with ThreadPoolExecutor(6) as pool:
            posted = set(pool.map(post, range(40)))
        got = [reader.get(timeout=30) for _ in range(40)]
        ids = [int(e.id or 0) for e in got if e]
        assert ids == sorted(ids) and len(set(ids)) == 40  # increasing, no duplicates
        assert {json.loads(e.data)["call"]["incident_id"] for e in got if e} == posted
    finally:
        reader.close()
