"""`rtcc user passwd / disable / enable` on a real database: the change takes effect at the
API (sign-in), every session of the user ends, and it is in the audit trail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from tests.server.conftest import API, PASSWORD, make_settings

NEW_PASSWORD = "a-much-better-passphrase-2026"


def _rtcc(*args: str, db: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RTCC_")}
    env["RTCC_ARGON2_TIME_COST"] = "1"
    env["RTCC_ARGON2_MEMORY_KIB"] = "64"
    env["RTCC_ARGON2_PARALLELISM"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "rtcc_console.cli", "user", *args, "--db", db],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_passwd_disable_enable(tmp_path: Path) -> None:
    from rtcc_console.server.app import create_app

    db = f"sqlite:///{tmp_path}/users.sqlite"
    made = _rtcc(
        "add", "carol", "--role", "analyst", "--password-stdin", db=db, stdin=PASSWORD + "\n"
    )
    assert made.returncode == 0, made.stderr
    # token_cache_s=0: the CLI is another process; the server checks the token every time
    app = create_app(
        make_settings(
            db, argon2_time_cost=1, argon2_memory_kib=64, argon2_parallelism=1, token_cache_s=0
        )
    )
    with TestClient(app) as client:

        def login(password: str) -> int:
            return client.post(
                f"{API}/auth/login", json={"username": "carol", "password": password}
            ).status_code

        token = client.post(
            f"{API}/auth/login", json={"username": "carol", "password": PASSWORD}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get(f"{API}/auth/me", headers=headers).status_code == 200

        changed = _rtcc("passwd", "carol", "--password-stdin", db=db, stdin=NEW_PASSWORD + "\n")
        assert changed.returncode == 0, changed.stderr
        assert NEW_PASSWORD not in changed.stdout + changed.stderr  # never echoed
        assert (
            client.get(f"{API}/auth/me", headers=headers).status_code == 401
        )  # signed out everywhere
        assert login(PASSWORD) == 401 and login(NEW_PASSWORD) == 200

        assert _rtcc("disable", "carol", db=db).returncode == 0
        assert login(NEW_PASSWORD) in (401, 403)
        assert _rtcc("enable", "carol", db=db).returncode == 0
        assert login(NEW_PASSWORD) == 200

        weak = _rtcc("passwd", "carol", "--password-stdin", db=db, stdin="short\n")
        assert weak.returncode == 2 and "password" in weak.stderr
        assert _rtcc("disable", "nobody", db=db).returncode == 1

    from rtcc_console.server.database import Database
    from rtcc_console.store.schema import AuditEventRow

    database = Database(db)
    with database.read() as session:
        actions = [r.action for r in session.query(AuditEventRow).order_by(AuditEventRow.id)]
    database.dispose()
    assert actions.count("admin.user_passwd") == 1
    assert "admin.user_disable" in actions and "admin.user_enable" in actions
