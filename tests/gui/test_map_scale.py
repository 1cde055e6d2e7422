"""30,000 cameras: all drawn on the canvas, reported once through ``cameras_drawn``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.gui.map_support import DEAD_TILES, many_cameras, wait_state

pytestmark = pytest.mark.gui


def test_thirty_thousand_cameras_are_drawn(qtbot: Any) -> None:
    from rtcc_console.ui.map_view import MapView

    cams = many_cameras(30_000)
    view = MapView(tile_url=DEAD_TILES, tile_attribution="test tiles")
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    with qtbot.waitSignal(view.cameras_drawn, timeout=30_000) as sig:
        view.set_cameras(cams)  # queued before the page is ready, flushed on ready
    count, ms = sig.args
    assert count == 30_000 and ms > 0
    s = wait_state(qtbot, view, lambda s: s["cameras"] == 30_000)
    assert s["cones"] == 0  # city zoom: no heading cones
    # Zoomed in, cones appear for the cameras in view (only those with a heading).
    view.page().runJavaScript("rtcc.map.setView([32.7767, -96.7970], 17, {animate: false});")
    s = wait_state(qtbot, view, lambda s: s["zoom"] == 17)
    assert 0 < s["cones"] <= 600
