"""The wall's toolbar: layout, reason / case number, presets, diagnostics, snapshot.

The reason field matters: the server records it with every live grant, and the wall
refuses to open a camera without one (the field turns red and a message says why).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QInputDialog, QLabel, QLineEdit, QToolBar

if TYPE_CHECKING:
    from rtcc_console.ui.wall.wall import VideoWall


class WallActions(QObject):
    """The wall's actions; ``open_top`` is the one the console also puts in its menus."""

    def __init__(self, wall: VideoWall) -> None:
        super().__init__(wall)
        self.open_top = QAction("Open top cameras", wall)
        self.open_top.setShortcut(QKeySequence("Ctrl+Shift+O"))
        self.open_top.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.open_top.setToolTip(
            "Open the top-ranked integrated cameras of the selected call (Ctrl+Shift+O)"
        )
        self.open_top.triggered.connect(wall.open_top_requested)
        self.stats = QAction("Stats (i)", wall)
        self.stats.setCheckable(True)
        self.stats.setToolTip("Show fps, drops, latency and decode time on every tile (key i)")
        self.stats.toggled.connect(wall.set_show_stats)
        self.snapshot = QAction("Snapshot", wall)
        self.snapshot.setToolTip("Save the selected tile's frame as an audited PNG")
        self.snapshot.triggered.connect(lambda: wall.take_snapshot())
        self.clip = QAction("Save 30 s", wall)
        self.clip.setToolTip(
            "Save the selected tile's last 30 seconds as an audited MP4 (no re-encoding)"
        )
        self.clip.triggered.connect(lambda: wall.save_clip())
        self.save_preset = QAction("Save preset…", wall)
        self.save_preset.triggered.connect(lambda: _ask_and_save(wall))
        self.delete_preset = QAction("Delete preset", wall)
        self.delete_preset.triggered.connect(lambda: _delete_current(wall))
        wall.addAction(self.open_top)


def _ask_and_save(wall: VideoWall) -> None:
    name, ok = QInputDialog.getText(wall, "Save wall preset", "Preset name:")
    if ok and name.strip():
        wall.save_preset(name.strip())


def _delete_current(wall: VideoWall) -> None:
    name = wall.toolbar.preset_combo.currentText()
    if name and name in wall.preset_names:
        wall.delete_preset(name)


class WallToolbar(QToolBar):
    """Layout chooser, reason field, presets and the wall's actions."""

    PRESET_PROMPT = "Presets…"

    def __init__(self, wall: VideoWall, actions: WallActions, layouts: list[str]) -> None:
        super().__init__("Video wall", wall)
        self.setMovable(False)
        self.layout_combo = QComboBox(self)
        self.layout_combo.addItems(layouts)
        self.layout_combo.setToolTip("Wall layout")
        self.layout_combo.textActivated.connect(wall.set_layout)
        self.addWidget(self.layout_combo)
        self.addSeparator()
        self.addWidget(QLabel(" Reason / case no. ", self))
        self.reason_edit = QLineEdit(self)
        self.reason_edit.setPlaceholderText("required to open a camera, e.g. 26-001234")
        self.reason_edit.setMinimumWidth(200)
        self.reason_edit.setMaximumWidth(360)
        self.reason_edit.textChanged.connect(self._reason_edited)
        self.addWidget(self.reason_edit)
        self.addSeparator()
        self.addAction(actions.open_top)
        self.addAction(actions.snapshot)
        self.addAction(actions.clip)
        self.addAction(actions.stats)
        self.addSeparator()
        self.preset_combo = QComboBox(self)
        self.preset_combo.setMinimumWidth(120)
        self.preset_combo.addItem(self.PRESET_PROMPT)
        self._wall = wall
        self.preset_combo.textActivated.connect(self._preset_chosen)
        self.addWidget(self.preset_combo)
        self.addAction(actions.save_preset)
        self.addAction(actions.delete_preset)

    def _reason_edited(self, text: str) -> None:
        if text.strip():
            self.mark_reason_missing(False)

    def _preset_chosen(self, name: str) -> None:
        if name != self.PRESET_PROMPT:
            self._wall.restore_preset(name)

    def show_layout(self, name: str) -> None:
        if self.layout_combo.currentText() != name:
            self.layout_combo.setCurrentText(name)

    def show_presets(self, names: list[str]) -> None:
        self.preset_combo.clear()
        self.preset_combo.addItem(self.PRESET_PROMPT)
        self.preset_combo.addItems(names)

    def mark_reason_missing(self, missing: bool) -> None:
        self.reason_edit.setStyleSheet("border: 2px solid #dc2626;" if missing else "")
        if missing:
            self.reason_edit.setFocus()
