"""The map page: local assets only, works offline, updates in place, reports clicks.

Every test drives a real MapView (QtWebEngine, offscreen) and reads what the page shows
through ``rtcc.state()``; tiles point at a dead local port, as on a machine without
internet.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from rtcc_console.core.models import CallStatus, CameraKind, SharingMode, Tier
from rtcc_console.ui.js import js_call, js_value
from rtcc_console.ui.map_page import build_map_html
from tests.gui.map_support import DEAD_TILES, call, camera, evaluate, wait_state

pytestmark = pytest.mark.gui


@pytest.fixture
def view(qtbot: Any) -> Iterator[Any]:
    from rtcc_console.ui.map_view import MapView

    v = MapView(tile_url=DEAD_TILES, tile_attribution="test tiles")
    qtbot.addWidget(v)
    v.resize(900, 700)
    v.show()
    with qtbot.waitSignal(v.page_ready, timeout=30_000):
        pass
    yield v


def test_page_has_no_remote_script_or_stylesheet() -> None:
    html = build_map_html(
        tile_url="https://tiles.example.org/{z}/{x}/{y}.png", tile_attribution="x"
    )
    srcs = re.findall(r"<script[^>]*\bsrc\s*=\s*[\"']([^\"']+)", html, re.I)
    hrefs = re.findall(r"<link[^>]*\bhref\s*=\s*[\"']([^\"']+)", html, re.I)
    assert {"leaflet.js", "qwebchannel.js", "rtcc_map.js"} <= set(srcs)
    assert "leaflet.css" in hrefs
    assert not [u for u in srcs + hrefs if re.match(r"(https?:)?//", u)]
    # The tile template is the one remote reference of the page.
    remote = set(re.findall(r"https?://[^\s\"'<>\\]+", html))
    assert remote == {"https://tiles.example.org/{z}/{x}/{y}.png"}


def test_js_arguments_are_data_never_code() -> None:
    nasty = "</script><script>alert(1)</script>\u2028'\""
    script = js_call("rtcc.selectCall", nasty, True)
    assert "<" not in script and "\u2028" not in script
    assert script.startswith("rtcc.selectCall(") and script.endswith(");")
    assert js_value({"a": [1, None]}) == '{"a":[1,null]}'
    with pytest.raises(ValueError):
        js_call("alert(1);rtcc.x")


def test_offline_page_loads_with_scale_legend_and_tile_notice(qtbot: Any, view: Any) -> None:
    s = wait_state(qtbot, view, lambda s: s["tileErrors"] > 0 and s["noticeShown"])
    assert s["ready"] is True
    dom = evaluate(qtbot, view, "rtcc.domSummary")
    assert dom["scale"] and dom["legend"] and "offline" in dom["notice"]


def test_cameras_and_calls_set_upsert_remove(qtbot: Any, view: Any) -> None:
    cams = [camera(i, 32.78 + i * 1e-3, -96.80) for i in range(5)]
    view.set_cameras(cams + [camera(99, 32.7, -96.8, revoked=True)])
    view.set_calls([call("c1", 32.78, -96.80), call("c2", 32.79, -96.81)])
    wait_state(qtbot, view, lambda s: s["cameras"] == 5 and s["calls"] == 2)

    view.upsert_camera(camera(5, 32.77, -96.79, tier=Tier.INTEGRATED, mode=SharingMode.LIVE_ALWAYS))
    view.upsert_camera(camera(0, 32.771, -96.791))  # an update, not a new one
    view.remove_camera("cam-1")
    view.upsert_camera(camera(2, 32.7, -96.8, revoked=True))  # revoked -> gone
    view.upsert_call(call("c3", 32.80, -96.82, priority=2))
    view.upsert_call(call("c1", 32.781, -96.801, status=CallStatus.CLOSED))
    s = wait_state(qtbot, view, lambda s: s["calls"] == 3 and s["cameras"] == 4)
    assert s["callIds"] == ["c1", "c2", "c3"]


def test_selection_draws_rings_and_ranked(qtbot: Any, view: Any) -> None:
    view.set_cameras([camera(i, 32.78 + i * 5e-4, -96.80, heading=90.0) for i in range(4)])
    view.set_calls([call("c1", 32.78, -96.80), call("c2", 32.70, -96.70)])
    view.select_call("c1", center=True)
    view.show_ranked(["cam-0", "cam-2"])
    view.select_camera("cam-2")
    s = wait_state(
        qtbot, view, lambda s: s["selected"] == "c1" and s["ranked"] == ["cam-0", "cam-2"]
    )
    assert sorted(s["rings"]) == [100, 250, 500]
    assert s["selectedCamera"] == "cam-2"
    assert s["zoom"] >= 15 and s["cones"] == 4  # zoomed in on the call: heading cones shown
    assert abs(s["center"][0] - 32.78) < 0.01

    view.select_call("c2", center=False)
    s = wait_state(qtbot, view, lambda s: s["selected"] == "c2")
    assert s["zoom"] >= 15  # not re-centred
    view.select_call(None)
    s = wait_state(qtbot, view, lambda s: s["selected"] is None)
    assert s["rings"] == []


def test_clicks_reach_python(qtbot: Any, view: Any) -> None:
    view.set_cameras([camera(1, 32.78, -96.80)])
    view.set_calls([call("c1", 32.781, -96.801)])
    wait_state(qtbot, view, lambda s: s["calls"] == 1 and s["cameras"] == 1)
    with qtbot.waitSignal(view.call_clicked, timeout=5000) as sig:
        view.page().runJavaScript("rtcc.calls['c1'].layer.fire('click', {}, true);")
    assert sig.args == ["c1"]
    with qtbot.waitSignal(view.camera_clicked, timeout=5000) as sig:
        view.page().runJavaScript("rtcc.bridge.cameraClicked('cam-1');")
    assert sig.args == ["cam-1"]


def test_camera_tooltip_names_owner_kind_tier_mode_and_distance(qtbot: Any, view: Any) -> None:
    view.set_cameras(
        [
            camera(
                1,
                32.78,
                -96.80,
                tier=Tier.INTEGRATED,
                mode=SharingMode.LIVE_IN_EMERGENCY,
                kind=CameraKind.SCHOOL,
            ),
            camera(2, 32.79, -96.80, kind=CameraKind.BUSINESS),
        ]
    )
    view.set_calls([call("c1", 32.781, -96.80)])
    wait_state(qtbot, view, lambda s: s["cameras"] == 2)
    tip = evaluate(qtbot, view, "rtcc.cameraTip", "cam-1")
    assert (
        "school" in tip
        and "integrated" in tip
        and "live in emergency" in tip
        and "from the selected" not in tip
    )
    view.select_call("c1")
    wait_state(qtbot, view, lambda s: s["selected"] == "c1")
    tip = evaluate(qtbot, view, "rtcc.cameraTip", "cam-2")
    assert "business" in tip and "registered" in tip and "request only" in tip
    assert "1001 m from the selected call" in tip  # 0.009 deg of latitude
    assert evaluate(qtbot, view, "rtcc.cameraTip", "nope") is None
