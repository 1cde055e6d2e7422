"""A real ``rtcc server`` process for the crash tests: started on a free port with fast
password hashing and a quick mail poll, waited for until healthy, killed with SIGKILL."""

from __future__ import annotations

import os
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


def server_env(smtp: SmtpSink | None, **extra: str) -> dict[str, str]:
    """This process's environment without its RTCC_ settings, plus the test's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RTCC_")}
    env.update(
        RTCC_ARGON2_TIME_COST="1",
        RTCC_ARGON2_MEMORY_KIB="8",
        RTCC_ARGON2_PARALLELISM="1",
        RTCC_SECRET_KEY="integration-test-secret-0123456789",
        RTCC_MAIL_POLL_S="0.2",
        RTCC_SMTP_TIMEOUT_S="3",  # claims lapse after 12 s
    )
    if smtp is not None:
        env.update(
            RTCC_SMTP_HOST=smtp.host, RTCC_SMTP_PORT=str(smtp.port), RTCC_SMTP_SECURITY="none"
        )
    env.update(extra)
    return env


def start_server(url: str, log: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """``rtcc server`` on ``url`` (output appended to ``log``), once healthy: the process
    and its base URL."""
    port = free_port()
    cmd = [sys.executable, "-m", "rtcc_console.cli", "server", "--db", url, "--port", str(port)]
    cmd += ["--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
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


def kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL: no shutdown handler runs."""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)


def outbox_states(url: str) -> Counter[str]:
    """How many outbox messages are in each state."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as s:
            return Counter(s.scalars(select(MailOutboxRow.state)))
    finally:
        engine.dispose()
