from __future__ import annotations

from pathlib import Path

import pytest

from rtcc_console.vision.detector import VehicleDetector
from tests.vision.darknet_photos import photos_dir


@pytest.fixture(scope="session")
def darknet_photos() -> Path:
    return photos_dir()


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="session")
def detector(model_cache: Path) -> VehicleDetector:
    return VehicleDetector(cache_dir=model_cache)
