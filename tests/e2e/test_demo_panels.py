"""The whole demo, panel by panel: every panel shows content within 60 s of the start.

Runs the demo as ``make demo`` does (simulator, Connect Dallas registry, server, CAD feed,
the demo school, the real console offscreen, the demo script), then ``demo_shots`` brings
each panel to the front and photographs it. Each panel's content is asserted from the
widgets themselves (rows, markers the map page reports, video in the tiles, a request and
its answers, an evidence item in the player, chart series, audit rows, the portal's
cameras), not only that a window appeared; a panel that is empty fails the test by name.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.gui, pytest.mark.slow]
WITHIN_S = 60.0  # the issue: every panel populated within 60 s of `make demo`
SHOOT_BY_S = 45.0  # stop waiting for the story then; the panels are shot before 60 s


@pytest.fixture
def demo(qtbot: Any, tmp_path: Path) -> Iterator[tuple[Any, Any, float]]:
    from rtcc_console.demo import _close, open_console
    from rtcc_console.demo_env import DemoEnvironment

    t0 = time.monotonic()
    with DemoEnvironment(streams=8) as env:
        window = open_console(env, size=(1920, 1200), settings_dir=tmp_path)
        try:
            yield env, window, t0
        finally:
            _close(window)


@pytest.mark.qt_log_ignore("GPUInfo not initialized")
def test_every_panel_shows_content_within_60_s(
    qtbot: Any, demo: tuple[Any, Any, float], tmp_path: Path
) -> None:
    from rtcc_console.demo_driver import DemoDriver, image_spread
    from rtcc_console.demo_panels import PANELS
    from rtcc_console.demo_portal import DEMO_SCHOOL_EMAIL
    from rtcc_console.demo_shots import PORTAL_FILE, DemoShots, PortalLogin
    from tests.gui.map_support import wait_state

    env, window, t0 = demo
    out = tmp_path / "shots"
    driver = DemoDriver(window, None, min_calls=env.initial_calls + 1)
    shots = DemoShots(
        window,
        out,
        driver=driver,
        portal=PortalLogin(env.school.portal_url, DEMO_SCHOOL_EMAIL, env.school.password),
        story_timeout_s=max(5.0, SHOOT_BY_S - (time.monotonic() - t0)),
        t0=t0,
    )
    driver.start()
    with qtbot.waitSignal(shots.finished, timeout=150_000) as done:
        shots.start()
    report: dict[str, dict[str, Any]] = done.args[0]

    # every panel was looked at, and each one that is empty or late is named
    assert list(report) == [p.key for p in PANELS] + ["portal"]
    empty = {k: r["detail"] for k, r in report.items() if not r["populated"]}
    late = {
        k: r["populated_at_s"]
        for k, r in report.items()
        if r["populated"] and (r["populated_at_s"] is None or r["populated_at_s"] > WITHIN_S)
    }
    assert not empty, f"empty panels (story: {shots.story}): {empty}"
    assert not late, f"panels populated after {WITHIN_S:.0f} s: {late}"

    # the pictures are on disk and are not blank
    for key, r in report.items():
        path = Path(r["file"])
        assert path.parent == out and path.stat().st_size > 5_000, key
        assert r["spread"] > 8.0, f"{key}: blank picture"
    assert (out / PORTAL_FILE).is_file() and (out / "panels.json").is_file()

    # what each panel shows, read from the widgets themselves
    assert window.call_queue.model.rowCount() > env.initial_calls
    assert window.camera_list.model.rowCount() > 0
    state = wait_state(  # calls keep coming: the page catches up with the queue
        qtbot, window.map_view, lambda s: s["calls"] >= window.call_queue.model.rowCount()
    )
    assert state["cameras"] == len(window.live.index.camera_ids()) > 2000
    assert state["vectorDraws"] > 0 and sorted(state["rings"]) == [100, 250, 500]
    live_tiles = [t for t in window.wall.tiles if t.frame_age_s() is not None]
    assert live_tiles and all(image_spread(t.grab().toImage()) > 8.0 for t in live_tiles)

    requests = window.requests_panel.requests
    assert requests, "no footage request in the Requests panel"
    states = [
        i.get("state")
        for r in requests.values()
        for i in r.get("items") or []
        if isinstance(i, dict)
    ]
    assert "uploaded" in states, f"no owner answered with a clip: {states}"
    assert driver.request_id in requests, "the demo driver names no request, or another one"

    tab = window.evidence_panel
    assert tab.model.rowCount() > 0, "no evidence item"
    player = tab.player
    assert player.player is not None and player.shown_index >= 0, "nothing in the player"
    assert player.item is not None and player.item.id == driver.playing_evidence_id
    assert image_spread(player.view.grab().toImage()) > 8.0

    lanes = {e.lane for e in window.review.entries}  # the story's call, request and clip
    assert {"CAD", "Footage requests", "Evidence"} <= lanes, f"incident review lanes: {lanes}"
    assert window.audit_viewer.model.rows, "the audit viewer has no rows"
    reg, integ = window.dashboard.stats.counts()
    assert window.dashboard.stats.calls and reg > 2000 and integ > 200
    assert window.emergency_alert.isVisible() and window.emergency_alert.items
    assert re.search(r": [1-9]\d* cameras listed", report["portal"]["detail"])
