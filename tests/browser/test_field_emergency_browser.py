"""An emergency with no call on the officer's phone (issue 16): a school's panic (the
structured panic fields on the emergency) is sent to the field with its default cameras
(the site's, live only in an emergency); the officer's page in Debian's Chromium at phone
size shows the site in place of the call (name, kind, alarm level, where, description,
age), plays the site's camera, and when a supervisor ends the emergency says the share
ended within 2 s and stops the video. Screenshot: docs/field-phone-emergency.png (with
RTCC_DOCS_SCREENSHOTS=1).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.browser.conftest import (
    FIELD_USERS,
    NEEDS_CHROMIUM,
    PHONE,
    add_elm_st_cameras,
    bearer,
    created,
    field_server,
    shots_dir,
    video_sample,
    wait,
)

pytestmark = NEEDS_CHROMIUM
DOCS = shots_dir("rtcc-field-emergency-shots-")
PANIC = {
    "site_name": "Lakewood Elementary",
    "site_kind": "school",
    "alarm_level": 4,
    "location": "East wing, gym",
    "description": "Intruder with a weapon reported by the front office",
    "source": "alarm_panel",
    "lat": 32.7800,
    "lon": -96.8000,
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Any, str, Any]]:
    from rtcc_console.sim.cameras import SimCameraServer

    users = (*FIELD_USERS, ("sue", "supervisor"))
    with field_server(tmp_path, SimCameraServer(2, fps=15, size=(640, 360)), users=users) as run:
        yield run


@pytest.fixture
def chromium_window() -> tuple[int, int]:
    return PHONE


def test_officer_sees_the_emergency_site_and_its_camera_until_it_ends(
    server: tuple[Any, str, Any], chromium: Any
) -> None:
    from rtcc_console.server.audit import Actor
    from rtcc_console.server.emergencies import start_emergency

    phone = chromium
    embedded, base, sim = server
    admin, ana, sue = bearer(base, "adam"), bearer(base, "ana"), bearer(base, "sue")
    add_elm_st_cameras(base, admin, sim, sharing_mode="live_in_emergency")
    with embedded.state.db.write() as s:  # as the alarm panel's signed panic starts it
        emergency_id = start_emergency(
            s,
            actor=Actor(username=None, role=None),
            owner_id=None,
            camera_ids=["cam-1", "cam-2"],
            reason="Panic (alarm_panel): Lakewood Elementary, AVS-01 level 4",
            duration_s=3600,
            panic=PANIC,
        ).id
    [made] = created(
        base, ana, f"/emergencies/{emergency_id}/field-shares", {"officers": ["ofc.kim"]}
    )
    assert made["camera_ids"] == ["cam-1", "cam-2"] and made["call_id"] is None

    phone.get(made["link"])
    wait(lambda: "/field/s/" in phone.current_url, what="the share page")
    wait(
        lambda: phone.find_element("id", "type").text == "Lakewood Elementary (school)",
        what="the site in place of the call",
    )
    assert phone.find_element("id", "priority").text == "EMERGENCY"
    assert phone.find_element("id", "address").text == "East wing, gym"
    assert phone.find_element("id", "status").text == "alarm level 4"
    assert phone.find_element("id", "age").text.startswith("started ")
    assert "front office" in phone.find_element("id", "notes").text
    first = video_sample(phone, timeout=20, what="the site camera's first frame")
    later = video_sample(phone, after_s=first[0] + 1.0, timeout=15, what="the video to advance")
    assert later[1] > 20, "the video frame is blank"
    wait(
        lambda: (
            phone.execute_script("return document.querySelectorAll('.leaflet-interactive').length")
            >= 3
        ),
        what="the site and its cameras on the map",
    )
    phone.save_screenshot(str(DOCS / "field-phone-emergency.png"))

    r = requests.post(
        f"{base}/api/v1/emergencies/{emergency_id}/end",
        headers=sue,
        json={"reason": "all clear"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    t0 = time.monotonic()
    wait(
        lambda: "emergency ended" in phone.find_element("id", "banner").text,
        timeout=2.0,
        what="the page to say the share ended with the emergency",
    )
    assert time.monotonic() - t0 <= 2.0
    assert phone.execute_script("return document.querySelector('#cam-cam-1 video').src") == ""
