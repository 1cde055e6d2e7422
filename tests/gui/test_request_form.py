"""The footage-request form against a real server and the real map page: the circle drawn
around the call, the preview (who is inside and accepts, who is excluded and why), quick
window picks, a case number required, Ctrl+Return, a limit refusal named in the form and a
supervisor's override."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from PySide6.QtCore import Qt

from tests.gui.conftest import PASSWORD, ConsoleServer
from tests.gui.map_support import DEAD_TILES
from tests.gui.requests_support import SPOT, seed_owner

pytestmark = pytest.mark.gui


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ConsoleServer]:
    srv = ConsoleServer(tmp_path, n_registered=20, n_integrated=5)
    srv.embedded.ensure_user("sue", "supervisor", PASSWORD)
    lat, lon = SPOT
    seed_owner(srv, "own-a", email_addr="a@owners.example", lat=lat + 0.0003, lon=lon)
    seed_owner(
        srv,
        "own-b",
        kind="business",
        email_addr="b@owners.example",
        lat=lat,
        lon=lon + 0.0004,
        cameras=2,
    )
    seed_owner(srv, "own-c", email_addr="c@owners.example", lat=lat - 0.0003, lon=lon - 0.0003)
    seed_owner(
        srv, "own-out", email_addr="out@owners.example", lat=lat, lon=lon - 0.0005, accepts=False
    )
    seed_owner(srv, "own-nomail", email_addr=None, lat=lat + 0.0005, lon=lon + 0.0002)
    yield srv
    srv.stop()


@pytest.fixture
def map_view(qtbot: Any) -> Any:
    from rtcc_console.ui.map_view import MapView

    v = MapView(tile_url=DEAD_TILES, tile_attribution="test tiles")
    qtbot.addWidget(v)
    v.resize(800, 600)
    v.show()
    with qtbot.waitSignal(v.page_ready, timeout=30_000):
        pass
    return v


def make_form(qtbot: Any, server: ConsoleServer, map_view: Any, user: str = "ana") -> Any:
    from rtcc_console.client.api import ApiClient
    from rtcc_console.client.requests_api import FootageRequestsApi
    from rtcc_console.ui.requests import RequestForm

    api = ApiClient(server.base)
    who = api.login(user, PASSWORD)
    form = RequestForm(
        FootageRequestsApi(api), area_map=map_view, role=who.role, zone=ZoneInfo("UTC")
    )
    qtbot.addWidget(form)
    return form


def seed(reported_at: datetime) -> Any:
    from rtcc_console.ui.requests import RequestSeed

    return RequestSeed(
        call_id=None,
        call_label="DPD-1 · Theft from auto",
        center=SPOT,
        reported_at=reported_at,
        offence_category="vehicle_crime",
    )


def test_preview_counts_owners_inside_and_excluded(
    qtbot: Any, server: ConsoleServer, map_view: Any
) -> None:
    form = make_form(qtbot, server, map_view)
    reported = datetime.now(UTC) - timedelta(hours=3)
    with qtbot.waitSignal(
        form.preview_shown, timeout=15_000, check_params_cb=lambda p: p is not None
    ) as sig:
        form.start(seed(reported), now=reported + timedelta(hours=3))
    preview = sig.args[0]
    assert preview["owners_included"] == 3
    assert preview["excluded"]["opted_out"] == 1 and preview["excluded"]["no_contact"] == 1
    assert preview["cameras_inside"] >= 6
    text = form.preview_label.text()
    assert (
        "<b>3</b> owners will be asked" in text and "1 opted out" in text and "1 no contact" in text
    )
    assert form.area is not None and form.area["kind"] == "circle" and form.area["radius_m"] == 150
    assert "sq mi" in form.area_label.text()
    # quick pick "2 h before": the window ends at the reported time
    form.quick_buttons[2].click()
    start, end = form.time_window()
    assert end == reported.replace(second=0, microsecond=0)
    assert end - start == timedelta(hours=2)

    # A smaller circle leaves owners out: the preview follows the radius.
    with qtbot.waitSignal(
        form.preview_shown,
        timeout=15_000,
        check_params_cb=lambda p: p is not None and p["owners_included"] < 3,
    ):
        form.radius_spin.setValue(20)

    # Close: the area leaves the map with the form.
    with qtbot.waitSignal(
        map_view.area_changed, timeout=10_000, check_params_cb=lambda r: r["area"] is None
    ):
        form.cancel_button.click()
    assert not form.isVisible()


def test_case_number_required_then_sent_with_ctrl_return(
    qtbot: Any, server: ConsoleServer, map_view: Any
) -> None:
    form = make_form(qtbot, server, map_view)
    form.start(seed(datetime.now(UTC) - timedelta(hours=1)))
    qtbot.waitUntil(lambda: form.area is not None, timeout=10_000)
    form.case_edit.clear()
    qtbot.keyClick(form.message_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert (
        form.error_label.isVisibleTo(form) and "case number is required" in form.error_label.text()
    )
    headers = {"Authorization": f"Bearer {server.admin}"}
    listed = requests.get(
        f"{server.base}/api/v1/footage-requests?scope=all", headers=headers, timeout=10
    ).json()
    assert listed["total"] == 0  # nothing was sent

    form.case_edit.setText("26-000111")
    with qtbot.waitSignal(form.request_sent, timeout=15_000) as sig:
        qtbot.keyClick(form.message_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    request = sig.args[0]
    assert request["case_number"] == "26-000111" and request["offence_category"] == "vehicle_crime"
    assert sorted(i["owner_ref"] for i in request["items"]) == ["own-a", "own-b", "own-c"]
    assert not form.isVisible()


def test_a_limit_is_named_and_a_supervisor_may_override(
    qtbot: Any, server: ConsoleServer, map_view: Any
) -> None:
    now = datetime.now(UTC)
    analyst = make_form(qtbot, server, map_view)
    analyst.start(seed(now - timedelta(hours=1)))
    qtbot.waitUntil(lambda: analyst.area is not None, timeout=10_000)
    analyst.case_edit.setText("26-000222")
    analyst.set_window(now - timedelta(hours=14), now - timedelta(minutes=5))
    with qtbot.waitSignal(analyst.send_failed, timeout=15_000) as sig:
        analyst.send_button.click()
    assert "max_window" in sig.args[0] and "supervisor" in sig.args[0]
    assert not analyst.override_row.isVisibleTo(analyst)

    sup = make_form(qtbot, server, map_view, user="sue")
    assert sup.override_row.isVisibleTo(sup)
    sup.start(seed(now - timedelta(hours=1)))
    qtbot.waitUntil(lambda: sup.area is not None, timeout=10_000)
    sup.case_edit.setText("26-000222")
    sup.set_window(now - timedelta(hours=14), now - timedelta(minutes=5))
    with qtbot.waitSignal(sup.send_failed, timeout=15_000) as sig:
        sup.send_button.click()
    assert "max_window" in sig.args[0] and "override reason" in sig.args[0]
    sup.override_edit.setText("Homicide: the suspect's route spans the whole night")
    with qtbot.waitSignal(sup.request_sent, timeout=15_000) as sent:
        sup.send_button.click()
    assert sent.args[0]["override_reason"].startswith("Homicide")


def test_a_request_only_camera_prefills_its_owner_alone(
    qtbot: Any, server: ConsoleServer, map_view: Any
) -> None:
    from rtcc_console.ui.requests import RequestSeed

    form = make_form(qtbot, server, map_view)
    cam = "cam-own-b-1"
    lat, lon = SPOT[0], SPOT[1] + 0.0004  # where seed_owner put own-b's first camera
    with qtbot.waitSignal(
        form.preview_shown, timeout=15_000, check_params_cb=lambda p: p is not None
    ) as sig:
        form.start(
            RequestSeed(
                center=(lat, lon),
                camera_id=cam,
                camera_name="own-b camera 1",
                radius_m=400,
                reported_at=datetime.now(UTC) - timedelta(hours=1),
            )
        )
    assert (
        sig.args[0]["owners_included"] == 1
    )  # the 400 m circle holds every owner; only this one is asked
    assert form.only_label.isVisibleTo(form) and "own-b camera 1" in form.only_label.text()
    form.case_edit.setText("26-000333")
    with qtbot.waitSignal(form.request_sent, timeout=15_000) as sent:
        form.send_button.click()
    assert [i["owner_ref"] for i in sent.args[0]["items"]] == ["own-b"]
    assert cam in sent.args[0]["items"][0]["camera_ids"]


def test_bad_areas_and_windows_are_refused_in_the_servers_words(
    qtbot: Any, server: ConsoleServer, map_view: Any
) -> None:
    form = make_form(qtbot, server, map_view)
    now = datetime.now(UTC)
    form.start(seed(now - timedelta(hours=1)))
    qtbot.waitUntil(lambda: form.area is not None, timeout=10_000)
    form.case_edit.setText("26-000444")
    lat, lon = SPOT
    bowtie = {
        "kind": "polygon",
        "points": [
            {"lat": lat, "lon": lon},
            {"lat": lat + 0.001, "lon": lon + 0.001},
            {"lat": lat, "lon": lon + 0.001},
            {"lat": lat + 0.001, "lon": lon},
        ],
    }
    with qtbot.waitSignal(form.preview_shown, timeout=15_000, check_params_cb=lambda p: p is None):
        form.set_area(bowtie)
    assert "crosses itself" in form.preview_label.text()
    with qtbot.waitSignal(form.send_failed, timeout=15_000) as sig:
        form.send_button.click()
    assert "422" in sig.args[0] and "crosses itself" in sig.args[0]
    assert form.error_label.isVisibleTo(form) and form.isVisible()

    with qtbot.waitSignal(form.area_map.area_changed, timeout=10_000):
        form.set_area({"kind": "circle", "center": {"lat": lat, "lon": lon}, "radius_m": 100})
    form.set_window(now - timedelta(hours=1), now - timedelta(hours=2))  # ends before it starts
    with qtbot.waitSignal(form.send_failed, timeout=15_000) as sig:
        form.send_button.click()
    assert "422" in sig.args[0]
    listed = requests.get(
        f"{server.base}/api/v1/footage-requests?scope=all",
        timeout=10,
        headers={"Authorization": f"Bearer {server.admin}"},
    ).json()
    assert listed["total"] == 0  # nothing half-made
