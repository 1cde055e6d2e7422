"""``rtcc console`` end to end: a separate process signs in (password on stdin), shows the
console against the real server and writes a screenshot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QImage

from tests.gui.conftest import PASSWORD, ConsoleServer

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def test_rtcc_console_screenshot(console_server: ConsoleServer, tmp_path: Path, qapp: Any) -> None:
    console_server.post_call(priority=1)
    shot = tmp_path / "console.png"
    env = dict(os.environ, RTCC_CONSOLE_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "rtcc_console.cli",
            "console",
            "--server",
            console_server.base,
            "--user",
            "ana",
            "--password-stdin",
            "--screenshot",
            str(shot),
            "--exit-after",
            "4",
            "--settings-file",
            str(tmp_path / "console.ini"),
        ],
        input=PASSWORD + "\n",
        text=True,
        env=env,
        capture_output=True,
        timeout=90,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert PASSWORD not in proc.stderr
    image = QImage(str(shot))
    assert image.width() >= 600 and image.height() >= 400
    assert (tmp_path / "console.ini").exists()  # layout saved on exit
