"""A map an analyst can work on: the view frames the call and all its ranked cameras, rank
labels never overlap, hovering names the camera and its rank, nothing sits under the
offline notice, and the map's colours mean what the camera list's icons mean."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from rtcc_console.core.models import SharingMode, Tier
from rtcc_console.ui.camera_style import INTEGRATED, REGISTERED, marker_colour
from rtcc_console.ui.map_page import map_resources_dir
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


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    )


def test_rank_labels_of_close_cameras_never_overlap(qtbot: Any, view: Any) -> None:
    # Ten cameras within about 30 m of the call: their labels would sit on one another.
    cams = [
        camera(i, 32.7800 + 0.00005 * (i % 3), -96.8000 + 0.00005 * (i // 3)) for i in range(10)
    ]
    view.set_cameras(cams)
    view.set_calls([call("c1", 32.7801, -96.8001)])
    wait_state(qtbot, view, lambda s: s["cameras"] == 10)
    view.select_call("c1")
    view.show_ranked([c.id for c in cams])
    wait_state(qtbot, view, lambda s: len(s["ranked"]) == 10)
    layout = evaluate(qtbot, view, "rtcc.layoutSummary")
    labels = layout["labels"]
    assert sorted(b["rank"] for b in labels) == list(range(1, 11))
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            assert not _overlap(a, b), (a, b)


def test_view_frames_the_call_and_every_ranked_camera(qtbot: Any, view: Any) -> None:
    far = camera(1, 32.7890, -96.8000)  # ~1 km north: outside the 500 m ring
    near = camera(2, 32.7802, -96.8003)
    view.set_cameras([far, near])
    view.set_calls([call("c1", 32.7800, -96.8000)])
    wait_state(qtbot, view, lambda s: s["cameras"] == 2)
    view.select_call("c1", center=True)
    view.show_ranked([near.id, far.id])
    wait_state(qtbot, view, lambda s: len(s["ranked"]) == 2)
    visible = evaluate(
        qtbot,
        view,
        "rtcc.boundsContain",
        [[32.7890, -96.8000], [32.7800, -96.8000], [32.7802, -96.8003]],
    )
    assert visible == [True, True, True]


def test_hover_names_the_camera_and_its_rank(qtbot: Any, view: Any) -> None:
    cams = [camera(1, 32.78, -96.80), camera(2, 32.7805, -96.80)]
    view.set_cameras(cams)
    view.set_calls([call("c1", 32.7801, -96.8001)])
    wait_state(qtbot, view, lambda s: s["cameras"] == 2)
    view.select_call("c1")
    view.show_ranked([cams[1].id, cams[0].id])
    wait_state(qtbot, view, lambda s: len(s["ranked"]) == 2)
    tip = evaluate(qtbot, view, "rtcc.cameraTip", cams[0].id)
    assert (
        tip.startswith("<b>#2</b> <b>")
        and cams[0].name.replace("&", "&amp;") in tip
        and cams[0].id in tip
    )


def test_nothing_sits_under_the_offline_notice(qtbot: Any, view: Any) -> None:
    wait_state(qtbot, view, lambda s: s["noticeShown"], timeout=20_000)
    layout = evaluate(qtbot, view, "rtcc.layoutSummary")
    assert layout["notice"] is not None
    assert layout["mapTop"] >= layout["notice"]["bottom"] - 0.5


def test_map_and_list_colours_mean_the_same() -> None:
    js = (map_resources_dir() / "rtcc_map.js").read_text()
    style = re.search(r"function camStyle\(tier, mode\) \{(.*?)\n  \}", js, re.S)
    assert style is not None
    body = style.group(1)
    # mode codes of map_rows: 0 request only, 1 live always, 2 live in emergency
    assert f'tier === 0) return {{ color: "{REGISTERED}"' in body
    assert f'mode === 1 ? "{INTEGRATED[SharingMode.LIVE_ALWAYS]}"' in body
    assert f'mode === 2 ? "{INTEGRATED[SharingMode.LIVE_IN_EMERGENCY]}"' in body
    assert f': "{INTEGRATED[SharingMode.REQUEST_ONLY]}"' in body
    assert marker_colour(Tier.REGISTERED, SharingMode.LIVE_ALWAYS) == (REGISTERED, False)
