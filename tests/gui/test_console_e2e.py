"""End to end against the real server over loopback HTTP: calls reach the queue through
the event stream, the camera list matches an independent ranking of the same registry,
and an outage is survived without duplicates or gaps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from rtcc_console.client.convert import camera_from_json
from rtcc_console.core.index import CameraIndex
from rtcc_console.core.models import GeoPoint
from rtcc_console.core.policy import live_now
from rtcc_console.core.ranking import index_nearest, ranked_for_call
from rtcc_console.ui.camera_list import COL_ACTION, COL_BECAUSE
from tests.gui.conftest import CENTER, ConsoleServer

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def _all_cameras(server: ConsoleServer) -> list[Any]:
    r = requests.get(
        f"{server.base}/api/v1/cameras",
        params={"since": "0", "limit": 5000},
        timeout=30,
        headers={"Authorization": f"Bearer {server.admin}"},
    )
    return [camera_from_json(c) for c in r.json()["items"]]


def test_posted_call_appears_with_the_right_ranked_cameras(
    qtbot: Any, console_server: ConsoleServer, make_console: Any, monkeypatch: Any
) -> None:
    from rtcc_console.ui import live_data

    monkeypatch.setattr(
        live_data, "REBUILD_ABOVE", 10
    )  # the first sync rebuilds the index off-thread
    window, _api = make_console(console_server.base)
    qtbot.waitUntil(lambda: window.live.link.value == "connected", timeout=15000)
    qtbot.waitUntil(lambda: len(window.live.index.camera_ids()) == 280, timeout=15000)
    call = console_server.post_call(priority=1)
    qtbot.waitUntil(lambda: window.call_queue.model.call(call["id"]) is not None, timeout=10000)
    assert window.call_queue.select_call(call["id"])
    qtbot.waitUntil(lambda: window.camera_list.model.rowCount() > 0, timeout=5000)

    cams = _all_cameras(console_server)
    index = CameraIndex.from_cameras(cams)
    now = datetime.now(UTC)
    expected = ranked_for_call(
        index_nearest(index),
        GeoPoint(*CENTER),
        k=window.settings.nearest_count,
        radius_m=window.settings.nearest_radius_m,
        is_live=lambda c: live_now(c, [], now),
    )
    shown = [o.camera.id for o in window.camera_list.model.options()]
    assert shown == [r.camera.id for r in expected]
    assert window.wall.reason() == f"call {call['incident_id']}"
    assert "1 open call" in window.status.calls_label.text()
    assert window.status.link_label.text() == "● Connected"
    assert window.status.cameras_label.text() == "280 cameras"
    assert window.status.user_label.text() == "Signed in: ana (analyst)"


def test_revocation_updates_the_camera_list_at_once(
    qtbot: Any, console_server: ConsoleServer, make_console: Any
) -> None:
    window, _api = make_console(console_server.base)
    qtbot.waitUntil(lambda: window.live.link.value == "connected", timeout=15000)
    qtbot.waitUntil(lambda: len(window.live.index.camera_ids()) == 280, timeout=15000)
    call = console_server.post_call()
    qtbot.waitUntil(lambda: window.call_queue.select_call(call["id"]), timeout=10000)
    options = window.camera_list.model.options()
    actions = {o.action for o in options}
    assert "live" in actions and "request" in actions, actions
    live = next(o for o in options if o.action == "live")
    row = options.index(live)
    assert window.camera_list.model.index(row, COL_ACTION).data() == "View live now"
    assert window.camera_list.model.index(row, COL_BECAUSE).data() == live.why
    registered = next(o for o in options if o.action == "request")
    assert registered.why  # the policy's sentence is there (shown as the tooltip)

    console_server.admin_post(
        f"/cameras/{live.camera.id}/revoke", {"reason": "owner withdrew consent"}
    )

    def revoked_shown() -> bool:
        now = {o.camera.id: o for o in window.camera_list.model.options()}
        opt = now.get(live.camera.id)
        return opt is None or (opt.action != "live" and opt.camera.revoked)

    qtbot.waitUntil(revoked_shown, timeout=10000)
    assert window.live.index.get(live.camera.id).revoked  # type: ignore[union-attr]


def test_offline_banner_then_catch_up_without_duplicates(
    qtbot: Any, console_server: ConsoleServer, make_console: Any, tmp_path: Any
) -> None:
    window, api = make_console(console_server.base)
    qtbot.waitUntil(lambda: window.live.link.value == "connected", timeout=15000)
    first = [console_server.post_call() for _ in range(3)]
    qtbot.waitUntil(lambda: window.call_queue.model.rowCount() == 3, timeout=10000)
    # the first registry sync runs beside the event stream: let it land before the outage
    qtbot.waitUntil(lambda: len(window.live.index.camera_ids()) == 280, timeout=15000)
    assert not window.call_queue.offline_banner.isVisible()

    console_server.stop()
    qtbot.waitUntil(lambda: window.call_queue.offline_banner.isVisible(), timeout=15000)
    assert "since" in window.status.link_label.text()
    assert window.status.link_label.text().split()[1] in ("Offline", "Reconnecting")
    assert window.call_queue.model.rowCount() == 3  # the last calls stay listed
    assert window.camera_list is not None and len(window.live.index.camera_ids()) == 280

    console_server.start()  # same database, same port
    later = [console_server.post_call() for _ in range(2)]
    qtbot.waitUntil(lambda: window.live.link.value == "connected", timeout=20000)
    qtbot.waitUntil(lambda: window.call_queue.model.rowCount() == 5, timeout=15000)
    ids = [c.id for c in window.call_queue.model.calls()]
    assert sorted(ids) == sorted(c["id"] for c in first + later)
    assert len(ids) == len(set(ids))
    assert not window.call_queue.offline_banner.isVisible()

    # the calls are in the local cache too: a console started while the server is down shows them
    window.close()
    console_server.stop()
    again, _ = make_console.rebuild(api)
    qtbot.waitUntil(lambda: again.call_queue.model.rowCount() == 5, timeout=10000)
    qtbot.waitUntil(lambda: again.call_queue.offline_banner.isVisible(), timeout=15000)
    qtbot.waitUntil(lambda: len(again.live.index.camera_ids()) == 280, timeout=10000)


def test_replaced_database_resyncs_registry_and_calls(
    qtbot: Any, console_server: ConsoleServer, make_console: Any, tmp_path: Any
) -> None:
    window, _api = make_console(console_server.base)
    qtbot.waitUntil(lambda: window.live.link.value == "connected", timeout=15000)
    for _ in range(3):
        console_server.post_call()
    qtbot.waitUntil(lambda: window.call_queue.model.rowCount() == 3, timeout=10000)
    console_server.stop()

    (tmp_path / "b").mkdir()
    other = ConsoleServer(
        tmp_path / "b", n_registered=50, n_integrated=20, port=console_server.port, seed=2
    )
    try:
        fresh = other.post_call()
        # the old token means nothing to the new database: 401 -> sign-in dialog, layout kept
        qtbot.waitUntil(
            lambda: window.session.dialog is not None and window.session.dialog.isVisible(),
            timeout=20000,
        )
        dialog = window.session.dialog
        dialog.username.setText("ana")
        dialog.password.setText("a-password-of-12+chars")
        dialog.sign_in_button.click()
        # our last event id is newer than any the new server issued: replay.truncated -> full resync
        qtbot.waitUntil(lambda: len(window.live.index.camera_ids()) == 70, timeout=20000)
        qtbot.waitUntil(
            lambda: [c.id for c in window.call_queue.model.calls()] == [fresh["id"]], timeout=10000
        )
        later = other.post_call()
        qtbot.waitUntil(
            lambda: window.call_queue.model.call(later["id"]) is not None, timeout=10000
        )
    finally:
        other.stop()
