"""What the console knows of the server, kept current: calls, registry, emergencies, link.

``LiveData`` starts from the local cache (so a restart while the server is down still shows
the last calls and ranks cameras offline), then on every (re)connection of the event stream
re-fetches a snapshot (open calls, registry changes since the cursor, active emergencies)
and applies events as they come. Everything blocking runs on worker threads; results come
back through ``tasks.run_on_main`` and leave as Qt signals. Merges are version-aware, so a
snapshot racing an event, or a replay after a reconnect, never duplicates or regresses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QObject, Signal

from rtcc_console.client.api import ApiClient
from rtcc_console.client.convert import call_from_json, camera_from_json, emergency_from_json
from rtcc_console.client.emergencies import PanicAlert, panic_from_emergency, panic_from_event
from rtcc_console.client.events import EventStream, LinkState, ServerEvent
from rtcc_console.client.registry_cache import RegistryCache
from rtcc_console.core.index import CameraIndex
from rtcc_console.core.models import Camera, DispatchCall, Emergency
from rtcc_console.ui.tasks import run_in_background, run_on_main

log = logging.getLogger(__name__)
CallRow = tuple[DispatchCall, int]
FetchResult = tuple[
    list[dict[str, Any]],
    list[Camera],
    list[str],
    CameraIndex | None,
    list[tuple[Emergency, PanicAlert | None]],  # the emergency, its panic fields if any
]
REQUEST_EVENTS = frozenset(
    {"request.created", "request.updated", "evidence.received", "evidence.integrity_failed"}
    | {"field_share.created", "field_share.ended"}  # the call detail's "Sent to field"
)
REBUILD_ABOVE = 500  # registry changes beyond this: rebuild the index off the GUI thread


class LiveData(QObject):
    """Owns the cache, the camera index and the event stream for one signed-in session."""

    calls_loaded = Signal(object, object)  # list[CallRow], snapshot time | None (cache)
    call_received = Signal(object, int)  # DispatchCall, version
    registry_loaded = Signal(int)  # cameras in the index after a (re)load
    camera_changed = Signal(object, str, str)  # Camera | None (deleted), camera id, change
    camera_deleted = Signal(object)  # the last known Camera, marked revoked (it may be on the wall)
    emergencies_changed = Signal()
    emergency_ended = Signal(object)  # list of camera ids
    grant_revoked = Signal(str, str, str)  # grant id, camera id, reason
    link_changed = Signal(str, object)  # LinkState value, down-since datetime | None
    request_event = Signal(str, object)  # request.created/.updated, evidence.received: type, data

    def __init__(self, api: ApiClient, cache: RegistryCache, parent: Any = None) -> None:
        super().__init__(parent)
        self.api = api
        self.cache = cache
        self.index = CameraIndex()
        self.emergencies: dict[str, Emergency] = {}
        self.panics: dict[str, PanicAlert] = {}  # emergency id -> its ``emergency.panic`` details
        self.link = LinkState.STOPPED
        self.down_since: datetime | None = None
        self.stream: EventStream | None = None
        self._camera_events_since_fetch: list[tuple[Camera | None, str]] = []
        self._generation = 0  # bumps on stop(): late results of an old session are dropped

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        """Show what the cache holds at once, then connect."""
        self._generation += 1
        gen = self._generation

        def load() -> tuple[list[CallRow], CameraIndex, int | None]:
            calls = [call_from_json(c) for c in self.cache.call_rows()]
            return calls, self._index_from_cache(), self.cache.last_event_id

        def loaded(result: tuple[list[CallRow], CameraIndex, int | None]) -> None:
            if gen != self._generation:
                return
            calls, index, last_id = result
            self._install_index(index)
            self.calls_loaded.emit(calls, None)
            self._start_stream(last_id)

        run_in_background(load, on_success=loaded, what="Reading the local cache")

    def stop(self) -> None:
        """Disconnect (sign-out, 401, exit); the cache keeps what was seen."""
        self._generation += 1
        stream, self.stream = self.stream, None
        if stream is not None:
            run_in_background(
                stream.stop, on_success=lambda _r: None, what="Closing the event stream"
            )

    def _start_stream(self, last_id: int | None) -> None:
        gen = self._generation
        self.stream = EventStream(
            self.api,
            on_event=lambda ev: self._on_event(ev, gen),
            on_state=lambda state, since: run_on_main(lambda: self._on_state(state, since, gen)),
            last_event_id=last_id,
        )
        self.stream.start()

    def _index_from_cache(self) -> CameraIndex:
        """Built on a worker thread: a large registry must not freeze the window."""
        return CameraIndex.from_cameras([camera_from_json(c) for c in self.cache.camera_rows()])

    def _install_index(self, index: CameraIndex) -> None:
        self.index = index
        for camera, camera_id in self._camera_events_since_fetch:
            self._apply_to_index(camera, camera_id)  # changes that raced the rebuild
        self.registry_loaded.emit(len(self.index.camera_ids()))

    def _apply_to_index(self, camera: Camera | None, camera_id: str) -> None:
        if camera is None:
            self.index.remove(camera_id)
        else:
            self.index.upsert(camera)

    # -- link state and snapshots ----------------------------------------------------
    def _on_state(self, state: LinkState, since: datetime | None, gen: int) -> None:
        if gen != self._generation:
            return
        self.link = state
        self.down_since = since
        if state in (LinkState.RECONNECTING, LinkState.OFFLINE) and since is None:
            self.down_since = datetime.now(UTC)
        self.link_changed.emit(state.value, self.down_since)
        if state is LinkState.CONNECTED:
            self.refresh()

    def refresh(self, *, full: bool = False) -> None:
        """Fetch open calls, registry changes and emergencies (after (re)connect/truncation);
        ``full``: the registry is re-read from scratch and the index rebuilt."""
        gen = self._generation
        asked_at = datetime.now(UTC)

        self._camera_events_since_fetch = []

        def fetch() -> FetchResult:
            calls = self.api.list_calls("open")
            sync = self.cache.sync(self.api)
            self.cache.replace_calls(calls)
            ems = [
                (emergency_from_json(e), panic_from_emergency(e))
                for e in self.api.active_emergencies()
            ]
            if full or len(sync.changed) + len(sync.deleted) > REBUILD_ABOVE:
                return calls, [], [], self._index_from_cache(), ems
            changed = [camera_from_json(c) for c in sync.changed]
            return calls, changed, sync.deleted, None, ems

        def fetched(result: FetchResult) -> None:
            if gen != self._generation:
                return
            calls, changed, deleted, rebuilt, ems = result
            if rebuilt is not None:
                self._install_index(rebuilt)
            for cam in changed:
                self.index.upsert(cam)
            for cam_id in deleted:
                self.index.remove(cam_id)
            if changed or deleted:
                self.registry_loaded.emit(len(self.index.camera_ids()))
            self.emergencies = {e.id: e for e, _panic in ems}
            self.panics = {k: v for k, v in self.panics.items() if k in self.emergencies}
            self.panics.update({e.id: p for e, p in ems if p is not None})  # listed at connect
            self.emergencies_changed.emit()
            self.calls_loaded.emit([call_from_json(c) for c in calls], asked_at)

        run_in_background(
            fetch, on_success=fetched, on_failure=self._refresh_failed, what="Refreshing"
        )

    def _refresh_failed(self, exc: BaseException) -> None:
        log.info("snapshot refresh failed: %s", exc)  # the link state already says offline

    # -- events (called on the event thread) -----------------------------------------
    def _on_event(self, ev: ServerEvent, gen: int) -> None:
        data = ev.data
        if ev.type in ("call.created", "call.updated") and isinstance(data.get("call"), dict):
            call, version = call_from_json(data["call"])
            self.cache.upsert_call(data["call"], ev.id)
            self._deliver(gen, lambda: self.call_received.emit(call, version))
            return
        if ev.id is not None:
            self.cache.set_last_event_id(ev.id)
        if ev.type == "camera.changed" and isinstance(data.get("camera"), dict):
            raw = data["camera"]
            change = str(data.get("change") or "updated")
            deleted = change == "deleted" or bool(raw.get("deleted"))
            camera = None if deleted else camera_from_json(raw)
            self.cache.apply_cameras([] if deleted else [raw], [str(raw["id"])] if deleted else [])
            run_on_main(lambda: self._apply_camera(camera, str(raw["id"]), change, gen))
        elif ev.type == "grant.revoked":
            args = (
                str(data.get("grant_id") or ""),
                str(data.get("camera_id") or ""),
                str(data.get("reason") or ""),
            )
            self._deliver(gen, lambda: self.grant_revoked.emit(*args))
        elif ev.type in ("emergency.started", "emergency.ended") and isinstance(
            data.get("emergency"), dict
        ):
            em = emergency_from_json(data["emergency"])
            fields = panic_from_emergency(data["emergency"])  # the panic's fields, on the record
            run_on_main(
                lambda: self._apply_emergency(em, ev.type == "emergency.started", gen, fields)
            )
        elif ev.type == "emergency.panic" and isinstance(data.get("emergency"), dict):
            panic = panic_from_event(data)  # the site, kind and alarm level, as fields
            em = emergency_from_json(data["emergency"])
            run_on_main(lambda: self._apply_panic(em, panic, gen))
        elif ev.type in REQUEST_EVENTS:
            self._deliver(gen, lambda: self.request_event.emit(ev.type, data))
        elif ev.type == "replay.truncated":
            full = "newest_id" in data  # a replaced database: our registry cursor means nothing
            if full:
                self.cache.reset_registry()
            self._deliver(gen, lambda: self.refresh(full=full))

    def _deliver(self, gen: int, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the GUI thread unless the session it belongs to has ended."""

        def guarded() -> None:
            if gen == self._generation:
                fn()

        run_on_main(guarded)

    def _apply_camera(self, camera: Camera | None, camera_id: str, change: str, gen: int) -> None:
        if gen != self._generation:
            return
        before = self.index.get(camera_id)
        self._apply_to_index(camera, camera_id)
        self._camera_events_since_fetch.append((camera, camera_id))
        self.camera_changed.emit(camera, camera_id, change)
        if camera is None and before is not None:
            self.camera_deleted.emit(replace(before, revoked=True))

    def _apply_emergency(
        self, em: Emergency, started: bool, gen: int, panic: PanicAlert | None = None
    ) -> None:
        if gen != self._generation:
            return
        if started:
            self.emergencies[em.id] = em
            if panic is not None:
                self.panics[em.id] = panic
        else:
            self.emergencies.pop(em.id, None)
            self.panics.pop(em.id, None)
            self.emergency_ended.emit(sorted(em.camera_ids))
        self.emergencies_changed.emit()

    def _apply_panic(self, em: Emergency, panic: PanicAlert | None, gen: int) -> None:
        """``emergency.panic`` follows ``emergency.started``: keep its details for the banner."""
        if gen != self._generation or not em.active(datetime.now(UTC)):
            return
        self.emergencies.setdefault(em.id, em)
        if panic is not None:
            self.panics[em.id] = panic
        self.emergencies_changed.emit()

    def panic_for(self, emergency_id: str) -> PanicAlert | None:
        """The structured details of a panic-button emergency, when its event was seen."""
        return self.panics.get(emergency_id)

    def active_emergencies(self) -> list[Emergency]:
        now = datetime.now(UTC)
        return [e for e in self.emergencies.values() if e.ends_at is None or e.ends_at > now]
