"""The dispatch queue: open calls, most urgent first, updated in place as events arrive.

``CallTableModel`` is keyed by call id and version-aware: an event replayed after a
reconnect, or an older version arriving late, never duplicates a row or turns it back.
Rows sort by priority (1 first), then newest first; every column sorts by its own key. The
age column ticks every second; only that column (and flashing new rows) is announced as
changed, so the view repaints little.

A call that arrives by event after the first load is *new* (``call_arrived``) and stays
unacknowledged (bold, flashing marker) until the analyst selects it or acknowledges it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont

from rtcc_console.core.models import CallStatus, DispatchCall

COLUMNS = ("P", "Incident", "Type", "Address", "Reported", "Age", "Status")
COL_PRIORITY, COL_INCIDENT, COL_TYPE, COL_ADDRESS, COL_REPORTED, COL_AGE, COL_STATUS = range(
    len(COLUMNS)
)
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
CALL_ID_ROLE = Qt.ItemDataRole.UserRole + 2

#: background per priority, dim enough for a dark control room, distinct enough to scan
PRIORITY_COLOURS = {1: "#7a1f24", 2: "#7a4a12", 3: "#5e5a16", 4: "#1f4a5e"}
DEFAULT_PRIORITY_COLOUR = "#2b3138"
#: a new, unacknowledged row alternates with this colour
FLASH_COLOUR = "#c8323c"
CLOSED_COLOUR = "#30343a"
NEW_MARK = "●"
_STATUS_ORDER = {status: i for i, status in enumerate(CallStatus)}

_Index = QModelIndex | QPersistentModelIndex


def format_age(seconds: float) -> str:
    """Compact age: 45s, 12m, 3h05."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    return f"{s // 3600}h{(s % 3600) // 60:02d}"


class CallTableModel(QAbstractTableModel):
    """Calls keyed by id, with the version each row was built from."""

    #: a call inserted by an event (not by a load): the queue alerts and holds it
    call_arrived = Signal(object)  # DispatchCall

    def __init__(self, parent: Any = None, *, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(parent)
        self._calls: list[DispatchCall] = []
        self._versions: dict[str, int] = {}
        self._row_of: dict[str, int] = {}
        self._clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self._loading = False
        self._unacked: set[str] = set()
        self._flash_on = False
        self.zone: tzinfo | None = None  # agency time zone for shown times (None: local)
        self.ticker = QTimer(self)
        self.ticker.setInterval(1000)
        self.ticker.timeout.connect(self.tick)
        self.ticker.start()

    # -- data in ---------------------------------------------------------------------
    def upsert(self, call: DispatchCall, version: int) -> bool:
        """Insert or update in place; returns False when ``version`` is not newer."""
        row = self._row_of.get(call.id)
        if row is None:
            row = len(self._calls)
            self.beginInsertRows(QModelIndex(), row, row)
            self._calls.append(call)
            self._versions[call.id] = version
            self._row_of[call.id] = row
            self.endInsertRows()
            if not self._loading:
                self._unacked.add(call.id)
                self.call_arrived.emit(call)
            return True
        if version < self._versions[call.id] or (version == self._versions[call.id] and version):
            return False  # replay or out-of-order older version
        self._calls[row] = call
        self._versions[call.id] = version
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
        return True

    def replace_all(self, items: list[tuple[DispatchCall, int]]) -> None:
        """A fresh snapshot (initial load or after a resync)."""
        self.beginResetModel()
        self._calls = [c for c, _ in items]
        self._versions = {c.id: v for c, v in items}
        self._row_of = {c.id: i for i, c in enumerate(self._calls)}
        self.endResetModel()

    def merge(self, items: list[tuple[DispatchCall, int]], drop_before: datetime | None) -> None:
        """Merge a snapshot in place (selection survives): newer versions win; with
        ``drop_before`` (when the snapshot was requested), rows missing from it and older
        than that go away (closed meanwhile); rows created by events since then stay."""
        seen = set()
        self._loading = True
        try:
            for call, version in items:
                seen.add(call.id)
                self.upsert(call, version)
        finally:
            self._loading = False
        if drop_before is None:
            return
        gone = [c.id for c in self._calls if c.id not in seen and c.updated_at < drop_before]
        for call_id in gone:
            self.remove(call_id)

    def remove(self, call_id: str) -> None:
        row = self._row_of.get(call_id)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._calls[row]
        del self._versions[call_id]
        self._unacked.discard(call_id)
        self._row_of = {c.id: i for i, c in enumerate(self._calls)}
        self.endRemoveRows()

    def call(self, call_id: str) -> DispatchCall | None:
        row = self._row_of.get(call_id)
        return None if row is None else self._calls[row]

    def version(self, call_id: str) -> int | None:
        return self._versions.get(call_id)

    def call_at(self, row: int) -> DispatchCall:
        return self._calls[row]

    def calls(self) -> list[DispatchCall]:
        return list(self._calls)

    def open_count(self) -> int:
        return sum(1 for c in self._calls if c.status.is_open)

    def open_counts_by_priority(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for c in self._calls:
            if c.status.is_open:
                counts[c.priority] = counts.get(c.priority, 0) + 1
        return counts

    def now(self) -> datetime:
        return self._clock()

    # -- acknowledgement -------------------------------------------------------------
    def is_unacked(self, call_id: str) -> bool:
        return call_id in self._unacked

    def unacked_ids(self) -> set[str]:
        return set(self._unacked)

    def acknowledge(self, call_id: str) -> bool:
        """Mark a new call as seen; True when it was unacknowledged."""
        if call_id not in self._unacked:
            return False
        self._unacked.discard(call_id)
        self._row_changed(call_id)
        return True

    def _row_changed(self, call_id: str) -> None:
        row = self._row_of.get(call_id)
        if row is not None:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def tick(self) -> None:
        """Ages moved on: repaint the age column; new rows flash."""
        if self._calls:
            last = len(self._calls) - 1
            self.dataChanged.emit(
                self.index(0, COL_AGE), self.index(last, COL_AGE), [Qt.ItemDataRole.DisplayRole]
            )
        self._flash_on = not self._flash_on
        for call_id in self._unacked:
            self._row_changed(call_id)

    # -- Qt model --------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._calls)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        call = self._calls[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(call, col)
        if role == SORT_ROLE:
            return self._sort_key(call, col)
        if role == CALL_ID_ROLE:
            return call.id
        if role == Qt.ItemDataRole.BackgroundRole:
            if call.id in self._unacked and self._flash_on:
                return QBrush(QColor(FLASH_COLOUR))
            if not call.status.is_open:
                return QBrush(QColor(CLOSED_COLOUR))
            return QBrush(QColor(PRIORITY_COLOURS.get(call.priority, DEFAULT_PRIORITY_COLOUR)))
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(QColor("#f2f2f2" if call.status.is_open else "#9aa0a6"))
        if role == Qt.ItemDataRole.FontRole and call.id in self._unacked:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            reported = call.reported_at.astimezone(self.zone).strftime("%H:%M:%S %Z")
            new = " · NEW: not acknowledged" if call.id in self._unacked else ""
            return f"{call.incident_id} · {call.type_text} · priority {call.priority} · reported {reported}{new}"
        return None

    @staticmethod
    def _sort_key(call: DispatchCall, col: int) -> tuple[Any, ...]:
        newest_first = -call.reported_at.timestamp()
        if col == COL_INCIDENT:
            return (call.incident_id,)
        if col == COL_TYPE:
            return ((call.type_text or call.type_code).lower(), call.priority, newest_first)
        if col == COL_ADDRESS:
            return ((call.address or "").lower(), call.priority, newest_first)
        if col in (COL_REPORTED, COL_AGE):
            return (newest_first, call.priority)
        if col == COL_STATUS:
            return (_STATUS_ORDER.get(call.status, 99), call.priority, newest_first)
        # priority ascending, then newest first
        return (call.priority, newest_first)

    def _display(self, call: DispatchCall, col: int) -> str:
        if col == COL_PRIORITY:
            return f"{NEW_MARK} {call.priority}" if call.id in self._unacked else str(call.priority)
        if col == COL_INCIDENT:
            return call.incident_id
        if col == COL_REPORTED:
            local = call.reported_at.astimezone(self.zone)
            today = self._clock().astimezone(self.zone).date()
            return local.strftime("%H:%M:%S" if local.date() == today else "%b %d %H:%M")
        if col == COL_TYPE:
            return call.type_text or call.type_code
        if col == COL_ADDRESS:
            return call.address or (
                f"{call.location.lat:.5f}, {call.location.lon:.5f}" if call.location else "—"
            )
        if col == COL_AGE:
            return format_age((self._clock() - call.reported_at).total_seconds())
        return call.status.value.replace("_", " ")


class CallFilterProxy(QSortFilterProxyModel):
    """Filters by status, type and priority plus free text; sorts by priority then time.

    Calls in ``held`` are not shown yet (new calls waiting behind the queue's marker while
    the analyst works in it). With an open-status filter, a call closed less than
    ``linger_s`` ago stays (greyed) so that it does not vanish under the pointer.
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.statuses: set[CallStatus] | None = None
        self.type_text: str = ""
        self.max_priority: int | None = None
        self.text: str = ""
        self.held: set[str] = set()
        self.linger_s: float = 0.0
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    def set_filters(
        self,
        *,
        statuses: set[CallStatus] | None = None,
        type_text: str = "",
        max_priority: int | None = None,
        text: str = "",
    ) -> None:
        self.beginFilterChange()
        self.statuses, self.type_text, self.max_priority, self.text = (
            statuses,
            type_text.strip().lower(),
            max_priority,
            text.strip().lower(),
        )
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        model = self.sourceModel()
        assert isinstance(model, CallTableModel)
        call = model.call_at(source_row)
        if call.id in self.held:
            return False
        if self.statuses is not None and call.status not in self.statuses:
            if call.status.is_open or not self.linger_s:
                return False
            if model.now() - call.updated_at > timedelta(seconds=self.linger_s):
                return False
        if self.max_priority is not None and call.priority > self.max_priority:
            return False
        if self.type_text and self.type_text not in f"{call.type_code} {call.type_text}".lower():
            return False
        if self.text:
            hay = f"{call.incident_id} {call.type_code} {call.type_text} {call.address or ''} {call.status.value}".lower()
            return self.text in hay
        return True

    def lessThan(self, left: _Index, right: _Index) -> bool:
        a = left.data(SORT_ROLE)
        b = right.data(SORT_ROLE)
        return bool(a < b)

    def set_held(self, held: set[str]) -> None:
        self.beginFilterChange()
        self.held = set(held)
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def refilter(self) -> None:
        """Re-evaluate time-dependent rows (closed calls whose linger ran out)."""
        self.beginFilterChange()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
