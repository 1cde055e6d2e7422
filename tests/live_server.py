"""A real rtcc server on loopback for tests that drive it over HTTP (browser, field video):
uvicorn in this process, dev mode, fast password hashing, a fresh SQLite database."""

from __future__ import annotations

import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from rtcc_console.sim.smtp_sink import SmtpSink

STAFF_PW = "correct horse battery staple"  # every staff and officer account of these tests
FIELD_USERS = (("ana", "analyst"), ("adam", "admin"), ("ofc.kim", "officer"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(
    tmp_path: Path,
    db_name: str,
    *,
    users: Sequence[tuple[str, str]] = (),
    sink: SmtpSink | None = None,
    **overrides: Any,
) -> Iterator[tuple[Any, str]]:
    """A real server (uvicorn on loopback, dev mode, fast password hashing) on a fresh
    SQLite database; ``users`` (name, role) get ``STAFF_PW``; with ``sink`` the portal's
    links point at it and its mail goes there. Yields the embedded server and its base URL;
    stops the field video readers and the server at the end."""
    from rtcc_console.config import ServerSettings
    from rtcc_console.server.embedded import EmbeddedServer

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    if sink is not None:
        overrides = {
            "portal_base_url": base,
            "smtp_host": sink.host,
            "smtp_port": sink.port,
            "smtp_security": "none",
            **overrides,
        }
    settings = ServerSettings(
        dev_mode=True,
        port=port,
        db_url=f"sqlite:///{tmp_path / db_name}",
        vault_dir=tmp_path / "vault",
        argon2_time_cost=1,
        argon2_memory_kib=8,
        argon2_parallelism=1,
        **overrides,
    )
    embedded = EmbeddedServer(settings)
    embedded.start()
    for name, role in users:
        embedded.ensure_user(name, role, STAFF_PW)
    try:
        yield embedded, base
    finally:
        for hub in ("field_hls", "field_mjpeg"):
            found = embedded.state.extras.get(hub)
            if found is not None:
                found.stop_all()
        embedded.stop()


@contextmanager
def field_server(
    tmp_path: Path, sim: Any, *, users: Sequence[tuple[str, str]] = FIELD_USERS, **overrides: Any
) -> Iterator[tuple[Any, str, Any]]:
    """``running_server`` with the camera simulator ``sim`` (started here, stopped at the
    end): the embedded server, its base URL and the simulator."""
    sim.start()
    try:
        with running_server(tmp_path, "field.sqlite", users=users, **overrides) as (
            embedded,
            base,
        ):
            yield embedded, base, sim
    finally:
        sim.stop()


def bearer(base: str, name: str, password: str = STAFF_PW) -> dict[str, str]:
    """The Authorization header of a fresh sign-in of ``name``."""
    r = requests.post(
        f"{base}/api/v1/auth/login", json={"username": name, "password": password}, timeout=10
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}
