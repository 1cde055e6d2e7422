"""One headless Chromium for the browser tests: Debian's ``chromium`` + ``chromium-driver``
driven by selenium, a fresh profile per test. A test module picks the viewport by
overriding the ``chromium_window`` fixture (the portal's default, or a phone's).

Headless Chromium never makes a window narrower than 500 px, so ``--window-size=390,844``
alone gives a 500 x 701 page. The viewport is therefore set through the DevTools protocol
(``Emulation.setDeviceMetricsOverride``, a mobile one below 800 px) when the window asked
for is narrower; ``set_viewport`` switches it during a test (phone, then laptop) and
screenshots take exactly that size. Wider windows stay plain windows (``set_window_size``
keeps working for full-page shots)."""

from __future__ import annotations

import os
import socket
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from rtcc_console.bench.chromium import chromium_paths, headless_chromium
from rtcc_console.sim.smtp_sink import SmtpSink

CHROMIUM, DRIVER = chromium_paths()
NEEDS_CHROMIUM = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="needs Debian chromium and chromium-driver (scripts/debian-packages.txt)",
)
STAFF_PW = "correct horse battery staple"  # every staff and officer account of these tests
PHONE = (390, 844)
FIELD_USERS = (("ana", "analyst"), ("adam", "admin"), ("ofc.kim", "officer"))


def shots_dir(prefix: str) -> Path:
    """Where screenshots go: docs/ only with RTCC_DOCS_SCREENSHOTS=1 (no churn in the tree
    on every run), else a fresh temporary folder."""
    if os.environ.get("RTCC_DOCS_SCREENSHOTS") == "1":
        return Path(__file__).resolve().parents[2] / "docs"
    return Path(tempfile.mkdtemp(prefix=prefix))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(
    tmp_path: Path,
    db_name: str,
    *,
    users: Sequence[tuple[str, str]] = (),
    sink: SmtpSink | None = None,
    **overrides: Any,
) -> Iterator[tuple[Any, str]]:
    """A real server (uvicorn on loopback, dev mode, fast password hashing) on a fresh
    SQLite database; ``users`` (name, role) get ``STAFF_PW``; with ``sink`` the portal's
    links point at it and its mail goes there. Yields the embedded server and its base URL;
    stops the field video readers and the server at the end."""
    from rtcc_console.config import ServerSettings
    from rtcc_console.server.embedded import EmbeddedServer

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    if sink is not None:
        overrides = {
            "portal_base_url": base,
            "smtp_host": sink.host,
            "smtp_port": sink.port,
            "smtp_security": "none",
            **overrides,
        }
    settings = ServerSettings(
        dev_mode=True,
        port=port,
        db_url=f"sqlite:///{tmp_path / db_name}",
        vault_dir=tmp_path / "vault",
        argon2_time_cost=1,
        argon2_memory_kib=8,
        argon2_parallelism=1,
        **overrides,
    )
    embedded = EmbeddedServer(settings)
    embedded.start()
    for name, role in users:
        embedded.ensure_user(name, role, STAFF_PW)
    try:
        yield embedded, base
    finally:
        for hub in ("field_hls", "field_mjpeg"):
            found = embedded.state.extras.get(hub)
            if found is not None:
                found.stop_all()
        embedded.stop()


@contextmanager
def field_server(
    tmp_path: Path, sim: Any, *, users: Sequence[tuple[str, str]] = FIELD_USERS, **overrides: Any
) -> Iterator[tuple[Any, str, Any]]:
    """``running_server`` with the camera simulator ``sim`` (started here, stopped at the
    end): the embedded server, its base URL and the simulator."""
    sim.start()
    try:
        with running_server(tmp_path, "field.sqlite", users=users, **overrides) as (
            embedded,
            base,
        ):
            yield embedded, base, sim
    finally:
        sim.stop()


def bearer(base: str, name: str, password: str = STAFF_PW) -> dict[str, str]:
    """The Authorization header of a fresh sign-in of ``name``."""
    r = requests.post(
        f"{base}/api/v1/auth/login", json={"username": name, "password": password}, timeout=10
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def created(base: str, headers: dict[str, str], path: str, body: Any) -> Any:
    """POST ``body`` to ``/api/v1{path}``, which must answer 201; its JSON."""
    r = requests.post(f"{base}/api/v1{path}", headers=headers, json=body, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def add_elm_st_cameras(base: str, admin: dict[str, str], sim: Any, **extra: Any) -> None:
    """``cam-1`` and ``cam-2``: the simulator's first two cameras (live MPEG-TS behind
    credentials that must never reach the officer's page), storefronts on Elm St."""
    for i, (lat, lon) in enumerate(((32.7803, -96.8004), (32.7797, -96.7996))):
        body = {
            "id": f"cam-{i + 1}",
            "name": f"Elm St {1200 + i * 10} storefront",
            "tier": "integrated",
            "kind": "business",
            "sharing_mode": "live_always",
            "lat": lat,
            "lon": lon,
            "address": f"{1200 + i * 10} Elm St",
            "stream_url": sim.url(i, "ts").replace("http://", "http://viewer:S3cretPW42@"),
            **extra,
        }
        created(base, admin, "/cameras", body)


def add_call(base: str, headers: dict[str, str], *, minutes_ago: float, **fields: Any) -> str:
    """A dispatched call near Elm St reported ``minutes_ago``; its id."""
    now = datetime.now(UTC)
    body = {
        "format": "simple",
        "status": "dispatched",
        "lat": 32.7800,
        "lon": -96.8000,
        "reported_at": (now - timedelta(minutes=minutes_ago)).isoformat(),
        "updated_at": now.isoformat(),
        **fields,
    }
    return str(created(base, headers, "/calls", body)["call"]["id"])


def share_call(
    base: str, headers: dict[str, str], call_id: str, officers: list[str], cameras: list[str]
) -> list[dict[str, Any]]:
    """Share the call's ``cameras`` with ``officers``: one share (with its link) each."""
    body = {"officers": officers, "camera_ids": cameras}
    made: list[dict[str, Any]] = created(base, headers, f"/calls/{call_id}/field-shares", body)
    return made


# (currentTime, luma range) of the first camera's <video> on the field page, or null
VIDEO_SAMPLE = """
const v = document.querySelector('#cam-cam-1 video');
if (!v || v.videoWidth === 0) return null;
const c = document.createElement('canvas'); c.width = 32; c.height = 18;
const g = c.getContext('2d'); g.drawImage(v, 0, 0, 32, 18);
const d = g.getImageData(0, 0, 32, 18).data; let lo = 255, hi = 0;
for (let i = 0; i < d.length; i += 4) { const y = (d[i] + d[i + 1] + d[i + 2]) / 3; lo = Math.min(lo, y); hi = Math.max(hi, y); }
return [v.currentTime, hi - lo];
"""


def video_sample(driver: Any, *, after_s: float = 0.0, timeout: float, what: str) -> Any:
    """``VIDEO_SAMPLE`` once the first camera's video has played past ``after_s``."""

    def past() -> Any:
        got = driver.execute_script(VIDEO_SAMPLE)
        return got if got and got[0] > after_s else None

    return wait(past, timeout=timeout, what=what)


def wait(predicate: Any, timeout: float = 20.0, what: str = "condition") -> Any:
    """``predicate()``'s first true value, polled; an element replaced meanwhile counts as
    not yet."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (
            StaleElementReferenceException,
            NoSuchElementException,
        ):  # the page is being replaced
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def set_viewport(driver: Any, width: int, height: int) -> None:
    """Make the page ``width`` x ``height`` CSS pixels (a phone's: mobile, below 800)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 800},
    )


@pytest.fixture
def chromium_window() -> tuple[int, int]:
    """The window size (width, height) the browser starts with."""
    return (1100, 1400)


@pytest.fixture
def chromium(tmp_path: Path, chromium_window: tuple[int, int]) -> Iterator[Any]:
    """A headless Chromium (selenium WebDriver) that plays video without a user gesture."""
    with headless_chromium(tmp_path / "chromium-profile", chromium_window) as driver:
        if chromium_window[0] < 500:  # narrower than headless Chromium's smallest window
            set_viewport(driver, *chromium_window)
        yield driver
