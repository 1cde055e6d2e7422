"""The idle lock on a shift: a watched wall never locks, the idle time follows the role,
the lock screen offers sign out / switch user, and unlocking says what arrived meanwhile."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from PySide6.QtWidgets import QWidget

from rtcc_console.core.models import CallStatus, DispatchCall, GeoPoint
from rtcc_console.ui.idle_lock import IdleLock

pytestmark = pytest.mark.gui


def test_a_watched_wall_counts_as_activity(qtbot: Any) -> None:
    root = QWidget()
    qtbot.addWidget(root)
    watching = {"now": True}
    lock = IdleLock(root, 400)
    lock.cursor_poll.setInterval(50)
    lock.activity_probe = lambda: watching["now"]
    fired: list[bool] = []
    lock.idle_timed_out.connect(lambda: fired.append(True))
    lock.restart()
    qtbot.wait(1200)  # three idle periods with video playing in the focused window
    assert fired == []
    watching["now"] = False
    qtbot.waitUntil(lambda: fired == [True], timeout=2000)


def test_idle_time_follows_the_role(qtbot: Any, console_server: Any, make_console: Any) -> None:
    window, api = make_console(console_server.base)  # "ana" is an analyst
    assert window.idle_lock.timer.interval() == window.settings.idle_lock_s * 1000
    api.user = type(api.user)(api.user.username, "supervisor", api.user.expires_at)
    window.apply_role_idle_time()
    assert (
        window.idle_lock.timer.interval() == window.settings.idle_lock_by_role["supervisor"] * 1000
    )


def test_lock_screen_offers_switch_user_and_unlock_summarises(
    qtbot: Any, console_server: Any, make_console: Any
) -> None:
    window, _api = make_console(console_server.base)
    window.lock()
    assert window.lock_overlay.switch_button.isVisible()
    now = datetime.now(UTC)
    for i, p in enumerate((1, 2, 2)):
        window.call_queue.model.upsert(
            DispatchCall(
                id=f"new-{i}",
                incident_id=f"INC-N{i}",
                type_code="ROB",
                type_text="Robbery",
                priority=p,
                status=CallStatus.PENDING,
                reported_at=now,
                updated_at=now,
                location=GeoPoint(32.78, -96.8),
                address="x",
            ),
            1,
        )
    window.lock_overlay.unlocked.emit()
    assert window.last_lock_summary == "While the screen was locked: 3 new calls (1 P1, 2 P2)."
    with qtbot.waitSignal(window.sign_out_requested, timeout=2000):
        window.lock()
        window.lock_overlay.switch_button.click()
