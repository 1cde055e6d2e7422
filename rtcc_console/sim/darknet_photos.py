"""Debian's darknet sample photos: real pictures no one here made (tests and benchmarks).

Uses ``/usr/share/darknet/data`` when the package is installed; otherwise downloads the
``darknet`` .deb with ``apt-get download`` (running ``apt-get update`` first when apt does
not know the package) and unpacks only its files with ``dpkg-deb -x`` into a cache
directory - its OpenCV library dependencies are not needed for the photos.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import platformdirs

PHOTOS = (
    "dog.jpg",
    "person.jpg",
    "horses.jpg",
    "giraffe.jpg",
    "eagle.jpg",
    "kite.jpg",
    "scream.jpg",
)
SYSTEM_DIR = Path("/usr/share/darknet/data")


class PhotosUnavailable(RuntimeError):
    """The photos are not here and could not be fetched (no network, no apt)."""


def cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("rtcc-console-tests", appauthor=False)) / "darknet-data"


def _have(folder: Path) -> bool:
    return all((folder / name).is_file() for name in PHOTOS)


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def photos_dir() -> Path:
    """The folder holding :data:`PHOTOS`, fetching them once when needed."""
    if _have(SYSTEM_DIR):
        return SYSTEM_DIR
    target = cache_dir()
    if _have(target):
        return target
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise PhotosUnavailable(
            "darknet sample photos missing and apt-get/dpkg-deb are not available"
        )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        got = _run(["apt-get", "download", "darknet"], work)
        if got.returncode != 0:
            update = _run(["apt-get", "update"], work)
            got = _run(["apt-get", "download", "darknet"], work)
            if got.returncode != 0:
                raise PhotosUnavailable(
                    "could not fetch Debian's darknet package for its sample photos "
                    f"(no network or no Debian mirror?): apt-get update said "
                    f"{update.stderr.strip()[-300:]!r}; apt-get download said {got.stderr.strip()[-300:]!r}"
                )
        debs = sorted(work.glob("darknet_*.deb"))
        if not debs:
            raise PhotosUnavailable("apt-get download darknet left no .deb file")
        unpacked = work / "x"
        out = _run(["dpkg-deb", "-x", str(debs[0]), str(unpacked)], work)
        if out.returncode != 0:
            raise PhotosUnavailable(f"dpkg-deb -x failed: {out.stderr.strip()[-300:]}")
        source = unpacked / "usr/share/darknet/data"
        if not _have(source):
            raise PhotosUnavailable(
                f"the darknet package no longer ships {PHOTOS} under /usr/share/darknet/data"
            )
        target.mkdir(parents=True, exist_ok=True)
        for name in PHOTOS:
            shutil.copy2(source / name, target / name)
    return target


if __name__ == "__main__":  # `make demo` fetches the photos while it sets up, not during the demo
    try:
        print(f"darknet sample photos: {photos_dir()}")
    except PhotosUnavailable as exc:
        print(
            f"darknet sample photos unavailable ({exc}); the demo's owners will upload colour bars"
        )
