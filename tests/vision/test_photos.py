"""Honest evaluation on Debian's darknet sample photos (real pictures no one here made)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rtcc_console.sim.vehicle_clips import read_photo
from rtcc_console.vision.colour import dominant_colour
from rtcc_console.vision.detector import VehicleDetector
from rtcc_console.vision.labels import VEHICLE_LABELS

NO_VEHICLES = ("person.jpg", "horses.jpg", "giraffe.jpg", "eagle.jpg", "kite.jpg", "scream.jpg")


def test_dog_photo_has_its_pickup_truck_and_bicycle(
    detector: VehicleDetector, darknet_photos: Path
) -> None:
    rgb = read_photo(darknet_photos / "dog.jpg")
    found = detector.detect_rgb(rgb)
    labels = {d.label for d in found}
    assert {"truck", "bicycle"} <= labels
    assert labels <= set(VEHICLE_LABELS)
    bicycle = max((d for d in found if d.label == "bicycle"), key=lambda d: d.score)
    truck = max((d for d in found if d.label in ("truck", "car")), key=lambda d: d.score)
    # the bicycle stands in the lower left half, the pickup is parked top right
    assert bicycle.box[1] > 0.2 and (bicycle.box[0] + bicycle.box[2]) / 2 < 0.6
    assert (truck.box[0] + truck.box[2]) / 2 > 0.6 and truck.box[3] < 0.4
    assert dominant_colour(rgb, truck.box) == "white"


@pytest.mark.parametrize("name", NO_VEHICLES)
def test_photos_without_vehicles_report_none(
    detector: VehicleDetector, darknet_photos: Path, name: str
) -> None:
    assert detector.detect_rgb(read_photo(darknet_photos / name)) == []


def test_the_person_is_seen_by_the_network_but_never_reported(
    detector: VehicleDetector, darknet_photos: Path
) -> None:
    """person.jpg: the raw network is sure about a person (COCO class 0); the detector's
    output - the only thing the indexer and the store ever get - has no trace of it."""
    tensor, geom = detector.prepare_rgb(read_photo(darknet_photos / "person.jpg"))
    raw = detector.run(tensor)
    best_person = 0.0
    for out in raw:
        maps = out.reshape(3, 85, *out.shape[2:])
        obj = 1 / (1 + np.exp(-maps[:, 4]))
        person = 1 / (1 + np.exp(-maps[:, 5]))
        best_person = max(best_person, float((obj * person).max()))
    assert best_person > 0.5
    assert detector.decode(raw, geom) == []


def test_letterbox_keeps_the_aspect_ratio(detector: VehicleDetector) -> None:
    rgb = np.zeros((720, 1280, 3), np.uint8)
    tensor, geom = detector.prepare_rgb(rgb)
    assert tensor.shape == (1, 3, 416, 416)
    assert (geom.inner_w, geom.inner_h) == (416, 234) and geom.dy == 91
    assert float(tensor[0, 0, 0, 0]) == pytest.approx(0.5)  # darknet's grey bars
    assert float(tensor[0, 0, 208, 208]) == 0.0


def test_photos_are_fetched_from_the_debian_package_when_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fetch path itself (apt-get download darknet + dpkg-deb -x) into an empty cache."""
    from rtcc_console.sim import darknet_photos

    monkeypatch.setattr(darknet_photos, "SYSTEM_DIR", tmp_path / "not-installed")
    monkeypatch.setattr(darknet_photos, "cache_dir", lambda: tmp_path / "cache")
    try:
        folder = darknet_photos.photos_dir()
    except darknet_photos.PhotosUnavailable as exc:
        pytest.fail(str(exc))
    assert folder == tmp_path / "cache"
    assert (folder / "dog.jpg").read_bytes()[:2] == b"\xff\xd8"
