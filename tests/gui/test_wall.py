"""Video wall: layouts, maximise, drag and drop, badges, grants, revocation, substreams.

Driven by a fake worker and an in-memory grant service (tests/gui/wall_fakes.py), so each
state can be forced; the real worker is exercised in test_wall_real.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from rtcc_console.core.models import Tier
from rtcc_console.ui.wall import CAMERA_MIME, LAYOUTS
from rtcc_console.ui.wall.badges import TILE_STALE_AFTER_S
from tests.gui.wall_fakes import Env, camera, wall_env

pytestmark = pytest.mark.gui


@pytest.fixture
def env(qtbot: Any, tmp_path: Path) -> Iterator[Env]:
    yield from wall_env(qtbot, tmp_path)


# --- layouts ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(LAYOUTS))
def test_every_layout_tiles_the_wall_without_overlap(env: Env, name: str) -> None:
    wall = env.wall(name)
    rects = [t.geometry() for t in wall.tiles]
    area = wall.grid.rect()
    assert len(rects) == LAYOUTS[name].tile_count
    for i, r in enumerate(rects):
        assert area.contains(r), (i, r, area)
        assert r.width() > 50 and r.height() > 30
        for other in rects[i + 1 :]:
            assert not r.intersects(other), (r, other)


def test_spanning_layout_gives_the_first_tile_a_two_by_two_block(env: Env) -> None:
    wall = env.wall("1+5")
    big, small = wall.tiles[0].geometry(), wall.tiles[1].geometry()
    assert big.topLeft() == QPoint(0, 0)
    assert abs(big.width() - (2 * small.width() + 2)) <= 2
    assert abs(big.height() - (2 * small.height() + 2)) <= 2
    assert small.left() > big.right()  # tile 1 sits to the right of the big one
    wall.set_layout("1+12")
    assert len(wall.tiles) == 13
    assert abs(wall.tiles[0].width() - (2 * wall.tiles[1].width() + 2)) <= 2
    wall.set_layout("1+7")
    assert abs(wall.tiles[0].width() - (3 * wall.tiles[1].width() + 4)) <= 3


def test_layout_switch_from_the_toolbar_closes_tiles_beyond_the_new_count(env: Env) -> None:
    wall = env.wall("3x3")
    worker = env.open_live(wall, 1, tile=8)
    wall.toolbar.layout_combo.textActivated.emit("2x2")
    assert wall.layout_name == "2x2" and len(wall.tiles) == 4
    env.qtbot.waitUntil(worker.stopped.is_set, timeout=3000)
    env.qtbot.waitUntil(lambda: env.grants.count("release") == 1, timeout=3000)


def test_double_click_maximises_a_tile_and_double_click_restores(env: Env) -> None:
    wall = env.wall("3x3")
    tile = wall.tiles[4]
    before = tile.geometry()
    QTest.mouseDClick(tile, Qt.MouseButton.LeftButton)
    assert wall.maximised_index == 4
    assert tile.geometry() == wall.grid.rect()
    assert not wall.tiles[0].isVisible()
    QTest.mouseDClick(tile, Qt.MouseButton.LeftButton)
    assert wall.maximised_index is None
    assert tile.geometry() == before and wall.tiles[0].isVisible()
    QTest.mouseDClick(tile, Qt.MouseButton.LeftButton)
    QTest.keyClick(tile, Qt.Key.Key_Escape)  # Esc also restores
    assert wall.maximised_index is None and tile.geometry() == before


# --- drag and drop ---------------------------------------------------------------------
def _drag_payload(camera_id: str = "cam-007") -> QMimeData:
    mime = QMimeData()
    mime.setData(
        CAMERA_MIME,
        json.dumps({"camera_id": camera_id, "name": "Dropped cam", "tier": "integrated"}).encode(),
    )
    return mime


def test_dropping_a_camera_on_a_tile_opens_it_on_that_tile(env: Env) -> None:
    wall = env.wall("3x3")
    wall.set_reason("case 26-000777")
    target = wall.tiles[5]
    mime = _drag_payload()
    centre = target.rect().center()
    enter = QDragEnterEvent(
        centre,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(target, enter)
    assert enter.isAccepted() and target.drop_highlighted
    drop = QDropEvent(
        QPointF(centre),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(target, drop)
    assert not target.drop_highlighted
    env.qtbot.waitUntil(lambda: len(env.factory.workers) == 1, timeout=3000)
    assert env.grants.calls[0] == ("acquire", ("cam-007", "case 26-000777"))
    assert target.camera_name == "Dropped cam"
    assert wall.feeds.feeds[target].camera.id == "cam-007"
    assert all(t not in wall.feeds.feeds for t in wall.tiles if t is not target)


def test_a_drag_without_the_camera_mime_type_is_refused(env: Env) -> None:
    wall = env.wall()
    mime = QMimeData()
    mime.setText("cam-007")
    enter = QDragEnterEvent(
        QPoint(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    enter.setAccepted(False)
    QApplication.sendEvent(wall.tiles[0], enter)
    assert not enter.isAccepted() and not wall.tiles[0].drop_highlighted


# --- grants and reasons ----------------------------------------------------------------
def test_no_camera_opens_without_a_reason_and_the_refusal_is_visible(env: Env) -> None:
    wall = env.wall()
    assert wall.open_camera(camera(1), "  ") is False
    assert wall.message_label.isVisible() and "reason" in wall.message_label.text().lower()
    assert "dc2626" in wall.toolbar.reason_edit.styleSheet()
    assert env.grants.calls == [] and env.factory.workers == []


def test_the_grant_is_acquired_before_the_worker_starts(env: Env) -> None:
    wall = env.wall()
    env.factory.on_create = lambda w: env.grants._log("worker", w.url)
    worker = env.open_live(wall, 3)
    assert [c[0] for c in env.grants.calls][:2] == ["acquire", "worker"]
    assert worker.url == "http://sim/cam-003/main" and worker.started.is_set()
    assert wall.tiles[0].badge.kind == "CONNECTING"


def test_a_denied_grant_shows_denied_with_the_reason_and_starts_no_worker(env: Env) -> None:
    wall = env.wall()
    env.grants.deny["cam-002"] = "owner consents to live view only during emergencies"
    assert wall.open_camera(camera(2), "case 1", 1)
    env.qtbot.waitUntil(lambda: wall.tiles[1].badge.kind == "DENIED", timeout=3000)
    assert "only during emergencies" in wall.tiles[1].badge.detail
    assert env.factory.workers == []


def test_a_registered_camera_offers_a_footage_request_and_leaves_the_wall_alone(env: Env) -> None:
    wall = env.wall()
    worker = env.open_live(wall)  # tile 0 is live
    calls_before = list(env.grants.calls)
    with env.qtbot.waitSignal(wall.footage_request_wanted, timeout=1000) as wanted:
        assert not wall.open_camera(camera(4, tier=Tier.REGISTERED), "case 1", 0)
    assert wanted.args == ["cam-004"]
    assert wall.tiles[0].badge.kind != "DENIED" and wall.tile_of_camera("cam-001") == 0
    assert env.grants.calls == calls_before and not worker.stopped.is_set()
    assert "footage" in wall.message_label.text()


def test_open_top_cameras_fills_the_layout_once_each_and_the_full_banner_clears(env: Env) -> None:
    wall = env.wall()
    wall.set_layout("3x3")
    viewable = [camera(i) for i in range(1, 8)]  # 7 integrated cameras for 9 tiles
    registered = camera(20, tier=Tier.REGISTERED)
    assert wall.open_cameras([viewable[0], registered, *viewable, viewable[3]], "case 7") == 7
    open_ids = sorted(feed.camera.id for feed in wall.feeds.feeds.values())
    assert open_ids == sorted(c.id for c in viewable)  # each once, the registered one not at all
    assert wall.open_cameras(viewable, "case 7") == 0  # all already open: nothing twice
    more = [camera(i) for i in range(8, 12)]
    assert wall.open_cameras(more, "case 7") == 2  # two free tiles left
    assert wall.message_label.isVisible() and "2 more cameras" in wall.message_label.text()
    wall.close_tile(0)
    assert not wall.message_label.isVisible()  # its cause is gone


def test_a_preset_never_holds_a_camera_twice(env: Env) -> None:
    from rtcc_console.ui.wall import wall_io

    wall = env.wall()
    assert wall.open_camera(camera(1), "case 1", 0)
    assert not wall.open_camera(camera(1), "case 1", 1)  # already open on tile 1: not again
    assert wall.tile_of_camera("cam-001") == 0 and wall.selected_index == 0
    preset = wall_io.current_preset(wall)
    assert [t["camera_id"] for t in preset["tiles"]] == ["cam-001"]


# --- badges ----------------------------------------------------------------------------
def test_every_worker_state_has_its_badge(env: Env) -> None:
    wall = env.wall()
    worker = env.open_live(wall)
    tile = wall.tiles[0]
    worker.set_stats(state="live", fps=15.0, width=1280, height=720)
    env.qtbot.waitUntil(lambda: tile.badge.kind == "STALE", timeout=3000)  # LIVE but no frame
    worker.push_frame()
    env.qtbot.waitUntil(lambda: tile.badge.text == "LIVE", timeout=200)  # with the frame
    worker.set_stats(state="stale", last_frame_age_s=4.2)
    env.qtbot.waitUntil(lambda: tile.badge.kind == "STALE", timeout=3000)
    assert "4." in tile.badge.text  # the age of the last frame is shown
    worker.set_stats(state="reconnecting", next_retry_in_s=8.0, attempt=3)
    env.qtbot.waitUntil(lambda: tile.badge.kind == "RECONNECTING", timeout=3000)
    assert "8 s" in tile.badge.text and "attempt 3" in tile.badge.text
    worker.set_stats(state="connecting")
    env.qtbot.waitUntil(lambda: tile.badge.text == "CONNECTING", timeout=3000)
    worker.set_stats(state="failed", error="connection refused by 10.0.0.5")
    env.qtbot.waitUntil(lambda: tile.badge.kind == "FAILED", timeout=3000)
    assert tile.badge.detail == "connection refused by 10.0.0.5"
    assert tile.current_image() is None
    env.qtbot.waitUntil(worker.stopped.is_set, timeout=3000)


def test_a_tile_turns_stale_from_frame_age_even_if_the_worker_claims_live(env: Env) -> None:
    wall = env.wall()
    worker = env.open_live(wall)
    tile = wall.tiles[0]
    worker.go_live()
    env.qtbot.waitUntil(
        lambda: tile.badge.text == "LIVE" and tile.current_image() is not None, timeout=3000
    )
    # the worker hangs: no more frames, yet its stats still say LIVE
    env.qtbot.waitUntil(
        lambda: tile.badge.kind == "STALE", timeout=int((TILE_STALE_AFTER_S + 1.5) * 1000)
    )
    assert worker.stats().state == "live"
    assert (
        tile.frame_age_s() is not None and tile.frame_age_s() < 2.5
    )  # stale within 2 s (+ test slack)


def test_stats_overlay_toggles_with_the_i_key(env: Env) -> None:
    wall = env.wall()
    worker = env.open_live(wall)
    worker.go_live()
    worker.set_stats(frames_dropped=7, decode_ms=3.5, latency_ms=120.0)
    env.qtbot.waitUntil(lambda: "drops 7" in wall.tiles[0].stats_text, timeout=3000)
    assert not wall.tiles[0].show_stats
    QTest.keyClick(wall.tiles[0], Qt.Key.Key_I)
    assert wall.tiles[0].show_stats and wall.actions_.stats.isChecked()
    QTest.keyClick(wall.tiles[0], Qt.Key.Key_I)
    assert not wall.tiles[0].show_stats


# --- revocation and renewal ------------------------------------------------------------
def test_revocation_closes_the_tile_at_once_with_the_reason(env: Env) -> None:
    wall = env.wall()
    worker = env.open_live(wall, 1)
    worker.go_live()
    tile = wall.tiles[0]
    env.qtbot.waitUntil(lambda: tile.current_image() is not None, timeout=3000)
    grant_id = wall.feeds.feeds[tile].grant.id
    with env.qtbot.waitSignal(wall.tile_closed, timeout=1000) as closed:
        assert wall.on_grant_revoked(grant_id, "cam-001", "owner revoked access") == 1
    assert closed.args == [0, "cam-001", "REVOKED"]
    assert tile.badge.kind == "REVOKED" and tile.badge.detail == "owner revoked access"
    assert tile.current_image() is None
    env.qtbot.waitUntil(worker.stopped.is_set, timeout=3000)
    assert worker.revoked_reason == "owner revoked access"
    env.qtbot.waitUntil(lambda: grant_id in env.grants.released, timeout=3000)
    worker.push_frame()  # a late frame must not bring the picture back
    QTest.qWait(100)
    assert tile.current_image() is None


def test_camera_changed_to_revoked_closes_its_tiles(env: Env) -> None:
    wall = env.wall()
    worker = env.open_live(wall, 5, tile=2)
    wall.on_camera_changed(camera(5, revoked=True))
    assert wall.tiles[2].badge.kind == "REVOKED"
    env.qtbot.waitUntil(worker.stopped.is_set, timeout=3000)


def test_a_refused_renewal_closes_the_feed(env: Env) -> None:
    env.grants.ttl_s = 2.0  # renew after ~1 s
    env.grants.refuse_renewal = "emergency ended; owner shares live only in emergencies"
    wall = env.wall()
    worker = env.open_live(wall, 1)
    worker.go_live()
    env.qtbot.waitUntil(lambda: wall.tiles[0].badge.kind == "REVOKED", timeout=5000)
    assert env.grants.count("renew") == 1
    assert "emergency ended" in wall.tiles[0].badge.detail
    env.qtbot.waitUntil(worker.stopped.is_set, timeout=3000)


def test_the_grant_is_renewed_while_the_tile_is_open(env: Env) -> None:
    env.grants.ttl_s = 2.0
    wall = env.wall()
    worker = env.open_live(wall, 1)
    worker.go_live()
    env.qtbot.waitUntil(lambda: env.grants.count("renew") >= 2, timeout=5000)
    assert wall.tiles[0] in wall.feeds.feeds and not worker.stopped.is_set()


def test_emergency_end_rechecks_the_grant_now(env: Env) -> None:
    wall = env.wall()
    worker = env.open_live(wall, 9)
    env.qtbot.waitUntil(lambda: wall.feeds.feeds[wall.tiles[0]].grant is not None, timeout=3000)
    env.grants.refuse_renewal = "emergency ended"
    wall.on_emergency_ended(["cam-009"])
    env.qtbot.waitUntil(lambda: wall.tiles[0].badge.kind == "REVOKED", timeout=3000)
    env.qtbot.waitUntil(worker.stopped.is_set, timeout=3000)


# --- main stream or substream ----------------------------------------------------------
def test_small_tiles_use_the_substream_and_maximising_switches_to_the_main_stream(env: Env) -> None:
    env.grants.substream = True
    wall = env.wall("4x4", size=(1280, 760))
    small = env.open_live(wall, 1, tile=0)
    assert wall.tiles[0].device_size()[0] < 640
    assert small.url.endswith("/sub")
    small.go_live()
    env.qtbot.waitUntil(lambda: wall.tiles[0].current_image() is not None, timeout=3000)
    QTest.mouseDClick(wall.tiles[0], Qt.MouseButton.LeftButton)
    env.qtbot.waitUntil(lambda: len(env.factory.workers) == 2, timeout=3000)
    big = env.factory.workers[1]
    assert big.url.endswith("/main")
    # make-before-break: the substream keeps the tile alive until the main stream delivers
    QTest.qWait(100)
    assert not small.stopped.is_set() and wall.tiles[0].current_image() is not None
    big.go_live()
    env.qtbot.waitUntil(small.stopped.is_set, timeout=3000)
    assert wall.feeds.feeds[wall.tiles[0]].worker is big
    assert wall.tiles[0].frame.seq == 1 and wall.tiles[0].current_image().width() == big.out_size[0]
    assert env.grants.count("acquire") == 1  # the same grant, another URL
    QTest.mouseDClick(wall.tiles[0], Qt.MouseButton.LeftButton)  # back to small: substream again
    env.qtbot.waitUntil(lambda: len(env.factory.workers) == 3, timeout=3000)
    assert env.factory.workers[2].url.endswith("/sub")


def test_the_worker_scales_to_the_tile_keeping_the_source_aspect(env: Env) -> None:
    wall = env.wall("2x2", size=(1000, 900))
    worker = env.open_live(wall, 1)
    worker.go_live()  # reports a 1280x720 source
    tile = wall.tiles[0]
    env.qtbot.waitUntil(lambda: bool(worker.size_requests), timeout=3000)
    w, h = worker.out_size
    assert w <= tile.width() and h <= tile.height()
    assert abs(w / h - 16 / 9) < 0.03
    assert tile.width() - w <= 2 or tile.height() - h <= 2


# --- console wiring --------------------------------------------------------------------
def test_open_top_action_asks_the_console_and_open_cameras_fills_free_tiles(env: Env) -> None:
    wall = env.wall("2x2")
    assert wall.open_top_action.shortcut().toString() == "Ctrl+Shift+O"
    with env.qtbot.waitSignal(wall.open_top_requested, timeout=1000):
        wall.open_top_action.trigger()
    env.open_live(wall, 1, tile=1)
    opened = wall.open_cameras([camera(n) for n in range(2, 7)], "case 26-5")
    assert opened == 3  # tiles 0, 2, 3 were free
    assert {t.index: f.camera.id for t, f in wall.feeds.feeds.items()} == {
        0: "cam-002",
        1: "cam-001",
        2: "cam-003",
        3: "cam-004",
    }
    assert "full" in wall.message_label.text()


def test_set_reason_prefills_the_field_used_by_drops(env: Env) -> None:
    wall = env.wall()
    wall.set_reason("CAD 26-004411 burglary")
    assert wall.reason() == "CAD 26-004411 burglary"
    wall._on_drop(2, {"camera_id": "cam-010", "name": "Ten", "tier": "integrated"})
    env.qtbot.waitUntil(lambda: env.grants.count("acquire") == 1, timeout=3000)
    assert env.grants.calls[0] == ("acquire", ("cam-010", "CAD 26-004411 burglary"))


def test_a_revocation_that_overtakes_its_grant_still_closes_the_tile(env: Env) -> None:
    wall = env.wall()
    gate = __import__("threading").Event()
    acquire = env.grants.acquire
    env.grants.acquire = lambda cid, reason: (gate.wait(5), acquire(cid, reason))[1]  # type: ignore[method-assign]
    wall.open_camera(camera(1), "case 1", 0)
    assert wall.on_grant_revoked("g-unknown-yet", "cam-001", "owner revoked") == 1
    assert wall.tiles[0].badge.kind == "REVOKED"
    gate.set()
    env.qtbot.waitUntil(
        lambda: env.grants.count("release") == 1, timeout=3000
    )  # the late grant is given back
    assert env.factory.workers == []


def test_the_analysts_reason_is_never_overwritten_by_selecting_another_call(env: Env) -> None:
    wall = env.wall()
    edit = wall.toolbar.reason_edit
    wall.set_reason("call INC-1")
    assert edit.text() == "call INC-1"
    wall.set_reason("call INC-2")  # still the default: follows the selection
    assert edit.text() == "call INC-2"
    edit.setText("case 26-004711 stolen truck")
    wall.set_reason("call INC-3")
    assert edit.text() == "case 26-004711 stolen truck"
    edit.clear()
    wall.set_reason("call INC-4")  # empty again: the default comes back
    assert edit.text() == "call INC-4"


def test_an_empty_reason_is_asked_for(env: Env) -> None:
    wall = env.wall()
    wall.show()
    wall.toolbar.reason_edit.clear()
    assert not wall.open_camera(camera(1), "", 0)
    assert "reason or case number" in wall.message_label.text()
    assert env.grants.calls == []


def test_tile_title_shows_rank_name_and_id_and_never_cuts_the_name_for_the_badge(env: Env) -> None:
    from rtcc_console.ui.wall.badges import Badge
    from rtcc_console.ui.wall.tile import FeedTile

    a, b = FeedTile(0), FeedTile(1)
    for tile in (a, b):
        env.qtbot.addWidget(tile)
        tile.resize(320, 180)
    name = "Elm St 1200 — front porch driveway"
    a.set_camera(name, "integrated", camera_id="cam-000123", rank=2)
    b.set_camera(name, "integrated", camera_id="cam-000987", rank=5)
    assert a.title_text() == f"#2 {name}" and "cam-000123" in a.subtitle_text()
    assert a.subtitle_text() != b.subtitle_text()  # same name, told apart by the id
    a.set_badge(Badge("RECONNECTING", "retry in 8 s (attempt 3)"))
    labels = a._overlay_labels()
    title, badge = labels[0], labels[-1]
    from PySide6.QtGui import QFontMetrics

    metrics_w = QFontMetrics(a._bold).horizontalAdvance(f"#2 {name}")
    assert title[2].width() >= metrics_w  # not elided
    # the badge never overlaps the title: beside it, or on the next line
    tx, ty, timg = title
    bx, by, bimg = badge
    assert bx >= tx + timg.width() or by >= ty + timg.height()
