"""The demo's panel checks say "empty" when a panel shows nothing (or the wrong thing), so
`rtcc demo --screenshot DIR` and its e2e test fail honestly. Plain stand-ins for the
widgets; the real console is in tests/e2e/test_demo_panels.py."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace as NS
from typing import Any

from rtcc_console.core.dashboard_stats import DashboardStats
from rtcc_console.demo_panels import check_dashboard, check_map, check_requests, check_review

DRAWN = {"cameras": 2582, "calls": 8, "rings": [100, 250, 500], "vectorDraws": 3}


def test_map_needs_markers_and_a_basemap() -> None:
    assert check_map({}) == (False, "the map page has not answered")
    assert check_map(DRAWN)[0]
    assert not check_map({**DRAWN, "cameras": 0})[0]
    assert not check_map({**DRAWN, "calls": 0})[0]
    no_streets = {**DRAWN, "vectorDraws": 0, "noticeShown": True}  # the offline notice only
    ok, text = check_map(no_streets)
    assert not ok and "basemap missing" in text


def _requests_window(requests: dict[str, Any]) -> Any:
    return NS(requests_panel=NS(requests=requests))


def test_requests_need_a_request_and_name_its_answers() -> None:
    assert check_requests(_requests_window({})) == (False, "no footage request listed")
    items = [{"state": "uploaded"}, {"state": "sent"}, {"state": "sent"}]
    window = _requests_window({"freq-1": {"id": "freq-1", "items": items}})
    ok, text = check_requests(window)
    assert ok and "2 sent" in text and "1 uploaded" in text
    ok, text = check_requests(window, want="freq-2")  # the driver's request is not there
    assert not ok and "freq-2" in text


class _Tile:
    def __init__(self, age: float | None) -> None:
        self.age = age

    def frame_age_s(self) -> float | None:
        return self.age


def _dashboard_window(stats: DashboardStats, live_tiles: int) -> Any:
    return NS(dashboard=NS(stats=stats), wall=NS(tiles=[_Tile(0.1)] * live_tiles))


def test_dashboard_needs_calls_cameras_and_the_wall_when_it_shows_cameras() -> None:
    now = datetime.now(UTC)
    stats = DashboardStats()
    assert not check_dashboard(_dashboard_window(stats, 0))[0]
    stats.add_call("c1", now, "robbery")
    stats.load_cameras({"cam-1": True, "cam-2": False}, at=now)
    assert check_dashboard(_dashboard_window(stats, 0))[0]
    ok, text = check_dashboard(_dashboard_window(stats, 4))  # four live tiles, none on the charts
    assert not ok and "0 live views today" in text and "4 tiles live" in text
    stats.add_live_view("wall-0", now)
    stats.add_wall_sample(now, 4, 0, 0)
    assert check_dashboard(_dashboard_window(stats, 4))[0]


def test_review_is_empty_while_gathering_or_without_entries() -> None:
    def window(status: str, lanes: list[str]) -> Any:
        entries = [NS(lane=lane) for lane in lanes]
        return NS(review=NS(status=NS(text=lambda: status), entries=entries))

    assert not check_review(window("Gathering the incident…", ["CAD"]))[0]
    assert not check_review(window("0 entries", []))[0]
    ok, text = check_review(window("3 entries", ["CAD", "Evidence", "CAD"]))
    assert ok and "lanes CAD, Evidence" in text
