"""Sign-in dialog, idle lock, 401 handling and layout persistence, against the real server."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from PySide6.QtCore import Qt

from rtcc_console.client.api import ApiClient
from rtcc_console.ui.sign_in import SignInDialog
from rtcc_console.ui.tasks import run_in_background
from tests.gui.conftest import PASSWORD, ConsoleServer

pytestmark = pytest.mark.gui


def test_sign_in_dialog_notice_wrong_password_then_success(
    qtbot: Any, console_server: ConsoleServer
) -> None:
    notice = requests.get(f"{console_server.base}/api/v1/system/notice", timeout=5).json()["text"]
    api = ApiClient(console_server.base)
    dialog = SignInDialog(api)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: notice[:40] in dialog.notice_view.toPlainText(), timeout=5000)
    dialog.username.setText("ana")
    dialog.password.setText("not the password")
    dialog.sign_in_button.click()
    qtbot.waitUntil(
        lambda: dialog.error_label.text() == "Wrong user name or password.", timeout=5000
    )
    assert dialog.password.text() == ""
    dialog.password.setText(PASSWORD)
    with qtbot.waitSignal(dialog.signed_in, timeout=5000) as blocker:
        dialog.sign_in_button.click()
    assert blocker.args[0].username == "ana" and api.token


def test_sign_in_dialog_says_when_the_server_is_unreachable(qtbot: Any) -> None:
    dialog = SignInDialog(ApiClient("http://127.0.0.1:9"))
    qtbot.addWidget(dialog)
    dialog.username.setText("ana")
    dialog.password.setText(PASSWORD)
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: "Cannot reach the server" in dialog.error_label.text(), timeout=5000)


def test_sign_in_dialog_says_when_the_account_is_locked(
    qtbot: Any, console_server: ConsoleServer
) -> None:
    api = ApiClient(console_server.base)
    for _ in range(5):
        requests.post(
            f"{console_server.base}/api/v1/auth/login",
            json={"username": "ana", "password": "nope-nope"},
            timeout=5,
        )
    dialog = SignInDialog(api)
    qtbot.addWidget(dialog)
    dialog.username.setText("ana")
    dialog.password.setText(PASSWORD)
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: "locked" in dialog.error_label.text(), timeout=5000)
    assert api.token is None


def test_idle_lock_covers_the_window_until_the_password(
    qtbot: Any, console_server: ConsoleServer, make_console: Any
) -> None:
    window, _api = make_console(console_server.base, idle_lock_ms=300)
    window.docks["evidence"].setFloating(True)
    window.docks["evidence"].show()
    overlay = window.lock_overlay
    qtbot.waitUntil(lambda: overlay.locked, timeout=5000)
    assert overlay.geometry() == window.rect()
    assert not window.docks[
        "evidence"
    ].isVisible()  # a floating panel is hidden, not left uncovered
    assert not window.next_call_action.isEnabled() and not window.open_top_action.isEnabled()
    overlay.password.setText("wrong password!!")
    overlay.unlock_button.click()
    qtbot.waitUntil(lambda: overlay.error_label.text() == "Wrong password.", timeout=5000)
    assert overlay.isVisible()
    overlay.password.setText(PASSWORD)
    with qtbot.waitSignal(overlay.unlocked, timeout=5000):
        overlay.unlock_button.click()
    assert not overlay.isVisible()
    assert window.idle_lock.timer.isActive()
    assert window.docks["evidence"].isVisible()
    assert window.next_call_action.isEnabled()


def test_401_returns_to_sign_in_with_the_layout_kept(
    qtbot: Any, console_server: ConsoleServer, make_console: Any
) -> None:
    window, api = make_console(console_server.base)
    qtbot.waitUntil(lambda: window.live.link.value == "connected", timeout=15000)
    window.docks["evidence"].hide()
    state = window.saveState()
    requests.post(
        f"{console_server.base}/api/v1/auth/logout",
        timeout=5,
        headers={"Authorization": f"Bearer {api.token}"},
    )
    run_in_background(api.me, on_failure=lambda exc: None)  # any request now gets 401
    qtbot.waitUntil(
        lambda: window.session.dialog is not None and window.session.dialog.isVisible(),
        timeout=5000,
    )
    assert window.lock_overlay.isVisible() and not window.lock_overlay.locked
    qtbot.waitUntil(lambda: window.saveState() == state, timeout=15000)  # after the layout pass
    dialog = window.session.dialog
    dialog.username.setText("ana")
    dialog.password.setText(PASSWORD)
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: not window.lock_overlay.isVisible(), timeout=5000)
    qtbot.waitUntil(lambda: window.live.link.value == "connected", timeout=15000)
    qtbot.waitUntil(lambda: window.saveState() == state, timeout=15000)
    assert window.isVisible()


def test_layout_geometry_and_selected_call_restored(
    qtbot: Any, console_server: ConsoleServer, make_console: Any
) -> None:
    calls = [console_server.post_call(priority=p) for p in (1, 2, 3)]
    first, _ = make_console(console_server.base)
    qtbot.waitUntil(lambda: first.call_queue.model.rowCount() == 3, timeout=15000)
    first.resize(700, 560)  # the offscreen screen is 800x800
    first.tabifyDockWidget(first.docks["calls"], first.docks["cameras"])
    first.docks["requests"].hide()
    assert first.call_queue.select_call(calls[2]["id"])
    state = first.saveState()
    first.close()

    second, _ = make_console(console_server.base)
    assert (second.width(), second.height()) == (700, 560)
    qtbot.waitUntil(lambda: second.saveState() == state, timeout=5000)  # after the layout pass
    assert second.docks["requests"].isHidden()
    assert second.docks["cameras"] in second.tabifiedDockWidgets(second.docks["calls"])
    qtbot.waitUntil(lambda: second.call_queue.selected_call_id() == calls[2]["id"], timeout=15000)
    assert second.selection.call_id == calls[2]["id"]


def test_keyboard_next_previous_and_search(
    qtbot: Any, console_server: ConsoleServer, make_console: Any
) -> None:
    calls = [console_server.post_call(priority=p) for p in (1, 2)]
    window, _ = make_console(console_server.base)
    qtbot.waitUntil(lambda: window.call_queue.model.rowCount() == 2, timeout=15000)
    window.activateWindow()
    window.next_call_action.trigger()
    assert window.call_queue.selected_call_id() == calls[0]["id"]
    window.next_call_action.trigger()
    assert window.call_queue.selected_call_id() == calls[1]["id"]
    window.prev_call_action.trigger()
    assert window.call_queue.selected_call_id() == calls[0]["id"]
    assert QtKeys.CTRL_DOWN in [s.toString() for s in window.next_call_action.shortcuts()]
    window.search_action.trigger()
    search = window.call_queue.search_box
    qtbot.waitUntil(lambda: window.focusWidget() is search, timeout=2000)
    qtbot.keyClicks(search, "jk")  # J/K step through calls, but not while typing
    assert search.text() == "jk"
    assert window.selection.call_id == calls[0]["id"]  # no step happened


class QtKeys:
    CTRL_DOWN = "Ctrl+Down"


_ = Qt


def test_sign_out_from_the_menu_revokes_and_asks_again(
    qtbot: Any, console_server: ConsoleServer, make_console: Any
) -> None:
    window, api = make_console(console_server.base)
    qtbot.waitUntil(lambda: window.live.link.value == "connected", timeout=15000)
    token = api.token
    ended: list[int] = []
    real_end = window.wall.end_session
    window.wall.end_session = lambda: (ended.append(1), real_end())  # spy: live views end too
    window.sign_out_action.trigger()
    qtbot.waitUntil(
        lambda: window.session.dialog is not None and window.session.dialog.isVisible(),
        timeout=5000,
    )
    assert window.lock_overlay.isVisible() and api.token is None
    assert ended == [1] and not window.wall.feeds.feeds

    def revoked() -> bool:
        r = requests.get(
            f"{console_server.base}/api/v1/auth/me",
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
        return r.status_code == 401

    qtbot.waitUntil(revoked, timeout=5000)
