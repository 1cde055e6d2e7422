"""The shortcut sheet (F1): every action of the window that has a key, grouped by menu,
read from the actions themselves so it can never disagree with what the keys do."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMainWindow,
    QMenu,
    QVBoxLayout,
    QWidget,
)

EXTRA = [
    ("Camera list", "Enter / double-click", "Open the camera live, or offer a footage request"),
    ("Camera list", "Drag to a wall tile", "Open it on that tile"),
    ("Wall", "Double-click / Esc", "Maximise a tile / back to the layout"),
    ("Wall", "Ctrl+Shift+O", "Open the selected call's top live cameras"),
    ("Calls", "Esc (in the search box)", "Clear the search"),
]


def shortcut_rows(window: QMainWindow) -> list[tuple[str, str, str]]:
    """``(menu, keys, action)`` for every menu action with a shortcut, then the fixed ones."""
    rows: list[tuple[str, str, str]] = []
    for menu_action in window.menuBar().actions():
        menu = menu_action.menu()
        if not isinstance(menu, QMenu):
            continue
        title = menu_action.text().replace("&", "")
        for action in menu.actions():
            keys = _keys(action)
            if keys:
                rows.append((title, keys, action.text().replace("&", "")))
    return rows + EXTRA


def _keys(action: QAction) -> str:
    return " / ".join(
        k.toString(QKeySequence.SequenceFormat.NativeText)
        for k in action.shortcuts()
        if not k.isEmpty()
    )


class ShortcutSheet(QDialog):
    def __init__(self, window: QMainWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent or window)
        self.setObjectName("ShortcutSheet")
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(window)
        html = ["<table cellspacing='0' cellpadding='3'>"]
        last = ""
        for menu, keys, what in rows:
            if menu != last:
                html.append(f"<tr><td colspan='2'><b>{menu}</b></td></tr>")
                last = menu
            html.append(
                f"<tr><td style='padding-right:18px'><code>{keys}</code></td><td>{what}</td></tr>"
            )
        html.append("</table>")
        self.table = QLabel("".join(html), self)
        self.table.setTextFormat(Qt.TextFormat.RichText)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(self.table)
        box.addWidget(buttons)
