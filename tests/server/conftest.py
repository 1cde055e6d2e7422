"""Fixtures for the server tests: a fast-hashing app on a fresh migrated database.

``db_url`` (root conftest) is parametrised over SQLite and PostgreSQL, so every test that
uses ``client`` runs on both back ends. Passwords use a cheap argon2id parameter set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rtcc_console.config import ServerSettings
from rtcc_console.core.models import Role
from rtcc_console.server.app import create_app
from rtcc_console.server.security import create_user

PASSWORD = "correct horse battery staple"
API = "/api/v1"


def make_settings(db_url: str, **overrides: Any) -> ServerSettings:
    values: dict[str, Any] = {
        "db_url": db_url,
        "dev_mode": True,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 8,
        "argon2_parallelism": 1,
        "migrate_on_start": False,
        "sse_ping_s": 0.5,
        "housekeeping_s": 0.2,
    }
    values.update(overrides)
    return ServerSettings(**values)


@pytest.fixture
def settings_factory(db_url: str) -> Callable[..., ServerSettings]:
    return lambda **kw: make_settings(db_url, **kw)


@pytest.fixture
def settings(settings_factory: Callable[..., ServerSettings]) -> ServerSettings:
    return settings_factory()


@pytest.fixture
def app(settings: ServerSettings) -> Any:
    return create_app(settings)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as c:
        add_user(app, "ana", Role.ANALYST)
        add_user(app, "sue", Role.SUPERVISOR)
        add_user(app, "adam", Role.ADMIN)
        yield c


def add_user(app: Any, name: str, role: Role, password: str = PASSWORD) -> None:
    state = app.state.rtcc
    with state.db.write() as session:
        create_user(session, username=name, role=role, password_hash=state.passwords.hash(password))


def login(client: TestClient, name: str, password: str = PASSWORD) -> dict[str, str]:
    r = client.post(f"{API}/auth/login", json={"username": name, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def analyst(client: TestClient) -> dict[str, str]:
    return login(client, "ana")


@pytest.fixture
def supervisor(client: TestClient) -> dict[str, str]:
    return login(client, "sue")


@pytest.fixture
def admin(client: TestClient) -> dict[str, str]:
    return login(client, "adam")


def camera_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Elm St 1200 front porch",
        "tier": "integrated",
        "kind": "business",
        "sharing_mode": "live_always",
        "lat": 32.7800,
        "lon": -96.8000,
        "address": "1200 Elm St",
        "heading_deg": 180.0,
        "fov_deg": 90.0,
        "range_m": 40.0,
        "stream_url": "rtsp://admin:s3cret-pw@10.0.0.5:554/live?token=abc123",
    }
    body.update(overrides)
    return body


def simple_call(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "format": "simple",
        "incident_id": "DPD-TEST-0001",
        "type_code": "BURG",
        "type_text": "Burglary in progress",
        "priority": 1,
        "status": "pending",
        "lat": 32.7801,
        "lon": -96.8001,
        "address": "1200 Elm St, Dallas, TX",
        "reported_at": "2026-11-21T05:00:00+00:00",
        "updated_at": "2026-11-21T05:00:00+00:00",
    }
    body.update(overrides)
    return body


def events_of(app: Any, type_: str | None = None) -> list[tuple[int, str, str]]:
    """Persisted events (id, type, data) — what the SSE stream would replay."""
    from rtcc_console.server.eventlog import load_events

    with app.state.rtcc.db.read() as session:
        rows = load_events(session, after=0, limit=100_000)
    return [(r.id, r.type, r.data) for r in rows if type_ is None or r.type == type_]


def count_rows(app: Any, table: Any) -> int:
    from sqlalchemy import func, select

    with app.state.rtcc.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)
