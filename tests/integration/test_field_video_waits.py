"""Officers waiting for video hold no thread of the server's pool (issue 16): many blocking
LL-HLS playlist reloads and MJPEG streams open at once (more than the pool's 40 threads),
and the server's ordinary routes still answer at once. Real uvicorn on loopback, the camera
simulator's live H.264 and MJPEG."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.live_server import bearer, field_server

WAITERS = 45  # each kind; the server's thread pool has 40


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Any, str, Any]]:
    from rtcc_console.sim.cameras import SimCameraServer

    sim = SimCameraServer(2, fps=10, size=(320, 180), mjpeg_count=1)
    with field_server(tmp_path, sim, mfa_required_roles=[]) as running:
        yield running


def _token(base: str, name: str) -> dict[str, str]:
    return bearer(base, name)


def test_many_waiting_officers_do_not_starve_the_server(server: tuple[Any, str, Any]) -> None:
    _embedded, base, sim = server
    admin, ana = _token(base, "adam"), _token(base, "ana")
    for cid, url in (("cam-h", sim.url(1, "ts")), ("cam-m", sim.url(0, "mjpeg"))):
        body = {
            "id": cid,
            "name": cid,
            "tier": "integrated",
            "kind": "business",
            "sharing_mode": "live_always",
            "lat": 32.78,
            "lon": -96.8,
            "stream_url": url,
        }
        assert requests.post(f"{base}/api/v1/cameras", headers=admin, json=body).status_code == 201
    now = datetime.now(UTC)
    call = requests.post(
        f"{base}/api/v1/calls",
        headers=ana,
        json={
            "format": "simple",
            "incident_id": "LOAD-1",
            "type_code": "ROB",
            "priority": 1,
            "status": "dispatched",
            "lat": 32.78,
            "lon": -96.8,
            "reported_at": (now - timedelta(minutes=1)).isoformat(),
            "updated_at": now.isoformat(),
        },
    )
    assert call.status_code == 201, call.text
    made = requests.post(
        f"{base}/api/v1/calls/{call.json()['call']['id']}/field-shares",
        headers=ana,
        json={"officers": ["ofc.kim"], "camera_ids": ["cam-h", "cam-m"]},
    )
    assert made.status_code == 201, made.text
    device = requests.Session()
    page = base + device.get(made.json()[0]["link"], allow_redirects=False).headers["location"]
    playlist = device.get(f"{page}/cameras/cam-h/index.m3u8", timeout=15)
    assert playlist.status_code == 200
    cookies = device.cookies.get_dict()

    held: list[float] = []
    target = [0]
    stop = threading.Event()
    opened = threading.Semaphore(0)

    def reload() -> None:  # held until part 0 of the segment after next (about 2-4 s)
        t0 = time.monotonic()
        r = requests.get(
            f"{page}/cameras/cam-h/index.m3u8?_HLS_msn={target[0]}&_HLS_part=0",
            cookies=cookies,
            timeout=20,
        )
        if r.status_code == 200:
            held.append(time.monotonic() - t0)

    def watch() -> None:
        with requests.get(
            f"{page}/cameras/cam-m/live.mjpeg", cookies=cookies, stream=True, timeout=20
        ) as r:
            opened.release()
            for _ in r.iter_content(chunk_size=4096):
                if stop.is_set():
                    return

    watchers = [threading.Thread(target=watch, daemon=True) for _ in range(WAITERS)]
    reloads = [threading.Thread(target=reload, daemon=True) for _ in range(WAITERS)]
    try:
        for t in watchers:
            t.start()
        t0 = time.monotonic()
        for _ in range(WAITERS):
            assert opened.acquire(timeout=20), "an MJPEG stream did not open"
        opening = time.monotonic() - t0
        assert opening < 5.0, f"45 MJPEG streams took {opening:.1f} s to open"
        again = device.get(f"{page}/cameras/cam-h/index.m3u8", timeout=15).text
        target[0] = max(int(n) for n in re.findall(r'URI="part-(\d+)\.', again)) + 2
        for t in reloads:
            t.start()
        time.sleep(0.5)  # the reloads are held now (until a part about 2-4 s away)
        # 45 streams open and 45 reloads held: a route that needs the pool answers at once
        t0 = time.monotonic()
        state = requests.get(f"{page}/state", cookies=cookies, timeout=10)
        answered = time.monotonic() - t0
        still_held = WAITERS - len(held)
        assert state.status_code == 200
        assert answered < 1.0, f"/state took {answered:.2f} s while officers waited"
        assert still_held == WAITERS, "the reloads were answered before /state was asked"
        for t in reloads:
            t.join(20)
        assert len(held) == WAITERS  # every reload was answered, once its part existed
        assert min(held) > 0.5  # and they were really held
    finally:
        stop.set()
