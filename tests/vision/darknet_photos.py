"""The darknet sample photos for the tests (``rtcc_console.sim.darknet_photos`` fetches them
with ``apt-get download darknet`` + ``dpkg-deb -x`` when missing). Without a network the
tests FAIL with the reason: they are the honest evaluation of the detector and must not
vanish as skips."""

from __future__ import annotations

from pathlib import Path

import pytest

from rtcc_console.sim.darknet_photos import PHOTOS, PhotosUnavailable
from rtcc_console.sim.darknet_photos import photos_dir as _photos_dir

__all__ = ["PHOTOS", "photos_dir"]


def photos_dir() -> Path:
    try:
        return _photos_dir()
    except PhotosUnavailable as exc:
        pytest.fail(str(exc))
