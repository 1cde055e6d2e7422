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

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
NEEDS_CHROMIUM = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="needs Debian chromium and chromium-driver (scripts/debian-packages.txt)",
)


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
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--autoplay-policy=no-user-gesture-required",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        f"--window-size={chromium_window[0]},{chromium_window[1]}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=str(DRIVER)), options=options)
    driver.set_page_load_timeout(30)
    if chromium_window[0] < 500:  # narrower than headless Chromium's smallest window
        set_viewport(driver, *chromium_window)
    try:
        yield driver
    finally:
        driver.quit()
