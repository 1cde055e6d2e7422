"""The wall against the real rtcc server (embedded, SQLite): grants, denial, revocation,
snapshot audit and presets through HttpGrantService. Workers are fakes: the media path is
covered by test_wall_real.py; here the question is whether wall and server agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from rtcc_console.client.api import ApiClient
from rtcc_console.client.live_view import ServerGrantService
from rtcc_console.core.models import Role
from tests.gui.wall_fakes import Env, wall_env

pytestmark = pytest.mark.gui
PASSWORD = "correct horse battery staple"


class Server:
    def __init__(self, tmp_path: Path) -> None:
        from rtcc_console.config import ServerSettings
        from rtcc_console.server.embedded import EmbeddedServer
        from rtcc_console.server.security import create_user

        settings = ServerSettings(
            db_url=f"sqlite:///{tmp_path / 'rtcc.sqlite'}",
            dev_mode=True,
            port=0,
            argon2_time_cost=1,
            argon2_memory_kib=8,
            argon2_parallelism=1,
            grant_ttl_s=5,
            vault_dir=tmp_path / "vault",
        )
        self.embedded = EmbeddedServer(settings)
        self.embedded.start()
        state = self.embedded.state
        with state.db.write() as session:
            for name, role in (("ana", Role.ANALYST), ("adam", Role.ADMIN)):
                create_user(
                    session, username=name, role=role, password_hash=state.passwords.hash(PASSWORD)
                )
        self.api = self.embedded.api_url
        self.analyst = self.login("ana")
        self.admin = self.login("adam")

    def login(self, name: str) -> str:
        r = requests.post(
            f"{self.api}/auth/login", json={"username": name, "password": PASSWORD}, timeout=10
        )
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    def service(self) -> ServerGrantService:
        """The wall's server service as the console builds it, signed in as the analyst."""
        api = ApiClient(self.embedded.base_url)
        api._token = self.analyst
        return ServerGrantService(api)

    def add_camera(self, **overrides: Any) -> str:
        body = {
            "name": "Elm St 1200 front",
            "tier": "integrated",
            "kind": "business",
            "sharing_mode": "live_always",
            "lat": 32.78,
            "lon": -96.8,
            "address": "1200 Elm St",
            "stream_url": "http://127.0.0.1:9/cam/main.ts",
            **overrides,
        }
        r = requests.post(
            f"{self.api}/cameras",
            json=body,
            timeout=10,
            headers={"Authorization": f"Bearer {self.admin}"},
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def revoke(self, camera_id: str, reason: str) -> None:
        r = requests.post(
            f"{self.api}/cameras/{camera_id}/revoke",
            json={"reason": reason},
            timeout=10,
            headers={"Authorization": f"Bearer {self.admin}"},
        )
        assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    pytest.importorskip("rtcc_console.server.embedded")
    s = Server(tmp_path_factory.mktemp("server"))
    yield s
    s.embedded.stop()


@pytest.fixture
def env(qtbot: Any, tmp_path: Path, server: Server) -> Iterator[Env]:
    for e in wall_env(qtbot, tmp_path):
        e.grants = server.service()  # type: ignore[assignment]
        yield e


def test_a_granted_camera_opens_the_url_the_server_gave(env: Env, server: Server) -> None:
    cam = server.add_camera()
    wall = env.wall()
    wall.open_camera({"camera_id": cam, "name": "Elm", "tier": "integrated"}, "case 26-000111", 0)
    env.qtbot.waitUntil(lambda: len(env.factory.workers) == 1, timeout=10000)
    assert env.factory.workers[0].url == "http://127.0.0.1:9/cam/main.ts"
    feed = wall.feeds.feeds[wall.tiles[0]]
    assert feed.grant is not None and feed.grant.ttl_s > 0


def test_the_server_policy_denial_shows_on_the_tile(env: Env, server: Server) -> None:
    cam = server.add_camera(sharing_mode="live_in_emergency")
    wall = env.wall()
    wall.open_camera(
        {"camera_id": cam, "name": "School", "tier": "integrated"}, "case 26-000112", 1
    )
    env.qtbot.waitUntil(lambda: wall.tiles[1].badge.kind == "DENIED", timeout=10000)
    assert wall.tiles[1].badge.detail  # the server's reason, shown
    assert env.factory.workers == []


def test_revocation_on_the_server_ends_the_renewal_and_closes_the_tile(
    env: Env, server: Server
) -> None:
    cam = server.add_camera()
    wall = env.wall()
    wall.open_camera({"camera_id": cam, "name": "Elm", "tier": "integrated"}, "case 26-000113", 0)
    env.qtbot.waitUntil(lambda: len(env.factory.workers) == 1, timeout=10000)
    server.revoke(cam, "owner withdrew consent")
    # the console would forward grant.revoked; without it the next renewal (ttl 5 s) is refused
    env.qtbot.waitUntil(lambda: wall.tiles[0].badge.kind == "REVOKED", timeout=10000)
    env.qtbot.waitUntil(env.factory.workers[0].stopped.is_set, timeout=5000)


def test_snapshot_audit_and_presets_round_trip(env: Env, server: Server) -> None:
    cam = server.add_camera()
    wall = env.wall()
    wall.open_camera({"camera_id": cam, "name": "Elm", "tier": "integrated"}, "case 26-000114", 0)
    env.qtbot.waitUntil(lambda: len(env.factory.workers) == 1, timeout=10000)
    env.factory.workers[0].go_live()
    env.qtbot.waitUntil(lambda: wall.tiles[0].current_image() is not None, timeout=5000)
    with env.qtbot.waitSignal(wall.snapshot_saved, timeout=10000):
        wall.take_snapshot(0)
    assert "failed" not in wall.message_label.text()
    with env.qtbot.waitSignal(wall.presets_changed, timeout=10000) as changed:
        wall.save_preset("server preset")
    assert "server preset" in changed.args[0]
    assert "workstation only" not in wall.message_label.text()
    stored = server.service().load_presets()
    assert stored["server preset"]["tiles"][0]["camera_id"] == cam
