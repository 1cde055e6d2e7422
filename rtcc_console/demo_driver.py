"""Drives a running console through the demo script, and takes its screenshots.

Nothing here blocks the GUI thread: each step is a short poll on a QTimer. The script:
wait until calls, the registry and the map are in; select the newest call that has live
cameras nearby (the newest call of all when none has); open up to four of its integrated
cameras on a 2x2 wall; once the map confirms it has drawn the selection and the tiles
have had a few seconds to show video, write the screenshots.

Meanwhile the rest of the story: as soon as the call is chosen, a footage request for it (a
circle of a few blocks around the call, grown until it reaches a few owners, and the hour
before the call) goes out through the console's own client (``client.requests_api``, as the
form would send it) and shows in the Requests dock; the simulated owners answer it live.
When the first clip an owner uploaded reaches the Evidence dock, the driver selects it (the
tab fetches and verifies the original), plays it, and refreshes the vehicle sort (the server
indexes every clip by itself) until the clip is indexed. ``request_id``, ``evidence_ids``,
``playing_evidence_id`` and ``vehicle_moments`` say where the story is; ``story_complete``
fires once the request has answers and an evidence item is playing.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from rtcc_console.client.nearest import options_for
from rtcc_console.client.requests_api import FootageRequestsApi, RequestDraft
from rtcc_console.core.models import DispatchCall, Role, Tier
from rtcc_console.ui import messages
from rtcc_console.ui.evidence.tab import case_for_incident
from rtcc_console.ui.tasks import run_in_background

log = logging.getLogger(__name__)
WALL_CAMERAS = 4
SETTLE_S = 4.0
REQUEST_RADII_M = (250.0, 400.0, 550.0)  # a few blocks; 550 m stays under the 0.5 sq mi limit
REQUEST_OWNERS = 4  # grow the circle until this many owners get an e-mail
VEHICLE_POLL_S = 3.0
ANSWERED_TEXT = ("uploaded", "no footage", "declined")  # item states in the Requests dock


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
    request_sent = Signal(str)  # footage request id
    evidence_shown = Signal(str)  # an owner's clip is in the Evidence dock
    evidence_playing = Signal(str)  # evidence id now playing in the player
    story_complete = Signal()  # the request has answers and an evidence item is playing

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
        # the footage-request story (runs beside the screenshot script)
        self.started_at = time.monotonic()
        self.timings: dict[str, float] = {}  # step -> seconds since start()
        self.request_id: str | None = None
        self.request_owners = 0  # owners the request reached
        self.evidence_ids: list[str] = []  # owners' clips shown in the Evidence dock, in order
        self.playing_evidence_id: str | None = None
        self.vehicle_moments = 0  # moments the vehicle sort lists for the case
        self.complete = False
        self._next_vehicle_poll = 0.0
        self._story_timer = QTimer(self)
        self._story_timer.setInterval(250)
        self._story_timer.timeout.connect(self._story_step)
        tab = window.evidence.tab
        tab.item_changed.connect(self._evidence_seen)
        tab.items_loaded.connect(lambda _n: self._collect_evidence())
        tab.player.opened.connect(self._clip_opened)
        tab.player.frame_shown.connect(self._frame_shown)

    def start(self) -> None:
        self.started_at = time.monotonic()
        self._timer.start()

    def _mark(self, step: str) -> None:
        self.timings.setdefault(step, round(time.monotonic() - self.started_at, 2))

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
        opened = int(w.open_top_cameras())
        # an emergency at the call's site may have put its cameras on the wall already
        ranked = {o.camera.id for o in w.selection.options}
        feeds = getattr(getattr(wall, "feeds", None), "feeds", {})
        self.opened = max(opened, sum(1 for f in feeds.values() if f.camera.id in ranked))
        self._opened_at = time.monotonic()
        self._mark("call_chosen")
        self._send_request(chosen)
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

    # -- the footage request, the owners' answers, the evidence playing ----------------
    def _send_request(self, call: DispatchCall) -> None:
        """Preview growing circles around ``call``, send the first that reaches enough owners."""
        assert call.location is not None
        # the console's own client (client.requests_api), as the request form sends it
        api: FootageRequestsApi = self.window.footage.api
        center = {"lat": call.location.lat, "lon": call.location.lon}
        end = min(datetime.now(UTC), call.reported_at + timedelta(minutes=10))
        draft = RequestDraft(
            case_number=case_for_incident(call.incident_id),
            offence_category=call.type_text[:60],
            call_id=call.id,
            area={"kind": "circle", "center": center, "radius_m": REQUEST_RADII_M[0]},
            window_start=end - timedelta(hours=1),
            window_end=end,
            message=(
                f"{call.type_text} near {call.address or 'your address'}: please share any "
                "recording from the hour before, even if it seems to show nothing."
            ),
        )

        def send() -> dict[str, Any]:
            chosen = draft
            for radius in REQUEST_RADII_M:
                chosen = replace(draft, area={**draft.area, "radius_m": radius})
                preview = api.preview(chosen)
                if int(preview.get("owners_included") or 0) >= REQUEST_OWNERS:
                    break
            return api.create(chosen)

        def sent(request: dict[str, Any]) -> None:
            self.request_id = str(request["id"])
            self.request_owners = len(request.get("items") or [])
            self._mark("request_sent")
            footage = self.window.footage
            footage.panel.add_request(request)
            self.window.docks["requests"].raise_()
            messages.info(
                f"Footage request for case {request.get('case_number')} sent to "
                f"{self.request_owners} owners."
            )
            log.info(
                "demo: footage request %s sent to %d owners", self.request_id, self.request_owners
            )
            self.request_sent.emit(self.request_id)
            self._story_timer.start()

        def refused(exc: BaseException) -> None:
            self.failed.emit(f"footage request not sent: {exc}")

        run_in_background(send, on_success=sent, on_failure=refused, what="Sending the request")

    def answers(self) -> dict[str, str]:
        """Owner -> state of the request's items, as the Requests dock shows them."""
        if self.request_id is None:
            return {}
        return dict(self.window.footage.panel.item_states(self.request_id))

    def answered(self) -> int:
        """Owners who answered (uploaded, no footage, declined), as the Requests dock says."""
        return sum(1 for s in self.answers().values() if s.startswith(ANSWERED_TEXT))

    def _collect_evidence(self) -> None:
        for item in self.window.evidence.tab.model.items:
            self._evidence_seen(item.id)

    def _evidence_seen(self, evidence_id: str) -> None:
        tab = self.window.evidence.tab
        row = tab.model.row_of(evidence_id)
        if row is None or evidence_id in self.evidence_ids:
            return
        item = tab.model.item_at(row)
        if not item.owner_kind or item.integrity_failed:  # staff items (wall clips) stay
            return
        self.evidence_ids.append(evidence_id)
        self._mark("evidence_shown")
        log.info("demo: owner's clip %s (%s) in the Evidence dock", evidence_id, item.filename)
        self.evidence_shown.emit(evidence_id)
        if len(self.evidence_ids) == 1:  # the first: play it
            self.window.docks["evidence"].raise_()
            tab.select_evidence(evidence_id)  # fetches, verifies and opens it

    def _clip_opened(self, evidence_id: str) -> None:
        if evidence_id in self.evidence_ids:
            self.window.evidence.tab.player.play()

    def _frame_shown(self, _index: int) -> None:
        player = self.window.evidence.tab.player
        clip, item = player.player, player.item
        if clip is None or item is None or item.id not in self.evidence_ids:
            return
        if clip.status().playing and self.playing_evidence_id != item.id:
            self.playing_evidence_id = item.id
            self._mark("evidence_playing")
            log.info("demo: evidence %s playing", item.id)
            self.evidence_playing.emit(item.id)
            self._next_vehicle_poll = 0.0

    def _story_step(self) -> None:
        player = self.window.evidence.tab.player
        clip, item = player.player, player.item
        if clip is not None and item is not None and item.id == self.playing_evidence_id:
            status = clip.status()
            if status.ended and not status.playing:
                clip.play()  # the demo's clip plays on a loop (play at the end starts over)
        if self.answered() and "first_answer" not in self.timings:
            self._mark("first_answer")
        self._poll_vehicles()
        if not self.complete and self.answered() and self.playing_evidence_id is not None:
            self.complete = True
            self._mark("story_complete")
            log.info("demo: story complete %s", self.timings)
            self.story_complete.emit()

    def _poll_vehicles(self) -> None:
        """The server indexes each clip by itself; ask again until the case is indexed."""
        vf = self.window.evidence.tab.vehicle_filter
        if vf is None or not self.evidence_ids or time.monotonic() < self._next_vehicle_poll:
            return
        result = vf.result
        if result is not None:
            self.vehicle_moments = len(result.moments())
            summary = result.summary
            done = summary.clips >= len(self.evidence_ids) and not (
                summary.pending or summary.running
            )
            if done and summary.indexed:
                if "vehicles_indexed" not in self.timings:
                    self._mark("vehicles_indexed")
                    log.info("demo: vehicle sort: %s", summary.text)
                return
        self._next_vehicle_poll = time.monotonic() + VEHICLE_POLL_S
        vf.refresh()
