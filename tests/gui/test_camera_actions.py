"""Camera and call actions an analyst can trust: right-click menus act on the row under the
pointer, cameras with the same name are told apart, and the list fits its panel."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from rtcc_console.client.nearest import CameraOption
from rtcc_console.core.models import (
    CallStatus,
    Camera,
    CameraKind,
    DispatchCall,
    GeoPoint,
    SharingMode,
    Tier,
)
from rtcc_console.ui.call_queue import CallQueue
from rtcc_console.ui.camera_list import COL_NAME, COL_OWNER, COL_WHY, COLUMNS, CameraList

pytestmark = pytest.mark.gui


def option(
    i: int, *, name: str | None = None, action: str = "live", tier: Tier = Tier.INTEGRATED
) -> CameraOption:
    cam = Camera(
        id=f"cam-{i:06d}",
        name=name or f"Camera {i}",
        tier=tier,
        location=GeoPoint(32.78, -96.8),
        kind=CameraKind.BUSINESS,
        sharing_mode=SharingMode.LIVE_ALWAYS,
    )
    return CameraOption(
        camera=cam,
        distance_m=40.0 * i,
        bearing_deg=45.0,
        explanation=f"{40 * i} m NE, facing the scene",
        score=1.0 / i,
        covers_scene=True,
        action=action,
        action_text="View live now" if action == "live" else "Request footage",
        why="the owner shares live video at all times",
    )


def menu_actions(widget: Any) -> dict[str, Any]:
    menu = widget.last_menu
    assert menu is not None
    return {a.text(): a for a in menu.actions() if a.text()}


def test_camera_menu_acts_on_the_row_under_the_pointer(qtbot: Any) -> None:
    cams = CameraList()
    qtbot.addWidget(cams)
    cams.resize(600, 400)
    cams.show()
    cams.set_options(
        [option(1), option(2, action="request", tier=Tier.REGISTERED), option(3)], "3 cameras"
    )
    rect = cams.table.visualRect(cams.model.index(1, COL_NAME))
    cams._context_menu(rect.center())
    actions = menu_actions(cams)
    assert set(actions) == {
        "Open live on the wall",
        "Request footage…",
        "Show on map",
        "Copy camera id",
        "Why this rank?",
    }
    assert not actions["Open live on the wall"].isEnabled()  # a registered camera has no live view
    with qtbot.waitSignal(cams.footage_wanted) as wanted:
        actions["Request footage…"].trigger()
    assert wanted.args == ["cam-000002"]
    with qtbot.waitSignal(cams.show_on_map_wanted) as shown:
        actions["Show on map"].trigger()
    assert shown.args == ["cam-000002"]
    actions["Copy camera id"].trigger()
    assert QApplication.clipboard().text() == "cam-000002"
    actions["Why this rank?"].trigger()
    assert (
        cams.why_box is not None
        and "#2 Camera 2" in cams.why_box.text()
        and "80 m NE" in cams.why_box.text()
    )
    cams.why_box.close()
    cams._context_menu(cams.table.visualRect(cams.model.index(0, COL_NAME)).center())
    live = menu_actions(cams)["Open live on the wall"]
    assert live.isEnabled()
    with qtbot.waitSignal(cams.camera_activated) as opened:
        live.trigger()
    assert opened.args == ["cam-000001"]


def test_a_camera_clicked_on_the_map_is_selected_and_offered(qtbot: Any) -> None:
    cams = CameraList()
    qtbot.addWidget(cams)
    cams.show()
    cams.set_options([option(1), option(2), option(3)], "3 cameras")
    assert cams.offer_actions("cam-000003")
    assert cams.table.currentIndex().row() == 2 and cams.last_menu is not None
    cams.last_menu.close()
    assert not cams.offer_actions("cam-999999")


def test_cameras_with_the_same_name_are_told_apart(qtbot: Any) -> None:
    cams = CameraList()
    qtbot.addWidget(cams)
    cams.set_options(
        [option(1, name="Front door"), option(2, name="Front door"), option(3, name="Garage")], ""
    )
    names = [cams.model.index(r, COL_NAME).data() for r in range(3)]
    assert names == ["Front door (cam-000001)", "Front door (cam-000002)", "Garage"]


def test_the_list_fits_a_small_screen_without_sideways_scrolling(qtbot: Any) -> None:
    cams = CameraList()
    qtbot.addWidget(cams)
    cams.resize(430, 330)  # the Cameras panel of a 1366x768 console
    cams.show()
    cams.set_options(
        [option(i, name=f"Elm St {1000 + i} — business front entrance") for i in range(1, 13)],
        "12 cameras",
    )
    qtbot.waitUntil(lambda: cams.table.viewport().width() > 0)
    header = cams.table.horizontalHeader()
    shown = [c for c in range(len(COLUMNS)) if not cams.table.isColumnHidden(c)]
    assert sum(header.sectionSize(c) for c in shown) <= cams.table.viewport().width() + 1
    assert cams.table.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    assert cams.table.isColumnHidden(COL_WHY) or cams.table.isColumnHidden(COL_OWNER)
    rows_visible = cams.table.viewport().height() // cams.table.rowHeight(0)
    assert rows_visible >= 8
    cams.resize(1100, 330)  # wide again: every column is back
    qtbot.waitUntil(
        lambda: not cams.table.isColumnHidden(COL_WHY) and not cams.table.isColumnHidden(COL_OWNER)
    )


def test_call_menu(qtbot: Any) -> None:
    queue = CallQueue()
    qtbot.addWidget(queue)
    queue.resize(700, 300)
    queue.show()
    now = datetime.now(UTC)
    calls = [
        DispatchCall(
            id=f"c{i}",
            incident_id=f"INC-{i}",
            type_code="ROB",
            type_text="Robbery",
            priority=2,
            status=CallStatus.PENDING,
            reported_at=now,
            updated_at=now,
            location=GeoPoint(32.78, -96.8) if i else None,
            address="x",
        )
        for i in range(2)
    ]
    queue.model.merge([(c, 1) for c in calls], None)
    row = queue.visible_call_ids().index("c1")
    queue._context_menu(queue.table.visualRect(queue.proxy.index(row, 2)).center())
    actions = menu_actions(queue)
    assert set(actions) == {
        "Select",
        "Copy incident id",
        "Open top cameras on the wall",
        "Request footage…",
        "Send to field…",
        "Show on map",
    }
    actions["Copy incident id"].trigger()
    assert QApplication.clipboard().text() == "INC-1"
    with qtbot.waitSignal(queue.open_top_wanted) as top:
        actions["Open top cameras on the wall"].trigger()
    assert top.args == ["c1"] and queue.selected_call_id() == "c1"
    with qtbot.waitSignal(queue.footage_wanted):
        actions["Request footage…"].trigger()
    row0 = queue.visible_call_ids().index("c0")
    queue._context_menu(queue.table.visualRect(queue.proxy.index(row0, 2)).center())
    assert not menu_actions(queue)["Show on map"].isEnabled()  # an address-only call
