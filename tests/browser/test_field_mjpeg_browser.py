"""The MJPEG fallback of the officer's page (issue 16), in Debian's Chromium at phone size
against a real server (uvicorn on loopback) and the camera simulator: a camera that only
gives MJPEG is shared; the page shows its pictures in an <img> (the camera's own JPEGs,
streamed as multipart/x-mixed-replace), a second officer reads the same stream part by
part over HTTP, both from one upstream reader; revoking the camera ends the streams within
2 s and the page says so. Wrong requests (an H.264 camera asked as MJPEG, a camera outside
the share, no session) are refused and audited."""

from __future__ import annotations

import threading
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
    add_call,
    bearer,
    created,
    field_server,
    share_call,
    shots_dir,
    wait,
)

pytestmark = NEEDS_CHROMIUM
SHOTS = shots_dir("rtcc-field-shots-")


@pytest.fixture
def chromium_window() -> tuple[int, int]:
    return PHONE


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Any, str, Any]]:
    from rtcc_console.sim.cameras import SimCameraServer

    sim = SimCameraServer(2, fps=10, size=(320, 180), mjpeg_count=1)
    with field_server(tmp_path, sim, users=(*FIELD_USERS, ("ofc.lee", "officer"))) as running:
        yield running


SAMPLE = """
const img = document.querySelector('#cam-cam-m img');
if (!img || !img.naturalWidth) return null;
const c = document.createElement('canvas'); c.width = 32; c.height = 18;
const g = c.getContext('2d'); g.drawImage(img, 0, 0, 32, 18);
return Array.from(g.getImageData(0, 0, 32, 18).data).join(',');
"""


class _PartReader(threading.Thread):
    """An officer's device reading the multipart answer: counts JPEG parts, notes the end."""

    def __init__(self, url: str, cookies: Any) -> None:
        super().__init__(daemon=True)
        self.url, self.cookies = url, cookies
        self.parts = 0
        self.status = 0
        self.content_type = ""
        self.ended_at: float | None = None

    def run(self) -> None:
        with requests.get(self.url, cookies=self.cookies, stream=True, timeout=10) as r:
            self.status = r.status_code
            self.content_type = r.headers.get("content-type", "")
            buf = b""
            for chunk in r.iter_content(chunk_size=None):
                buf += chunk
                while True:
                    start = buf.find(b"\xff\xd8")
                    end = buf.find(b"\xff\xd9", start + 2)
                    if start < 0 or end < 0:
                        break
                    self.parts += 1
                    buf = buf[end + 2 :]
        self.ended_at = time.monotonic()


def test_mjpeg_camera_plays_in_an_img_from_one_reader_and_stops_on_revocation(
    server: tuple[Any, str, Any], chromium: Any
) -> None:
    embedded, base, sim = server
    admin, ana = bearer(base, "adam"), bearer(base, "ana")
    for cid, url in (
        ("cam-m", sim.url(0, "mjpeg").replace("http://", "http://viewer:S3cretPW42@")),
        ("cam-h", sim.url(1, "ts")),
    ):
        body = {
            "id": cid,
            "name": f"Camera {cid}",
            "tier": "integrated",
            "kind": "business",
            "sharing_mode": "live_always",
            "lat": 32.7803,
            "lon": -96.8004,
            "stream_url": url,
        }
        created(base, admin, "/cameras", body)
    call_id = add_call(
        base,
        ana,
        minutes_ago=1,
        incident_id="DPD-26-MJPEG",
        type_code="BURG",
        type_text="Burglary in progress",
        priority=2,
        address="1200 Elm St",
    )
    made = share_call(base, ana, call_id, ["ofc.kim", "ofc.lee"], ["cam-m", "cam-h"])
    links = {m["officer"]: m["link"] for m in made}

    # the officer's phone: the page reports the camera as MJPEG and shows it in an <img>
    chromium.get(links["ofc.kim"])
    wait(lambda: chromium.find_element("id", "type").text == "Burglary in progress", what="call")
    first = wait(lambda: chromium.execute_script(SAMPLE), timeout=15, what="a picture")
    wait(lambda: chromium.execute_script(SAMPLE) not in (None, first), what="the next picture")
    assert (
        chromium.execute_script("return document.querySelectorAll('#cam-cam-m video').length") == 0
    )
    assert chromium.find_element("css selector", "#cam-cam-m .state").text == "Live"
    assert "S3cret" not in chromium.page_source
    chromium.save_screenshot(str(SHOTS / "field-phone-mjpeg.png"))

    # the other officer's device reads the same camera part by part
    device = requests.Session()
    opened = device.get(links["ofc.lee"], allow_redirects=False, timeout=10)
    assert opened.status_code == 303
    page = base + opened.headers["location"]
    state = device.get(f"{page}/state", timeout=10).json()
    assert [c["player"] for c in state["cameras"]] == ["mjpeg", "hls"]
    reader = _PartReader(f"{page}/cameras/cam-m/live.mjpeg", device.cookies)
    reader.start()
    wait(lambda: reader.parts >= 5, timeout=15, what="JPEG parts over HTTP")
    assert reader.status == 200
    assert reader.content_type.startswith("multipart/x-mixed-replace")
    hub = embedded.state.extras["field_mjpeg"]
    assert hub.started == 1  # two officers, one upstream reader

    # wrong requests: refused (and audited by the route's checks)
    assert device.get(f"{page}/cameras/cam-h/live.mjpeg", timeout=10).status_code == 409
    assert device.get(f"{page}/cameras/cam-x/live.mjpeg", timeout=10).status_code == 404
    assert requests.get(f"{page}/cameras/cam-m/live.mjpeg", timeout=10).status_code == 403
    assert device.get(f"{page}/cameras/cam-m/index.m3u8", timeout=10).status_code == 409

    # revocation: the streams end within 2 s and the page says so
    r = requests.post(
        f"{base}/api/v1/cameras/cam-m/revoke", headers=admin, json={"reason": "owner"}, timeout=10
    )
    assert r.status_code == 200
    t1 = time.monotonic()
    reader.join(5)
    assert reader.ended_at is not None and reader.ended_at - t1 <= 2.0
    wait(
        lambda: (
            "revoked" in chromium.find_element("css selector", "#cam-cam-m .state").text.lower()
        ),
        timeout=2.0,
        what="the page to say the camera was revoked",
    )
    assert time.monotonic() - t1 <= 2.5
    parts_then = reader.parts
    assert device.get(f"{page}/cameras/cam-m/live.mjpeg", timeout=10).status_code == 403
    assert reader.parts == parts_then
