"""Drives a running console through the demo script, and takes its screenshots.

Nothing here blocks the GUI thread: each step is a short poll on a QTimer. The script:
wait until calls, the registry and the map are in; select the newest call that has live
cameras nearby (the newest call of all when none has); open up to four of its integrated
cameras on a 2x2 wall; once the map confirms it has drawn the selection and the tiles
have had a few seconds to show video, write the screenshots.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from rtcc_console.client.nearest import options_for
from rtcc_console.core.models import DispatchCall, Role, Tier

log = logging.getLogger(__name__)
WALL_CAMERAS = 4
SETTLE_S = 4.0


def image_spread(image: QImage, step: int = 7) -> float:
    """Standard deviation of sampled grey levels: ~0 for a blank (single-colour) image."""
    img = image.convertToFormat(QImage.Format.Format_Grayscale8)
    values = [
        img.pixelColor(x, y).value()
        for y in range(0, img.height(), step)
        for x in range(0, img.width(), step)
    ]
    if not values:
        return 0.0
    mean = sum(values) / len(values)
    return float((sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5)


def save_screenshot(widget: QWidget, path: Path) -> float:
    """Grab ``widget`` (web views included, offscreen too) into ``path``; return its spread."""
    image = widget.grab().toImage()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(path)):
        raise OSError(f"could not write {path}")
    return image_spread(image)


class DemoDriver(QObject):
    """Runs the demo script on ``window`` (a MainWindow) and reports what it did."""

    call_chosen = Signal(str, int)  # call id, cameras opened on the wall
    screenshots_written = Signal(list)  # [(path, spread), ...]
    failed = Signal(str)

    def __init__(
        self,
        window: Any,
        shot_dir: Path | None,
        *,
        video_wait_s: float = 8.0,
        timeout_s: float = 90.0,
        min_calls: int = 1,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.shot_dir = shot_dir
        self.video_wait_s = video_wait_s
        self.min_calls = min_calls  # the CAD feed's opening burst, before choosing
        self.deadline = time.monotonic() + timeout_s
        self.call_id: str | None = None
        self.opened = 0
        self.shots: list[tuple[str, float]] = []
        self._opened_at = 0.0
        self._map_ok = False
        self._ready_since: float | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._step)

    def start(self) -> None:
        self._timer.start()

    # -- the script ------------------------------------------------------------------
    def _step(self) -> None:
        if time.monotonic() > self.deadline:
            self._timer.stop()
            self.failed.emit(f"demo script timed out (call chosen: {self.call_id})")
            return
        if self.call_id is None:
            self._choose_call()
        elif not self._map_ok:
            self._check_map()
        elif time.monotonic() - self._opened_at >= self.video_wait_s or self._all_tiles_live():
            self._timer.stop()
            QTimer.singleShot(400, self._shoot)  # a few more frames for video and the map

    def _ready(self) -> bool:
        w = self.window
        return (
            w.call_queue.model.rowCount() >= self.min_calls
            and len(w.live.index.camera_ids()) > 0
            and bool(getattr(w.map_view, "is_ready", True))
        )

    def _choose_call(self) -> None:
        if not self._ready():
            return
        calls = [
            c
            for c in self.window.call_queue.model.calls()
            if c.location is not None and c.status.is_open
        ]
        if not calls:
            return
        calls.sort(key=lambda c: c.reported_at, reverse=True)
        best = max(calls[:12], key=self._live_count)  # ties go to the newest (max keeps the first)
        if self._ready_since is None:
            self._ready_since = time.monotonic()
        if (
            self._live_count(best) < WALL_CAMERAS
            and time.monotonic() - self._ready_since < SETTLE_S
        ):
            return  # an emergency (panic button) may still be on its way
        chosen = best if self._live_count(best) else calls[0]
        self.call_id = chosen.id
        w = self.window
        self._arrange()
        w.call_queue.select_call(chosen.id)
        wall = w.wall
        if hasattr(wall, "set_layout"):
            wall.set_layout("2x2")
        self.opened = int(w.open_top_cameras())
        self._opened_at = time.monotonic()
        log.info(
            "demo: selected %s (%s), %d cameras on the wall",
            chosen.incident_id,
            chosen.type_text,
            self.opened,
        )
        self.call_chosen.emit(chosen.id, self.opened)

    def _arrange(self) -> None:
        """The window's own proportions for the size it got (queue, cameras, map, wall)."""
        self.window.size_docks()

    def _live_count(self, call: DispatchCall) -> int:
        """Integrated cameras the analyst may open now near ``call`` (at most 4 count)."""
        assert call.location is not None
        w = self.window
        user = w.api.user
        role = Role(user.role) if user and user.role in Role._value2member_map_ else None
        options = options_for(
            w.live.index,
            call.location,
            k=w.settings.nearest_count,
            radius_m=w.settings.nearest_radius_m,
            role=role,
            now=datetime.now(UTC),
            emergencies=w.live.active_emergencies(),
        )
        live = [o for o in options if o.camera.tier is Tier.INTEGRATED and o.action == "live"]
        return min(len(live), WALL_CAMERAS)

    def _check_map(self) -> None:
        evaluate = getattr(self.window.map_view, "evaluate", None)
        if not callable(evaluate):
            self._map_ok = True
            return

        def got(state: Any) -> None:
            if (
                isinstance(state, dict)
                and state.get("selected") == self.call_id
                and state.get("rings")
            ):
                self._map_ok = True

        evaluate("rtcc.state", got)

    def _all_tiles_live(self) -> bool:
        tiles = getattr(self.window.wall, "tiles", [])
        live = [t for t in tiles if t.frame_age_s() is not None]
        return (
            self.opened > 0
            and len(live) >= self.opened
            and time.monotonic() - self._opened_at > 3.0
        )

    def _shoot(self) -> None:
        if self.shot_dir is not None:
            try:
                for name, widget in (
                    ("console-main.png", self.window),
                    ("console-map.png", self.window.map_view),
                    ("console-wall.png", self.window.wall),
                ):
                    path = self.shot_dir / name
                    self.shots.append((str(path), save_screenshot(widget, path)))
            except OSError as exc:
                self.failed.emit(str(exc))
                return
        self.screenshots_written.emit(self.shots)
