"""The call detail pane: every field, the covering emergency, the history with changes,
loaded from the real server for the selected call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rtcc_console.client.call_history import history_rows
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
from rtcc_console.ui.call_detail import CallDetail

pytestmark = pytest.mark.gui
T0 = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)


def test_history_rows_say_what_changed() -> None:
    base = {
        "status": "pending",
        "priority": 3,
        "type_text": "Burglary",
        "address": "1 Elm",
        "lat": 32.7,
        "lon": -96.8,
    }
    history = [
        {
            "updated_at": "2026-11-21T18:05:00+00:00",
            "source": "eido",
            "applied": True,
            "call": {**base, "status": "dispatched", "priority": 1},
            "warnings": [],
        },
        {
            "updated_at": "2026-11-21T18:00:00+00:00",
            "source": "eido",
            "applied": True,
            "call": base,
            "warnings": [],
        },
        {
            "updated_at": "2026-11-21T18:02:00+00:00",
            "source": "eido",
            "applied": False,
            "call": {**base, "status": "closed"},
            "warnings": ["unknown status word 'Zapped': kept 'pending'"],
        },
    ]
    rows = history_rows(history)
    assert [r.changes for r in rows] == [
        ("first report",),
        ("older update, kept for the record",),
        ("status: pending → dispatched", "priority: 3 → 1"),
    ]
    assert rows[1].warnings == ("unknown status word 'Zapped': kept 'pending'",)


def test_pane_shows_fields_emergency_and_filtered_state(qtbot: Any) -> None:
    from zoneinfo import ZoneInfo

    pane = CallDetail(zone=ZoneInfo("America/Chicago"))
    qtbot.addWidget(pane)
    call = DispatchCall(
        id="c1",
        incident_id="DPD-26-0042",
        type_code="ROB",
        type_text="Robbery",
        priority=1,
        status=CallStatus.ON_SCENE,
        reported_at=T0,
        updated_at=T0 + timedelta(minutes=3),
        location=GeoPoint(32.78, -96.8),
        address="1300 Main St <b>x</b>",
        category="robbery",
        source="eido",
    )
    school = Camera(
        id="cam-9",
        name="North door",
        tier=Tier.INTEGRATED,
        location=GeoPoint(32.78, -96.8),
        kind=CameraKind.SCHOOL,
        sharing_mode=SharingMode.LIVE_IN_EMERGENCY,
        address="400 School Rd",
    )
    em = Emergency(
        id="em-1",
        owner_id="own-7",
        camera_ids=frozenset({"cam-9"}),
        started_at=T0,
        ends_at=T0 + timedelta(hours=1),
        reason="panic button",
    )
    other = Emergency(id="em-2", owner_id="own-8", camera_ids=frozenset({"cam-77"}), started_at=T0)
    pane.show_call(
        call,
        emergencies=[em, other],
        cameras={"cam-9": school}.get,
        nearby_camera_ids=["cam-9", "cam-1"],
        now=T0 + timedelta(minutes=5),
    )
    text = pane.text()
    for expected in (
        "DPD-26-0042",
        "Robbery",
        "(ROB · robbery)",
        "P1",
        "on scene",
        "1300 Main St <b>x</b>",
        "32.78000, -96.80000",
        "Nov 21 12:00:00 CST",
        "eido",
        "Emergency at 400 School Rd (school)",
        "panic button",
        "Loading the call's history",
    ):
        assert expected in text, expected
    assert "own-8" not in text  # an emergency elsewhere is not this call's
    pane.set_filtered_out(True)
    assert "filtered out" in pane.text()


def test_detail_loads_from_the_server_and_follows_updates(
    qtbot: Any, console_server: Any, make_console: Any
) -> None:
    t0 = datetime.now(UTC).isoformat()
    first = console_server.post_call(
        priority=3, incident_id="DPD-T-DETAIL", status="pending", reported_at=t0, updated_at=t0
    )
    window, _api = make_console(console_server.base)
    qtbot.waitUntil(lambda: window.call_queue.model.call(first["id"]) is not None, timeout=15000)
    assert window.call_queue.select_call(first["id"])
    qtbot.waitUntil(lambda: "History (1 update)" in window.call_detail.text(), timeout=10000)
    assert (
        "DPD-T-DETAIL" in window.call_detail.text() and "first report" in window.call_detail.text()
    )
    console_server.post_call(
        priority=1,
        incident_id="DPD-T-DETAIL",
        status="dispatched",
        reported_at=first["reported_at"],
        updated_at=(datetime.now(UTC) + timedelta(seconds=5)).isoformat(),
    )
    qtbot.waitUntil(lambda: "History (2 updates)" in window.call_detail.text(), timeout=15000)
    assert (
        "priority: 3 → 1" in window.call_detail.text()
        and "status: pending → dispatched" in window.call_detail.text()
    )
