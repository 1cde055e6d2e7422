"""The window fits its screen; Reset layout; the F1 shortcut sheet lists the real keys."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QRect

from rtcc_console.ui.screen_fit import fitted_rect

pytestmark = pytest.mark.gui


@pytest.mark.parametrize(
    ("available", "expected_size"),
    [
        (QRect(0, 0, 1920, 1160), (1600, 960)),  # 1920x1200 with a 40 px task bar
        (QRect(0, 0, 1366, 728), (1303, 654)),  # 1366x768 laptop
        (QRect(1920, 0, 1280, 1024), (1220, 939)),  # a second screen to the right
    ],
)
def test_fitted_rect_stays_on_the_screen_with_its_frame(
    available: QRect, expected_size: tuple[int, int]
) -> None:
    from PySide6.QtCore import QMargins

    frame = QMargins(4, 40, 4, 4)
    rect = fitted_rect(available, frame=frame)
    assert (rect.width(), rect.height()) == expected_size
    assert available.contains(rect.marginsAdded(frame))


def test_a_window_restored_off_screen_comes_back(qtbot: Any) -> None:
    from PySide6.QtWidgets import QMainWindow

    from rtcc_console.ui.screen_fit import fit_to_screen

    window = QMainWindow()
    qtbot.addWidget(window)
    window.setGeometry(5000, 4000, 3000, 2000)  # saved on a screen that is gone
    fit_to_screen(window)
    available = window.screen().availableGeometry()
    assert available.contains(window.geometry())


def test_shortcut_sheet_and_reset_layout(
    console_server: Any, make_console: Any, qtbot: Any
) -> None:
    from rtcc_console.ui.shortcut_sheet import shortcut_rows

    window, _api = make_console(console_server.base)
    rows = shortcut_rows(window)
    keys = {what: k for _menu, k, what in rows}
    assert keys["Next call"].startswith("Ctrl+Down") and keys["Keyboard shortcuts"] == "F1"
    assert keys["Acknowledge new calls"] == "Ctrl+Shift+A"
    window.shortcuts_action.trigger()
    qtbot.waitUntil(lambda: window.shortcut_sheet.isVisible(), timeout=2000)
    assert "Open top cameras on the wall" in window.shortcut_sheet.table.text()
    window.shortcut_sheet.close()
    dock = window.docks["cameras"]
    dock.setFloating(True)
    window.docks["wall"].hide()
    window.reset_layout_action.trigger()
    assert not dock.isFloating() and window.docks["wall"].isVisible()


def test_quitting_with_live_views_open_asks_first(
    console_server: Any, make_console: Any, qtbot: Any
) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMessageBox

    window, _api = make_console(console_server.base)
    window.wall.live_view_count = lambda: 2  # type: ignore[method-assign]

    def answer(button_text: str) -> None:
        def click() -> None:
            box = window.quit_box
            assert "2 live views are open" in box.text()
            target = next(b for b in box.buttons() if b.text().replace("&", "") == button_text)
            target.click()

        QTimer.singleShot(200, click)

    answer("Cancel")
    window.quit_action.trigger()
    assert window.isVisible()
    answer("Quit")
    window.quit_action.trigger()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=3000)
    assert isinstance(window.quit_box, QMessageBox)


def test_quit_without_live_views_does_not_ask(
    console_server: Any, make_console: Any, qtbot: Any
) -> None:
    window, _api = make_console(console_server.base)
    window.quit_action.trigger()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=3000)
    assert not hasattr(window, "quit_box")


def test_every_panel_together_fits_a_1366x768_screen(
    console_server: Any, make_console: Any
) -> None:
    window, _api = make_console(console_server.base)
    hint = window.minimumSizeHint()
    from rtcc_console.ui.screen_fit import ASSUMED_FRAME

    fitted = fitted_rect(
        QRect(0, 0, 1366, 728), frame=ASSUMED_FRAME
    )  # a 1366x768 laptop, 40 px task bar
    assert hint.width() <= fitted.width() and hint.height() <= fitted.height(), (hint, fitted)
