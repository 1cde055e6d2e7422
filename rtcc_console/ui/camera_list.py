"""The camera list: the selected call's nearest cameras, ranked locally, with what the
analyst may do with each (view live now / request footage / nothing, and why).

Rows are dragged to the wall as ``CAMERA_MIME`` JSON; double-click or Enter on an
integrated camera asks the main window to open it (``camera_activated``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRectF,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QCursor,
    QFont,
    QGuiApplication,
    QIcon,
    QKeyEvent,
    QPainter,
    QPen,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from rtcc_console.client.nearest import CameraOption
from rtcc_console.core.models import SharingMode, Tier
from rtcc_console.ui.camera_style import STALE, marker_colour
from rtcc_console.ui.map_rows import stale_label
from rtcc_console.ui.wall import CAMERA_MIME

COLUMNS = ("#", "Camera", "You may", "Distance", "View", "Owner", "Because")
COL_TIER, COL_NAME, COL_ACTION, COL_DISTANCE, COL_WHY, COL_OWNER, COL_BECAUSE = range(len(COLUMNS))
CAMERA_ID_ROLE = Qt.ItemDataRole.UserRole + 11
ACTION_COLOURS = {"live": "#7fd88f", "request": "#e8c36a", "none": "#a0a6ad"}
COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")

_Index = QModelIndex | QPersistentModelIndex
_icons: dict[tuple[Tier, SharingMode, bool], QIcon] = {}


def camera_icon(tier: Tier, mode: SharingMode, stale: bool = False) -> QIcon:
    """Drawn, not loaded, in the map's marker style (``ui.camera_style``): a hollow grey
    ring for registered cameras (footage by request), a filled disc coloured by sharing
    mode for integrated ones, a dashed grey ring for a camera its owner did not confirm."""
    key = (tier, mode, stale)
    if key not in _icons:
        colour, filled = (STALE, False) if stale else marker_colour(tier, mode)
        pix = QPixmap(32, 32)
        pix.fill(Qt.GlobalColor.transparent)
        p = QPainter(pix)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor(colour))
        pen.setWidthF(2.0 if filled else 4.0)
        if stale:
            pen.setStyle(Qt.PenStyle.DotLine)
        p.setPen(pen)
        p.setBrush(QColor(colour) if filled else Qt.GlobalColor.transparent)
        p.drawEllipse(QRectF(6, 6, 20, 20))
        p.end()
        _icons[key] = QIcon(pix)
    return _icons[key]


def stale_text(opt: CameraOption) -> str | None:
    """The list's "Not confirmed since <date>" for a camera its owner did not confirm in time."""
    label = stale_label(opt.camera)
    if label is None:
        return None
    return f"Not confirmed since {label}" if label else "Never confirmed by its owner"


def view_text(explanation: str) -> str:
    """The explanation without its leading "514 m NE, " (the Distance column shows it)."""
    head, sep, rest = explanation.partition(", ")
    return rest if sep and head.split(" ", 1)[0].replace(".", "").isdigit() else explanation


def compass(bearing_deg: float) -> str:
    return COMPASS[int(((bearing_deg % 360) + 22.5) // 45) % 8]


class CameraListModel(QAbstractTableModel):
    """The ranked options of one call."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[CameraOption] = []
        self._shared_names: set[str] = set()

    def set_options(self, rows: Sequence[CameraOption]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        names = [o.camera.name for o in self._rows]
        self._shared_names = {n for n in names if names.count(n) > 1}
        self.endResetModel()

    def display_name(self, opt: CameraOption) -> str:
        """The name, with the id when another listed camera has the same name."""
        name = opt.camera.name
        return f"{name} ({opt.camera.id})" if name in self._shared_names else name

    def options(self) -> list[CameraOption]:
        return list(self._rows)

    def option_at(self, row: int) -> CameraOption:
        return self._rows[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else base

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        opt = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_NAME:
                return self.display_name(opt)
            if col == COL_DISTANCE:
                return f"{opt.distance_m:.0f} m {compass(opt.bearing_deg)}"
            if col == COL_WHY:
                return view_text(opt.explanation)
            if col == COL_OWNER:
                return opt.camera.kind.value
            if col == COL_ACTION:
                return opt.action_text
            if col == COL_BECAUSE:
                stale = stale_text(opt)
                return f"{stale} · {opt.why}" if stale else opt.why
            return str(index.row() + 1)  # the rank, as labelled on the map
        if role == Qt.ItemDataRole.DecorationRole and col == COL_TIER:
            return camera_icon(opt.camera.tier, opt.camera.sharing_mode, opt.camera.stale)
        if role == Qt.ItemDataRole.ToolTipRole:
            stale = stale_text(opt)
            if col == COL_ACTION:
                return opt.why
            if col == COL_TIER:
                return f"{opt.camera.tier.value} camera" + (f" — {stale.lower()}" if stale else "")
            return f"{opt.camera.name} ({opt.camera.id}) — {opt.why}" + (
                f"\n{stale}" if stale else ""
            )
        if role == Qt.ItemDataRole.ForegroundRole and col == COL_NAME and opt.camera.stale:
            return QBrush(QColor(STALE).darker(130))
        if role == Qt.ItemDataRole.FontRole and col == COL_NAME and opt.camera.stale:
            font = QFont()
            font.setItalic(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and col in (COL_ACTION, COL_BECAUSE):
            return QBrush(QColor(ACTION_COLOURS[opt.action]))
        if role == CAMERA_ID_ROLE:
            return opt.camera.id
        return None

    def mimeTypes(self) -> list[str]:
        return [CAMERA_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        mime = QMimeData()
        rows = sorted({i.row() for i in indexes if i.isValid()})
        if rows:
            cam = self._rows[rows[0]].camera
            action = self._rows[rows[0]].action  # "request": the wall offers a footage request
            payload = {
                "camera_id": cam.id,
                "name": cam.name,
                "tier": cam.tier.value,
                "action": action,
            }
            mime.setData(CAMERA_MIME, json.dumps(payload).encode())
            mime.setText(cam.name)
        return mime


class _CameraTable(QTableView):
    activated_row = Signal(int)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.activated_row.emit(self.currentIndex().row())
            return
        super().keyPressEvent(event)


class CameraList(QWidget):
    """Shows the ranked cameras of the selected call; ``camera_activated(camera_id)``.

    Right-click offers every action on the camera under the pointer: open live (when the
    analyst may), request footage, show on map, copy its id, and why it has its rank. The
    columns fit the panel's width (the View and Owner columns step aside on a narrow
    panel; every cell has its full text as a tooltip), so there is no sideways scrolling.
    """

    camera_activated = Signal(str)
    camera_selected = Signal(str)
    footage_wanted = Signal(str)
    show_on_map_wanted = Signal(str)
    OPTIONAL_COLUMNS = (COL_WHY, COL_OWNER)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("CameraList")
        self.model = CameraListModel(self)
        self.caption = QLabel("Select a call to list its nearest cameras.", self)
        self.caption.setObjectName("CameraListCaption")
        self.caption.setWordWrap(True)
        self.table = _CameraTable(self)
        self.table.setObjectName("CameraTable")
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setDragEnabled(True)
        self.table.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_BECAUSE, QHeaderView.ResizeMode.Stretch)
        for col in (COL_TIER, COL_DISTANCE, COL_WHY, COL_OWNER, COL_ACTION):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(COL_NAME, self.fontMetrics().horizontalAdvance("M" * 12))
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.last_menu: QMenu | None = None
        self.why_box: QMessageBox | None = None
        self.table.doubleClicked.connect(lambda idx: self._activate(idx.row()))
        self.table.activated_row.connect(self._activate)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(self.caption)
        box.addWidget(self.table, 1)

    def set_options(self, rows: Sequence[CameraOption], caption: str) -> None:
        self.model.set_options(rows)
        self.caption.setText(caption)
        self._fit_columns()

    # -- columns that fit --------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Hide the optional columns when the essential ones would not fit otherwise."""
        header = self.table.horizontalHeader()
        for col in self.OPTIONAL_COLUMNS:
            self.table.setColumnHidden(col, False)
        self.table.resizeColumnsToContents()
        header.resizeSection(
            COL_NAME,
            min(header.sectionSize(COL_NAME), self.fontMetrics().horizontalAdvance("M" * 12)),
        )
        room = self.table.viewport().width()
        needed = sum(header.sectionSize(c) for c in range(len(COLUMNS)) if c != COL_BECAUSE) + 80
        for col in self.OPTIONAL_COLUMNS:
            if needed <= room:
                break
            needed -= header.sectionSize(col)
            self.table.setColumnHidden(col, True)

    # -- actions ------------------------------------------------------------------------
    def select_camera(self, camera_id: str) -> int | None:
        """Select the camera's row (a click on the map); its row, or None if not listed."""
        for row, opt in enumerate(self.model.options()):
            if opt.camera.id == camera_id:
                self.table.selectRow(row)
                self.table.scrollTo(self.model.index(row, 0))
                return row
        return None

    def offer_actions(self, camera_id: str) -> bool:
        """Select the camera and open its action menu at the pointer (a map click)."""
        row = self.select_camera(camera_id)
        if row is None:
            return False
        self._menu_for(row).popup(QCursor.pos())
        return True

    def _context_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        self.table.selectRow(index.row())
        self._menu_for(index.row()).popup(self.table.viewport().mapToGlobal(pos))

    def _menu_for(self, row: int) -> QMenu:
        opt = self.model.option_at(row)
        index = self.model.index(row, 0)
        menu = QMenu(self)
        live = menu.addAction("Open live on the wall")
        live.setEnabled(opt.action == "live")
        live.triggered.connect(lambda: self.camera_activated.emit(opt.camera.id))
        menu.addAction("Request footage…").triggered.connect(
            lambda: self.footage_wanted.emit(opt.camera.id)
        )
        menu.addAction("Show on map").triggered.connect(
            lambda: self.show_on_map_wanted.emit(opt.camera.id)
        )
        menu.addAction("Copy camera id").triggered.connect(
            lambda: QGuiApplication.clipboard().setText(opt.camera.id)
        )
        menu.addAction("Why this rank?").triggered.connect(lambda: self.explain(index.row()))
        self.last_menu = menu
        return menu

    def explain(self, row: int) -> None:
        """Why the camera is where it is in the list, in words (non-modal)."""
        opt = self.model.option_at(row)
        text = (
            f"#{row + 1} {opt.camera.name} ({opt.camera.id})\n\n"
            f"{opt.distance_m:.0f} m {compass(opt.bearing_deg)} of the call; {opt.explanation}.\n"
            f"Score {opt.score:.2f} (nearer, facing the scene and live-capable rank higher).\n\n"
            f"You may: {opt.action_text} — {opt.why}"
        )
        stale = stale_text(opt)
        if stale:
            text += (
                f"\n\n{stale}: its owner did not answer the yearly “still there?” question, so "
                "the camera may be gone. It stays listed; a confirmed camera at the same "
                "distance ranks first."
            )
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "Why this rank",
            text,
            QMessageBox.StandardButton.Close,
            self,
        )
        box.setModal(False)
        box.show()
        self.why_box = box

    def _activate(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            self.camera_activated.emit(self.model.option_at(row).camera.id)

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.camera_selected.emit(self.model.option_at(current.row()).camera.id)
