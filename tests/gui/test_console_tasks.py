"""The one marshalling helper and the message bridge: results land on the GUI thread."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QThread
from pytestqt.qtbot import QtBot

from rtcc_console.ui import messages, tasks

pytestmark = pytest.mark.gui


def test_run_on_main_from_worker_runs_on_gui_thread(qtbot: QtBot) -> None:
    seen: list[bool] = []
    tasks.install()

    def worker() -> None:
        tasks.run_on_main(lambda: seen.append(QThread.currentThread() is not None))
        tasks.run_on_main(
            lambda: seen.append(threading.current_thread() is threading.main_thread())
        )

    threading.Thread(target=worker).start()
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=3000)
    assert seen[1] is True


def test_background_success_and_default_failure(qtbot: QtBot) -> None:
    got: list[object] = []
    tasks.run_in_background(lambda: 41 + 1, on_success=got.append)
    qtbot.waitUntil(lambda: got == [42], timeout=3000)

    def boom() -> None:
        raise OSError("disk gone")

    with qtbot.waitSignal(messages.bridge().message_posted, timeout=3000) as blocker:
        tasks.run_in_background(boom, what="Saving")
    assert blocker.args == ["error", "Saving failed: disk gone"]
    assert messages.history()[-1] == ("error", "Saving failed: disk gone")


def test_handler_exception_becomes_error_message(qtbot: QtBot) -> None:
    def bad() -> None:
        raise ValueError("bug")

    with qtbot.waitSignal(messages.bridge().message_posted, timeout=3000) as blocker:
        tasks.run_on_main(bad)
    assert blocker.args[0] == "error" and "bug" in blocker.args[1]
