"""Window geometry that fits the screen it opens on (a 1600x960 default pushed the status
bar off a 1920x1200 screen once the task bar took its share, and off a 1366x768 laptop)."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

PREFERRED = (1600, 960)


def fitted_rect(available: QRect, preferred: tuple[int, int] = PREFERRED, margin: float = 0.96) -> QRect:
    """The preferred size, shrunk to ``margin`` of the available area, centred in it."""
    width = min(preferred[0], int(available.width() * margin))
    height = min(preferred[1], int(available.height() * margin))
    left = available.left() + (available.width() - width) // 2
    top = available.top() + (available.height() - height) // 2
    return QRect(left, top, width, height)


def fit_to_screen(window: QWidget, preferred: tuple[int, int] = PREFERRED, *, force: bool = False) -> None:
    """Size a new window for its screen, or pull a restored one back onto it (``force``:
    always use the fitted default)."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        window.resize(*preferred)
        return
    available = screen.availableGeometry()
    frame = window.frameGeometry()
    if force or frame.width() <= 0 or frame.height() <= 0 or not available.contains(frame):
        window.setGeometry(fitted_rect(available, preferred))
