"""The selected call and everything that follows it: map, camera list, wall reason, prewarm.

Also routes registry, emergency and grant changes to the index-backed camera list, the map
and the wall at once, so a revoked or moved camera changes everywhere in one step.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rtcc_console.client.nearest import CameraOption, options_for
from rtcc_console.config import ConsoleSettings
from rtcc_console.core.models import Camera, DispatchCall, Role, Tier
from rtcc_console.ui.wall.feeds import CameraRef

if TYPE_CHECKING:
    from rtcc_console.ui.main_window import MainWindow

TOP_CAMERAS = 4


class CallSelection:
    """Logic behind the main window's selection (kept apart to keep the window small)."""

    def __init__(self, window: MainWindow, settings: ConsoleSettings) -> None:
        self.window = window
        self.settings = settings
        self.call_id: str | None = None
        self.wanted_call_id: str | None = None  # restored from last session, not loaded yet
        self.options: list[CameraOption] = []

    # -- calls -----------------------------------------------------------------------
    def on_calls_loaded(
        self, rows: list[tuple[DispatchCall, int]], drop_before: datetime | None
    ) -> None:
        queue = self.window.call_queue
        queue.model.merge(rows, drop_before)
        self._map("set_calls", queue.model.calls())
        if self.call_id is None and self.wanted_call_id and queue.select_call(self.wanted_call_id):
            self.wanted_call_id = None
        elif self.call_id is not None:
            self.refresh_cameras()

    def on_call_received(self, call: DispatchCall, version: int) -> None:
        model = self.window.call_queue.model
        if not model.upsert(call, version):
            return
        self._map("upsert_call", call)
        if call.id == self.call_id:
            self.refresh_cameras()  # it may have moved
        elif self.call_id is None and call.id == self.wanted_call_id:
            self.window.call_queue.select_call(call.id)

    def select(self, call_id: str) -> None:
        """The analyst picked a call: centre the map, list cameras, prepare the wall."""
        call = self.window.call_queue.model.call(call_id)
        if call is None:
            return
        self.call_id = call_id
        self.wanted_call_id = None
        self._map("select_call", call_id, center=True)
        set_reason = getattr(self.window.wall, "set_reason", None)
        if callable(set_reason):
            set_reason(f"call {call.incident_id}")
        self.refresh_cameras()
        prewarm = getattr(self.window.wall, "prewarm", None)
        top = self.top_live_cameras()
        if callable(prewarm) and top:
            prewarm(top, f"call {call.incident_id}")

    def current_call(self) -> DispatchCall | None:
        return None if self.call_id is None else self.window.call_queue.model.call(self.call_id)

    # -- cameras ---------------------------------------------------------------------
    def refresh_cameras(self) -> None:
        """Recompute the selected call's ranked cameras from the local index."""
        call = self.current_call()
        cam_list = self.window.camera_list
        if call is None:
            return
        if call.location is None:
            self.options = []
            cam_list.set_options([], f"{call.incident_id}: no location yet, so no nearby cameras.")
            return
        user = self.window.api.user
        role = Role(user.role) if user and user.role in Role._value2member_map_ else None
        self.options = options_for(
            self.window.live.index,
            call.location,
            k=self.settings.nearest_count,
            radius_m=self.settings.nearest_radius_m,
            role=role,
            now=datetime.now(UTC),
            emergencies=self.window.live.active_emergencies(),
        )
        live = sum(1 for o in self.options if o.action == "live")
        cam_list.set_options(
            self.options,
            f"{call.incident_id} · {call.type_text} — {len(self.options)} cameras within "
            f"{self.settings.nearest_radius_m:.0f} m, {live} viewable live now",
        )
        self._map("show_ranked", [o.camera.id for o in self.options])

    def top_live_cameras(self, n: int = TOP_CAMERAS) -> list[Camera]:
        return [
            o.camera
            for o in self.options
            if o.action == "live" and o.camera.tier is Tier.INTEGRATED
        ][:n]

    def open_top_cameras(self) -> int:
        """Fill the wall's free tiles with the call's live cameras, best first (the wall
        skips any already open)."""
        wall: Any = self.window.wall
        top = [self.ranked_ref(c) for c in self.top_live_cameras(len(self.options))]
        if not top or not hasattr(wall, "open_cameras"):
            return 0
        return int(wall.open_cameras(top, wall.reason()))

    def ranked_ref(self, camera: Camera) -> CameraRef:
        """The wall's reference to ``camera`` with its rank in the selected call's list."""
        rank = next((i + 1 for i, o in enumerate(self.options) if o.camera.id == camera.id), None)
        return CameraRef.of(camera, rank=rank)

    def open_camera(self, camera_id: str) -> None:
        option = next((o for o in self.options if o.camera.id == camera_id), None)
        if option is not None and (option.action == "request" or option.camera.tier is not Tier.INTEGRATED):
            # request-only: offer the footage request for its owner; the wall stays as it is
            self.window.footage.request_for_camera(camera_id)
            return
        wall: Any = self.window.wall
        if option is None or not hasattr(wall, "open_camera"):
            return
        wall.open_camera(self.ranked_ref(option.camera), wall.reason())

    def highlight_camera(self, camera_id: str) -> None:
        self._map("select_camera", camera_id)

    def on_registry_loaded(self, _count: int) -> None:
        self.window._update_counts()
        self._map(
            "set_cameras",
            [self.window.live.index.get(i) for i in self.window.live.index.camera_ids()],
        )
        self.refresh_cameras()

    def on_camera_changed(self, camera: Camera | None, camera_id: str, _change: str) -> None:
        if camera is None:
            self._map("remove_camera", camera_id)
        else:
            self._map("upsert_camera", camera)
            on_changed = getattr(self.window.wall, "on_camera_changed", None)
            if callable(on_changed):
                on_changed(camera)
        self.window._update_counts()
        self.refresh_cameras()

    def on_camera_deleted(self, last_known: Camera) -> None:
        """A deleted camera may still be on the wall: the wall treats it as revoked."""
        on_changed = getattr(self.window.wall, "on_camera_changed", None)
        if callable(on_changed):
            on_changed(last_known)

    def on_emergency_ended(self, camera_ids: list[str]) -> None:
        ended = getattr(self.window.wall, "on_emergency_ended", None)
        if callable(ended):
            ended(camera_ids)

    def on_grant_revoked(self, grant_id: str, camera_id: str, reason: str) -> None:
        revoked = getattr(self.window.wall, "on_grant_revoked", None)
        if callable(revoked):
            revoked(grant_id or None, camera_id or None, reason)

    def _map(self, method: str, *args: Any, **kwargs: Any) -> None:
        fn = getattr(self.window.map_view, method, None)
        if callable(fn):
            fn(*args, **kwargs)
