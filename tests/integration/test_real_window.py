"""A real window on a real (virtual) X display with a window manager: the console opened
by `rtcc demo` on a 1366x768 screen fits it, status bar included (it was pushed off
1920x1200 and 1366x768 screens before)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

TOOLS = ("Xvfb", "openbox", "xdotool")


def _free_display() -> str:
    for n in range(130, 160):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return f":{n}"
    raise RuntimeError("no free X display number")


@pytest.fixture
def x_display() -> Iterator[str]:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    assert not missing, f"install {missing} (scripts/debian-packages.txt; make test does it)"
    display = _free_display()
    xvfb = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    env = {**os.environ, "DISPLAY": display}
    deadline = time.monotonic() + 10
    while (
        subprocess.run(["xdotool", "getdisplaygeometry"], env=env, capture_output=True).returncode
        != 0
    ):
        assert time.monotonic() < deadline, "Xvfb did not start"
        time.sleep(0.1)
    wm = subprocess.Popen(
        ["openbox"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield display
    finally:
        for proc in (wm, xvfb):
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()


def _geometry(env: dict[str, str], name: str) -> tuple[int, int, int, int] | None:
    found = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", name],
        env=env,
        capture_output=True,
        text=True,
    )
    for wid in found.stdout.split():
        out = subprocess.run(
            ["xdotool", "getwindowgeometry", wid], env=env, capture_output=True, text=True
        ).stdout
        pos = re.search(r"Position: (-?\d+),(-?\d+)", out)
        size = re.search(r"Geometry: (\d+)x(\d+)", out)
        if pos and size and int(size.group(1)) > 400:
            return int(pos.group(1)), int(pos.group(2)), int(size.group(1)), int(size.group(2))
    return None


def test_console_window_fits_a_1366x768_screen(x_display: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update(DISPLAY=x_display, QT_QPA_PLATFORM="xcb", HOME=str(tmp_path))
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rtcc_console.cli",
            "demo",
            "--exit-after",
            "40",
            "--streams",
            "2",
            "--cameras",
            "300",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        geometry = None
        while geometry is None and time.monotonic() < deadline and demo.poll() is None:
            time.sleep(0.5)
            geometry = _geometry(env, "RTCC Console")
        assert geometry is not None, "no console window appeared"
        time.sleep(3)  # let the window manager place it and the console settle
        geometry = _geometry(env, "RTCC Console")
        assert geometry is not None
        x, y, w, h = geometry
        assert x >= 0 and y >= 0 and x + w <= 1366 and y + h <= 768, geometry
    finally:
        demo.terminate()
        try:
            out, _ = demo.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            demo.kill()
            out, _ = demo.communicate()
    assert "demo analyst: sign in again with user" in out
