""" "Send to field" for an emergency with no call (issue 16), against a real embedded server:
a school's panic raises the banner, its "Send to field…" opens the field share dialog for
that emergency with the site's cameras (and the nearest ones the banner opened on the wall)
preselected; Send runs off the GUI thread, makes the emergency's shares on the server, and
the banner then says who it was sent to and until when, and its "End field shares" ends
them on the server. A recording wall and map stand in
for the real ones; the server, the panic (signed, as an alarm panel sends it), the event
stream and the client are real."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from rtcc_console.client.field_shares import FieldSharesApi
from rtcc_console.ui.field_share_dialog import FieldShareDialog
from tests.gui.conftest import ConsoleServer
from tests.gui.test_console_emergency_alert import _press, _school_site
from tests.gui.test_console_wiring import RecordingMap
from tests.gui.test_field_share_console import WallWithTiles, _officers, _shot

pytestmark = pytest.mark.gui


def test_send_an_emergency_to_the_field_from_the_banner(
    qtbot: Any, console_server: ConsoleServer, make_console: Any, tmp_path: Path
) -> None:
    _officers(console_server)
    window, api = make_console(console_server.base, wall=WallWithTiles(), map_view=RecordingMap())
    window.resize(1400, 900)
    alert = window.emergency_alert
    cam_id, key_id, secret = _school_site(
        console_server, "Lakewood Elementary", "office@lakewood.example"
    )
    qtbot.waitUntil(lambda: window.live.index.get(cam_id) is not None, timeout=30_000)
    emergency = _press(console_server, key_id, secret, level=4)  # location "Gym"
    qtbot.waitUntil(lambda: bool(alert.items) and alert.items[0].structured, timeout=30_000)
    opened_on_wall = alert.opened[emergency["id"]]
    assert cam_id in opened_on_wall and len(opened_on_wall) > 1  # the site's + nearest

    with qtbot.waitSignal(window.send_to_field.dialog_opened, timeout=30_000) as shown:
        qtbot.mouseClick(alert.field_button, Qt.MouseButton.LeftButton)
    dialog = shown.args[0]
    assert isinstance(dialog, FieldShareDialog)
    assert dialog.call is None and dialog.emergency is not None
    assert dialog.emergency.id == emergency["id"]
    assert "Lakewood Elementary" in dialog.emergency.title and "Gym" in dialog.emergency.detail
    assert "emergency" in dialog.windowTitle().lower()
    # the site's camera and the nearest ones the banner opened, all preselected
    assert sorted(dialog.checked_cameras()) == sorted(opened_on_wall)
    assert "ends when the emergency ends" in dialog.camera_note.text()
    qtbot.waitUntil(lambda: dialog.roster is not None, timeout=30_000)
    for i in range(dialog.officer_list.count()):
        item = dialog.officer_list.item(i)
        if item.data(Qt.ItemDataRole.UserRole) == "ofc.kim":
            item.setCheckState(Qt.CheckState.Checked)
    assert dialog.checked_officers() == ["ofc.kim"] and dialog.send_button.isEnabled()
    with qtbot.waitSignal(dialog.sent, timeout=30_000) as sent:
        qtbot.mouseClick(dialog.send_button, Qt.MouseButton.LeftButton)
    [made] = sent.args[0]
    assert made.share.emergency_id == emergency["id"] and made.share.call_id is None
    assert "/field/fld_" in made.link and "or the emergency ends" in dialog.links.toPlainText()
    _shot(dialog, "console-send-emergency-to-field.png", tmp_path)
    # the server holds the emergency's share; the banner says who and until when
    on_server = FieldSharesApi(api).emergency_shares(emergency["id"])
    assert [(s.officer, sorted(s.camera_ids)) for s in on_server] == [
        ("ofc.kim", sorted(opened_on_wall))
    ]
    qtbot.waitUntil(lambda: alert.field_line.isVisible(), timeout=10_000)
    assert "Sent to field: ofc.kim until" in alert.field_line.text()
    assert alert.field_end_button.isVisible()
    _shot(alert, "console-emergency-banner-field.png", tmp_path)
    dialog.close()
    # "End field shares" ends them on the server (off the GUI thread)
    qtbot.mouseClick(alert.field_end_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Field shares ended (1)" in alert.field_line.text(), timeout=30_000)
    assert not alert.field_end_button.isVisible()
    [ended] = FieldSharesApi(api).emergency_shares(emergency["id"])
    assert ended.ended_at is not None and ended.end_reason == "ended by ana"
