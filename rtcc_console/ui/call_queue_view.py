"""The dispatch queue panel: offline banner, filters, search box and the call table."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from rtcc_console.core.models import CallStatus
from rtcc_console.ui.call_queue import (
    CALL_ID_ROLE,
    COL_ADDRESS,
    COL_AGE,
    COL_PRIORITY,
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


class CallQueue(QWidget):
    """Shows the calls; emits ``call_selected(call_id)`` when the analyst picks one."""

    call_selected = Signal(str)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("CallQueue")
        self.model = CallTableModel(self)
        self.proxy = CallFilterProxy(self)
        self.proxy.setSourceModel(self.model)

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

        self.table = QTableView(self)
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
        header.setSectionsClickable(False)
        header.setSectionResizeMode(COL_ADDRESS, QHeaderView.ResizeMode.Stretch)
        for col in (COL_PRIORITY, COL_AGE, COL_STATUS, COL_TYPE):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)

        filters = QHBoxLayout()
        filters.setContentsMargins(0, 0, 0, 0)
        filters.addWidget(self.status_filter)
        filters.addWidget(self.priority_filter)
        filters.addWidget(self.type_filter, 1)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(self.offline_banner)
        box.addWidget(self.search_box)
        box.addLayout(filters)
        box.addWidget(self.table, 1)
        self._apply_filters()

    # -- filters and selection -------------------------------------------------------
    def _apply_filters(self) -> None:
        self.proxy.set_filters(
            statuses=STATUS_FILTERS[self.status_filter.currentText()],
            max_priority=PRIORITY_FILTERS[self.priority_filter.currentText()],
            type_text=self.type_filter.text(),
            text=self.search_box.text(),
        )

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            call_id = current.data(CALL_ID_ROLE)
            if call_id:
                self.call_selected.emit(str(call_id))

    def visible_call_ids(self) -> list[str]:
        """Call ids in the order shown (after filter and sort)."""
        return [
            str(self.proxy.index(r, 0).data(CALL_ID_ROLE)) for r in range(self.proxy.rowCount())
        ]

    def selected_call_id(self) -> str | None:
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
