"""Debian's headless Chromium driven by selenium, as the field bench and the browser tests
start it: a fresh profile, video allowed to play without a user gesture."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def chromium_paths() -> tuple[str | None, str | None]:
    """Debian's ``chromium`` and ``chromedriver`` (None where not installed)."""
    return shutil.which("chromium"), shutil.which("chromedriver")


@contextmanager
def headless_chromium(profile: Path, window: tuple[int, int]) -> Iterator[Any]:
    """A selenium WebDriver for a headless Chromium with a ``window``-sized window (width,
    height) and its profile in ``profile``; quit at the end."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = chromium_paths()
    if not (chromium and driver_path):
        raise RuntimeError("needs Debian chromium and chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--autoplay-policy=no-user-gesture-required",
        f"--user-data-dir={profile}",
        f"--window-size={window[0]},{window[1]}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
