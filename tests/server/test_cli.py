"""`rtcc server` refuses the default secret outside dev mode and starts on SQLite with --dev."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from rtcc_console.store.pgcluster import free_port


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RTCC_")}
    env.update(extra)
    return env


def test_refuses_default_secret_outside_dev(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "rtcc_console.cli",
            "server",
            "--db",
            f"sqlite:///{tmp_path}/x.sqlite",
            "--port",
            "0",
        ],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0
    assert "RTCC_SECRET_KEY" in out.stderr


def test_dev_server_migrates_and_serves(tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "fresh.sqlite"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rtcc_console.cli",
            "server",
            "--dev",
            "--db",
            f"sqlite:///{db}",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).json()
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert status == {"status": "ok", "db": "sqlite"}
        assert httpx.get(f"http://127.0.0.1:{port}/docs").status_code == 200
    finally:
        proc.terminate()
        proc.wait(15)
    assert db.exists()


def test_https_with_certificate(tmp_path: Path) -> None:
    """--tls-certfile/--tls-keyfile serve HTTPS (CJIS: encryption in transit)."""
    import shutil

    import pytest

    if shutil.which("openssl") is None:
        pytest.skip("openssl not available to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rtcc_console.cli",
            "server",
            "--dev",
            "--db",
            f"sqlite:///{tmp_path}/t.sqlite",
            "--port",
            str(port),
            "--tls-certfile",
            str(cert),
            "--tls-keyfile",
            str(key),
            "--log-level",
            "warning",
        ],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import ssl

    trust = ssl.create_default_context(cafile=str(cert))
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = httpx.get(
                    f"https://127.0.0.1:{port}/api/v1/health", verify=trust, timeout=1
                ).json()
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert status == {"status": "ok", "db": "sqlite"}
    finally:
        proc.terminate()
        proc.wait(15)
