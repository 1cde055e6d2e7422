"""Python's cycle collector runs on the GUI thread only.

Left to itself the collector runs on whichever thread allocates when a threshold is
crossed: a decode, HTTP or server thread. If that pass frees the last reference to a Qt
widget, shiboken must delete the widget tree on the GUI thread from inside whatever the
GUI thread is doing (an event filter, a paint), and Qt can deadlock in ``QObject``'s
destructor or warn that timers are stopped from another thread (both seen in the test
suite). Here automatic collection is switched off and a timer on the GUI thread collects
the generations whose thresholds were crossed, as the collector itself would.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

_installed: GuiThreadCollector | None = None


class GuiThreadCollector(QObject):
    def __init__(self, interval_ms: int = 500, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()
        self.collections = 0

    def check(self) -> None:
        """Collect the oldest generation whose count passed its threshold."""
        counts = gc.get_count()
        generation = -1
        for gen in range(3):
            if counts[gen] > self.threshold[gen]:
                generation = gen
        if generation >= 0:
            gc.collect(generation)
            self.collections += 1


def install(interval_ms: int = 500) -> GuiThreadCollector:
    """Once per process, from the GUI thread (needs a QCoreApplication)."""
    global _installed
    if _installed is None:
        from PySide6.QtCore import QCoreApplication

        _installed = GuiThreadCollector(interval_ms, QCoreApplication.instance())
    return _installed
