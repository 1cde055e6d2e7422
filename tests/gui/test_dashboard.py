"""The supervisor dashboard: figures after a few events, the initial load from a real
server, the wall's health, PNG export."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from rtcc_console.core.models import (
    CallStatus,
    Camera,
    CameraKind,
    DispatchCall,
    Emergency,
    GeoPoint,
    SharingMode,
    Tier,
)
from rtcc_console.ui.dashboard import Dashboard


@pytest.fixture(autouse=True)
def _collect_on_the_gui_thread() -> Iterator[None]:
    """Closed windows and charts sit in reference cycles; collected by whichever thread
    next allocates (a server thread), their Qt objects would be destroyed off the GUI
    thread. Collect here, before and after each test, on the GUI thread."""
    gc.collect()
    yield
    gc.collect()


NOW = datetime(2026, 11, 29, 18, 30, tzinfo=UTC)


class FakeLive(QObject):
    """The signals of ``LiveData`` the dashboard listens to (unit test of the widget)."""

    calls_loaded = Signal(object, object)
    call_received = Signal(object, int)
    registry_loaded = Signal(int)
    camera_changed = Signal(object, str, str)
    request_event = Signal(str, object)
    emergencies_changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.emergencies: dict[str, Emergency] = {}
        self.index: Any = None


def _call(cid: str, category: str, at: datetime) -> DispatchCall:
    return DispatchCall(
        id=cid,
        incident_id=cid,
        type_code="X",
        type_text="x",
        priority=2,
        status=CallStatus.PENDING,
        reported_at=at,
        updated_at=at,
        category=category,
    )


def _cam(cid: str, tier: Tier) -> Camera:
    return Camera(
        id=cid,
        name=cid,
        tier=tier,
        location=GeoPoint(32.78, -96.8),
        kind=CameraKind.RESIDENTIAL,
        sharing_mode=SharingMode.REQUEST_ONLY
        if tier is Tier.REGISTERED
        else SharingMode.LIVE_ALWAYS,
    )


def test_charts_follow_events(qtbot: Any, tmp_path: Path) -> None:
    dash = Dashboard(now=lambda: NOW)
    qtbot.addWidget(dash, before_close_func=lambda w: w.shutdown())
    live = FakeLive()
    dash.attach(live)
    with qtbot.waitSignal(dash.redrawn, check_params_cb=lambda k: k == "calls"):
        live.call_received.emit(_call("c1", "violent", NOW - timedelta(minutes=5)), 1)
    live.call_received.emit(_call("c2", "property", NOW - timedelta(minutes=70)), 1)
    live.call_received.emit(
        _call("c2", "property", NOW - timedelta(minutes=70)), 2
    )  # an update: no new count
    live.call_received.emit(_call("c3", "violent", NOW - timedelta(minutes=10)), 1)
    hours, per_cat = dash.stats.calls_per_hour(hours=24, now=NOW)
    assert (
        per_cat["violent"][-1] == 2
        and per_cat["property"][-2] == 1
        and sum(per_cat["property"]) == 1
    )
    assert dash.charts["calls"].note.text() == "3 in the last 24 h"

    live.camera_changed.emit(_cam("a", Tier.INTEGRATED), "a", "created")
    live.camera_changed.emit(_cam("b", Tier.REGISTERED), "b", "created")
    live.camera_changed.emit(None, "a", "deleted")
    assert dash.stats.counts() == (1, 0)
    assert [c[1:] for c in dash.stats.camera_counts] == [(1, 1), (2, 1), (1, 0)]

    sent = NOW - timedelta(hours=3)
    req = {"id": "fr-1", "created_at": sent.isoformat()}
    item = {"id": "it-1", "sent_at": sent.isoformat(), "answered_at": None, "files": 0}
    live.request_event.emit("request.created", {"request": req, "items": [item]})
    assert dash.stats.request_figures() == (1, 0, None)
    up = {**item, "answered_at": (sent + timedelta(minutes=42)).isoformat(), "files": 2}
    with qtbot.waitSignal(dash.redrawn, check_params_cb=lambda k: k == "requests"):
        live.request_event.emit("request.updated", {"request": req, "item": up})
    assert dash.stats.request_figures() == (1, 1, 42 * 60.0)
    assert dash.charts["requests"].note.text() == "median to first upload: 42 min"

    live.emergencies = {
        "em-1": Emergency(
            id="em-1",
            owner_id=None,
            camera_ids=frozenset({"b"}),
            started_at=NOW - timedelta(minutes=2),
        )
    }
    live.emergencies_changed.emit()
    assert dash.stats.emergencies_per_day(days=14, now=NOW)[1][-1] == 1
    assert dash.charts["emergencies"].note.text() == "active now: 1"

    path = tmp_path / "calls.png"
    assert dash.charts["calls"].save_png(path)
    image = QImage(str(path))
    assert not image.isNull() and image.width() > 100


class _Badge:
    def __init__(self, kind: str) -> None:
        self.kind = kind


class _Tile:
    def __init__(self, kind: str) -> None:
        self.badge = _Badge(kind)


class FakeWall(QObject):
    tile_opened = Signal(int, str)

    def __init__(self, kinds: list[str]) -> None:
        super().__init__()
        self.kinds = kinds

    def tiles(self) -> list[_Tile]:
        return [_Tile(k) for k in self.kinds]


def test_wall_health_and_live_views(qtbot: Any) -> None:
    dash = Dashboard(now=lambda: NOW)
    qtbot.addWidget(dash, before_close_func=lambda w: w.shutdown())
    wall = FakeWall(["LIVE", "LIVE", "STALE", "FAILED", "EMPTY"])
    dash.attach(FakeLive(), wall)
    dash.sample_wall()
    wall.kinds = ["LIVE", "REVOKED", "EMPTY"]
    dash.sample_wall()
    assert [s[1:] for s in dash.stats.wall] == [(2, 1, 1), (1, 0, 1)]
    assert dash.charts["wall"].note.text() == "now: 1 live, 0 stale, 1 failed"
    wall.tile_opened.emit(0, "cam-1")
    wall.tile_opened.emit(1, "cam-2")
    assert dash.stats.live_views_per_day(days=14, now=NOW)[1][-1] == 2


def test_initial_load_from_the_server(qtbot: Any, console_server: Any) -> None:
    from rtcc_console.client.api import ApiClient
    from tests.gui.conftest import PASSWORD

    console_server.post_call(category="violent")
    console_server.post_call(incident_id="DPD-T-DASH-2")
    api = ApiClient(console_server.base)
    api.login("adam", PASSWORD)
    cam = requests_get(console_server, "/cameras?limit=500")["items"]
    integrated = next(
        c for c in cam if c["tier"] == "integrated" and c.get("sharing_mode") == "live_always"
    )
    console_server.admin_post(
        f"/cameras/{integrated['id']}/live-grants", {"reason": "case 26-000123"}
    )
    dash = Dashboard(api)
    qtbot.addWidget(dash, before_close_func=lambda w: w.shutdown())
    with qtbot.waitSignal(dash.loaded, timeout=20_000):
        dash.load()
    assert len(dash.stats.calls) == 2
    assert sum(dash.stats.live_views_per_day(days=14, now=datetime.now(UTC))[1]) == 1


def requests_get(server: Any, path: str) -> dict[str, Any]:
    import requests

    r = requests.get(
        f"{server.base}/api/v1{path}",
        headers={"Authorization": f"Bearer {server.admin}"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_docked_for_admins_hidden_for_analysts(
    qtbot: Any, console_server: Any, make_console: Any
) -> None:
    window, _api = make_console(console_server.base, username="adam")
    dock = window.docks["dashboard"]
    assert dock.toggleViewAction().isVisible()
    qtbot.waitUntil(
        lambda: len(window.dashboard.stats.cameras) == 280, timeout=20_000
    )  # the registry, from the cache
    assert window.dashboard.stats.counts() == (280, 80)
    other, _ = make_console(console_server.base, username="ana")
    assert not other.docks["dashboard"].toggleViewAction().isVisible()
    assert not other.docks["dashboard"].isVisible()


def test_review_docked_for_admins_follows_the_selected_call(
    qtbot: Any, console_server: Any, make_console: Any
) -> None:
    call = console_server.post_call(incident_id="DPD-T-REVIEW-9")
    window, _api = make_console(console_server.base, username="adam")
    dock = window.docks["review"]
    assert dock.toggleViewAction().isVisible()
    qtbot.waitUntil(
        lambda: window.call_queue.model.call(str(call["id"])) is not None, timeout=20_000
    )
    window.call_queue.select_call(str(call["id"]))
    dock.show()
    dock.raise_()
    with qtbot.waitSignal(window.review.loaded, timeout=30_000):
        qtbot.waitUntil(lambda: window.review.call_box.text() == str(call["id"]), timeout=10_000)
    assert [e.lane for e in window.review.entries][:1] == ["CAD"]
    other, _ = make_console(console_server.base, username="ana")
    assert not other.docks["review"].toggleViewAction().isVisible()


def test_an_agency_may_show_it_to_analysts(qtbot: Any, console_server: Any, tmp_path: Path) -> None:
    """``dashboard_roles`` with 'analyst': docked and loaded for ana, with her own requests
    and no audit figures (the server refuses those reads to analysts)."""
    from rtcc_console.client.api import ApiClient
    from rtcc_console.config import ConsoleSettings
    from rtcc_console.ui.app import build_console
    from tests.gui.conftest import PASSWORD

    console_server.post_call(category="violent")
    settings = ConsoleSettings(
        server_url=console_server.base,
        cache_dir=tmp_path / "cache",
        time_zone="UTC",
        dashboard_roles=["analyst", "supervisor", "admin"],
    )
    api = ApiClient(console_server.base)
    user = api.login("ana", PASSWORD)
    window = build_console(settings, api, user=user, settings_file=tmp_path / "console.ini")
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.dashboard.loaded, timeout=20_000):
        window.show()
    assert window.docks["dashboard"].toggleViewAction().isVisible()
    assert len(window.dashboard.stats.calls) == 1 and window.dashboard.stats.live_views == {}
    window.close()
