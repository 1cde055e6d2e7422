"""The cheap check of officers' video requests (issue 16): every HLS playlist reload, part
and segment, and every MJPEG re-check, is let in by a decision cached for at most 0.5 s or
by one read-only query; the rules stay those of the console. With the cache in place a
revocation still stops the video within a second: the events that take access away clear
the cache at once (camera revoked, share ended, sign-out), and a change no event announces
(committed by another server process) is seen within the cache's 0.5 s. Real uvicorn on
loopback, the camera simulator's live H.264 and MJPEG."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from rtcc_console.core.models import utcnow
from rtcc_console.server.camera_store import camera_domain, get_camera
from rtcc_console.server.field_shares import ACCESS_TTL_S, AccessCache
from rtcc_console.store import field_shares as store
from tests.live_server import STAFF_PW as PW
from tests.live_server import bearer, field_server
from tests.server.portal_support import csrf_of

PART_RE = re.compile(r'URI="(part-\d+\.\d+\.ts)"')
BOUND_S = 1.0  # the issue: a revocation stops the video within a second


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str, Any]]:
    from rtcc_console.sim.cameras import SimCameraServer

    sim = SimCameraServer(2, fps=10, size=(320, 180), mjpeg_count=1)
    with field_server(
        tmp_path_factory.mktemp("field-access"), sim, mfa_required_roles=[]
    ) as running:
        yield running


def _token(base: str, name: str) -> dict[str, str]:
    return bearer(base, name)


def _scene(server: tuple[Any, str, Any], tag: str) -> tuple[dict[str, Any], str, str]:
    """Two cameras (H.264 ``cam-h-TAG``, MJPEG ``cam-m-TAG``), a call shared with ofc.kim:
    (the share, the H.264 camera id, the MJPEG camera id)."""
    _embedded, base, sim = server
    admin, ana = _token(base, "adam"), _token(base, "ana")
    hls, mjpeg = f"cam-h-{tag}", f"cam-m-{tag}"
    for cid, url in ((hls, sim.url(1, "ts")), (mjpeg, sim.url(0, "mjpeg"))):
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
        r = requests.post(f"{base}/api/v1/cameras", headers=admin, json=body, timeout=10)
        assert r.status_code == 201, r.text
    now = datetime.now(UTC)
    call = requests.post(
        f"{base}/api/v1/calls",
        headers=ana,
        json={
            "format": "simple",
            "incident_id": f"ACCESS-{tag}",
            "type_code": "ROB",
            "priority": 1,
            "status": "dispatched",
            "lat": 32.78,
            "lon": -96.8,
            "reported_at": (now - timedelta(minutes=1)).isoformat(),
            "updated_at": now.isoformat(),
        },
        timeout=10,
    )
    assert call.status_code == 201, call.text
    made = requests.post(
        f"{base}/api/v1/calls/{call.json()['call']['id']}/field-shares",
        headers=ana,
        json={"officers": ["ofc.kim"], "camera_ids": [hls, mjpeg]},
        timeout=10,
    )
    assert made.status_code == 201, made.text
    return made.json()[0], hls, mjpeg


def _cache(server: tuple[Any, str, Any]) -> AccessCache:
    cache = server[0].state.extras["field_access"]
    assert isinstance(cache, AccessCache)
    return cache


def _warm(device: requests.Session, page: str, camera: str, server: tuple[Any, str, Any]) -> str:
    """Play a little (playlist, newest part, again): the later requests are let in by the
    cache, not the database. Returns the newest part's path."""
    playlist = device.get(f"{page}/cameras/{camera}/index.m3u8", timeout=15)
    assert playlist.status_code == 200, playlist.text
    cache = _cache(server)
    part = f"{page}/cameras/{camera}/{PART_RE.findall(playlist.text)[-1]}"
    hits = cache.hits
    for _ in range(3):
        assert device.get(part, timeout=10).status_code == 200
        assert device.get(f"{page}/cameras/{camera}/index.m3u8", timeout=15).status_code == 200
    assert cache.hits > hits, "the decision cache is not in use"
    return part


def _refused_within(url: str, device: requests.Session, t0: float) -> tuple[int, float]:
    """Ask every 20 ms until refused: (the status, seconds since ``t0``)."""
    while True:
        r = device.get(url, timeout=10)
        if r.status_code != 200:
            return r.status_code, time.monotonic() - t0
        if time.monotonic() - t0 > 5:
            return 200, time.monotonic() - t0
        time.sleep(0.02)


def test_revoking_the_camera_refuses_the_next_part_at_once(
    server: tuple[Any, str, Any],
) -> None:
    _embedded, base, _sim = server
    made, hls, _mjpeg = _scene(server, "rev")
    device = requests.Session()
    page = base + device.get(made["link"], allow_redirects=False).headers["location"]
    part = _warm(device, page, hls, server)
    assert device.get(part, timeout=10).status_code == 200  # a cached yes, just now
    with _embedded.state.db.read() as session:  # the one-query read sees the camera as the
        row = store.video_access(session, share_id=made["id"], camera_id=hls, officer_jti=None)
        orm = get_camera(session, camera_id=hls)  # console's policy does, column for column
        assert row is not None and orm is not None
        assert row.camera == camera_domain(orm) and row.camera_ids == (hls, _mjpeg)
        assert row.call_status == "dispatched" and row.owner_accepts_requests
    r = requests.post(
        f"{base}/api/v1/cameras/{hls}/revoke",
        headers=_token(base, "adam"),
        json={"reason": "owner withdrew"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    t0 = time.monotonic()
    # the event cleared the cache before the revocation answered: refused on the next request
    assert device.get(part, timeout=10).status_code == 403
    assert device.get(f"{page}/cameras/{hls}/index.m3u8", timeout=10).status_code == 403
    assert time.monotonic() - t0 < BOUND_S


def test_a_change_no_event_announces_stops_the_parts_within_the_cache_ttl(
    server: tuple[Any, str, Any],
) -> None:
    """As if another server process ended the share (its event not heard here): the
    cached yes lasts at most 0.5 s, then the full check refuses."""
    embedded, base, _sim = server
    made, hls, _mjpeg = _scene(server, "quiet")
    device = requests.Session()
    page = base + device.get(made["link"], allow_redirects=False).headers["location"]
    part = _warm(device, page, hls, server)
    with embedded.state.db.write() as session:  # no event recorded: nothing clears the cache
        row = store.get_share(session, share_id=made["id"])
        assert row is not None
        store.end_share(session, share=row, reason="ended elsewhere", now=utcnow())
    status, took = _refused_within(part, device, time.monotonic())
    assert status == 410
    assert took < ACCESS_TTL_S + 0.3 < BOUND_S


def test_the_mjpeg_stream_ends_within_a_second_with_the_cache_in_place(
    server: tuple[Any, str, Any],
) -> None:
    embedded, base, _sim = server
    made, hls, mjpeg = _scene(server, "mj")
    device = requests.Session()
    page = base + device.get(made["link"], allow_redirects=False).headers["location"]
    _warm(device, page, hls, server)  # the same share's cached yes for the H.264 camera
    stream = device.get(f"{page}/cameras/{mjpeg}/live.mjpeg", stream=True, timeout=10)
    assert stream.status_code == 200
    ended: list[float] = []
    got: list[int] = []

    def read() -> None:
        for chunk in stream.iter_content(4096):
            got.append(len(chunk))
        ended.append(time.monotonic())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 10
    while sum(got) < 20_000 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sum(got) >= 20_000, "no pictures"
    # ended where no event tells this process: the once-a-second re-check bypasses the cache
    with embedded.state.db.write() as session:
        row = store.get_share(session, share_id=made["id"])
        assert row is not None
        store.end_share(session, share=row, reason="ended elsewhere", now=utcnow())
    t0 = time.monotonic()
    reader.join(5)
    assert ended, "the MJPEG stream did not end"
    assert ended[0] - t0 <= BOUND_S + 0.2  # re-checked at least once a second
    stream.close()


def test_sign_out_refuses_the_officers_next_part_at_once(server: tuple[Any, str, Any]) -> None:
    """A share opened with the officer's account: its cached yes rests on the sign-in,
    which the sign-out drops from the token cache at once."""
    _embedded, base, _sim = server
    made, hls, _mjpeg = _scene(server, "out")
    phone = requests.Session()
    form = phone.get(f"{base}/field/account/sign-in", timeout=10)
    r = phone.post(
        f"{base}/field/account/sign-in",
        data={"csrf_token": csrf_of(form.text), "username": "ofc.kim", "password": PW},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 303, r.text
    token = phone.cookies.get("rtcc_field_officer")
    assert token
    opened = phone.get(
        f"{base}/field/account/shares/{made['id']}", allow_redirects=False, timeout=10
    )
    assert opened.status_code == 303
    page = base + opened.headers["location"]
    assert all(c.name != "rtcc_field" for c in phone.cookies)  # no link: the sign-in only
    part = _warm(phone, page, hls, server)
    shares = phone.get(f"{base}/field/account/shares", timeout=10)
    out = phone.post(
        f"{base}/field/account/sign-out",
        data={"csrf_token": csrf_of(shares.text)},
        allow_redirects=False,
        timeout=10,
    )
    assert out.status_code == 303
    thief = requests.Session()
    thief.cookies.set("rtcc_field_officer", token, path="/field")
    t0 = time.monotonic()
    assert thief.get(part, timeout=10).status_code == 403
    assert time.monotonic() - t0 < BOUND_S


def test_the_cache_forgets_on_events_after_its_ttl_and_never_fills_from_a_stale_check() -> None:
    cache = AccessCache(ttl_s=0.2)
    key = cache.key("fs-1", "cam-1", "cookie", None)
    assert key != cache.key("fs-1", "cam-2", "cookie", None)
    assert key != cache.key("fs-1", "cam-1", "other", None)
    assert cache.get(key) is None
    gen = cache.generation
    assert cache.put(key, generation=gen, needs_token=False, share_left_s=60)
    entry = cache.get(key)
    assert entry is not None and not entry.needs_token
    cache.note_event("field_share.created")  # never takes access away: kept
    assert cache.get(key) is not None
    for event in ("grant.revoked", "field_share.ended", "camera.changed", "emergency.ended"):
        assert cache.put(key, generation=cache.generation, needs_token=False, share_left_s=60)
        cache.note_event(event)
        assert cache.get(key) is None, event
    # a check that read the database before a clear must not store its (stale) yes
    stale = cache.generation
    cache.note_event("call.updated")
    assert not cache.put(key, generation=stale, needs_token=False, share_left_s=60)
    assert cache.get(key) is None
    # at most ttl_s, and never past the share's own end
    assert cache.put(key, generation=cache.generation, needs_token=False, share_left_s=60)
    time.sleep(0.25)
    assert cache.get(key) is None
    assert cache.put(key, generation=cache.generation, needs_token=False, share_left_s=0.0)
    assert cache.get(key) is None
