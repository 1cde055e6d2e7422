"""Opening a request-only camera never replaces a live tile with a DENIED tile: dropping it
on the wall asks for a footage request instead and leaves the tile (and its live feed) as
they were (issue 10). The Enter / double-click path is covered in test_console_wiring."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from rtcc_console.ui.wall import CAMERA_MIME
from tests.gui.wall_fakes import Env, wall_env

pytestmark = pytest.mark.gui


@pytest.fixture
def env(qtbot: Any, tmp_path: Path) -> Iterator[Env]:
    yield from wall_env(qtbot, tmp_path)


def _drop(target: Any, payload: dict[str, str]) -> None:
    mime = QMimeData()
    mime.setData(CAMERA_MIME, json.dumps(payload).encode())
    centre = target.rect().center()
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QApplication.sendEvent(
        target, QDragEnterEvent(centre, Qt.DropAction.CopyAction, mime, buttons, mods)
    )
    QApplication.sendEvent(
        target, QDropEvent(centre.toPointF(), Qt.DropAction.CopyAction, mime, buttons, mods)
    )


@pytest.mark.parametrize(
    "payload",
    [
        {"camera_id": "cam-020", "name": "Porch", "tier": "registered"},
        {
            "camera_id": "cam-021",
            "name": "Shop (request only)",
            "tier": "integrated",
            "action": "request",
        },
    ],
)
def test_dropping_a_request_only_camera_on_a_live_tile_offers_a_request(
    env: Env, payload: dict[str, str]
) -> None:
    wall = env.wall("2x2")
    wall.set_reason("case 26-000901")
    worker = env.open_live(wall, 1, tile=0)
    tile = wall.tiles[0]
    env.qtbot.waitUntil(lambda: tile.badge.kind != "EMPTY", timeout=3000)
    badge_before, acquired = tile.badge, env.grants.count("acquire")
    with env.qtbot.waitSignal(wall.footage_request_wanted, timeout=3000) as sig:
        _drop(tile, payload)
    assert sig.args == [payload["camera_id"]]
    assert tile.badge == badge_before and tile.badge.kind != "DENIED"
    assert env.grants.count("acquire") == acquired  # the server was not asked for a live view
    assert not worker.stopped.is_set()  # the live feed on that tile goes on


def test_camera_list_drags_carry_what_the_analyst_may_do() -> None:
    from rtcc_console.ui.wall.tile import parse_camera_mime

    raw = json.dumps(
        {"camera_id": "cam-1", "name": "x", "tier": "integrated", "action": "request"}
    ).encode()
    assert parse_camera_mime(raw) == {
        "camera_id": "cam-1",
        "name": "x",
        "tier": "integrated",
        "action": "request",
    }
    odd = json.dumps({"camera_id": "cam-1", "action": "<script>"}).encode()
    assert "action" not in (parse_camera_mime(odd) or {})
