"""Integration fixtures: one small camera simulator per session (loops cached per session)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rtcc_console.sim.cameras import SimCameraServer


@pytest.fixture(scope="session")
def sim_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where this session's simulator loops are rendered (once) and cached."""
    return tmp_path_factory.mktemp("sim-cache")


@pytest.fixture(scope="session")
def sim(sim_cache: Path) -> Iterator[SimCameraServer]:
    """Four small H.264 cameras over HTTP TS, the first with MJPEG too."""
    with SimCameraServer(4, size=(320, 180), mjpeg_count=1, cache_dir=sim_cache) as server:
        yield server
