"""Qt-side probes for ``rtcc bench call-to-screen`` (the benchmark module stays Qt-free).

``CallToScreenProbe`` hooks the console's live-data signal: when a call under test
arrives it notes the time it is in the call queue, then selects it as an analyst would
and notes the time its ranked cameras are in the camera list (both models updated,
before the next paint). ``measure_map_load`` times a fresh MapView from navigation
start to the page's own "cameras drawn" report.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QEventLoop, QObject, QTimer, Signal

from rtcc_console.core.models import Camera, DispatchCall


class CallToScreenProbe(QObject):
    """Records, per incident id, when it was listed and when its cameras were ranked."""

    all_seen = Signal()

    def __init__(self, window: Any, incident_ids: Iterable[str]) -> None:
        super().__init__(window)
        self.window = window
        self.wanted = set(incident_ids)
        self.lock = threading.Lock()
        self.listed: dict[str, float] = {}
        self.ranked: dict[str, tuple[float, int]] = {}
        window.live.call_received.connect(self._on_call)  # after the window's own handlers

    def _on_call(self, call: DispatchCall, _version: int) -> None:
        if call.incident_id not in self.wanted or call.incident_id in self.ranked:
            return
        w = self.window
        if w.call_queue.model.call(call.id) is None:
            return
        t_listed = time.perf_counter()
        w.call_queue.select_call(call.id)
        rows = w.camera_list.model.rowCount()
        t_ranked = time.perf_counter()
        with self.lock:
            self.listed[call.incident_id] = t_listed
            self.ranked[call.incident_id] = (t_ranked, rows)
            complete = len(self.ranked) == len(self.wanted)
        if complete:
            self.all_seen.emit()


def wait_for(signal: Any, timeout_s: float) -> bool:
    """Run the event loop until ``signal`` fires or ``timeout_s`` passes; True if it fired."""
    loop = QEventLoop()
    fired: list[bool] = []

    def on_fired(*_args: Any) -> None:
        fired.append(True)
        loop.quit()

    signal.connect(on_fired)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    return bool(fired)


def spin(seconds: float) -> None:
    """Process events for ``seconds`` (the bench's pauses; never in the console itself)."""
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def measure_map_load(
    cameras: list[Camera], *, tile_url: str, timeout_s: float = 60.0
) -> dict[str, Any]:
    """A fresh MapView with ``cameras``: navigation start -> all cameras drawn."""
    from rtcc_console.ui.map_view import MapView

    t0 = time.perf_counter()
    view = MapView(tile_url=tile_url, tile_attribution="bench")
    view.resize(1280, 800)
    view.show()
    got: list[tuple[int, float, float]] = []
    view.cameras_drawn.connect(lambda n, ms: got.append((n, ms, time.perf_counter())))
    view.set_cameras(cameras)  # queued until the page is ready, as in the console
    t_sent = time.perf_counter()
    ok = wait_for(view.cameras_drawn, timeout_s) or bool(got)
    result: dict[str, Any] = {"cameras": len(cameras), "drawn": ok}
    if got:
        count, page_ms, t_done = got[0]
        result.update(
            drawn_count=count,
            navigation_to_drawn_ms=round(page_ms, 1),
            construct_to_drawn_ms=round((t_done - t0) * 1000, 1),
            python_encode_ms=round((t_sent - t0) * 1000, 1),
        )
    view.close()
    view.deleteLater()
    return result
