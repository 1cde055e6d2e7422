"""Drawing the footage-request area on the real map page (QtWebEngine, offscreen).

The vendored Leaflet-Geoman tools draw a polygon, a corridor and a circle; the area
reported to Python (``MapView.area_changed``) is checked against an independent planar
computation in Python, and editing handles move vertices.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import pytest

from rtcc_console.core.geo import LocalProjection
from rtcc_console.core.models import GeoPoint
from rtcc_console.ui.map_page import build_map_html
from tests.gui.map_support import DEAD_TILES, camera, evaluate

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


def planar_area(points: list[tuple[float, float]]) -> float:
    """Shoelace area in a local projection (independent of the page's spherical formula)."""
    proj = LocalProjection(GeoPoint(*points[0]))
    xy = [proj.to_xy(GeoPoint(lat, lon)) for lat, lon in points]
    return (
        abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(xy, xy[1:] + xy[:1], strict=True)))
        / 2
    )


def draw_state(qtbot: Any, view: Any) -> dict[str, Any]:
    result = evaluate(qtbot, view, "rtcc.draw.state")
    assert isinstance(result, dict)
    return result


def test_drawing_assets_are_local() -> None:
    html = build_map_html(
        tile_url="https://tiles.example.org/{z}/{x}/{y}.png", tile_attribution="x"
    )
    srcs = re.findall(r"<script[^>]*\bsrc\s*=\s*[\"']([^\"']+)", html, re.I)
    hrefs = re.findall(r"<link[^>]*\bhref\s*=\s*[\"']([^\"']+)", html, re.I)
    assert {"leaflet-geoman.min.js", "rtcc_draw.js"} <= set(srcs)
    assert {"leaflet-geoman.css", "rtcc_draw.css"} <= set(hrefs)
    assert srcs.index("leaflet-geoman.min.js") > srcs.index("leaflet.js")


def test_polygon_drawn_by_clicks_reports_its_area_and_can_be_edited(qtbot: Any, view: Any) -> None:
    assert draw_state(qtbot, view)["toolsLoaded"]
    view.start_drawing("polygon")
    qtbot.waitUntil(lambda: draw_state(qtbot, view)["pending"] == "polygon", timeout=5000)
    corners = [(32.780, -96.800), (32.786, -96.800), (32.786, -96.792), (32.781, -96.791)]
    for lat, lon in corners:
        assert evaluate(qtbot, view, "rtcc.draw.clickAt", lat, lon)
    with qtbot.waitSignal(view.area_changed, timeout=5000) as sig:
        evaluate(qtbot, view, "rtcc.draw.finish")
    report = sig.args[0]
    area = report["area"]
    assert area["kind"] == "polygon"
    assert [c for p in area["points"] for c in (p["lat"], p["lon"])] == pytest.approx(
        [c for p in corners for c in p]
    )
    expected = planar_area(corners)
    assert report["area_m2"] == pytest.approx(expected, rel=0.005)
    s = draw_state(qtbot, view)
    assert s["editing"] and evaluate(qtbot, view, "rtcc.draw.handles") == 4
    sq_mi = expected / 2_589_988.11
    shown_m2 = int(re.search(r"([\d,]+) m²", s["label"]).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert shown_m2 == pytest.approx(expected, rel=0.005)
    assert f"{sq_mi:.3f} sq mi" in s["label"]

    # Drag the third handle outwards: the polygon and its reported area follow.
    moved = corners[:2] + [(32.790, -96.788)] + corners[3:]
    with qtbot.waitSignal(
        view.area_changed,
        timeout=5000,
        check_params_cb=lambda r: (
            r["area"]
            and len(r["area"]["points"]) == 4
            and abs(r["area"]["points"][2]["lat"] - 32.790) < 1e-9
        ),
    ) as sig:
        assert evaluate(qtbot, view, "rtcc.draw.dragVertex", 2, 32.790, -96.788)
    assert sig.args[0]["area_m2"] == pytest.approx(planar_area(moved), rel=0.005)
    assert sig.args[0]["area_m2"] > expected


def test_circle_around_the_call_with_a_chosen_radius(qtbot: Any, view: Any) -> None:
    with qtbot.waitSignal(view.area_changed, timeout=5000) as sig:
        view.start_drawing("circle", center=(32.78, -96.80), radius_m=200)
    area = sig.args[0]["area"]
    assert area == {"kind": "circle", "center": {"lat": 32.78, "lon": -96.80}, "radius_m": 200}
    assert sig.args[0]["area_m2"] == pytest.approx(math.pi * 200**2)
    with qtbot.waitSignal(view.area_changed, timeout=5000) as sig:
        view.set_draw_radius(350)
    assert sig.args[0]["area"]["radius_m"] == 350
    s = draw_state(qtbot, view)
    assert s["editing"] and evaluate(qtbot, view, "rtcc.draw.handles") == 2  # centre + radius
    assert "384,845 m²" in s["label"] and "0.149 sq mi" in s["label"]


def test_corridor_along_a_path_with_a_width(qtbot: Any, view: Any) -> None:
    view.page().runJavaScript("rtcc.map.setView([32.78, -96.795], 15, {animate: false});")
    view.start_drawing("corridor", width_m=60)
    qtbot.waitUntil(lambda: draw_state(qtbot, view)["pending"] == "corridor", timeout=5000)
    path = [(32.780, -96.800), (32.780, -96.790)]  # ~936 m due east
    for lat, lon in path:
        evaluate(qtbot, view, "rtcc.draw.clickAt", lat, lon)
    with qtbot.waitSignal(view.area_changed, timeout=5000) as sig:
        evaluate(qtbot, view, "rtcc.draw.finish")
    area = sig.args[0]["area"]
    assert area["kind"] == "corridor" and area["width_m"] == 60 and len(area["points"]) == 2
    proj = LocalProjection(GeoPoint(*path[0]))
    length = math.dist(proj.to_xy(GeoPoint(*path[0])), proj.to_xy(GeoPoint(*path[1])))
    assert sig.args[0]["area_m2"] == pytest.approx(length * 60 + math.pi * 30**2, rel=0.005)
    band = draw_state(qtbot, view)["bandWeight"]
    with qtbot.waitSignal(view.area_changed, timeout=5000) as sig:
        view.set_draw_width(120)
    assert sig.args[0]["area"]["width_m"] == 120
    assert sig.args[0]["area_m2"] == pytest.approx(length * 120 + math.pi * 60**2, rel=0.005)
    assert draw_state(qtbot, view)["bandWeight"] == pytest.approx(
        band * 2, rel=0.01
    )  # the band is the width


def test_clear_and_show_a_sent_request_with_its_cameras(qtbot: Any, view: Any) -> None:
    view.set_cameras(
        [camera(1, 32.7801, -96.8001), camera(2, 32.7805, -96.7995), camera(3, 32.80, -96.70)]
    )
    with qtbot.waitSignal(view.area_changed, timeout=5000):
        view.set_request_area(
            {
                "kind": "polygon",
                "points": [
                    {"lat": 32.779, "lon": -96.801},
                    {"lat": 32.782, "lon": -96.801},
                    {"lat": 32.782, "lon": -96.798},
                ],
            }
        )
    with qtbot.waitSignal(
        view.area_changed, timeout=5000, check_params_cb=lambda r: r["area"] is None
    ) as sig:
        view.clear_request_area()
    assert sig.args[0]["area_m2"] is None
    assert draw_state(qtbot, view)["label"] == ""
    view.show_request(
        {"kind": "circle", "center": {"lat": 32.7801, "lon": -96.8001}, "radius_m": 120},
        ["cam-1", "cam-2", "cam-unknown"],
    )
    qtbot.waitUntil(
        lambda: (draw_state(qtbot, view)["shown"] or {}).get("cameras") == 2, timeout=5000
    )


def _mouse(view: Any, kind: Any, x: float, y: float) -> None:
    """A real mouse event to the page's render widget (what a user's hand produces)."""
    from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    target = view.focusProxy()
    local = QPointF(x, y)
    global_pos = QPointF(target.mapToGlobal(QPoint(int(x), int(y))))
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
    held = (
        Qt.MouseButton.LeftButton
        if kind == QEvent.Type.MouseButtonPress
        else Qt.MouseButton.NoButton
    )
    QApplication.sendEvent(
        target,
        QMouseEvent(kind, local, local, global_pos, button, held, Qt.KeyboardModifier.NoModifier),
    )


def test_polygon_drawn_with_the_mouse(qtbot: Any, view: Any) -> None:
    from PySide6.QtCore import QEvent

    view.start_drawing("polygon")
    qtbot.waitUntil(lambda: draw_state(qtbot, view)["pending"] == "polygon", timeout=5000)
    corners = [(32.776, -96.800), (32.786, -96.800), (32.786, -96.785)]
    pixels = [evaluate(qtbot, view, "rtcc.draw.pixelOf", lat, lon) for lat, lon in corners]
    with qtbot.waitSignal(view.area_changed, timeout=10_000) as sig:
        for x, y in pixels + pixels[:1]:  # a click on the first vertex closes the polygon
            _mouse(view, QEvent.Type.MouseMove, x, y)
            _mouse(view, QEvent.Type.MouseButtonPress, x, y)
            _mouse(view, QEvent.Type.MouseButtonRelease, x, y)
    area = sig.args[0]["area"]
    assert area["kind"] == "polygon" and len(area["points"]) == 3
    got = [c for p in area["points"] for c in (p["lat"], p["lon"])]
    assert got == pytest.approx(
        [c for p in corners for c in p], abs=2e-4
    )  # a pixel at zoom 12 ≈ 30 m
    assert sig.args[0]["area_m2"] == pytest.approx(
        planar_area([(p["lat"], p["lon"]) for p in area["points"]]), rel=0.005
    )
