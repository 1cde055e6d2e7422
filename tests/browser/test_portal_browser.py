"""The owner portal in a real browser: Debian's Chromium driven by selenium against a real
server (uvicorn on loopback) with a real SMTP sink (aiosmtpd). One owner goes through the
whole journey; each page is saved as docs/portal-*.png.

Scenarios: sign up and verify (link read from the e-mail), register a camera in under a
minute of scripted typing, change sharing (the open live view ends: grant.revoked), read the
access receipt after a live view, answer a footage request with a tus upload cut off halfway
and resumed (tus-js-client), decline another, press and end the panic button, revoke.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from rtcc_console.sim.smtp_sink import SmtpSink
from tests.browser.conftest import NEEDS_CHROMIUM, STAFF_PW, running_server, shots_dir, wait
from tests.server.portal_support import PW

pytestmark = NEEDS_CHROMIUM
DOCS = shots_dir("rtcc-portal-shots-")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Any, str, SmtpSink]]:
    from rtcc_console.server.portal.accounts import PortalSettings

    with (
        SmtpSink() as sink,
        running_server(tmp_path, "portal.sqlite", users=[("ana", "analyst")], sink=sink) as (
            embedded,
            base,
        ),
    ):
        embedded.state.extras["portal_settings"] = PortalSettings(panic_duration_s=900)
        yield embedded, base, sink


def shot(driver: Any, name: str, width: int = 1100) -> None:
    """Save the whole page (resized to its height) as docs/portal-<name>.png."""
    height = driver.execute_script("return Math.max(document.body.scrollHeight, 600)")
    driver.set_window_size(width, min(int(height) + 140, 3000))
    driver.save_screenshot(str(DOCS / f"portal-{name}.png"))
    driver.set_window_size(1100, 1400)


def mail_link(sink: SmtpSink, to: str, n: int) -> str:
    def found() -> str | None:
        mails = [m for m in sink.messages if to in m.rcpt_tos]
        if len(mails) < n:
            return None
        body = mails[-1].message().get_body(preferencelist=("plain",))
        assert body is not None
        return next(w for w in body.get_content().split() if "/portal/link/" in w)

    return str(wait(found, what=f"e-mail {n} to {to}"))


def staff(base: str) -> dict[str, str]:
    r = requests.post(
        f"{base}/api/v1/auth/login", json={"username": "ana", "password": STAFF_PW}, timeout=10
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def events(embedded: Any, kind: str) -> list[dict[str, Any]]:
    from rtcc_console.server.eventlog import load_events

    with embedded.state.db.read() as session:
        rows = load_events(session, after=0, limit=100_000)
    return [json.loads(r.data) for r in rows if r.type == kind]


def fill(driver: Any, field_id: str, text: str) -> None:
    from selenium.webdriver.common.by import By

    element = driver.find_element(By.ID, field_id)
    element.clear()
    element.send_keys(text)


def test_owner_journey_in_chromium(server: Any, chromium: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    embedded, base, sink = server
    d = chromium
    email = "principal@lincoln.example"

    # sign up and verify
    d.get(f"{base}/portal/sign-up")
    fill(d, "name", "Lincoln Elementary <School>")
    d.find_element(By.CSS_SELECTOR, "input[name=kind][value=school]").click()
    fill(d, "email", email)
    fill(d, "password", PW)
    shot(d, "sign-up")
    d.find_element(By.CSS_SELECTOR, "button[type=submit].primary").click()
    wait(lambda: "Check your e-mail" in d.page_source, what="sign-up answer")
    link = mail_link(sink, email, 1)
    d.get(link)
    d.find_element(By.ID, "continue").click()
    wait(lambda: d.current_url.endswith("/portal/cameras"), what="signed in")
    d.get(f"{base}/portal/sign-in")
    shot(d, "sign-in")

    # register a camera in under a minute of scripted typing (map click places the pin)
    started = time.monotonic()
    d.get(f"{base}/portal/cameras/new")
    fill(d, "name", "Gym entrance")
    fill(d, "address", "100 School Rd")
    d.find_element(By.ID, "map").click()  # the pin goes where the map was clicked
    wait(lambda: d.find_element(By.ID, "lat").get_attribute("value"), what="pin sets latitude")
    d.find_element(By.CSS_SELECTOR, "input[name=sharing_mode][value=live_in_emergency]").click()
    for summary in d.find_elements(By.TAG_NAME, "summary"):
        if summary.find_element(By.XPATH, "..").get_attribute("open") is None:
            summary.click()
    fill(d, "heading_deg", "135")
    fill(d, "fov_deg", "70")
    fill(d, "stream_url", "rtsp://10.20.30.40:554/gym")
    fill(d, "stream_user", "viewer")
    fill(d, "stream_password", "pa55:word")
    shot(d, "register")
    d.find_element(By.ID, "save").click()
    wait(lambda: "/portal/cameras?saved=" in d.current_url, what="camera saved")
    assert time.monotonic() - started < 60
    cid = d.current_url.split("saved=")[1]
    assert "pa55" not in d.page_source and "viewer" not in d.page_source
    shot(d, "my-cameras")

    # panic: press (browser confirmation dialog), the camera opens for a live view, end
    d.get(f"{base}/portal/panic")
    fill(d, "location", "Gym")
    d.find_element(By.ID, "panic").click()
    d.switch_to.alert.accept()
    wait(lambda: "Emergency running" in d.page_source, what="emergency running")
    shot(d, "panic-running")
    assert events(embedded, "emergency.panic")[0]["site"]["kind"] == "school"
    g = requests.post(
        f"{base}/api/v1/cameras/{cid}/live-grants",
        headers=staff(base),
        json={"reason": "case 26-777001"},
        timeout=10,
    )
    assert g.status_code == 201, g.text
    d.find_element(By.ID, "end-emergency").click()
    wait(
        lambda: "Emergency running" not in d.page_source and 'id="panic"' in d.page_source,
        what="ended",
    )
    shot(d, "panic")
    assert [e["grant_id"] for e in events(embedded, "grant.revoked")] == [g.json()["id"]]

    # change sharing to live always, a live view, then downgrade: the view ends at once
    d.get(f"{base}/portal/cameras")
    Select(d.find_element(By.ID, f"sharing-{cid}")).select_by_value("live_always")
    d.find_element(By.CSS_SELECTOR, f"#camera-{cid} form.row button").click()
    wait(
        lambda: (
            "Live view always" in d.find_element(By.CSS_SELECTOR, f"#camera-{cid} .sharing").text
        ),
        what="live",
    )
    g2 = requests.post(
        f"{base}/api/v1/cameras/{cid}/live-grants",
        headers=staff(base),
        json={"reason": "case 26-777002"},
        timeout=10,
    )
    assert g2.status_code == 201, g2.text
    Select(d.find_element(By.ID, f"sharing-{cid}")).select_by_value("request_only")
    d.find_element(By.CSS_SELECTOR, f"#camera-{cid} form.row button").click()
    wait(
        lambda: "Register only" in d.find_element(By.CSS_SELECTOR, f"#camera-{cid} .sharing").text,
        what="downgrade",
    )
    assert g2.json()["id"] in [e["grant_id"] for e in events(embedded, "grant.revoked")]

    # the access receipt shows both live views, with case numbers and no staff names
    d.get(f"{base}/portal/receipts")
    wait(lambda: "Access receipts" in d.page_source, what="receipts page")
    assert (
        "case 26-777001" in d.page_source
        and "case 26-777002" in d.page_source
        and "ana" not in d.page_source
    )
    shot(d, "receipts")

    # a footage request: upload cut off halfway and resumed with tus-js-client
    token = _request_link(embedded, base, cid, "browser-1")
    clip = tmp_path / "gym.mp4"
    from tests.server.vault_helpers import mp4_bytes

    data = mp4_bytes(seed=9, seconds=6.0)
    data += bytes(
        max(0, 3 * 1024 * 1024 - len(data))
    )  # a few chunks' worth (padding after the mp4 atoms)
    clip.write_bytes(data)
    d.get(f"{base}/portal/requests/{token}")
    shot(d, "request")
    d.execute_script("window.rtccDropAt = 0.5")
    d.find_element(By.ID, "file").send_keys(str(clip))
    d.find_element(By.ID, "upload").click()
    wait(lambda: d.find_element(By.ID, "upload-resume").is_displayed(), what="upload cut off")
    cut = int(d.find_element(By.ID, "upload-progress").get_property("value"))
    status = d.find_element(By.ID, "upload-status").text
    assert "stopped at" in status, status
    assert 40 <= cut < 100
    shot(d, "upload-stopped")
    assert _vault_states(embedded) == ["receiving"]  # half on the server, not finished
    d.find_element(By.ID, "upload-resume").click()
    sha = wait(
        lambda: d.find_elements(By.CSS_SELECTOR, "#receipts code.sha256"),
        timeout=60,
        what="receipt",
    )
    assert sha[0].text == hashlib.sha256(data).hexdigest()
    shot(d, "upload-receipt")
    uploads = _vault_uploads(embedded)
    assert len(uploads) == 1, "the resumed upload continued the same tus upload"

    # decline another request
    token2 = _request_link(embedded, base, cid, "browser-2", hours=6)
    d.get(f"{base}/portal/requests/{token2}")
    d.find_element(By.ID, "decline").click()
    wait(lambda: "your answer was recorded" in d.page_source, what="declined")

    # revoke: the camera shows as withdrawn
    d.get(f"{base}/portal/cameras")
    d.find_element(By.CSS_SELECTOR, f"#camera-{cid} button.warn").click()
    wait(lambda: "Withdrawn" in d.page_source, what="revoked")

    # phone width
    d.set_window_size(390, 900)
    d.get(f"{base}/portal/cameras/{cid}/edit")
    overflow = d.execute_script(
        "return document.documentElement.scrollWidth > window.innerWidth + 1"
    )
    assert not overflow, "the page scrolls sideways at phone width"
    d.save_screenshot(str(DOCS / "portal-phone.png"))


def _request_link(embedded: Any, base: str, cid: str, key: str, hours: int = 3) -> str:
    from sqlalchemy import select

    from rtcc_console.core.request_items import link_token
    from rtcc_console.store.schema import CameraRow, RequestItemRow

    with embedded.state.db.read() as s:
        cam = s.get(CameraRow, cid)
        lat, lon = cam.lat, cam.lon
    now = datetime.now(UTC)
    r = requests.post(
        f"{base}/api/v1/footage-requests",
        headers=staff(base),
        timeout=10,
        json={
            "client_key": key,
            "case_number": f"26-00{hours}321",
            "offence_category": "burglary",
            "call_id": None,
            "area": {"kind": "circle", "center": {"lat": lat, "lon": lon}, "radius_m": 40},
            "window_start": (now - timedelta(hours=hours)).isoformat(),
            "window_end": (now - timedelta(hours=hours - 1)).isoformat(),
            "message": "Please check the gym camera.",
        },
    )
    assert r.status_code == 201, r.text
    item_id = r.json()["items"][0]["id"]
    with embedded.state.db.read() as s:
        nonce = s.scalars(
            select(RequestItemRow.link_nonce).where(RequestItemRow.id == item_id)
        ).one()
    return link_token(
        embedded.state.settings.secret_key.get_secret_value().encode(), item_id, nonce
    )


def _vault_states(embedded: Any) -> list[str]:
    from sqlalchemy import select

    from rtcc_console.store.schema import VaultUploadRow

    with embedded.state.db.read() as s:
        return list(s.scalars(select(VaultUploadRow.state)))


def _vault_uploads(embedded: Any) -> list[str]:
    from sqlalchemy import select

    from rtcc_console.store.schema import VaultUploadRow

    with embedded.state.db.read() as s:
        return list(s.scalars(select(VaultUploadRow.id)))


def test_keyboard_only_sign_up_with_visible_focus(server: Any, chromium: Any) -> None:
    """Tab from the top of the page through the sign-up form, typing only: every stop shows
    a focus outline, and Enter submits."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    _embedded, base, sink = server
    d = chromium
    d.get(f"{base}/portal/sign-up")
    keys = ActionChains(d)

    def focused() -> dict[str, str]:
        return dict(
            d.execute_script(
                "const e = document.activeElement, s = getComputedStyle(e);"
                "return {id: e.id || e.tagName, outline: s.outlineStyle, width: s.outlineWidth};"
            )
        )

    stops: list[dict[str, str]] = []
    for _ in range(
        4
    ):  # skip link, then the name field, the first kind radio, and past the other radios
        keys.send_keys(Keys.TAB).perform()
        stops.append(focused())
        if stops[-1]["id"] == "name":
            break
    assert stops[-1]["id"] == "name", stops
    keys.send_keys("Keyboard School").perform()
    while focused()["id"] != "email":
        keys.send_keys(Keys.TAB).perform()
        stops.append(focused())
        assert len(stops) < 12, stops
    keys.send_keys("keys@school.example", Keys.TAB).perform()
    stops.append(focused())
    assert stops[-1]["id"] == "password"
    keys.send_keys(PW, Keys.ENTER).perform()
    wait(lambda: "Check your e-mail" in d.page_source, what="submitted by Enter")
    assert all(s["outline"] == "solid" and s["width"] == "3px" for s in stops), stops
    assert mail_link(sink, "keys@school.example", 1)
