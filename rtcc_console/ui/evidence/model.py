"""The table of evidence items: thumbnail, camera, owner kind, requested window, duration,
received time and the hash state, with an integrity failure impossible to overlook."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QImage

from rtcc_console.client.evidence_models import Evidence

_Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("Item", "Hash", "Camera", "Owner", "Requested window", "Duration", "Received")
COL_ITEM, COL_HASH, COL_CAMERA, COL_OWNER, COL_WINDOW, COL_DURATION, COL_RECEIVED = range(7)
HASH_TEXT = {
    "ok": "✔ verified",
    "unverified": "… not yet verified",
    "failed": "✖ INTEGRITY FAILURE",
}
FAILED_BG = QColor("#8b0000")
FAILED_FG = QColor("#ffffff")
THUMB_H = 54


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    whole = int(round(seconds))
    return f"{whole // 60}:{whole % 60:02d}" if whole >= 60 else f"{seconds:.1f} s"


class EvidenceModel(QAbstractTableModel):
    """Rows of ``Evidence``, newest first; ``upsert`` keeps one row per id."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.items: list[Evidence] = []
        self.thumbs: dict[str, QImage] = {}
        self.zone: tzinfo | None = None
        self._bold = QFont()
        self._bold.setBold(True)

    # -- content -----------------------------------------------------------------------
    def set_items(self, items: list[Evidence]) -> None:
        self.beginResetModel()
        self.items = sorted(items, key=self._newest_first)
        self.endResetModel()

    @staticmethod
    def _newest_first(item: Evidence) -> tuple[float, str]:
        return (-(item.received_at.timestamp() if item.received_at else 0.0), item.id)

    def upsert(self, item: Evidence) -> bool:
        """Add or replace ``item``; True when it was new."""
        for row, old in enumerate(self.items):
            if old.id == item.id:
                self.items[row] = item
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
                return False
        row = 0
        key = self._newest_first(item)
        while row < len(self.items) and self._newest_first(self.items[row]) < key:
            row += 1
        self.beginInsertRows(QModelIndex(), row, row)
        self.items.insert(row, item)
        self.endInsertRows()
        return True

    def set_thumbnail(self, evidence_id: str, image: QImage) -> None:
        self.thumbs[evidence_id] = image
        row = self.row_of(evidence_id)
        if row is not None:
            self.dataChanged.emit(self.index(row, COL_ITEM), self.index(row, COL_ITEM))

    def row_of(self, evidence_id: str) -> int | None:
        return next((r for r, i in enumerate(self.items) if i.id == evidence_id), None)

    def item_at(self, row: int) -> Evidence:
        return self.items[row]

    def failed_count(self) -> int:
        return sum(1 for i in self.items if i.integrity_failed)

    # -- Qt ----------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item = self.items[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display(item, col)
        if role == Qt.ItemDataRole.DecorationRole and col == COL_ITEM:
            return self.thumbs.get(item.id)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(item)
        if item.integrity_failed:
            if role == Qt.ItemDataRole.BackgroundRole:
                return QBrush(FAILED_BG)
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(FAILED_FG)
            if role == Qt.ItemDataRole.FontRole:
                return self._bold
        if role == Qt.ItemDataRole.UserRole:
            return item.id
        return None

    def display(self, item: Evidence, col: int) -> str:
        if col == COL_ITEM:
            kind = "still" if item.kind == "image" else "video"
            return f"{item.filename}\n{kind}{' · from ' + item.derived_from if item.derived_from else ''}"
        if col == COL_CAMERA:
            return item.camera_id or "—"
        if col == COL_OWNER:
            return item.owner_kind or "—"  # the kind only: never an owner's name
        if col == COL_WINDOW:
            if item.window_start is None or item.window_end is None:
                return "—"
            return f"{self._time(item.window_start)}\n– {self._time(item.window_end)}"
        if col == COL_DURATION:
            return format_duration(item.media.duration_s) if item.is_video else "still"
        if col == COL_RECEIVED:
            return self._time(item.received_at) if item.received_at else "—"
        if col == COL_HASH:
            return HASH_TEXT.get(item.integrity, item.integrity)
        return ""

    def tooltip(self, item: Evidence) -> str:
        cases = ", ".join(item.case_numbers) or "none"
        state = (
            "INTEGRITY FAILURE: the stored file no longer matches its hash; it will not be served."
            if item.integrity_failed
            else HASH_TEXT.get(item.integrity, item.integrity)
        )
        return (
            f"{item.filename}\nSHA-256 {item.sha256}\n{item.size:,} bytes · cases {cases}\n{state}"
        )

    def _time(self, when: datetime) -> str:
        local = when.astimezone(self.zone) if self.zone else when.astimezone()
        return f"{local:%m-%d %H:%M:%S}"
