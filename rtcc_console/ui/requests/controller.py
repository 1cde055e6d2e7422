"""Wires footage requests into the console: the Requests panel, the request form, the map's
drawing tools, the event stream, and the request-only cameras of the camera list and wall
(opening one offers a footage request for its owner; the wall is left as it is).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence

from rtcc_console.client.api import ApiClient
from rtcc_console.client.requests_api import FootageRequestsApi
from rtcc_console.core.models import Camera, DispatchCall
from rtcc_console.ui import messages
from rtcc_console.ui.live_data import LiveData
from rtcc_console.ui.requests.area_map import RequestAreaMap
from rtcc_console.ui.requests.form import RequestForm, RequestSeed
from rtcc_console.ui.requests.panel import RequestsPanel
from rtcc_console.ui.wall import VideoWall

if TYPE_CHECKING:
    from rtcc_console.ui.main_window import MainWindow

CAMERA_RADIUS_M = 40.0  # the circle drawn around a single request-only camera


def seed_for_call(call: DispatchCall | None) -> RequestSeed:
    if call is None:
        return RequestSeed()
    center = (call.location.lat, call.location.lon) if call.location is not None else None
    return RequestSeed(
        call_id=call.id,
        call_label=f"{call.incident_id} · {call.type_text} · {call.address or ''}".rstrip(" ·"),
        center=center,
        reported_at=call.reported_at,
        offence_category=call.category if call.category != "other" else "",
    )


class FootageRequests(QObject):
    """Owns the panel and the form for one main window."""

    def __init__(
        self,
        window: MainWindow,
        *,
        api: ApiClient,
        live: LiveData,
        zone: ZoneInfo,
        map_view: Any,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.live = live
        self.api = FootageRequestsApi(api)
        self.client = api
        self.area_map: RequestAreaMap | None = (
            map_view if isinstance(map_view, RequestAreaMap) else None
        )
        user = api.user
        self.panel = RequestsPanel(
            self.api,
            username=user.username if user else "",
            role=user.role if user else "analyst",
            zone=zone,
            area_map=self.area_map,
        )
        self.zone = zone
        self._form: RequestForm | None = None
        self.panel.new_request_wanted.connect(self.new_request)
        self.panel.shown_on_map.connect(
            lambda _rid: window.docks["map"].raise_() if "map" in window.docks else None
        )
        live.request_event.connect(self.panel.on_event)
        live.link_changed.connect(self._on_link)
        self.new_action = QAction("New footage request…", window)
        self.new_action.setShortcut(QKeySequence("Ctrl+Shift+R"))
        self.new_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.new_action.triggered.connect(self.new_request)
        window.addAction(self.new_action)
        if isinstance(window.wall, VideoWall):  # a request-only camera dropped on the wall
            window.wall.footage_request_wanted.connect(self.request_for_camera)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.Show
            and watched is self.window.lock_overlay
            and self._form is not None
        ):
            self._form.hide()
        return False

    @property
    def form(self) -> RequestForm:
        """Built on first use (one per window; it keeps its last position)."""
        if self._form is None:
            user = self.client.user
            self._form = RequestForm(
                self.api,
                area_map=self.area_map,
                role=user.role if user else "analyst",
                zone=self.zone,
                parent=self.window,
            )
            self._form.request_sent.connect(self._sent)
            # The form is a window of its own: the lock overlay cannot cover it, so it hides
            # whenever the overlay appears (lock, sign-out, 401).
            self.window.lock_overlay.installEventFilter(self)
        return self._form

    def _on_link(self, state: str, _since: Any) -> None:
        if state == "connected":  # (re)connected, perhaps as another user: re-read the list
            user = self.client.user
            if user is not None and (user.username, user.role) != (
                self.panel.username,
                self.panel.role,
            ):
                self.panel.clear()
                self.panel.set_user(user.username, user.role)
                if self._form is not None:
                    self._form.role = user.role
                    self._form.override_row.setVisible(self._form.is_supervisor)
            self.panel.reload()

    # -- opening the form ------------------------------------------------------------
    def new_request(self) -> None:
        """For the selected call, or a case number alone when no call is selected."""
        self.form.start(seed_for_call(self.window.selection.current_call()))

    def request_for_camera(self, camera_id: str) -> bool:
        """A request-only camera was opened (double-click, Enter, drag to the wall): offer
        the footage request for its owner inside a small circle; the wall is not touched."""
        camera: Camera | None = self.live.index.get(camera_id)
        if camera is None:
            messages.warning(f"Camera {camera_id} is not in the registry.")
            return False
        if camera.revoked:
            messages.warning(f"{camera.name}: the owner revoked access; no request can be sent.")
            return False
        base = seed_for_call(self.window.selection.current_call())
        seed = RequestSeed(
            call_id=base.call_id,
            call_label=base.call_label,
            reported_at=base.reported_at,
            offence_category=base.offence_category,
            center=(camera.location.lat, camera.location.lon),
            camera_id=camera.id,
            camera_name=camera.name,
            radius_m=CAMERA_RADIUS_M,
        )
        self.form.start(seed)
        return True

    def _sent(self, request: dict[str, Any]) -> None:
        self.panel.add_request(request)
        items = request.get("items") or []
        messages.info(
            f"Footage request for case {request.get('case_number')} sent to {len(items)} owner"
            f"{'s' if len(items) != 1 else ''}."
        )
        if "requests" in self.window.docks:
            self.window.docks["requests"].raise_()


def attach_footage_requests(
    window: MainWindow,
    *,
    api: ApiClient,
    live: LiveData,
    time_zone: str,
    map_view: Any,
) -> FootageRequests:
    """Build the footage-request side of ``window`` (its panel goes in the Requests dock)."""
    return FootageRequests(window, api=api, live=live, zone=ZoneInfo(time_zone), map_view=map_view)
