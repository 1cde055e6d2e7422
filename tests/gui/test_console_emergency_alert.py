"""The console's emergency alert against the real server: an alarm panel presses the panic
button through POST /api/v1/panic (HMAC-signed); the console shows the banner (site, kind,
level, time), sounds the urgent tone, flies the map to the site, opens the site's camera plus
the nearest integrated ones (4 in all) on the wall; acknowledge is audited; mute silences
the next one; ending the emergency clears the banner."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from rtcc_console.server.portal.accounts import site_key_secret
from rtcc_console.server.portal.panic import signature
from rtcc_console.store import portal as store_portal
from rtcc_console.store.schema import AuditEventRow, CameraRow
from tests.gui.conftest import PASSWORD, ConsoleServer


def _school_site(
    server: ConsoleServer, name: str, email: str, nth: int = 0, kind: str = "school"
) -> tuple[str, str, str]:
    """A school owner whose site camera is a seeded integrated one; returns (camera, key id, secret)."""
    state = server.embedded.state
    with state.db.write() as s:
        account = store_portal.create_account(
            s, name=name, kind=kind, email=email, password_hash=None
        )
        assert account is not None
        cam = s.scalars(
            select(CameraRow)
            .where(CameraRow.tier == "integrated", CameraRow.sharing_mode == "live_always")
            .order_by(CameraRow.id)
            .offset(nth * 5)
            .limit(1)
        ).one()
        cam.owner_id, cam.sharing_mode, cam.kind = account.owner_id, "live_in_emergency", kind
        key = store_portal.create_site_key(s, owner_id=account.owner_id, label="panel")
        cam_id = cam.id
    return cam_id, key.id, site_key_secret(state, key_id=key.id, nonce=key.nonce)


def _press(server: ConsoleServer, key_id: str, secret: str, level: int) -> dict[str, Any]:
    body = json.dumps({"alarm_level": level, "location": "Gym", "description": "intruder"}).encode()
    stamp = str(int(time.time()))
    r = requests.post(
        f"{server.base}/api/v1/panic",
        data=body,
        timeout=10,
        headers={
            "Content-Type": "application/json",
            "X-RTCC-Key": key_id,
            "X-RTCC-Timestamp": stamp,
            "X-RTCC-Signature": signature(secret, stamp, body),
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


@pytest.mark.qt_log_ignore("GPUInfo not initialized")  # QtWebEngine (the map) without a GPU
def test_panic_raises_the_alert_and_opens_the_site_cameras(
    qtbot: Any, console_server: ConsoleServer, make_console: Any
) -> None:
    window, _api = make_console(console_server.base)
    alert = window.emergency_alert
    cam_id, key_id, secret = _school_site(
        console_server, "Lincoln Elementary", "head@lincoln.example"
    )
    qtbot.waitUntil(lambda: window.live.index.get(cam_id) is not None, timeout=20000)
    assert not alert.isVisible()
    emergency = _press(console_server, key_id, secret, level=3)

    qtbot.waitUntil(lambda: alert.isVisible() and bool(alert.items), timeout=20000)
    line = alert.items[0].text
    assert "Lincoln Elementary" in line and "school" in line and "alarm level 3" in line
    started = datetime.fromisoformat(emergency["started_at"])
    agency = started.astimezone(window.status.zone).strftime("%H:%M:%S")
    assert line.endswith(agency), line  # agency time, as the status bar's clock
    assert window.alerter.player.played[-1] == "urgent"
    opened = alert.opened[emergency["id"]]
    assert (
        opened[0] == cam_id and len(opened) == 4
    )  # the site's camera + the 3 nearest integrated ones
    qtbot.waitUntil(
        lambda: cam_id in {f.camera.id for f in window.wall.feeds.feeds.values()}, timeout=20000
    )
    window.resize(1500, 950)
    qtbot.waitUntil(
        lambda: alert.visibleRegion().boundingRect().height() > 60, timeout=5000
    )  # laid out, shown
    if (
        os.environ.get("RTCC_DOCS_SCREENSHOTS") == "1"
    ):  # docs/ only on request (no churn on every run)
        window.grab().save(
            str(Path(__file__).resolve().parents[2] / "docs" / "console-emergency-alert-test.png")
        )

    alert.ack_button.click()

    def acknowledged() -> bool:
        with console_server.embedded.state.db.read() as s:
            rows = s.scalars(
                select(AuditEventRow).where(AuditEventRow.action == "emergency.acknowledge")
            ).all()
            return any(
                r.username == "ana" and r.targets.get("emergency") == emergency["id"] for r in rows
            )

    qtbot.waitUntil(acknowledged, timeout=10000)

    # a second site while muted: listed first (newest first), no sound
    alert.mute_button.click()
    played = len(window.alerter.player.played)
    _c2, key2, secret2 = _school_site(
        console_server, "Oak Street Business", "boss@oak.example", nth=1, kind="business"
    )
    _press(console_server, key2, secret2, level=2)
    qtbot.waitUntil(lambda: len(alert.items) == 2, timeout=20000)
    assert "Oak Street Business" in alert.items[0].text and "Lincoln" in alert.items[1].text
    assert len(window.alerter.player.played) == played

    # a supervisor ends the first: it leaves the banner
    console_server.embedded.ensure_user("sue", "supervisor", PASSWORD)
    sue = console_server.token("sue")
    r = requests.post(
        f"{console_server.base}/api/v1/emergencies/{emergency['id']}/end",
        timeout=10,
        headers={"Authorization": f"Bearer {sue}"},
        json={"reason": "all clear"},
    )
    assert r.status_code == 200, r.text
    qtbot.waitUntil(lambda: len(alert.items) == 1, timeout=20000)
    assert "Oak Street Business" in alert.items[0].text
