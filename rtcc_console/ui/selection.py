"""The selected call and everything that follows it: map, camera list, wall reason, prewarm.

Also routes registry, emergency and grant changes to the index-backed camera list, the map
and the wall at once, so a revoked or moved camera changes everywhere in one step.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from rtcc_console.client.nearest import CameraOption, options_for
from rtcc_console.config import ConsoleSettings
from rtcc_console.core.models import Camera, DispatchCall, Role, Tier
from rtcc_console.ui.call_queue import CallQueue
from rtcc_console.ui.camera_list import CameraList
from rtcc_console.ui.live_data import LiveData
from rtcc_console.ui.seams import ConsoleMap, ConsoleWall
from rtcc_console.ui.wall.feeds import CameraRef

TOP_CAMERAS = 4


class CallSelection:
    """Logic behind the main window's selection (kept apart to keep the window small).

    Built from what it drives: the calls queue, the camera list, the live data (index,
    emergencies), the map and the wall; ``role`` says who is signed in,
    ``request_footage`` offers a footage request for a camera's owner and
    ``counts_changed`` tells the window to refresh its status counts."""

    def __init__(
        self,
        settings: ConsoleSettings,
        *,
        calls: CallQueue,
        camera_list: CameraList,
        live: LiveData,
        map_view: ConsoleMap,
        wall: ConsoleWall,
        role: Callable[[], Role | None],
        request_footage: Callable[[str], object],
        counts_changed: Callable[[], None],
    ) -> None:
        self.settings = settings
        self.calls = calls
        self.camera_list = camera_list
        self.live = live
        self.map_view = map_view
        self.wall = wall
        self.role = role
        self.request_footage = request_footage
        self.counts_changed = counts_changed
        self.call_id: str | None = None
        self.wanted_call_id: str | None = None  # restored from last session, not loaded yet
        self.options: list[CameraOption] = []

    # -- calls -----------------------------------------------------------------------
    def on_calls_loaded(
        self, rows: list[tuple[DispatchCall, int]], drop_before: datetime | None
    ) -> None:
        queue = self.calls
        queue.model.merge(rows, drop_before)
        self.map_view.set_calls(queue.model.calls())
        if self.call_id is None and self.wanted_call_id and queue.select_call(self.wanted_call_id):
            self.wanted_call_id = None
        elif self.call_id is not None:
            self.refresh_cameras()

    def on_call_received(self, call: DispatchCall, version: int) -> None:
        model = self.calls.model
        if not model.upsert(call, version):
            return
        self.map_view.upsert_call(call)
        if call.id == self.call_id:
            self.refresh_cameras()  # it may have moved
        elif self.call_id is None and call.id == self.wanted_call_id:
            self.calls.select_call(call.id)

    def select(self, call_id: str) -> None:
        """The analyst picked a call: centre the map, list cameras, prepare the wall."""
        call = self.calls.model.call(call_id)
        if call is None:
            return
        self.call_id = call_id
        self.wanted_call_id = None
        self.map_view.select_call(call_id, center=True)
        self.wall.set_reason(f"call {call.incident_id}")
        self.refresh_cameras()
        top = self.top_live_cameras()
        if top:
            self.wall.prewarm(top, f"call {call.incident_id}")

    def current_call(self) -> DispatchCall | None:
        return None if self.call_id is None else self.calls.model.call(self.call_id)

    # -- cameras ---------------------------------------------------------------------
    def refresh_cameras(self) -> None:
        """Recompute the selected call's ranked cameras from the local index."""
        call = self.current_call()
        cam_list = self.camera_list
        if call is None:
            return
        if call.location is None:
            self.options = []
            cam_list.set_options([], f"{call.incident_id}: no location yet, so no nearby cameras.")
            return
        role = self.role()
        self.options = options_for(
            self.live.index,
            call.location,
            k=self.settings.nearest_count,
            radius_m=self.settings.nearest_radius_m,
            role=role,
            now=datetime.now(UTC),
            emergencies=self.live.active_emergencies(),
        )
        live = sum(1 for o in self.options if o.action == "live")
        cam_list.set_options(
            self.options,
            f"{call.incident_id} · {call.type_text} — {len(self.options)} cameras within "
            f"{self.settings.nearest_radius_m:.0f} m, {live} viewable live now",
        )
        self.map_view.show_ranked([o.camera.id for o in self.options])

    def top_live_cameras(self, n: int = TOP_CAMERAS) -> list[Camera]:
        return [
            o.camera
            for o in self.options
            if o.action == "live" and o.camera.tier is Tier.INTEGRATED
        ][:n]

    def open_top_cameras(self) -> int:
        """Fill the wall's free tiles with the call's live cameras, best first (the wall
        skips any already open)."""
        top = [self.ranked_ref(c) for c in self.top_live_cameras(len(self.options))]
        if not top:
            return 0
        return self.wall.open_cameras(top, self.wall.reason())

    def ranked_ref(self, camera: Camera) -> CameraRef:
        """The wall's reference to ``camera`` with its rank in the selected call's list."""
        rank = next((i + 1 for i, o in enumerate(self.options) if o.camera.id == camera.id), None)
        return CameraRef.of(camera, rank=rank)

    def open_camera(self, camera_id: str) -> None:
        option = next((o for o in self.options if o.camera.id == camera_id), None)
        if option is not None and (
            option.action == "request" or option.camera.tier is not Tier.INTEGRATED
        ):
            # request-only: offer the footage request for its owner; the wall stays as it is
            self.request_footage(camera_id)
            return
        if option is not None:
            self.wall.open_camera(self.ranked_ref(option.camera), self.wall.reason())

    def highlight_camera(self, camera_id: str) -> None:
        self.map_view.select_camera(camera_id)

    def on_registry_loaded(self, _count: int) -> None:
        self.counts_changed()
        index = self.live.index
        self.map_view.set_cameras(
            [c for c in (index.get(i) for i in index.camera_ids()) if c is not None]
        )
        self.refresh_cameras()

    def on_camera_changed(self, camera: Camera | None, camera_id: str, _change: str) -> None:
        if camera is None:
            self.map_view.remove_camera(camera_id)
        else:
            self.map_view.upsert_camera(camera)
            self.wall.on_camera_changed(camera)
        self.counts_changed()
        self.refresh_cameras()

    def on_camera_deleted(self, last_known: Camera) -> None:
        """A deleted camera may still be on the wall: the wall treats it as revoked."""
        self.wall.on_camera_changed(last_known)

    def on_emergency_ended(self, camera_ids: list[str]) -> None:
        self.wall.on_emergency_ended(camera_ids)

    def on_grant_revoked(self, grant_id: str, camera_id: str, reason: str) -> None:
        self.wall.on_grant_revoked(grant_id or None, camera_id or None, reason)
