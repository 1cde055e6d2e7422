"""The officer's field page in a real browser (issue 16): Debian's Chromium driven by
selenium at phone size against a real server (uvicorn on loopback) and the camera
simulator (live HTTP MPEG-TS). The analyst shares a call; the officer's device opens the
single-use link, the shared camera plays (the <video>'s currentTime advances and a canvas
sample of it is not blank), then the camera is revoked and the page says so within 2 s.
Screenshots: docs/field-phone.png and docs/field-laptop.png (with RTCC_DOCS_SCREENSHOTS=1).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.browser.conftest import (
    NEEDS_CHROMIUM,
    PHONE,
    add_call,
    add_elm_st_cameras,
    bearer,
    field_server,
    set_viewport,
    share_call,
    shots_dir,
    video_sample,
    wait,
)

pytestmark = NEEDS_CHROMIUM
DOCS = shots_dir("rtcc-field-shots-")
LAPTOP = (1280, 800)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Any, str, Any]]:
    from rtcc_console.sim.cameras import SimCameraServer

    with field_server(tmp_path, SimCameraServer(2, fps=15, size=(640, 360))) as running:
        yield running


@pytest.fixture
def chromium_window() -> tuple[int, int]:
    return PHONE


def test_officer_opens_the_share_on_a_phone_sees_video_then_the_revocation(
    server: tuple[Any, str, Any], chromium: Any
) -> None:
    phone = chromium
    _embedded, base, sim = server
    admin, ana = bearer(base, "adam"), bearer(base, "ana")
    add_elm_st_cameras(base, admin, sim, heading_deg=180.0, fov_deg=90.0, range_m=40.0)
    call_id = add_call(
        base,
        ana,
        minutes_ago=3,
        incident_id="DPD-26-118842",
        type_code="ROB",
        type_text="Robbery in progress",
        priority=1,
        address="1200 Elm St, Dallas, TX",
        notes=["Two suspects, one armed with a handgun", "Fled on foot toward Main St"],
    )
    link = share_call(base, ana, call_id, ["ofc.kim"], ["cam-1", "cam-2"])[0]["link"]

    t0 = time.monotonic()
    phone.get(link)
    wait(lambda: "/field/s/" in phone.current_url, what="the share page")
    wait(lambda: phone.find_element("id", "type").text == "Robbery in progress", what="the call")
    first = video_sample(phone, timeout=20, what="the first frame")
    first_frame_s = time.monotonic() - t0
    later = video_sample(phone, after_s=first[0] + 1.0, timeout=15, what="currentTime to advance")
    assert later[1] > 20, "the video frame is blank"
    assert "S3cret" not in phone.page_source and "rtsp://" not in phone.page_source
    print(f"first frame {first_frame_s:.2f} s after opening the link")
    phone.save_screenshot(str(DOCS / "field-phone.png"))
    set_viewport(phone, *LAPTOP)
    wait(
        lambda: (
            phone.execute_script("return document.querySelectorAll('.cameras .cam').length") == 2
        ),
        what="cards",
    )
    time.sleep(0.5)  # let the grid re-layout before the picture (no state to wait on)
    phone.save_screenshot(str(DOCS / "field-laptop.png"))
    set_viewport(phone, *PHONE)

    assert (
        requests.post(
            f"{base}/api/v1/cameras/cam-1/revoke",
            headers=admin,
            json={"reason": "owner withdrew"},
            timeout=10,
        ).status_code
        == 200
    )
    t1 = time.monotonic()
    wait(
        lambda: "revoked" in phone.find_element("css selector", "#cam-cam-1 .state").text.lower(),
        timeout=2.0,
        what="the page to say the camera was revoked",
    )
    assert time.monotonic() - t1 <= 2.0
    assert phone.find_element("css selector", "#cam-cam-2 .state").text == "Live"
    # the link was single-use: opening it again is refused
    assert requests.get(link, timeout=10, allow_redirects=False).status_code == 410
