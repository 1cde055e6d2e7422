"""Window geometry that fits the screen it opens on (a 1600x960 default pushed the status
bar off a 1920x1200 screen once the task bar took its share, and off a 1366x768 laptop).

The window manager's frame (title bar, borders) is outside the geometry Qt sets, so the
fit leaves room for it: the real frame once the window is decorated, else a generous
estimate, and the window is fitted again once the frame is known.
"""

from __future__ import annotations

from PySide6.QtCore import QMargins, QRect, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

PREFERRED = (1600, 960)
#: title bar + borders assumed before the window manager has decorated the window
ASSUMED_FRAME = QMargins(4, 40, 4, 4)


def fitted_rect(
    available: QRect,
    preferred: tuple[int, int] = PREFERRED,
    margin: float = 0.96,
    frame: QMargins = QMargins(),  # noqa: B008 (immutable value)
) -> QRect:
    """The client rectangle: the preferred size shrunk so that, with its ``frame``, it
    takes at most ``margin`` of the available area, centred in it."""
    width = min(preferred[0], int(available.width() * margin) - frame.left() - frame.right())
    height = min(preferred[1], int(available.height() * margin) - frame.top() - frame.bottom())
    outer_w = width + frame.left() + frame.right()
    outer_h = height + frame.top() + frame.bottom()
    left = available.left() + (available.width() - outer_w) // 2 + frame.left()
    top = available.top() + (available.height() - outer_h) // 2 + frame.top()
    return QRect(left, top, width, height)


def frame_margins(window: QWidget) -> QMargins:
    frame, inner = window.frameGeometry(), window.geometry()
    margins = QMargins(
        inner.left() - frame.left(),
        inner.top() - frame.top(),
        frame.right() - inner.right(),
        frame.bottom() - inner.bottom(),
    )
    known = window.isVisible() and (margins.top() > 0 or margins.left() > 0)
    return margins if known else ASSUMED_FRAME


def fit_to_screen(
    window: QWidget, preferred: tuple[int, int] = PREFERRED, *, force: bool = False
) -> None:
    """Size a new window for its screen, or pull a restored one back onto it (``force``:
    always use the fitted default). Checked again once the window manager has framed it."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        window.resize(*preferred)
        return
    available = screen.availableGeometry()
    if force or not available.contains(window.frameGeometry()) or window.width() <= 0:
        window.setGeometry(fitted_rect(available, preferred, frame=frame_margins(window)))
    if QGuiApplication.platformName() not in (
        "offscreen",
        "minimal",
    ):  # a real screen and window manager
        QTimer.singleShot(500, lambda: _refit_if_outside(window, preferred))


def _refit_if_outside(window: QWidget, preferred: tuple[int, int]) -> None:
    import shiboken6

    if not shiboken6.isValid(window) or not window.isVisible():
        return
    screen = window.screen()
    if screen is None:
        return
    available = screen.availableGeometry()
    if not available.contains(window.frameGeometry()):
        window.setGeometry(fitted_rect(available, preferred, frame=frame_margins(window)))
