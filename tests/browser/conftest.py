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
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from rtcc_console.bench.chromium import chromium_paths, headless_chromium
from tests.live_server import (  # noqa: F401 - the browser tests import them from here
    FIELD_USERS,
    STAFF_PW,
    bearer,
    field_server,
    free_port,
    running_server,
)

CHROMIUM, DRIVER = chromium_paths()
NEEDS_CHROMIUM = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="needs Debian chromium and chromium-driver (scripts/debian-packages.txt)",
)
PHONE = (390, 844)


def shots_dir(prefix: str) -> Path:
    """Where screenshots go: docs/ only with RTCC_DOCS_SCREENSHOTS=1 (no churn in the tree
    on every run), else a fresh temporary folder."""
    if os.environ.get("RTCC_DOCS_SCREENSHOTS") == "1":
        return Path(__file__).resolve().parents[2] / "docs"
    return Path(tempfile.mkdtemp(prefix=prefix))


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
