"""Fixtures for the console GUI tests: a real embedded server (SQLite, seeded registry) on
loopback, and a console window built with ``build_console`` against it."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

PASSWORD = "a-password-of-12+chars"
CENTER = (32.7801, -96.8001)
_incidents = itertools.count(1)


class ConsoleServer:
    """An EmbeddedServer with users ana (analyst) and adam (admin) and a seeded registry."""

    def __init__(
        self,
        tmp: Path,
        *,
        n_registered: int = 200,
        n_integrated: int = 80,
        port: int = 0,
        seed: int = 1,
        settings_extra: dict[str, Any] | None = None,
    ) -> None:
        from rtcc_console.sim.seed import generate_registry, seed_database

        self.db_url = "sqlite:///" + str(tmp / "s.sqlite")
        self.tmp = tmp
        registry = generate_registry(
            seed=seed, n_registered=n_registered, n_integrated=n_integrated
        )
        seed_database(self.db_url, registry)
        self.port = port
        self.settings_extra = dict(settings_extra or {})  # e.g. SMTP for footage requests
        self.start()

    def start(self) -> str:
        from rtcc_console.config import ServerSettings
        from rtcc_console.server.embedded import EmbeddedServer

        settings = ServerSettings(
            dev_mode=True,
            port=self.port,
            db_url=self.db_url,
            vault_dir=self.tmp / "vault",
            argon2_time_cost=1,
            argon2_memory_kib=8,
            argon2_parallelism=1,
            **self.settings_extra,
        )
        self.embedded = EmbeddedServer(settings)
        self.base = self.embedded.start()
        self.port = int(self.base.rsplit(":", 1)[1].split("/")[0])
        self.embedded.ensure_user("ana", "analyst", PASSWORD)
        self.embedded.ensure_user("adam", "admin", PASSWORD)
        self.admin = self.token("adam")
        return self.base

    def stop(self) -> None:
        self.embedded.stop()

    def token(self, name: str) -> str:
        r = requests.post(
            f"{self.base}/api/v1/auth/login",
            json={"username": name, "password": PASSWORD},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    def admin_post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = requests.post(
            f"{self.base}/api/v1{path}",
            json=body,
            timeout=10,
            headers={"Authorization": f"Bearer {self.admin}"},
        )
        assert r.status_code in (200, 201), r.text
        return dict(r.json()) if r.content else {}

    def post_call(self, **overrides: Any) -> dict[str, Any]:
        now = datetime.now(UTC).isoformat()
        body: dict[str, Any] = {
            "format": "simple",
            "incident_id": f"DPD-T-{next(_incidents):04d}",
            "type_code": "BURG",
            "type_text": "Burglary in progress",
            "priority": 2,
            "status": "pending",
            "lat": CENTER[0],
            "lon": CENTER[1],
            "address": "1200 Elm St, Dallas, TX",
            "reported_at": now,
            "updated_at": now,
        }
        body.update(overrides)
        return dict(self.admin_post("/calls", body)["call"])


@pytest.fixture
def console_server(tmp_path: Path) -> Iterator[ConsoleServer]:
    server = ConsoleServer(tmp_path)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def make_console(qtbot: Any, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """``make_console(base_url, sign_in=True, **build_kwargs)`` → (window, api)."""
    from rtcc_console.client.api import ApiClient
    from rtcc_console.config import ConsoleSettings
    from rtcc_console.ui.app import build_console

    windows: list[Any] = []

    def make(
        base: str, *, sign_in: bool = True, username: str = "ana", **kwargs: Any
    ) -> tuple[Any, Any]:
        settings = ConsoleSettings(server_url=base, cache_dir=tmp_path / "cache", time_zone="UTC")
        api = ApiClient(base)
        user = api.login(username, PASSWORD) if sign_in else None
        kwargs.setdefault("settings_file", tmp_path / "console.ini")
        window = build_console(settings, api, user=user, **kwargs)
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window, api

    def rebuild(api: Any, **kwargs: Any) -> tuple[Any, Any]:
        """A new window for an already signed-in ``api`` (the server may be down)."""
        settings = ConsoleSettings(
            server_url=api.base_url, cache_dir=tmp_path / "cache", time_zone="UTC"
        )
        kwargs.setdefault("settings_file", tmp_path / "console.ini")
        window = build_console(settings, api, user=api.user, **kwargs)
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window, api

    make.rebuild = rebuild  # type: ignore[attr-defined]
    yield make
    for window in windows:
        window.close()
        window.deleteLater()  # deleted on the GUI thread now, not whenever a collector runs
