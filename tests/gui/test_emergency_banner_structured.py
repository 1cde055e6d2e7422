"""The emergency banner reads the structured ``emergency.panic`` event (site, kind, AVS-01
level, where in the site) that the real server publishes for a panic; an emergency without
that event (declared by a supervisor, or begun before the console connected) keeps the
line read from its reason text."""

from __future__ import annotations

import os
from typing import Any

import pytest
import requests

from rtcc_console.store import emergencies as store_emergencies
from tests.gui.conftest import PASSWORD, ConsoleServer
from tests.gui.test_console_emergency_alert import _press, _school_site


@pytest.mark.qt_log_ignore("GPUInfo not initialized")  # QtWebEngine (the map) without a GPU
def test_banner_uses_the_panic_event_fields_and_falls_back_to_the_reason(
    qtbot: Any, console_server: ConsoleServer, make_console: Any
) -> None:
    window, _api = make_console(console_server.base)
    alert, live = window.emergency_alert, window.live
    cam_id, key_id, secret = _school_site(
        console_server, "Lincoln Elementary", "head@lincoln.example"
    )
    qtbot.waitUntil(lambda: live.index.get(cam_id) is not None, timeout=20000)

    emergency = _press(console_server, key_id, secret, level=4)  # location "Gym"
    qtbot.waitUntil(lambda: bool(alert.items) and alert.items[0].structured, timeout=20000)
    panic = live.panic_for(emergency["id"])
    assert panic is not None and panic.alarm_level == 4 and panic.source == "alarm_panel"
    assert panic.site_name == "Lincoln Elementary" and panic.kind == "school"
    item = alert.items[0]
    assert item.site == "Lincoln Elementary" and item.level == 4
    # "Gym" is only in the event's fields: the line was built from them
    assert " — school — alarm level 4 — Gym — " in item.text
    assert item.text in alert.lines.text()

    # A supervisor declares an emergency for another site with a panic-shaped reason:
    # no emergency.panic event, so the line is read from the reason text.
    cam2, _key2, _secret2 = _school_site(
        console_server, "Oak Street Business", "boss@oak.example", nth=1, kind="business"
    )
    console_server.embedded.ensure_user("sue", "supervisor", PASSWORD)
    r = requests.post(
        f"{console_server.base}/api/v1/emergencies",
        timeout=10,
        headers={"Authorization": f"Bearer {console_server.token('sue')}"},
        json={
            "camera_ids": [cam2],
            "reason": "Panic (portal): Oak Street Business, AVS-01 level 2 (threat to property)",
            "duration_s": 600,
        },
    )
    assert r.status_code == 201, r.text
    declared = r.json()["id"]
    qtbot.waitUntil(lambda: len(alert.items) == 2, timeout=20000)
    newest = alert.items[0]
    assert newest.emergency.id == declared and live.panic_for(declared) is None
    assert not newest.structured and newest.site == "Oak Street Business" and newest.level == 2
    assert " — alarm level 2 — " in newest.text
    assert alert.items[1].structured  # the first keeps its structured line


@pytest.mark.qt_log_ignore("GPUInfo not initialized")  # QtWebEngine (the map) without a GPU
def test_a_console_started_after_the_panic_reads_the_listed_emergencys_fields(
    qtbot: Any, console_server: ConsoleServer, make_console: Any
) -> None:
    """The panic was pressed before this console connected: it never sees the
    ``emergency.panic`` event, only ``GET /emergencies``, whose record carries the fields.
    A row without them (written before revision 0111) keeps the reason-text line."""
    cam_id, key_id, secret = _school_site(
        console_server, "Lincoln Elementary", "head@lincoln.example"
    )
    emergency = _press(console_server, key_id, secret, level=4)  # location "Gym"
    cam2, _key2, _secret2 = _school_site(
        console_server, "Oak Street Business", "boss@oak.example", nth=1, kind="business"
    )
    with console_server.embedded.state.db.write() as s:  # an old row: reason text only
        old = store_emergencies.insert_emergency(
            s,
            owner_id=None,
            camera_ids=[cam2],
            reason="Panic (portal): Oak Street Business, AVS-01 level 2 (threat to property)",
            duration_s=600,
            created_by="panel",
        )

    window, _api = make_console(console_server.base)
    alert, live = window.emergency_alert, window.live
    qtbot.waitUntil(lambda: len(alert.items) == 2 and alert.isVisible(), timeout=20000)
    by_id = {i.emergency.id: i for i in alert.items}
    panic = live.panic_for(emergency["id"])
    assert panic is not None and panic.source == "alarm_panel" and panic.location == "Gym"
    item = by_id[emergency["id"]]
    assert item.structured and (item.site, item.kind, item.level) == (
        "Lincoln Elementary",
        "school",
        4,
    )
    # "Gym" is only in the listed record's panic fields, not in any event this console saw
    assert item.text.startswith("Lincoln Elementary — school — alarm level 4 — Gym — ")
    assert item.text in alert.lines.text()
    fallback = by_id[old.id]
    assert live.panic_for(old.id) is None and not fallback.structured
    assert fallback.site == "Oak Street Business" and fallback.level == 2
    assert fallback.text.startswith("Oak Street Business — business — alarm level 2 — ")
    assert live.index.get(cam_id) is not None
    shot = os.environ.get("RTCC_BANNER_SHOT")  # docs/emergency-banner-listed.png
    if shot:
        alert.grab().save(shot)
