"""Video wall: snapshots (PNG metadata, SHA-256, audit), presets (server and offline), pre-warm."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QImage

from tests.gui.wall_fakes import Env, FakeGrants, camera, wall_env

pytestmark = pytest.mark.gui


@pytest.fixture
def env(qtbot: Any, tmp_path: Path) -> Iterator[Env]:
    yield from wall_env(qtbot, tmp_path)


# --- snapshots -------------------------------------------------------------------------
def test_snapshot_writes_a_png_with_provenance_hashes_it_and_audits_it(env: Env) -> None:
    wall = env.wall()
    worker = env.open_live(wall, 1)
    worker.go_live()
    env.qtbot.waitUntil(lambda: wall.tiles[0].current_image() is not None, timeout=3000)
    with env.qtbot.waitSignal(wall.snapshot_saved, timeout=5000) as saved:
        assert wall.take_snapshot(0)
    path, digest = Path(saved.args[0]), saved.args[1]
    assert path.parent == env.tmp_path / "snapshots" and path.suffix == ".png"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    image = QImage(str(path))
    assert not image.isNull() and image.size() == wall.tiles[0].current_image().size()
    assert image.text("Camera") == "Elm St 100 front"
    assert image.text("CameraId") == "cam-001"
    assert image.text("User") == "analyst1"
    assert image.text("Time").endswith("+00:00") and image.text("Time").startswith("20")
    assert image.pixelColor(2, 2).red() == 255  # the frame's white quarter, not a blank
    audit = env.grants.snapshots[-1]
    grant_id = wall.feeds.feeds[wall.tiles[0]].grant.id
    assert audit["sha256"] == digest and audit["camera_id"] == "cam-001"
    assert audit["grant_id"] == grant_id and audit["reason"] == "case 26-001234"


def test_snapshot_of_an_empty_tile_is_refused_visibly(env: Env) -> None:
    wall = env.wall()
    assert wall.take_snapshot(1) is False
    assert "no live frame" in wall.message_label.text()
    assert env.grants.snapshots == []


# --- presets ---------------------------------------------------------------------------
def _fill(env: Env, wall: Any) -> None:
    wall.set_layout("1+5")
    env.open_live(wall, 1, tile=0)
    env.open_live(wall, 2, tile=3)


def test_presets_round_trip_through_the_server(env: Env) -> None:
    wall = env.wall()
    _fill(env, wall)
    with env.qtbot.waitSignal(wall.presets_changed, timeout=3000) as changed:
        wall.save_preset("Elm corridor")
    assert changed.args == [["Elm corridor"]]
    saved = env.grants.presets["Elm corridor"]
    assert saved["layout"] == "1+5"
    assert [(t["index"], t["camera_id"]) for t in saved["tiles"]] == [
        (0, "cam-001"),
        (3, "cam-002"),
    ]

    other = env.wall()  # another session of the same user
    other.set_reason("case 26-009999")
    acquired = env.grants.count("acquire")
    other.restore_preset("Elm corridor")
    env.qtbot.waitUntil(lambda: env.grants.count("acquire") == acquired + 2, timeout=3000)
    assert other.layout_name == "1+5"
    assert {t.index: f.camera.id for t, f in other.feeds.feeds.items()} == {
        0: "cam-001",
        3: "cam-002",
    }
    assert ("acquire", ("cam-002", "case 26-009999")) in env.grants.calls  # the current reason


def test_presets_fall_back_to_a_local_file_when_the_server_is_unreachable(env: Env) -> None:
    env.grants.unreachable = True
    wall = env.wall()
    _fill(env, wall)
    with env.qtbot.waitSignal(wall.presets_changed, timeout=3000):
        wall.save_preset("offline one")
    assert "workstation only" in wall.message_label.text()
    local = json.loads((env.tmp_path / "presets.json").read_text())
    assert local["offline one"]["layout"] == "1+5"
    assert env.grants.presets == {}
    wall.set_layout("2x2")
    wall.set_reason("case 7")
    wall.restore_preset("offline one")
    env.qtbot.waitUntil(
        lambda: wall.layout_name == "1+5" and len(wall.feeds.feeds) == 2, timeout=3000
    )
    assert "restored" in wall.message_label.text()


def test_restoring_a_preset_needs_a_reason(env: Env) -> None:
    wall = env.wall()
    wall.restore_preset("anything")
    assert "reason" in wall.message_label.text().lower()
    assert env.grants.calls == []


# --- pre-warm --------------------------------------------------------------------------
def test_opening_a_prewarmed_camera_adopts_its_worker(env: Env) -> None:
    wall = env.wall()
    warmed = wall.prewarm([camera(1), camera(2)], "case 26-1")
    assert warmed == ["cam-001", "cam-002"]
    env.qtbot.waitUntil(lambda: len(env.factory.workers) == 2, timeout=3000)
    worker = next(w for w in env.factory.workers if "cam-001" in w.url)
    worker.go_live()
    assert wall.tiles[0].current_image() is None  # warm, not shown
    wall.open_camera(camera(1), "case 26-1", 0)
    env.qtbot.waitUntil(lambda: wall.tiles[0].current_image() is not None, timeout=1000)
    assert len(env.factory.workers) == 2  # no second worker
    assert env.grants.count("acquire") == 2
    assert wall.feeds.feeds[wall.tiles[0]].worker is worker
    assert worker.size_requests and worker.size_requests[-1][0] <= wall.tiles[0].width()


def test_a_new_prewarm_replaces_the_old_one_and_releases_its_grants(env: Env) -> None:
    wall = env.wall()
    wall.prewarm([camera(1), camera(2)], "call A")
    env.qtbot.waitUntil(lambda: len(env.factory.workers) == 2, timeout=3000)
    first = list(env.factory.workers)
    wall.prewarm([camera(2), camera(3)], "call B")
    env.qtbot.waitUntil(lambda: len(env.factory.workers) == 3, timeout=3000)
    cam1 = next(w for w in first if "cam-001" in w.url)
    cam2 = next(w for w in first if "cam-002" in w.url)
    env.qtbot.waitUntil(cam1.stopped.is_set, timeout=3000)
    assert not cam2.stopped.is_set()  # still wanted: kept
    env.qtbot.waitUntil(lambda: env.grants.count("release") == 1, timeout=3000)


def test_unused_prewarmed_feeds_stop_after_their_keep_time(env: Env) -> None:
    wall = env.wall(prewarm_keep_s=0.5)
    wall.prewarm([camera(1)], "call A")
    env.qtbot.waitUntil(lambda: len(env.factory.workers) == 1, timeout=3000)
    env.qtbot.waitUntil(env.factory.workers[0].stopped.is_set, timeout=3000)
    env.qtbot.waitUntil(lambda: env.grants.count("release") == 1, timeout=3000)
    assert wall.prewarm_pool.entries == {}


def test_prewarm_is_limited_and_skips_registered_cameras(env: Env) -> None:
    from rtcc_console.core.models import Tier

    wall = env.wall(prewarm_limit=2)
    cams = [camera(1, tier=Tier.REGISTERED), camera(2), camera(3), camera(4)]
    assert wall.prewarm(cams, "call A") == ["cam-002", "cam-003"]


def test_revoking_a_prewarmed_grant_stops_its_worker(env: Env) -> None:
    wall = env.wall()
    wall.prewarm([camera(1)], "call A")
    env.qtbot.waitUntil(lambda: len(env.factory.workers) == 1, timeout=3000)
    wall.on_grant_revoked(None, "cam-001", "owner revoked")
    env.qtbot.waitUntil(env.factory.workers[0].stopped.is_set, timeout=3000)
    assert env.factory.workers[0].revoked_reason == "owner revoked"


def test_fake_grants_are_a_grant_service() -> None:
    from rtcc_console.ui.wall.grants import GrantService

    assert isinstance(FakeGrants(), GrantService)


def test_the_preset_list_is_loaded_when_the_wall_is_first_shown(env: Env) -> None:
    env.grants.presets["Morning shift"] = {"version": 1, "layout": "2x2", "tiles": []}
    wall = env.wall()
    env.qtbot.waitUntil(lambda: wall.preset_names == ["Morning shift"], timeout=3000)
    combo = wall.toolbar.preset_combo
    assert [combo.itemText(i) for i in range(combo.count())][1:] == ["Morning shift"]


# --- session end and a different user --------------------------------------------------
def test_ending_the_session_stops_every_feed_and_releases_every_grant(env: Env) -> None:
    wall = env.wall()
    shown = env.open_live(wall, 1)
    shown.go_live()
    wall.prewarm([camera(2)], "case 26-1")
    env.qtbot.waitUntil(lambda: len(env.factory.workers) == 2, timeout=3000)
    warm = next(w for w in env.factory.workers if "cam-002" in w.url)
    env.qtbot.waitUntil(lambda: env.grants.count("acquire") == 2, timeout=3000)
    wall.end_session()
    env.qtbot.waitUntil(lambda: shown.stopped.is_set() and warm.stopped.is_set(), timeout=3000)
    env.qtbot.waitUntil(lambda: env.grants.count("release") == 2, timeout=3000)
    assert wall.tiles[0].current_image() is None and not wall.feeds.feeds


def test_a_different_user_gets_an_empty_wall_and_their_own_presets(env: Env) -> None:
    wall = env.wall()
    worker = env.open_live(wall, 1)
    worker.go_live()
    env.qtbot.waitUntil(lambda: wall.tiles[0].current_image() is not None, timeout=3000)
    first_file = wall.presets.local_file
    wall.set_user("analyst1")  # the same user signing in again keeps the wall
    assert not worker.stopped.is_set()
    wall.set_user("analyst2")
    env.qtbot.waitUntil(worker.stopped.is_set, timeout=3000)
    assert wall.user == "analyst2" and not wall.feeds.feeds
    assert wall.presets.local_file != first_file and "analyst2" in wall.presets.local_file.name
