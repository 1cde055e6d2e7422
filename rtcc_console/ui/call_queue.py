"""The dispatch queue panel: offline banner, counts by priority, filters, search box, the
"new calls" marker and the call table.

Rows never move under the analyst: while the pointer is over the table, or the analyst
clicked or typed in it during the last ``hold_s`` seconds, new calls wait behind a
"3 new calls - show" marker and re-sorting is frozen; both resume when the analyst stops
working in the queue or presses the marker. A click acts on the call that was under the
pointer when the button went down, whatever happened since.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QGuiApplication, QKeySequence, QMouseEvent, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSizePolicy,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from rtcc_console.core.models import CallStatus, DispatchCall
from rtcc_console.ui.call_alerts import CallAlerter
from rtcc_console.ui.call_queue_model import (
    CALL_ID_ROLE,
    COL_ADDRESS,
    COL_AGE,
    COL_INCIDENT,
    COL_PRIORITY,
    COL_REPORTED,
    COL_STATUS,
    COL_TYPE,
    CallFilterProxy,
    CallTableModel,
)

STATUS_FILTERS: dict[str, set[CallStatus] | None] = {
    "Open": {CallStatus.PENDING, CallStatus.DISPATCHED, CallStatus.ON_SCENE},
    "Pending": {CallStatus.PENDING},
    "Dispatched": {CallStatus.DISPATCHED},
    "On scene": {CallStatus.ON_SCENE},
    "All": None,
}
PRIORITY_FILTERS: dict[str, int | None] = {"Any priority": None, "P1": 1, "P1–2": 2, "P1–3": 3}


class CallTable(QTableView):
    """The call table; remembers which call was under the pointer at button-down."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pressed_call_id: str | None = None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        index = self.indexAt(event.position().toPoint())
        self.pressed_call_id = str(index.data(CALL_ID_ROLE)) if index.isValid() else None
        super().mousePressEvent(event)


class CallQueue(QWidget):
    """Shows the calls; emits ``call_selected(call_id)`` when the analyst picks one and
    ``call_acknowledged(call_id)`` when a new call was seen (selected or acknowledged)."""

    call_selected = Signal(str)
    call_acknowledged = Signal(str)
    selection_filtered = Signal(bool)  # the selected call is hidden by the filters (True) or shown
    open_top_wanted = Signal(str)
    footage_wanted = Signal(str)
    show_on_map_wanted = Signal(str)
    field_wanted = Signal(str)  # "Send to field…" (issue 16, ui.field_share_dialog)

    def __init__(
        self,
        parent: Any = None,
        *,
        alerter: CallAlerter | None = None,
        hold_s: float = 4.0,
        closed_linger_s: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("CallQueue")
        self.model = CallTableModel(self)
        self.proxy = CallFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.linger_s = closed_linger_s
        self.alerter = alerter
        self.hold_s = hold_s
        self._monotonic = monotonic
        self._last_work = -1e9
        self._pointer_inside = False
        self._frozen = False
        self._chosen_id: str | None = None  # the analyst's call, even while filtered out
        self._restoring = False

        self.counts_label = QLabel(self)
        self.counts_label.setObjectName("QueueCounts")
        self.mute_button = QToolButton(self)
        self.mute_button.setObjectName("AlertMute")
        self.mute_button.setCheckable(True)
        self.mute_button.setChecked(bool(alerter and alerter.muted))
        self.mute_button.toggled.connect(self._mute_toggled)
        self._mute_toggled(self.mute_button.isChecked())
        self.new_calls_button = QPushButton(self)
        self.new_calls_button.setObjectName("NewCallsMarker")
        self.new_calls_button.clicked.connect(self.release_held)
        self.new_calls_button.hide()
        for grow in (self.counts_label, self.new_calls_button):  # never widen the dock
            grow.setSizePolicy(QSizePolicy.Policy.Ignored, grow.sizePolicy().verticalPolicy())

        self.offline_banner = QLabel(self)
        self.offline_banner.setObjectName("OfflineBanner")
        self.offline_banner.setWordWrap(True)
        self.offline_banner.hide()

        self.status_filter = QComboBox(self)
        self.status_filter.addItems(list(STATUS_FILTERS))
        self.priority_filter = QComboBox(self)
        self.priority_filter.addItems(list(PRIORITY_FILTERS))
        self.type_filter = QLineEdit(self)
        self.type_filter.setPlaceholderText("Type…")
        self.search_box = QLineEdit(self)
        self.search_box.setPlaceholderText("Search calls (Ctrl+F)")
        self.search_box.setClearButtonEnabled(True)
        for combo in (self.status_filter, self.priority_filter):
            combo.currentIndexChanged.connect(self._apply_filters)
        for edit in (self.type_filter, self.search_box):
            edit.textChanged.connect(self._apply_filters)
        clear = QShortcut(QKeySequence(Qt.Key.Key_Escape), self.search_box)
        clear.setContext(Qt.ShortcutContext.WidgetShortcut)
        clear.activated.connect(self.search_box.clear)
        self.filtered_out_label = QLabel(self)
        self.filtered_out_label.setObjectName("FilteredOut")
        self.filtered_out_label.setWordWrap(True)
        self.filtered_out_label.hide()

        self.table = CallTable(self)
        self.table.setObjectName("CallTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(COL_PRIORITY, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(False)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        header.setSectionResizeMode(COL_ADDRESS, QHeaderView.ResizeMode.Stretch)
        for col in (COL_PRIORITY, COL_REPORTED, COL_AGE, COL_STATUS, COL_TYPE):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        # Incident ids can be long; the address matters more on a narrow screen. The
        # full id is in the tooltip and the detail pane.
        header.setSectionResizeMode(COL_INCIDENT, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(COL_INCIDENT, self.fontMetrics().horizontalAdvance("DPD-26-0000000"))
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.last_menu: QMenu | None = None
        self.table.viewport().installEventFilter(self)
        self.table.installEventFilter(self)

        self.model.call_arrived.connect(self._call_arrived)
        for signal in (self.model.rowsInserted, self.model.rowsRemoved, self.model.modelReset):
            signal.connect(self._update_counts)
        self.model.dataChanged.connect(self._update_counts)
        self._work_timer = QTimer(self)
        self._work_timer.setInterval(250)
        self._work_timer.timeout.connect(self._check_work)
        self._work_timer.start()
        self._linger_timer = QTimer(self)
        self._linger_timer.setInterval(5000)
        self._linger_timer.timeout.connect(self._refilter_if_idle)
        self._linger_timer.start()

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.counts_label, 1)
        top.addWidget(self.mute_button)

        filters = QHBoxLayout()
        filters.setContentsMargins(0, 0, 0, 0)
        filters.addWidget(self.status_filter)
        filters.addWidget(self.priority_filter)
        filters.addWidget(self.type_filter, 1)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(self.offline_banner)
        box.addLayout(top)
        box.addWidget(self.search_box)
        box.addLayout(filters)
        box.addWidget(self.filtered_out_label)
        box.addWidget(self.new_calls_button)
        box.addWidget(self.table, 1)
        self._apply_filters()
        self._update_counts()

    # -- filters and selection -------------------------------------------------------
    def _apply_filters(self) -> None:
        """Filter the rows; the analyst's selected call stays selected (and is said to be
        filtered out when the filter hides it), so search never changes what the map and
        the detail show."""
        self._restoring = True
        try:
            self.proxy.set_filters(
                statuses=STATUS_FILTERS[self.status_filter.currentText()],
                max_priority=PRIORITY_FILTERS[self.priority_filter.currentText()],
                type_text=self.type_filter.text(),
                text=self.search_box.text(),
            )
            self._restore_selection()
        finally:
            self._restoring = False

    def _restore_selection(self) -> None:
        chosen = self._chosen_id
        if chosen is None:
            self.filtered_out_label.hide()
            return
        was_hidden = not self.filtered_out_label.isHidden()
        shown = self._proxy_index(chosen)
        if shown is not None:
            if self.table.currentIndex().data(CALL_ID_ROLE) != chosen:
                self.table.selectionModel().setCurrentIndex(
                    shown,
                    QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows,
                )
            self.filtered_out_label.hide()
            if was_hidden:
                self.selection_filtered.emit(False)
            return
        call = self.model.call(chosen)
        name = call.incident_id if call else chosen
        self.filtered_out_label.setText(
            f"The selected call {name} is filtered out of this view (Esc in the search box clears the search)."
        )
        self.filtered_out_label.show()
        if not was_hidden:
            self.selection_filtered.emit(True)

    def _proxy_index(self, call_id: str) -> QModelIndex | None:
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if index.data(CALL_ID_ROLE) == call_id:
                return index
        return None

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid() or self._restoring:
            return
        call_id = current.data(CALL_ID_ROLE)
        pressed = self.table.pressed_call_id
        self.table.pressed_call_id = None
        if pressed and pressed != call_id and self.select_call(pressed):
            return  # the row moved between press and selection: act on the pressed call
        if call_id:
            self._chosen_id = str(call_id)
            self.filtered_out_label.hide()
            self.call_selected.emit(str(call_id))
            self.acknowledge(str(call_id))

    def _context_menu(self, pos: QPoint) -> None:
        """Everything one does with a call, on the call under the pointer."""
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        call_id = str(index.data(CALL_ID_ROLE))
        call = self.model.call(call_id)
        if call is None:
            return
        menu = QMenu(self)

        def chosen(signal: Any) -> Callable[[], None]:
            def run() -> None:
                self.select_call(call_id)
                signal.emit(call_id)

            return run

        menu.addAction("Select").triggered.connect(lambda: self.select_call(call_id))
        menu.addAction("Copy incident id").triggered.connect(
            lambda: QGuiApplication.clipboard().setText(call.incident_id)
        )
        menu.addSeparator()
        menu.addAction("Open top cameras on the wall").triggered.connect(
            chosen(self.open_top_wanted)
        )
        menu.addAction("Request footage…").triggered.connect(chosen(self.footage_wanted))
        menu.addAction("Send to field…").triggered.connect(chosen(self.field_wanted))
        show = menu.addAction("Show on map")
        show.setEnabled(call.location is not None)
        show.triggered.connect(chosen(self.show_on_map_wanted))
        self.last_menu = menu
        menu.popup(self.table.viewport().mapToGlobal(pos))

    # -- alerts and acknowledgement ------------------------------------------------
    def acknowledge(self, call_id: str) -> None:
        if self.model.acknowledge(call_id):
            if self.alerter is not None:
                self.alerter.acknowledged(call_id)
            self.call_acknowledged.emit(call_id)
            self._update_counts()

    def acknowledge_all(self) -> int:
        """The acknowledge key: every new call the analyst can see (held ones included,
        since the marker counts them) has been seen."""
        ids = sorted(self.model.unacked_ids())
        for call_id in ids:
            self.acknowledge(call_id)
        return len(ids)

    def _mute_toggled(self, muted: bool) -> None:
        if self.alerter is not None:
            self.alerter.set_muted(muted)
        self.mute_button.setText("🔕" if muted else "🔔")
        self.mute_button.setToolTip(
            "Call alert sounds are muted" if muted else "Mute call alert sounds"
        )

    def _call_arrived(self, call: DispatchCall) -> None:
        if self.is_working():
            held = set(self.proxy.held)
            held.add(call.id)
            self.proxy.set_held(held)
            self._show_marker()
        if self.alerter is not None:
            self.alerter.call_arrived(call)
        self._update_counts()

    # -- rows that hold still ------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Enter and watched is self.table.viewport():
            self._pointer_inside = True
            self._set_working()
        elif kind == QEvent.Type.Leave and watched is self.table.viewport():
            self._pointer_inside = False
            self._last_work = self._monotonic()
        elif kind in (
            QEvent.Type.MouseButtonPress,
            QEvent.Type.KeyPress,
            QEvent.Type.Wheel,
            QEvent.Type.MouseMove,
        ):
            self._set_working()
        return False

    def is_working(self) -> bool:
        """The analyst is pointing at or recently used the queue."""
        return self._pointer_inside or self._monotonic() - self._last_work < self.hold_s

    def _set_working(self) -> None:
        self._last_work = self._monotonic()
        if not self._frozen:
            self._frozen = True
            self.proxy.setDynamicSortFilter(False)

    def _check_work(self) -> None:
        if self._frozen and not self.is_working():
            self.release_held()

    def _refilter_if_idle(self) -> None:
        if not self._frozen:
            self.proxy.refilter()

    def release_held(self) -> None:
        """Show the held calls and let rows sort again (the marker, or work stopped)."""
        self._frozen = False
        self.proxy.setDynamicSortFilter(True)
        self.proxy.set_held(set())
        self.proxy.invalidate()
        self.new_calls_button.hide()
        current = self.selected_call_id()
        if current:
            self._scroll_to(current)

    def held_call_ids(self) -> set[str]:
        return set(self.proxy.held)

    def _show_marker(self) -> None:
        held = [self.model.call(cid) for cid in self.proxy.held]
        calls = [c for c in held if c is not None]
        top = min((c.priority for c in calls), default=None)
        n = len(calls)
        extra = f" (P{top} among them)" if top is not None and top <= 2 else ""
        self.new_calls_button.setText(f"▼ {n} new call{'s' if n != 1 else ''}{extra} - show")
        self.new_calls_button.setProperty("urgent", bool(top is not None and top <= 2))
        self.new_calls_button.style().unpolish(self.new_calls_button)
        self.new_calls_button.style().polish(self.new_calls_button)
        self.new_calls_button.show()

    def _update_counts(self, *_: Any) -> None:
        counts = self.model.open_counts_by_priority()
        parts = [f"P{p} {counts.get(p, 0)}" for p in (1, 2, 3, 4)]
        others = sum(n for p, n in counts.items() if p not in (1, 2, 3, 4))
        if others:
            parts.append(f"other {others}")
        new = len(self.model.unacked_ids())
        self.counts_label.setText("  ·  ".join(parts) + (f"   |   {new} new" if new else ""))

    def visible_call_ids(self) -> list[str]:
        """Call ids in the order shown (after filter and sort)."""
        return [
            str(self.proxy.index(r, 0).data(CALL_ID_ROLE)) for r in range(self.proxy.rowCount())
        ]

    def selected_call_id(self) -> str | None:
        """The analyst's call, also while a filter hides its row."""
        if self._chosen_id is not None and self.model.call(self._chosen_id) is not None:
            return self._chosen_id
        current = self.table.currentIndex()
        return str(current.data(CALL_ID_ROLE)) if current.isValid() else None

    def select_call(self, call_id: str) -> bool:
        """Make ``call_id`` the current row (emits ``call_selected``); False if not shown."""
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if index.data(CALL_ID_ROLE) == call_id:
                self.table.selectionModel().setCurrentIndex(
                    index,
                    QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows,
                )
                self.table.scrollTo(index)
                return True
        return False

    def _scroll_to(self, call_id: str) -> None:
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if index.data(CALL_ID_ROLE) == call_id:
                self.table.scrollTo(index)
                return

    def step(self, delta: int) -> None:
        """Select the next (+1) or previous (-1) call in display order."""
        count = self.proxy.rowCount()
        if count == 0:
            return
        current = self.table.currentIndex()
        row = current.row() + delta if current.isValid() else (0 if delta > 0 else count - 1)
        row = max(0, min(count - 1, row))
        call_id = self.proxy.index(row, 0).data(CALL_ID_ROLE)
        if call_id:
            self.select_call(str(call_id))

    def set_offline(self, text: str | None) -> None:
        """Show (text) or hide (None) the banner above the queue."""
        self.offline_banner.setText(text or "")
        self.offline_banner.setVisible(bool(text))
