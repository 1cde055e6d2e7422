""" "Send to field" in the console (issue 16) against a real embedded server: the dialog's
preselection (the cameras open on the wall, else the call's top live ones), search by unit
id, Send off the GUI thread, a refusal shown in the dialog, the call detail listing the
shares with their end time, "End share" ending it on the server, and the incident review's
Field lane. A recording wall and map stand in for the real ones (as in
test_console_wiring); the server, the event stream and the client are real."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from rtcc_console.client.api import ApiClient
from rtcc_console.client.evidence_api import EvidenceApi
from rtcc_console.client.field_shares import FieldSharesApi
from rtcc_console.client.incident_timeline import gather
from rtcc_console.ui.field_share_dialog import FieldShareDialog, camera_choices
from rtcc_console.ui.incident_review import IncidentReview
from tests.gui.conftest import CENTER, PASSWORD, ConsoleServer
from tests.gui.test_console_wiring import RecordingMap, RecordingWall

pytestmark = pytest.mark.gui
DOCS = Path(__file__).resolve().parents[2] / "docs"


def _shot(widget: Any, name: str, tmp: Path) -> None:
    """Offscreen grab; into docs/ when RTCC_DOCS_SCREENSHOTS=1 (how the docs pictures are made)."""
    target = (DOCS if os.environ.get("RTCC_DOCS_SCREENSHOTS") == "1" else tmp) / name
    assert widget.grab().save(str(target))


class WallWithTiles(RecordingWall):
    """A recording wall on which some cameras are open."""

    def __init__(self) -> None:
        super().__init__()
        self.open_ids: list[str] = []

    def tile_of_camera(self, camera_id: str) -> int | None:
        return self.open_ids.index(camera_id) if camera_id in self.open_ids else None


def _admin(server: ConsoleServer, method: str, path: str, body: Any) -> Any:
    r = requests.request(
        method,
        f"{server.base}/api/v1{path}",
        json=body,
        headers={"Authorization": f"Bearer {server.admin}"},
        timeout=10,
    )
    assert r.status_code < 300, r.text
    return r.json()


def _officers(server: ConsoleServer) -> None:
    for name, units, display in (
        ("ofc.kim", ["1A23", "1A24"], "Kim, J."),
        ("ofc.lee", ["1A23"], "Lee, M."),
        ("ofc.ray", ["2B11"], "Ray, P."),
    ):
        server.embedded.ensure_user(name, "officer", PASSWORD)
        _admin(server, "PUT", f"/users/{name}/units", {"unit_ids": units, "display_name": display})


def _console(
    qtbot: Any, server: ConsoleServer, make_console: Any
) -> tuple[Any, Any, WallWithTiles, dict[str, Any]]:
    _officers(server)
    for n, (dlat, dlon) in enumerate(((0.0002, 0.0), (-0.0002, 0.0001), (0.0, -0.0003)), 1):
        lat, lon = CENTER[0] + dlat, CENTER[1] + dlon
        server.admin_post(
            "/cameras",
            {
                "id": f"cam-field-{n}",
                "name": f"Elm St {1200 + n} storefront",
                "tier": "integrated",
                "kind": "business",
                "sharing_mode": "live_always",
                "lat": lat,
                "lon": lon,
                "address": f"{1200 + n} Elm St",
                "stream_url": f"rtsp://10.0.0.{n}:554/live",
            },
        )
    wall = WallWithTiles()
    window, api = make_console(server.base, wall=wall, map_view=RecordingMap())
    window.resize(1400, 900)
    qtbot.waitUntil(lambda: len(window.live.index.camera_ids()) == 283, timeout=30_000)
    call = server.post_call(incident_id="DPD-FIELD-0001", priority=1)
    qtbot.waitUntil(lambda: window.call_queue.select_call(call["id"]), timeout=30_000)
    qtbot.waitUntil(lambda: window.selection.call_id == call["id"], timeout=30_000)
    assert sum(o.action == "live" for o in window.selection.options) >= 4
    return window, api, wall, call


def _open_dialog(qtbot: Any, window: Any) -> FieldShareDialog:
    with qtbot.waitSignal(window.send_to_field.dialog_opened, timeout=30_000) as opened:
        window.send_to_field.action.trigger()  # Calls ▸ Send to field… (Ctrl+Shift+F)
    dialog = opened.args[0]
    assert isinstance(dialog, FieldShareDialog)
    qtbot.waitUntil(lambda: dialog.roster is not None, timeout=30_000)
    return dialog


def _officer_items(dialog: FieldShareDialog) -> dict[str, Any]:
    return {
        str(dialog.officer_list.item(i).data(Qt.ItemDataRole.UserRole)): dialog.officer_list.item(i)
        for i in range(dialog.officer_list.count())
    }


def test_preselection_prefers_the_wall_then_the_top_live_cameras(
    qtbot: Any, console_server: ConsoleServer, make_console: Any
) -> None:
    window, _api, wall, _call = _console(qtbot, console_server, make_console)
    live = [o.camera.id for o in window.selection.options if o.action == "live"]
    # nothing on the wall: the call's top live cameras (best first)
    dialog = _open_dialog(qtbot, window)
    assert dialog.checked_cameras() == live[:4]
    assert [
        dialog.camera_list.item(i).data(Qt.ItemDataRole.UserRole)
        for i in range(dialog.camera_list.count())
    ] == live  # only cameras an officer may be shown live now
    dialog.close()
    # two of them open on the wall (not the best one): exactly those
    wall.open_ids = [live[2], live[1]]
    dialog = _open_dialog(qtbot, window)
    assert sorted(dialog.checked_cameras()) == sorted(wall.open_ids)
    assert "on the wall" in dialog.camera_note.text()
    dialog.close()
    # the call's right-click menu offers it too, on the call under the pointer
    queue = window.call_queue
    row = queue.visible_call_ids().index(window.selection.call_id)
    queue._context_menu(queue.table.visualRect(queue.proxy.index(row, 2)).center())
    assert queue.last_menu is not None
    entry = next(a for a in queue.last_menu.actions() if a.text() == "Send to field…")
    with qtbot.waitSignal(window.send_to_field.dialog_opened, timeout=30_000) as opened:
        entry.trigger()
    assert opened.args[0].call.id == window.selection.call_id
    queue.last_menu.close()
    opened.args[0].close()
    # the pure rule, with nothing live: nothing to preselect
    choices, pre = camera_choices(
        [o for o in window.selection.options if o.action != "live"], lambda _c: True
    )
    assert choices == [] and pre == []


def test_send_list_end_and_review(
    qtbot: Any, console_server: ConsoleServer, make_console: Any, tmp_path: Path
) -> None:
    window, api, wall, call = _console(qtbot, console_server, make_console)
    live = [o.camera.id for o in window.selection.options if o.action == "live"]
    wall.open_ids = live[:2]
    dialog = _open_dialog(qtbot, window)
    items = _officer_items(dialog)
    assert set(items) == {"ofc.kim", "ofc.lee", "ofc.ray"}
    assert dialog.minutes.value() == 120  # the server's field_share_ttl_s (default 2 h)
    assert "Kim, J. (ofc.kim) · 1A23, 1A24" in items["ofc.kim"].text()
    # search by unit id, Enter checks the crew of that car
    qtbot.keyClicks(dialog.search, "1a23")
    assert not items["ofc.kim"].isHidden() and not items["ofc.lee"].isHidden()
    assert items["ofc.ray"].isHidden()
    qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
    assert sorted(dialog.checked_officers()) == ["ofc.kim", "ofc.lee"]
    assert dialog.send_button.isEnabled() and dialog.send_button.text() == "Send"
    dialog.minutes.setValue(45)
    _shot(dialog, "console-send-to-field.png", tmp_path)
    with qtbot.waitSignal(dialog.sent, timeout=30_000) as sent:
        dialog.send_button.click()
    results = sent.args[0]
    assert sorted(r.share.officer for r in results) == ["ofc.kim", "ofc.lee"]
    assert dialog.links.isVisible() and all(r.link in dialog.links.toPlainText() for r in results)
    assert not dialog.send_button.isEnabled()  # sent once; a second send needs a new dialog
    server_side = FieldSharesApi(api).call_shares(call["id"])
    assert {s.officer for s in server_side} == {"ofc.kim", "ofc.lee"}
    assert all(list(s.camera_ids) == live[:2] for s in server_side)
    assert all((s.expires_at - s.created_at).total_seconds() == 45 * 60 for s in server_side)
    until = server_side[0].expires_at.astimezone(UTC).strftime("%H:%M")  # the console runs in UTC
    dialog.close()

    # the call detail lists them, with their end time and an End share button each
    panel = window.send_to_field.panel
    window.docks["details"].show()
    window.docks["details"].raise_()
    qtbot.waitUntil(
        lambda: len(panel.rows) == 2 and all(lb.isVisible() for lb, _b in panel.rows.values()),
        timeout=30_000,
    )
    text = panel.text()
    assert "ofc.kim" in text and "ofc.lee" in text and f"until {until}" in text
    assert all(button is not None for _label, button in panel.rows.values())
    kim = next(s for s in server_side if s.officer == "ofc.kim")
    button = panel.rows[kim.id][1]
    assert isinstance(button, QPushButton)
    with qtbot.waitSignal(panel.share_ended, timeout=30_000) as ended:
        button.click()
    assert ended.args == [kim.id]
    after = {s.id: s for s in FieldSharesApi(api).call_shares(call["id"])}
    assert after[kim.id].ended_at is not None and after[kim.id].end_reason == "ended by ana"
    qtbot.waitUntil(lambda: panel.rows.get(kim.id, (None, 1))[1] is None, timeout=30_000)
    assert "ended by ana" in panel.text()
    qtbot.waitUntil(lambda: all(lb.isVisible() for lb, _b in panel.rows.values()), timeout=30_000)
    _shot(window.docks["details"], "console-call-detail-field.png", tmp_path)

    # a refusal is shown in the dialog in the server's words, nothing is made
    _admin(console_server, "PATCH", "/users/ofc.ray", {"disabled": True})
    dialog = _open_dialog(qtbot, window)
    items = _officer_items(dialog)
    assert "ofc.ray" not in items  # the roster lists active officers only
    dialog.roster = None
    from rtcc_console.client.field_shares import Officer, OfficerRoster

    dialog.set_roster(
        OfficerRoster((Officer("ofc.ray", "Ray, P.", ("2B11",)),), 7200, 86400)
    )  # a roster read just before the account was disabled
    _officer_items(dialog)["ofc.ray"].setCheckState(Qt.CheckState.Checked)
    with qtbot.waitSignal(dialog.send_failed, timeout=30_000):
        dialog.send_button.click()
    assert dialog.error.isVisible() and "not an active officer account" in dialog.error.text()
    assert dialog.send_button.isEnabled() and dialog.send_button.text() == "Send"
    assert len(FieldSharesApi(api).call_shares(call["id"])) == 2
    dialog.close()

    # the supervisor's incident review: the send and the end, in the Field lane
    adam = ApiClient(console_server.base)
    adam.login("adam", PASSWORD)
    evidence = EvidenceApi(adam, tmp_path / "ev")
    review = IncidentReview(
        lambda c, k: gather(adam, evidence, call_id=c, case_number=k, zone=UTC),
        lambda item: evidence.fetch_content(item),
        zone=UTC,
    )
    qtbot.addWidget(review, before_close_func=lambda w: w.shutdown())
    with qtbot.waitSignal(review.loaded, timeout=30_000):
        review.load(call["id"])
    field = [e for e in review.entries if e.lane == "Field"]
    titles = [e.title for e in field]
    cams = ", ".join(live[:2])
    assert f"Shared to field: officers ofc.kim, ofc.lee; cameras {cams}; until {until}" in titles
    assert "Field share ended (ended by ana)" in titles
    listed = [review.list.topLevelItem(i).text(2) for i in range(review.list.topLevelItemCount())]
    assert "Field share ended (ended by ana)" in listed
    assert datetime.now(UTC) >= min(e.at for e in field)
