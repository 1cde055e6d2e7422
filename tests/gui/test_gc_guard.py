"""The cycle collector runs on the GUI thread only (ui.gc_guard)."""

from __future__ import annotations

import gc
import threading
import weakref
from typing import Any

import pytest

from rtcc_console.ui.gc_guard import GuiThreadCollector

pytestmark = pytest.mark.gui


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cycle collector frees it


def test_garbage_made_on_a_worker_thread_is_collected_on_the_gui_thread(qtbot: Any) -> None:
    was_enabled = gc.isenabled()
    freed_on: list[str] = []
    collector = GuiThreadCollector(interval_ms=20)
    try:
        assert not gc.isenabled()

        def make_garbage() -> None:
            node = Node()
            weakref.finalize(node, lambda: freed_on.append(threading.current_thread().name))
            for _ in range(3 * collector.threshold[0]):  # cross the threshold on this thread
                Node()

        worker = threading.Thread(target=make_garbage, name="worker")
        worker.start()
        worker.join()
        assert freed_on == []  # nothing collected on the worker
        qtbot.waitUntil(lambda: bool(freed_on), timeout=3000)
        # collected on the GUI thread (by this collector, or by the console's own when an
        # earlier test installed it), never on the worker that made the garbage
        assert freed_on == [threading.main_thread().name]
    finally:
        collector.timer.stop()
        if was_enabled:
            gc.enable()
