"""A real window needs Qt's xcb platform plugin, and that plugin needs XCB libraries that a
minimal Debian lacks (seen: the console died at start on a real display). The set-up
installs them from scripts/debian-packages.txt; this test proves nothing is missing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

PySide6 = pytest.importorskip("PySide6")

QT = Path(PySide6.__file__).parent / "Qt"


def _missing(lib: Path) -> list[str]:
    out = subprocess.run(["ldd", str(lib)], capture_output=True, text=True, check=True).stdout
    return [line.split()[0] for line in out.splitlines() if "not found" in line]


@pytest.mark.skipif(shutil.which("ldd") is None, reason="ldd is part of libc-bin on Debian")
def test_xcb_platform_plugin_has_every_library() -> None:
    libs = [QT / "plugins" / "platforms" / "libqxcb.so", QT / "lib" / "libQt6XcbQpa.so.6"]
    missing = sorted({name for lib in libs if lib.exists() for name in _missing(lib)})
    assert missing == [], f"install the Debian packages providing {missing}"


def test_qt_dlopens_xcb_cursor() -> None:
    # Qt >= 6.5 refuses to start the xcb platform without libxcb-cursor (dlopened, so
    # ldd cannot see it).
    found = subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True).stdout
    assert "libxcb-cursor.so.0" in found


def test_debian_package_list_names_them() -> None:
    wanted = Path(__file__).parents[2] / "scripts" / "debian-packages.txt"
    names = {
        line.strip()
        for line in wanted.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {"libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1"} <= names
