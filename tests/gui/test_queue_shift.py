"""The queue on a shift: new calls alert and stay unacknowledged until seen, rows hold
still under the analyst, a click acts on the row under the pointer, closed calls linger,
counts by priority, sortable columns with the incident id and reported time."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QEnterEvent, QFont

from rtcc_console.core.models import CallStatus, DispatchCall, GeoPoint
from rtcc_console.ui.call_alerts import SOUNDS, CallAlerter, write_tone
from rtcc_console.ui.call_queue import CallQueue
from rtcc_console.ui.call_queue_model import (
    CALL_ID_ROLE,
    COL_INCIDENT,
    COL_PRIORITY,
    COL_REPORTED,
    COL_TYPE,
    CallTableModel,
)

pytestmark = pytest.mark.gui
T0 = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)


def call(
    cid: str,
    *,
    priority: int = 3,
    minutes: int = 0,
    status: CallStatus = CallStatus.PENDING,
    type_text: str = "Burglary",
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
        address=f"{cid} Elm St",
    )


class Player:
    def __init__(self) -> None:
        self.played: list[str] = []

    def play(self, name: str) -> None:
        self.played.append(name)


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def player() -> Player:
    return Player()


@pytest.fixture
def queue(qtbot: Any, clock: Clock, player: Player) -> CallQueue:
    alerter = CallAlerter(
        sounds={1: "urgent", 2: "chime"},
        player=player,
        window=lambda: None,
        repeat_s=30,
        max_repeats=2,
        monotonic=clock,
    )
    widget = CallQueue(alerter=alerter, hold_s=4.0, closed_linger_s=300, monotonic=clock)
    qtbot.addWidget(widget)
    widget.resize(900, 400)
    widget.show()
    widget.model._clock = lambda: T0 + timedelta(minutes=30)
    return widget


def loaded(queue: CallQueue, *calls: DispatchCall) -> None:
    queue.model.merge([(c, 1) for c in calls], None)


def pointer_enters(queue: CallQueue) -> None:
    viewport = queue.table.viewport()
    queue.eventFilter(viewport, QEnterEvent(QPointF(5, 5), QPointF(5, 5), QPointF(5, 5)))


def pointer_leaves(queue: CallQueue) -> None:
    queue.eventFilter(queue.table.viewport(), QEvent(QEvent.Type.Leave))


# -- alerts and acknowledgement ------------------------------------------------------
def test_loaded_calls_are_quiet_new_calls_sound_by_priority(
    queue: CallQueue, player: Player
) -> None:
    loaded(queue, call("a", priority=1))
    assert player.played == [] and queue.model.unacked_ids() == set()
    queue.model.upsert(call("b", priority=1, minutes=1), 1)
    queue.model.upsert(call("c", priority=2, minutes=2), 1)
    queue.model.upsert(call("d", priority=4, minutes=3), 1)
    assert player.played == ["urgent", "chime"]  # priority 4 is silent by configuration
    assert queue.model.unacked_ids() == {"b", "c", "d"}
    index = queue.proxy.index(queue.visible_call_ids().index("b"), COL_PRIORITY)
    assert index.data() == "● 1"
    assert (
        isinstance(index.data(Qt.ItemDataRole.FontRole), QFont)
        and index.data(Qt.ItemDataRole.FontRole).bold()
    )
    assert "3 new" in queue.counts_label.text()


def test_unacknowledged_p1_repeats_a_bounded_number_of_times(
    queue: CallQueue, player: Player, clock: Clock
) -> None:
    queue.model.upsert(call("b", priority=1), 1)
    queue.model.upsert(call("c", priority=2), 1)
    assert player.played == ["urgent", "chime"]
    for _ in range(10):  # ten minutes of nobody looking
        clock.t += 60
        queue.alerter.check_repeats()  # type: ignore[union-attr]
    assert player.played == ["urgent", "chime", "urgent", "urgent"]  # P1 twice more, then silence


def test_selecting_acknowledges_and_stops_the_repeat(
    queue: CallQueue, player: Player, clock: Clock, qtbot: Any
) -> None:
    queue.model.upsert(call("b", priority=1), 1)
    with qtbot.waitSignal(queue.call_acknowledged) as ack:
        assert queue.select_call("b")
    assert ack.args == ["b"]
    assert not queue.model.is_unacked("b")
    clock.t += 120
    queue.alerter.check_repeats()  # type: ignore[union-attr]
    assert player.played == ["urgent"]
    assert queue.proxy.index(0, COL_PRIORITY).data() == "1"


def test_acknowledge_key_acknowledges_every_new_call(queue: CallQueue, qtbot: Any) -> None:
    for i in range(3):
        queue.model.upsert(call(f"n{i}", priority=2), 1)
    acked: list[str] = []
    queue.call_acknowledged.connect(acked.append)
    assert queue.acknowledge_all() == 3
    assert sorted(acked) == ["n0", "n1", "n2"] and queue.model.unacked_ids() == set()
    assert queue.acknowledge_all() == 0


def test_mute_silences_but_still_marks_new(queue: CallQueue, player: Player) -> None:
    queue.mute_button.click()
    queue.model.upsert(call("b", priority=1), 1)
    assert player.played == [] and queue.model.is_unacked("b")
    queue.mute_button.click()
    queue.model.upsert(call("c", priority=1), 1)
    assert player.played == ["urgent"]


def test_new_row_flashes(queue: CallQueue) -> None:
    queue.model.upsert(call("b", priority=3), 1)
    colours = set()
    for _ in range(2):
        queue.model.tick()
        colours.add(queue.proxy.index(0, 2).data(Qt.ItemDataRole.BackgroundRole).color().name())
    assert len(colours) == 2


def test_generated_sounds_are_real_wav_files(tmp_path: Any) -> None:
    import wave

    path = write_tone(tmp_path / "urgent.wav", SOUNDS["urgent"])
    with wave.open(str(path)) as wav:
        assert wav.getframerate() == 22050 and wav.getnframes() > 22050 * 0.4


# -- rows that hold still --------------------------------------------------------------
def test_new_calls_wait_behind_a_marker_while_the_pointer_is_in_the_queue(
    queue: CallQueue, clock: Clock, qtbot: Any
) -> None:
    loaded(queue, call("a", priority=3, minutes=1), call("b", priority=3, minutes=2))
    assert queue.select_call("a")
    before = queue.visible_call_ids()
    pointer_enters(queue)
    queue.model.upsert(call("x", priority=1, minutes=5), 1)  # would sort to the top
    queue.model.upsert(call("y", priority=2, minutes=6), 1)
    queue.model.upsert(call("z", priority=4, minutes=7), 1)
    assert queue.visible_call_ids() == before  # nothing moved
    assert queue.held_call_ids() == {"x", "y", "z"}
    assert queue.new_calls_button.isVisible()
    assert queue.new_calls_button.text() == "▼ 3 new calls (P1 among them) - show"
    queue.new_calls_button.click()
    assert queue.visible_call_ids()[0] == "x" and len(queue.visible_call_ids()) == 5
    assert not queue.new_calls_button.isVisible()
    assert queue.selected_call_id() == "a"  # the selection stayed on the analyst's call


def test_held_calls_show_themselves_when_the_analyst_stops_working(
    queue: CallQueue, clock: Clock, qtbot: Any
) -> None:
    loaded(queue, call("a"))
    pointer_enters(queue)
    queue.model.upsert(call("x", priority=1), 1)
    assert "x" not in queue.visible_call_ids()
    pointer_leaves(queue)
    clock.t += 1
    queue._check_work()
    assert "x" not in queue.visible_call_ids()  # worked in it a moment ago
    clock.t += 5
    qtbot.waitUntil(lambda: "x" in queue.visible_call_ids(), timeout=2000)


def test_rows_do_not_resort_under_the_pointer(queue: CallQueue, clock: Clock) -> None:
    loaded(queue, call("a", priority=3, minutes=1), call("b", priority=3, minutes=2))
    before = queue.visible_call_ids()
    pointer_enters(queue)
    queue.model.upsert(call("a", priority=1, minutes=1), 2)  # a becomes priority 1
    assert queue.visible_call_ids() == before
    queue.release_held()
    assert queue.visible_call_ids() == ["a", "b"]


def test_a_click_acts_on_the_row_under_the_pointer_at_button_down(
    queue: CallQueue, qtbot: Any
) -> None:
    loaded(queue, call("a", minutes=1), call("b", minutes=2), call("c", minutes=3))
    rect = queue.table.visualRect(queue.proxy.index(1, COL_TYPE))
    target = queue.proxy.index(1, 0).data(CALL_ID_ROLE)
    chosen: list[str] = []
    queue.call_selected.connect(chosen.append)
    queue.table.mousePressEvent(_press(rect.center()))
    assert chosen == [target]
    # A row inserted between button-down and selection must not steal the click: the
    # press remembered the call id.
    queue.table.pressed_call_id = "c"
    queue.table.selectionModel().setCurrentIndex(
        queue.proxy.index(0, 0), queue.table.selectionModel().SelectionFlag.ClearAndSelect
    )
    assert chosen[-1] == "c" and queue.selected_call_id() == "c"


def _press(pos: QPoint) -> Any:
    from PySide6.QtGui import QMouseEvent

    return QMouseEvent(
        QEvent.Type.MouseButtonPress,
        QPointF(pos),
        QPointF(pos),
        Qt.MouseButton.LeftButton,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )


# -- closed calls, counts, columns ---------------------------------------------------------
def test_closed_calls_linger_greyed_then_leave_the_open_view(queue: CallQueue) -> None:
    loaded(queue, call("a", priority=2), call("b", priority=3))
    closed_at = T0 + timedelta(minutes=28)
    gone = dataclasses.replace(
        call("a", priority=2, status=CallStatus.CLOSED), updated_at=closed_at
    )
    queue.model.upsert(gone, 2)
    queue.proxy.refilter()
    assert "a" in queue.visible_call_ids()  # closed 2 minutes ago (linger 5 minutes)
    brush = queue.proxy.index(queue.visible_call_ids().index("a"), 2).data(
        Qt.ItemDataRole.BackgroundRole
    )
    assert brush.color().name() == "#30343a"
    queue.model._clock = lambda: closed_at + timedelta(minutes=6)
    queue.proxy.refilter()
    assert queue.visible_call_ids() == ["b"]
    assert queue.counts_label.text().startswith("P1 0  ·  P2 0  ·  P3 1")


def test_counts_by_priority(queue: CallQueue) -> None:
    loaded(
        queue,
        call("a", priority=1),
        call("b", priority=1),
        call("c", priority=3),
        call("d", priority=7),
    )
    assert queue.counts_label.text() == "P1 2  ·  P2 0  ·  P3 1  ·  P4 0  ·  other 1"


def test_incident_and_reported_columns_and_header_sort(queue: CallQueue) -> None:
    from zoneinfo import ZoneInfo

    queue.model.zone = ZoneInfo("America/Chicago")
    loaded(
        queue,
        call("b", priority=1, minutes=2),
        call("a", priority=3, minutes=9),
        call("c", priority=2, minutes=5),
    )
    assert queue.proxy.index(0, COL_INCIDENT).data() == "INC-b"
    assert queue.proxy.index(0, COL_REPORTED).data() == "12:02:00"  # 18:02 UTC in Chicago (CST)
    assert queue.table.horizontalHeader().sectionsClickable()
    queue.table.sortByColumn(COL_INCIDENT, Qt.SortOrder.AscendingOrder)
    assert queue.visible_call_ids() == ["a", "b", "c"]
    queue.table.sortByColumn(COL_REPORTED, Qt.SortOrder.AscendingOrder)
    assert queue.visible_call_ids() == ["a", "c", "b"]  # newest first
    queue.table.sortByColumn(COL_PRIORITY, Qt.SortOrder.AscendingOrder)
    assert queue.visible_call_ids() == ["b", "c", "a"]


def test_model_without_view_marks_arrivals(qtbot: Any) -> None:
    model = CallTableModel()
    arrived: list[str] = []
    model.call_arrived.connect(lambda c: arrived.append(c.id))
    model.merge([(call("a"), 1)], None)
    model.upsert(call("b"), 1)
    model.upsert(call("b"), 2)  # an update is not an arrival
    assert arrived == ["b"]


# -- search keeps the analyst's call ------------------------------------------------------
def test_search_never_changes_the_selected_call(queue: CallQueue, qtbot: Any) -> None:
    loaded(
        queue,
        call("a", type_text="Robbery", minutes=1),
        call("b", type_text="Burglary", minutes=2),
        call("c", type_text="Burglary", minutes=3),
    )
    assert queue.select_call("a")
    chosen: list[str] = []
    queue.call_selected.connect(chosen.append)
    queue.search_box.setText("burglary")  # hides a
    assert queue.visible_call_ids() == ["c", "b"]
    assert chosen == [] and queue.selected_call_id() == "a"
    assert queue.filtered_out_label.isVisible() and "INC-a" in queue.filtered_out_label.text()
    queue.search_box.setText("rob")  # a is back: selected again, silently
    assert queue.visible_call_ids() == ["a"] and chosen == []
    assert queue.table.currentIndex().data(CALL_ID_ROLE) == "a"
    assert not queue.filtered_out_label.isVisible()


def test_escape_clears_the_search(queue: CallQueue, qtbot: Any) -> None:
    loaded(queue, call("a"), call("b"))
    queue.search_box.setFocus()
    qtbot.keyClicks(queue.search_box, "zzz")
    qtbot.waitUntil(lambda: queue.visible_call_ids() == [], timeout=2000)
    qtbot.keyClick(queue.search_box, Qt.Key.Key_Escape)
    assert queue.search_box.text() == "" and len(queue.visible_call_ids()) == 2
