"""The vault through a real `rtcc server` process and the real tus client (tuspy).

* an upload cut off in the middle of a PATCH (the socket closed) and resumed by a second
  tuspy client: the stored original is byte-exact;
* the server killed (SIGKILL) while it finalizes the last chunk: after a restart the upload
  either completes with the right hashes or is still resumable, never a wrong item.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from tusclient import client as tus_client

from rtcc_console.sim.vault_media import make_mp4, pad_to
from rtcc_console.store.pgcluster import free_port
from tests.server.conftest import PASSWORD

pytestmark = [pytest.mark.slow]
FAST_HASH = {
    "RTCC_ARGON2_TIME_COST": "1",
    "RTCC_ARGON2_MEMORY_KIB": "8",
    "RTCC_ARGON2_PARALLELISM": "1",
}


@dataclass
class LiveServer:
    base: str
    db_url: str
    vault: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RTCC_")}
        env.update(FAST_HASH)
        env.update(
            {
                "RTCC_SECRET_KEY": "integration-test-secret-0123456789",
                "RTCC_VAULT_DIR": str(self.vault),
            }
        )
        env.update(extra)
        return env

    def start(self, **extra: str) -> None:
        port = urlsplit(self.base).port
        cmd = [
            sys.executable,
            "-m",
            "rtcc_console.cli",
            "server",
            "--db",
            self.db_url,
            "--port",
            str(port),
            "--log-level",
            "warning",
        ]
        self.proc = subprocess.Popen(
            cmd, env=self.env(**extra), stdout=self.log.open("ab"), stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"server exited early:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.base}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        pytest.fail("server not healthy in 60 s")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def token(self) -> dict[str, str]:
        r = httpx.post(
            f"{self.base}/api/v1/auth/login", json={"username": "ana", "password": PASSWORD}
        )
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(
        base=f"http://127.0.0.1:{free_port()}",
        db_url=f"sqlite:///{tmp_path / 'rtcc.sqlite'}",
        vault=tmp_path / "vault",
        log=tmp_path / "server.log",
    )
    server.start()
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
            server.db_url,
        ],
        input=PASSWORD + "\n",
        text=True,
        capture_output=True,
        env=server.env(),
        timeout=60,
    )
    assert add.returncode == 0, add.stderr
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = make_mp4(tmp_path / "front-door.mp4", seconds=2.0, seed=11)
    return pad_to(path, 6 * 1024 * 1024)


def _raw_patch_cut_off(
    base: str, location: str, headers: dict[str, str], offset: int, body: bytes, send: int
) -> None:
    """Start a PATCH that declares the whole ``body`` but close the socket after ``send`` bytes."""
    u = urlsplit(base)
    path = urlsplit(location).path if location.startswith("http") else location
    head = [
        f"PATCH {path} HTTP/1.1",
        f"Host: {u.hostname}:{u.port}",
        "Tus-Resumable: 1.0.0",
        "Content-Type: application/offset+octet-stream",
        f"Upload-Offset: {offset}",
        f"Content-Length: {len(body)}",
        *[f"{k}: {v}" for k, v in headers.items()],
        "",
        "",
    ]
    with socket.create_connection((u.hostname, u.port)) as s:
        s.sendall("\r\n".join(head).encode())
        s.sendall(body[:send])
        time.sleep(0.3)
        s.shutdown(socket.SHUT_RDWR)


def _head_offset(base: str, location: str, headers: dict[str, str]) -> int:
    r = httpx.head(
        location if location.startswith("http") else base + location,
        headers={**headers, "Tus-Resumable": "1.0.0"},
    )
    assert r.status_code == 200, r.status_code
    return int(r.headers["Upload-Offset"])


def _wait_offset(
    base: str, location: str, headers: dict[str, str], predicate: object, timeout: float = 20
) -> int:
    deadline = time.monotonic() + timeout
    while True:
        offset = _head_offset(base, location, headers)
        if predicate(offset):  # type: ignore[operator]
            return offset
        if time.monotonic() > deadline:
            pytest.fail(f"offset stayed {offset}")
        time.sleep(0.05)


def test_cut_off_mid_patch_then_resumed_by_a_second_tuspy_client(
    live: LiveServer, video: Path
) -> None:
    data = video.read_bytes()
    auth = live.token()
    first = tus_client.TusClient(f"{live.base}/api/v1/uploads", headers=auth)
    uploader = first.uploader(
        str(video),
        chunk_size=1024 * 1024,
        metadata={"case_number": "26-004242", "filename": video.name, "camera_id": "cam-7"},
    )
    uploader.upload_chunk()
    uploader.upload_chunk()
    location = uploader.url
    assert _head_offset(live.base, location, auth) == 2 * 1024 * 1024
    # the network drops in the middle of the third chunk: what arrived is kept
    _raw_patch_cut_off(
        live.base, location, auth, 2 * 1024 * 1024, data[2 * 1024 * 1024 :], send=1_500_000
    )
    offset = _wait_offset(live.base, location, auth, lambda o: o > 2 * 1024 * 1024)
    assert 2 * 1024 * 1024 < offset <= 2 * 1024 * 1024 + 1_500_000
    # a different client (another tuspy instance, another connection pool) resumes by URL
    second = tus_client.TusClient(f"{live.base}/api/v1/uploads", headers=auth)
    resumed = second.uploader(str(video), url=location, chunk_size=1024 * 1024)
    assert resumed.offset == offset
    resumed.upload()
    receipt = httpx.get(f"{location}/receipt", headers=auth).json()
    assert receipt["sha256"] == hashlib.sha256(data).hexdigest()
    assert receipt["sha512"] == hashlib.sha512(data).hexdigest()
    sha = receipt["sha256"]
    stored = live.vault / "objects" / sha[:2] / sha[2:4] / sha
    assert stored.read_bytes() == data  # byte-exact
    content = httpx.get(
        f"{live.base}/api/v1/evidence/{receipt['evidence_id']}/content", headers=auth
    )
    assert content.status_code == 200 and hashlib.sha256(content.content).hexdigest() == sha


def test_server_killed_while_finalizing_never_registers_a_wrong_item(
    live: LiveServer, video: Path
) -> None:
    data = video.read_bytes()
    live.stop()
    live.start(RTCC_VAULT_TEST_FINALIZE_DELAY_S="5")
    auth = live.token()
    uploader = tus_client.TusClient(f"{live.base}/api/v1/uploads", headers=auth).uploader(
        str(video),
        chunk_size=len(data),
        metadata={"case_number": "26-009999", "filename": video.name},
    )
    location = uploader.create_url()
    import threading

    def last_patch() -> None:
        try:
            httpx.patch(
                location,
                content=data,
                timeout=30,
                headers={
                    **auth,
                    "Tus-Resumable": "1.0.0",
                    "Upload-Offset": "0",
                    "Content-Type": "application/offset+octet-stream",
                },
            )
        except httpx.HTTPError:
            pass  # the server dies under it

    t = threading.Thread(target=last_patch)
    t.start()
    upload_id = location.rsplit("/", 1)[1]
    part = live.vault / "uploads" / f"{upload_id}.part"
    deadline = time.monotonic() + 20
    while not (part.exists() and part.stat().st_size == len(data)):
        assert time.monotonic() < deadline, "the bytes never arrived"
        time.sleep(0.02)
    digest = hashlib.sha256(data).hexdigest()
    blob = live.vault / "objects" / digest[:2] / digest[2:4] / digest
    while (
        not blob.exists()
    ):  # the original is linked; the fault hook now holds finalization for 5 s
        assert time.monotonic() < deadline + 20, "finalization never linked the original"
        time.sleep(0.02)
    time.sleep(0.3)
    live.kill()
    t.join(10)
    # nothing registered by the dead process
    import sqlite3

    with sqlite3.connect(live.db_url.removeprefix("sqlite:///")) as db:
        assert db.execute("SELECT count(*) FROM evidence_items").fetchone()[0] == 0
    assert blob.exists()  # killed after the link, before the row
    # restarted (no fault hook): the upload is finished from the bytes on disk, re-hashed
    live.start()
    auth = live.token()
    resumed = tus_client.TusClient(f"{live.base}/api/v1/uploads", headers=auth).uploader(
        str(video), url=location
    )
    assert resumed.offset == len(data)
    receipt = httpx.get(f"{location}/receipt", headers=auth)
    assert receipt.status_code == 200, receipt.text
    assert receipt.json()["sha256"] == hashlib.sha256(data).hexdigest()
    assert (
        receipt.json()["duplicate"] is False
    )  # a blob linked before the kill is not "the same bytes twice"
    with sqlite3.connect(live.db_url.removeprefix("sqlite:///")) as db:
        rows = db.execute("SELECT sha256, sha512, size_bytes FROM evidence_items").fetchall()
    assert rows == [(hashlib.sha256(data).hexdigest(), hashlib.sha512(data).hexdigest(), len(data))]
