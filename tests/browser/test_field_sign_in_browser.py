"""An officer signs in to the field page with their account in a real browser (issue 16):
Debian's Chromium at phone size against a real server (uvicorn on loopback) and the camera
simulator. The agency requires a second factor of officers: the officer enrols on the page
(the key read from the page, the code computed with pyotp; recovery codes shown once),
sees their open shares newest first, opens one, the camera plays (the <video>'s currentTime
advances, a canvas sample is not blank), then signs out and the share page refuses the
device. Screenshots: docs/field-sign-in.png, docs/field-sign-in-code.png,
docs/field-sign-in-recovery.png, docs/field-my-shares.png (with RTCC_DOCS_SCREENSHOTS=1).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.browser.conftest import (
    NEEDS_CHROMIUM,
    PHONE,
    STAFF_PW,
    add_call,
    add_elm_st_cameras,
    bearer,
    field_server,
    share_call,
    shots_dir,
    video_sample,
    wait,
)

pytestmark = NEEDS_CHROMIUM
DOCS = shots_dir("rtcc-field-sign-in-shots-")
PW = STAFF_PW


@pytest.fixture
def chromium_window() -> tuple[int, int]:
    return PHONE


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Any, str, Any]]:
    from rtcc_console.sim.cameras import SimCameraServer

    # this agency asks officers for a second factor
    sim = SimCameraServer(2, fps=15, size=(640, 360))
    with field_server(tmp_path, sim, mfa_required_roles=["officer"]) as running:
        yield running


def _scene(base: str, sim: Any) -> list[str]:
    """Two cameras, two calls, each shared with ofc.kim; the share ids, oldest first."""
    admin, ana = bearer(base, "adam"), bearer(base, "ana")
    add_elm_st_cameras(base, admin, sim)
    shares = []
    for n, (kind, text, address) in enumerate(
        (
            ("BURG", "Burglary alarm", "1210 Elm St, Dallas, TX"),
            ("ROB", "Robbery in progress", "1200 Elm St, Dallas, TX"),
        )
    ):
        call_id = add_call(
            base,
            ana,
            minutes_ago=9 - 6 * n,
            incident_id=f"DPD-26-11884{n}",
            type_code=kind,
            type_text=text,
            priority=2 - n,
            address=address,
        )
        made = share_call(base, ana, call_id, ["ofc.kim"], ["cam-1", "cam-2"][: n + 1])
        shares.append(str(made[0]["id"]))
        time.sleep(0.01)  # distinct creation times
    return shares


def test_officer_signs_in_with_password_and_code_on_a_phone_and_watches_a_share(
    server: tuple[Any, str, Any], chromium: Any
) -> None:
    from selenium.webdriver.common.by import By

    _embedded, base, sim = server
    older, newer = _scene(base, sim)
    phone = chromium
    phone.get(f"{base}/field")
    wait(lambda: phone.current_url.endswith("/field/account/sign-in"), what="the sign-in page")
    # the form is what a phone user sees first: no horizontal scrolling at 390 px
    assert phone.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]
    phone.find_element(By.ID, "username").send_keys("ofc.kim")
    phone.find_element(By.ID, "password").send_keys(PW)
    phone.save_screenshot(str(DOCS / "field-sign-in.png"))
    phone.find_element(By.ID, "sign-in").click()

    # enrolment (the agency requires a second factor and the officer has none yet)
    secret = wait(lambda: phone.find_element(By.ID, "secret").text, what="the enrolment key")
    assert phone.find_element(By.ID, "otpauth").get_attribute("href").startswith("otpauth://")
    assert phone.execute_script("return document.querySelector('img.qr').naturalWidth") > 0
    phone.save_screenshot(str(DOCS / "field-sign-in-code.png"))
    phone.find_element(By.ID, "code").send_keys(pyotp.TOTP(secret).now())
    phone.find_element(By.ID, "send-code").click()
    # signed in: the recovery codes, shown once, then on to the list
    codes = wait(
        lambda: phone.find_elements(By.CSS_SELECTOR, "#recovery-codes li"), what="recovery codes"
    )
    assert len(codes) == 10
    phone.save_screenshot(str(DOCS / "field-sign-in-recovery.png"))
    phone.find_element(By.ID, "continue").click()

    # the list: newest first, each opening its share
    wait(lambda: phone.current_url.endswith("/field/account/shares"), what="the share list")
    links = phone.find_elements(By.CSS_SELECTOR, "#shares a.share")
    assert [a.get_attribute("id") for a in links] == [f"share-{newer}", f"share-{older}"]
    assert "Robbery in progress" in links[0].text and "2 cameras" in links[0].text
    assert "Burglary alarm" in links[1].text and "1 camera " in links[1].text
    phone.save_screenshot(str(DOCS / "field-my-shares.png"))
    cookies = {c["name"]: c for c in phone.get_cookies()}
    assert cookies["rtcc_field_officer"]["httpOnly"] is True
    assert cookies["rtcc_field_officer"]["sameSite"] == "Strict"
    assert phone.execute_script("return document.cookie").find("rtcc_field_officer") == -1

    links[0].click()
    wait(lambda: phone.current_url.endswith(f"/field/s/{newer}"), what="the share page")
    wait(lambda: phone.find_element(By.ID, "type").text == "Robbery in progress", what="the call")
    first = video_sample(phone, timeout=20, what="the first frame")
    later = video_sample(phone, after_s=first[0] + 1.0, timeout=15, what="currentTime to advance")
    assert later[1] > 20, "the video frame is blank"
    assert "S3cret" not in phone.page_source and "rtsp://" not in phone.page_source

    # back to the list and sign out: the device loses the share page at once
    phone.find_element(By.ID, "my-shares").click()
    wait(lambda: phone.current_url.endswith("/field/account/shares"), what="the list again")
    phone.find_element(By.ID, "sign-out").click()
    wait(lambda: phone.current_url.endswith("/field/account/sign-in"), what="signed out")
    phone.get(f"{base}/field/s/{newer}")
    assert "no session for this share" in phone.find_element(By.ID, "reason").text
