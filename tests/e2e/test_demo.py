"""The demo end to end: simulator, registry, server, CAD feed and the real console offscreen.

Asserts what an analyst would see: calls arrive in the queue (and keep arriving), the map
shows them and the selected call with its rings, cameras are on the wall, and the
screenshots are real pictures (not a blank grab of the web view).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.gui, pytest.mark.slow]


@pytest.fixture
def demo(qtbot: Any, tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    from rtcc_console.demo import _close, open_console
    from rtcc_console.demo_env import DemoEnvironment

    with DemoEnvironment(streams=4, initial_calls=4, call_interval_s=(1.0, 2.0)) as env:
        window = open_console(env, size=(1600, 1000), settings_dir=tmp_path)
        try:
            yield env, window
        finally:
            _close(window)


def test_demo_shows_calls_map_wall_and_screenshots(
    qtbot: Any, demo: tuple[Any, Any], tmp_path: Path
) -> None:
    from rtcc_console.demo_driver import DemoDriver
    from tests.gui.map_support import wait_state

    env, window = demo
    driver = DemoDriver(
        window, tmp_path / "shots", video_wait_s=4.0, min_calls=env.initial_calls + 1
    )
    with qtbot.waitSignal(driver.screenshots_written, timeout=60_000) as shots:
        driver.start()
    model = window.call_queue.model
    assert model.rowCount() >= env.initial_calls + 1
    assert driver.call_id is not None and driver.opened >= 1

    state = wait_state(qtbot, window.map_view, lambda s: s["calls"] >= env.initial_calls + 1)
    assert state["selected"] == driver.call_id
    assert sorted(state["rings"]) == [100, 250, 500]
    assert state["cameras"] == len(window.live.index.camera_ids()) > 2000
    assert set(state["ranked"]) == {o.camera.id for o in window.selection.options} != set()

    # The feed keeps posting: a later call reaches the queue and the map.
    before = model.rowCount()
    qtbot.waitUntil(lambda: model.rowCount() > before, timeout=20_000)
    wait_state(qtbot, window.map_view, lambda s: s["calls"] == model.rowCount() > before)

    written = dict(shots.args[0])
    for name in ("console-main.png", "console-map.png", "console-wall.png"):
        path = tmp_path / "shots" / name
        assert path.is_file() and path.stat().st_size > 10_000
        assert written[str(path)] > 8.0, f"{name} looks blank"

    # The rest of the story: a footage request for the call, answered by the simulated
    # owners, and the first owner's clip playing in the Evidence dock; the console's user is
    # a supervisor, so the dashboard is offered.
    qtbot.waitUntil(lambda: driver.complete, timeout=90_000)
    assert driver.request_id is not None
    assert window.footage.panel.row_of(driver.request_id) is not None
    assert driver.answered() >= 1 and driver.request_owners >= driver.answered()
    assert driver.playing_evidence_id is not None
    assert driver.playing_evidence_id == driver.evidence_ids[0]
    player = window.evidence.tab.player
    assert player.item is not None and player.item.id == driver.playing_evidence_id
    seen: list[int] = []  # it plays on a loop: past its last frame it starts over
    player.frame_shown.connect(seen.append)
    last = player.player.info.frame_count - 1
    qtbot.waitUntil(lambda: last in seen and seen[-1] < last, timeout=30_000)
    assert window.api.user.role == "supervisor"
    assert window.docks["dashboard"].toggleViewAction().isVisible()
