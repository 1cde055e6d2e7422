"""The dispatch queue model and panel: order, colour, filters, in-place updates, age tick."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import Qt

from rtcc_console.core.models import CallStatus, DispatchCall, GeoPoint
from rtcc_console.ui.call_queue import CallQueue
from rtcc_console.ui.call_queue_model import (
    COL_AGE,
    COL_STATUS,
    PRIORITY_COLOURS,
    CallTableModel,
    format_age,
)

pytestmark = pytest.mark.gui
T0 = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)


def call(
    cid: str,
    *,
    priority: int = 3,
    minutes: int = 0,
    status: CallStatus = CallStatus.PENDING,
    type_text: str = "Burglary",
    address: str = "1200 Elm St",
) -> DispatchCall:
    at = T0 + timedelta(minutes=minutes)
    return DispatchCall(
        id=cid,
        incident_id=f"INC-{cid}",
        type_code=type_text[:4].upper(),
        type_text=type_text,
        priority=priority,
        status=status,
        reported_at=at,
        updated_at=at,
        location=GeoPoint(32.78, -96.8),
        address=address,
    )


@pytest.fixture
def queue(qtbot: Any) -> CallQueue:
    widget = CallQueue()
    qtbot.addWidget(widget)
    widget.model._clock = lambda: T0 + timedelta(minutes=30)
    return widget


def test_sorted_by_priority_then_newest(queue: CallQueue) -> None:
    m = queue.model
    m.upsert(call("a", priority=3, minutes=1), 1)
    m.upsert(call("b", priority=1, minutes=2), 1)
    m.upsert(call("c", priority=3, minutes=5), 1)
    m.upsert(call("d", priority=1, minutes=9), 1)
    assert queue.visible_call_ids() == ["d", "b", "c", "a"]


def test_coloured_by_priority_and_times_in_the_agency_zone(queue: CallQueue) -> None:
    from zoneinfo import ZoneInfo

    queue.model.zone = ZoneInfo("America/Chicago")
    queue.model.upsert(call("a", priority=1), 1)
    assert "reported 00:00:00 CST" in queue.proxy.index(0, 1).data(Qt.ItemDataRole.ToolTipRole)
    brush = queue.proxy.index(0, 1).data(Qt.ItemDataRole.BackgroundRole)
    assert brush.color().name() == PRIORITY_COLOURS[1]


def test_version_aware_in_place_update(queue: CallQueue, qtbot: Any) -> None:
    m = queue.model
    m.upsert(call("a", priority=2), 3)
    inserted: list[Any] = []
    m.rowsInserted.connect(lambda *a: inserted.append(a))
    assert not m.upsert(call("a", status=CallStatus.CLOSED), 3)  # replay of the same version
    assert not m.upsert(call("a", status=CallStatus.CLOSED), 2)  # older version arriving late
    assert m.call("a").status is CallStatus.PENDING  # type: ignore[union-attr]
    with qtbot.waitSignal(m.dataChanged, timeout=1000):
        assert m.upsert(call("a", priority=1, status=CallStatus.DISPATCHED), 4)
    assert m.rowCount() == 1 and not inserted
    assert queue.proxy.index(0, COL_STATUS).data() == "dispatched"


def test_filters_and_search(queue: CallQueue) -> None:
    m = queue.model
    m.upsert(call("a", priority=1, type_text="Robbery", address="5 Main St"), 1)
    m.upsert(call("b", priority=3, type_text="Burglary", address="9 Elm St"), 1)
    m.upsert(call("c", priority=2, status=CallStatus.CLOSED), 1)
    assert set(queue.visible_call_ids()) == {"a", "b"}  # "Open" by default
    queue.status_filter.setCurrentText("All")
    assert set(queue.visible_call_ids()) == {"a", "b", "c"}
    queue.priority_filter.setCurrentText("P1–2")
    assert set(queue.visible_call_ids()) == {"a", "c"}
    queue.priority_filter.setCurrentText("Any priority")
    queue.type_filter.setText("burg")
    assert set(queue.visible_call_ids()) == {"b", "c"}
    queue.type_filter.clear()
    queue.search_box.setText("main st")
    assert queue.visible_call_ids() == ["a"]


def test_age_ticks_only_the_age_column(qtbot: Any) -> None:
    now = [T0 + timedelta(seconds=30)]
    model = CallTableModel(clock=lambda: now[0])
    model.upsert(call("a"), 1)
    assert model.index(0, COL_AGE).data() == "30s"
    now[0] = T0 + timedelta(minutes=3, seconds=5)
    with qtbot.waitSignal(model.dataChanged, timeout=2500) as blocker:
        pass  # the 1 s ticker
    top, bottom = blocker.args[0], blocker.args[1]
    assert top.column() == bottom.column() == COL_AGE
    assert model.index(0, COL_AGE).data() == "3m"
    assert format_age(3 * 3600 + 5 * 60) == "3h05"


def test_keyboard_step_and_selection_signal(queue: CallQueue, qtbot: Any) -> None:
    queue.model.upsert(call("a", priority=1), 1)
    queue.model.upsert(call("b", priority=2), 1)
    with qtbot.waitSignal(queue.call_selected, timeout=1000) as blocker:
        queue.step(1)
    assert blocker.args == ["a"]
    with qtbot.waitSignal(queue.call_selected, timeout=1000) as blocker:
        queue.step(1)
    assert blocker.args == ["b"]


def test_snapshot_merge_keeps_newer_and_drops_closed(queue: CallQueue) -> None:
    m = queue.model
    m.upsert(call("a", priority=2), 5)
    m.upsert(call("gone", minutes=1), 1)
    m.upsert(call("fresh", minutes=40), 1)  # created by an event after the snapshot was asked
    m.merge([(call("a", priority=4), 3), (call("b"), 1)], T0 + timedelta(minutes=30))
    assert {c.id for c in m.calls()} == {"a", "b", "fresh"}
    assert m.call("a").priority == 2  # type: ignore[union-attr]
