"""The main window drives the wall and the map as the contract says (a recording wall and
map stand in for the real ones; the server and event stream are real). The fakes
implement ``ui.seams.ConsoleMap`` / ``ConsoleWall`` like the real widgets (mypy checks
both), so a renamed method cannot pass here and do nothing in production."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pytest
import requests
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from rtcc_console.core.models import Camera, DispatchCall, Tier
from rtcc_console.ui.seams import ConsoleMap, ConsoleWall
from rtcc_console.ui.wall import CAMERA_MIME
from rtcc_console.ui.wall.feeds import CameraRef
from tests.gui.conftest import ConsoleServer

pytestmark = pytest.mark.gui


class RecordingWall(QWidget):
    open_top_requested = Signal()  # the real wall's toolbar button / Ctrl+Shift+O

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, Any]] = []
        self._reason = ""

    def set_reason(self, text: str) -> None:
        self._reason = text
        self.calls.append(("set_reason", text))

    def reason(self) -> str:
        return self._reason

    def prewarm(self, cameras: list[Camera], reason: str) -> list[str]:
        self.calls.append(("prewarm", ([c.id for c in cameras], reason)))
        return []

    def open_cameras(self, cameras: Iterable[Camera | CameraRef], reason: str) -> int:
        ids = [c.id for c in cameras]
        self.calls.append(("open_cameras", (ids, reason)))
        return len(ids)

    def open_camera(self, camera: Camera | CameraRef, reason: str) -> bool:
        self.calls.append(("open_camera", (camera.id, reason)))
        return True

    def on_camera_changed(self, camera: Camera) -> None:
        self.calls.append(("on_camera_changed", camera.id))

    def on_emergency_ended(self, camera_ids: Iterable[str]) -> None:
        self.calls.append(("on_emergency_ended", list(camera_ids)))

    def on_grant_revoked(self, grant_id: str | None, camera_id: str | None, reason: str) -> int:
        self.calls.append(("on_grant_revoked", (grant_id, camera_id, reason)))
        return 1

    def set_user(self, user: str) -> None:
        self.calls.append(("set_user", user))

    def is_playing(self) -> bool:
        return False

    def live_view_count(self) -> int:
        return 0

    def tile_of_camera(self, camera_id: str) -> int | None:
        return None

    def close_for_sign_out(self) -> list[str]:
        self.calls.append(("close_for_sign_out", None))
        return []

    def end_session(self) -> None:
        self.calls.append(("end_session", None))

    def shutdown(self) -> None:
        self.calls.append(("shutdown", None))

    def named(self, name: str) -> list[Any]:
        return [args for n, args in self.calls if n == name]


class RecordingMap(QWidget):
    call_clicked = Signal(str)
    camera_clicked = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def set_calls(self, calls: Iterable[DispatchCall]) -> None:
        self.calls.append(("set_calls", (list(calls),)))

    def upsert_call(self, call: DispatchCall) -> None:
        self.calls.append(("upsert_call", (call,)))

    def select_call(self, call_id: str | None, *, center: bool = True) -> None:
        self.calls.append(("select_call", (call_id,)))

    def set_cameras(self, cameras: Iterable[Camera]) -> None:
        self.calls.append(("set_cameras", (list(cameras),)))

    def upsert_camera(self, camera: Camera) -> None:
        self.calls.append(("upsert_camera", (camera,)))

    def remove_camera(self, camera_id: str) -> None:
        self.calls.append(("remove_camera", (camera_id,)))

    def show_ranked(self, camera_ids: list[str]) -> None:
        self.calls.append(("show_ranked", (camera_ids,)))

    def select_camera(self, camera_id: str | None) -> None:
        self.calls.append(("select_camera", (camera_id,)))

    def focus_call(self) -> None:
        self.calls.append(("focus_call", ()))


def _checked(map_view: RecordingMap, wall: RecordingWall) -> tuple[ConsoleMap, ConsoleWall]:
    return map_view, wall  # mypy: the fakes implement the protocols the window needs


def test_fakes_and_real_widgets_offer_every_member_of_the_seams() -> None:
    from rtcc_console.ui.map_view import MapView
    from rtcc_console.ui.wall.wall import VideoWall

    for protocol, implementations in (
        (ConsoleMap, (RecordingMap, MapView)),
        (ConsoleWall, (RecordingWall, VideoWall)),
    ):
        members = [n for n in vars(protocol) if not n.startswith("_")]
        assert len(members) >= 10
        for cls in implementations:
            missing = [n for n in members if not hasattr(cls, n)]
            assert not missing, f"{cls.__name__} lacks {missing}"


def test_selection_ctrl_return_revocation_reach_wall_and_map(
    qtbot: Any, console_server: ConsoleServer, make_console: Any
) -> None:
    wall, map_view = RecordingWall(), RecordingMap()
    window, api = make_console(console_server.base, wall=wall, map_view=map_view)
    qtbot.waitUntil(lambda: len(window.live.index.camera_ids()) == 280, timeout=15000)
    call = console_server.post_call()
    qtbot.waitUntil(lambda: window.call_queue.select_call(call["id"]), timeout=10000)

    reason = f"call {call['incident_id']}"
    assert wall.reason() == reason
    live_ids = [o.camera.id for o in window.selection.options if o.action == "live"][:4]
    assert live_ids and wall.named("prewarm")[-1] == (live_ids, reason)
    assert ("select_call", (call["id"],)) in map_view.calls
    ranked = [args for name, args in map_view.calls if name == "show_ranked"][-1]
    assert ranked == ([o.camera.id for o in window.selection.options],)

    other = console_server.post_call(priority=1)
    qtbot.waitUntil(lambda: window.call_queue.model.call(other["id"]) is not None, timeout=10000)
    map_view.call_clicked.emit(other["id"])  # a click on the map selects in the queue
    assert window.selection.call_id == other["id"]
    map_view.call_clicked.emit(call["id"])
    assert window.selection.call_id == call["id"]

    window.open_top_action.trigger()  # Ctrl+Return
    assert wall.named("open_cameras")[-1] == (live_ids, reason)
    opened = len(wall.named("open_cameras"))
    wall.open_top_requested.emit()  # the wall's own "Open top cameras" asks the console
    assert len(wall.named("open_cameras")) == opened + 1
    assert wall.named("open_cameras")[-1] == (live_ids, reason)
    assert all(window.live.index.get(i).tier is Tier.INTEGRATED for i in live_ids)

    first_live = next(i for i, o in enumerate(window.selection.options) if o.action == "live")
    window.camera_list.table.selectRow(first_live)
    window.camera_list.table.activated_row.emit(first_live)  # Enter on the first live row
    assert wall.named("open_camera")[-1] == (window.selection.options[first_live].camera.id, reason)
    # Enter on a request-only camera offers the footage request; the wall is not asked.
    request_row = next(i for i, o in enumerate(window.selection.options) if o.action == "request")
    before = len(wall.named("open_camera"))
    window.camera_list.table.activated_row.emit(request_row)
    assert len(wall.named("open_camera")) == before
    form = window.footage.form
    assert (
        form.isVisible() and form.seed.camera_id == window.selection.options[request_row].camera.id
    )
    form.hide()
    mime = window.camera_list.model.mimeData([window.camera_list.model.index(0, 1)])
    payload = json.loads(bytes(mime.data(CAMERA_MIME).data()).decode())
    assert payload["camera_id"] == window.selection.options[0].camera.id

    grant = requests.post(
        f"{console_server.base}/api/v1/cameras/{live_ids[0]}/live-grants",
        json={"reason": reason},
        headers={"Authorization": f"Bearer {api.token}"},
        timeout=10,
    )
    assert grant.status_code == 201, grant.text
    console_server.admin_post(
        f"/cameras/{live_ids[0]}/revoke", {"reason": "owner withdrew consent"}
    )
    qtbot.waitUntil(lambda: live_ids[0] in wall.named("on_camera_changed"), timeout=10000)
    assert any(
        name == "upsert_camera" and args[0].id == live_ids[0] for name, args in map_view.calls
    )
    qtbot.waitUntil(lambda: bool(wall.named("on_grant_revoked")), timeout=10000)
    assert wall.named("on_grant_revoked")[-1][:2] == (grant.json()["id"], live_ids[0])
    assert live_ids[0] not in [o.camera.id for o in window.selection.options if o.action == "live"]

    gone = next(o.camera.id for o in window.selection.options if o.camera.id != live_ids[0])
    deleted = requests.delete(
        f"{console_server.base}/api/v1/cameras/{gone}",
        timeout=10,
        headers={"Authorization": f"Bearer {console_server.admin}"},
    )
    assert deleted.status_code == 204, deleted.text
    qtbot.waitUntil(lambda: ("remove_camera", (gone,)) in map_view.calls, timeout=10000)
    assert gone in wall.named("on_camera_changed")
    assert window.live.index.get(gone) is None
    assert gone not in [o.camera.id for o in window.selection.options]


_ = QObject


def test_emergency_makes_a_camera_live_then_ends(
    qtbot: Any, console_server: ConsoleServer, make_console: Any
) -> None:
    wall, map_view = RecordingWall(), RecordingMap()
    window, _api = make_console(console_server.base, wall=wall, map_view=map_view)
    qtbot.waitUntil(lambda: window.live.link.value == "connected", timeout=15000)
    call = console_server.post_call()
    qtbot.waitUntil(lambda: window.call_queue.select_call(call["id"]), timeout=10000)
    cam = console_server.admin_post(
        "/cameras",
        {
            "name": "Elm St school gate",
            "tier": "integrated",
            "kind": "school",
            "sharing_mode": "live_in_emergency",
            "lat": call["lat"] + 0.0001,
            "lon": call["lon"],
            "address": "1201 Elm St",
            "stream_url": "rtsp://user:pw@127.0.0.1:9/gate",
        },
    )

    def action_of(camera_id: str) -> str | None:
        return next((o.action for o in window.selection.options if o.camera.id == camera_id), None)

    qtbot.waitUntil(lambda: action_of(cam["id"]) == "request", timeout=10000)
    assert "pw@" not in (window.live.index.get(cam["id"]).stream_ref or "")
    em = console_server.admin_post(
        "/emergencies", {"camera_ids": [cam["id"]], "reason": "school lockdown", "duration_s": 600}
    )
    qtbot.waitUntil(lambda: action_of(cam["id"]) == "live", timeout=10000)
    console_server.admin_post(f"/emergencies/{em['id']}/end", {"reason": "all clear"})
    qtbot.waitUntil(lambda: action_of(cam["id"]) == "request", timeout=10000)


def test_messages_reach_the_status_bar_and_errors_a_dialog(
    qtbot: Any, console_server: ConsoleServer, make_console: Any
) -> None:
    from PySide6.QtWidgets import QMessageBox

    from rtcc_console.ui import messages

    window, _api = make_console(console_server.base, wall=RecordingWall(), map_view=RecordingMap())
    messages.warning("Registry sync is slow")
    qtbot.waitUntil(lambda: window.status.currentMessage() == "Registry sync is slow", timeout=2000)
    messages.error("Snapshot could not be saved")
    qtbot.waitUntil(
        lambda: any(
            b.text() == "Snapshot could not be saved" for b in window.findChildren(QMessageBox)
        ),
        timeout=2000,
    )
