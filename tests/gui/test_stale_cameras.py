"""Stale cameras (not confirmed by their owner in time) are drawn differently: a grey dashed
marker with "not confirmed since <date>" in the map's tooltip, and in the camera list a
dashed icon, a greyed italic name and the same words; they stay listed and on the map."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from rtcc_console.client.nearest import CameraOption
from rtcc_console.core.models import SharingMode, Tier
from tests.gui.map_support import DEAD_TILES, camera, evaluate, wait_state

pytestmark = pytest.mark.gui
CONFIRMED = datetime(2025, 10, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def view(qtbot: Any) -> Iterator[Any]:
    from rtcc_console.ui.map_view import MapView

    v = MapView(tile_url=DEAD_TILES, tile_attribution="test tiles")
    qtbot.addWidget(v)
    v.resize(700, 500)
    v.show()
    with qtbot.waitSignal(v.page_ready, timeout=30_000):
        pass
    yield v


def test_a_stale_camera_is_a_grey_dashed_marker_with_its_date_in_the_tooltip(
    qtbot: Any, view: Any
) -> None:
    fresh = camera(1, 32.78, -96.80, tier=Tier.INTEGRATED, mode=SharingMode.LIVE_ALWAYS)
    stale = replace(camera(2, 32.781, -96.80), stale=True, confirmed_at=CONFIRMED)
    view.set_cameras([fresh, stale])
    wait_state(qtbot, view, lambda s: s["cameras"] == 2)
    fresh_style = evaluate(qtbot, view, "rtcc.cameraStyle", "cam-1")
    stale_style = evaluate(qtbot, view, "rtcc.cameraStyle", "cam-2")
    assert fresh_style["dashArray"] is None and stale_style["dashArray"]
    assert stale_style["color"] != fresh_style["color"]
    assert "not confirmed since 2025-10-01" in evaluate(qtbot, view, "rtcc.cameraTip", "cam-2")
    assert "not confirmed" not in evaluate(qtbot, view, "rtcc.cameraTip", "cam-1")
    assert "Not confirmed by its owner" in evaluate(qtbot, view, "rtcc.domSummary")["legend"]
    # the live update path: the fresh one goes stale, then is confirmed again
    view.upsert_camera(replace(fresh, stale=True, confirmed_at=None))
    qtbot.waitUntil(
        lambda: bool(evaluate(qtbot, view, "rtcc.cameraStyle", "cam-1")["dashArray"]), timeout=5000
    )
    assert "never confirmed" in evaluate(qtbot, view, "rtcc.cameraTip", "cam-1")
    view.upsert_camera(fresh)
    qtbot.waitUntil(
        lambda: evaluate(qtbot, view, "rtcc.cameraStyle", "cam-1")["dashArray"] is None,
        timeout=5000,
    )
    assert wait_state(qtbot, view, lambda s: s["cameras"] == 2)


def _option(cam: Any) -> CameraOption:
    return CameraOption(
        camera=cam,
        distance_m=42.0,
        bearing_deg=90.0,
        explanation="42 m E, view unknown",
        score=1.9,
        covers_scene=None,
        action="request",
        action_text="Request footage",
        why="Registered camera: request footage from its owner",
    )


def test_the_camera_list_marks_a_stale_camera(qtbot: Any) -> None:
    from rtcc_console.ui.camera_list import COL_BECAUSE, COL_NAME, COL_TIER, CameraList

    fresh = camera(1, 32.78, -96.80)
    stale = replace(camera(2, 32.78, -96.80), stale=True, confirmed_at=CONFIRMED)
    widget = CameraList()
    qtbot.addWidget(widget)
    widget.set_options([_option(fresh), _option(stale)], "2 cameras")
    model = widget.model
    because = [model.data(model.index(r, COL_BECAUSE)) for r in (0, 1)]
    assert because[0] == "Registered camera: request footage from its owner"
    assert because[1].startswith("Not confirmed since 2025-10-01 · ")
    assert "Not confirmed since 2025-10-01" in model.data(
        model.index(1, COL_NAME), Qt.ItemDataRole.ToolTipRole
    )
    assert model.data(model.index(0, COL_NAME), Qt.ItemDataRole.FontRole) is None
    assert model.data(model.index(1, COL_NAME), Qt.ItemDataRole.FontRole).italic()
    icons = [
        model.data(model.index(r, COL_TIER), Qt.ItemDataRole.DecorationRole)
        .pixmap(32, 32)
        .toImage()
        for r in (0, 1)
    ]
    assert icons[0] != icons[1]  # a dashed ring, not the registered camera's solid one
    if os.environ.get("RTCC_DOCS_SCREENSHOTS") == "1":
        widget.resize(820, 150)
        widget.show()
        qtbot.waitExposed(widget)
        assert widget.grab().save(
            str(Path(__file__).parents[2] / "docs" / "console-list-stale.png")
        )
    widget.explain(1)
    assert widget.why_box is not None and "yearly “still there?”" in widget.why_box.text()
    widget.why_box.close()


def test_map_and_list_use_the_same_stale_colour() -> None:
    from rtcc_console.ui.camera_style import STALE
    from rtcc_console.ui.map_page import map_resources_dir

    js = (map_resources_dir() / "rtcc_map.js").read_text()
    assert f'var STALE = {{ color: "{STALE}"' in js


def test_stale_cameras_around_a_call_screenshot(qtbot: Any, view: Any, tmp_path: Any) -> None:
    """The selected call's ranked cameras with two stale ones, the tooltip of one open:
    ``docs/console-map-stale.png`` with RTCC_DOCS_SCREENSHOTS=1 (else a temporary file)."""
    from tests.gui.map_support import call

    lat0, lon0 = 32.7800, -96.8000
    cams = [
        camera(1, lat0 + 0.0006, lon0 + 0.0004, tier=Tier.INTEGRATED, mode=SharingMode.LIVE_ALWAYS),
        camera(2, lat0 - 0.0005, lon0 + 0.0009),
        replace(camera(3, lat0 + 0.0002, lon0 - 0.0010), stale=True, confirmed_at=CONFIRMED),
        camera(4, lat0 - 0.0012, lon0 - 0.0003, tier=Tier.INTEGRATED),
        replace(
            camera(5, lat0 + 0.0013, lon0 - 0.0002, tier=Tier.INTEGRATED),
            stale=True,
            confirmed_at=CONFIRMED,
        ),
        camera(6, lat0 - 0.0002, lon0 - 0.0016),
    ]
    view.set_cameras(cams)
    view.set_calls([call("c1", lat0, lon0)])
    view.select_call("c1")
    view.show_ranked(["cam-1", "cam-3", "cam-2", "cam-4", "cam-5", "cam-6"])
    wait_state(qtbot, view, lambda s: s["cameras"] == 6 and len(s["ranked"]) == 6)
    before = view.grab().toImage()
    assert evaluate(qtbot, view, "rtcc.showCameraTip", "cam-3") is True
    qtbot.waitUntil(
        lambda: "not confirmed since" in (evaluate(qtbot, view, "rtcc.openTipText") or ""),
        timeout=5000,
    )
    docs = os.environ.get("RTCC_DOCS_SCREENSHOTS") == "1"
    target = (
        Path(__file__).parents[2] / "docs" if docs else Path(tmp_path)
    ) / "console-map-stale.png"
    shown: list[Any] = []
    qtbot.waitUntil(
        lambda: shown.append(view.grab().toImage()) or shown[-1] != before, timeout=5000
    )
    image = shown[-1]
    assert image.copy(image.rect().adjusted(60, 40, 0, 0)).save(str(target))
