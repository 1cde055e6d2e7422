"""Clip indexing on H.264 clips made from the darknet photos (slow pans, known timings)."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from rtcc_console.sim.vehicle_clips import Segment, Sprite, read_photo, write_clip
from rtcc_console.vision.detector import VehicleDetector
from rtcc_console.vision.indexer import ClipError, index_clip
from rtcc_console.vision.labels import VEHICLE_LABELS


@pytest.fixture(scope="module")
def pan_clip(darknet_photos: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """giraffe 0-4 s, dog (pickup, car, bicycle) 4-8 s, horses 8-12 s: each a slow pan."""
    dog, giraffe, horses = (
        read_photo(darknet_photos / n) for n in ("dog.jpg", "giraffe.jpg", "horses.jpg")
    )
    return write_clip(
        tmp_path_factory.mktemp("clips") / "pan.mp4",
        [
            Segment(giraffe, 4, (0, 0, 0.9, 0.9), (0.1, 0.1, 0.9, 0.9)),
            Segment(dog, 4, (0, 0, 0.95, 0.95), (0.05, 0.05, 0.95, 0.95)),
            Segment(horses, 4, (0, 0, 0.9, 0.9), (0.1, 0.0, 0.9, 0.9)),
        ],
        size=(640, 360),
    )


def test_time_ranges_follow_the_pan(detector: VehicleDetector, pan_clip: Path) -> None:
    progress: list[float] = []
    result = index_clip(pan_clip, detector, progress=progress.append)
    assert result.stats.duration_s == pytest.approx(12.0, abs=0.1)
    assert result.stats.sampled == 24  # 2 frames a second
    by_label = {s.label: s for s in result.sightings}
    assert {"truck", "bicycle"} <= set(by_label)
    assert {s.label for s in result.sightings} <= set(VEHICLE_LABELS)
    for s in result.sightings:
        # only the dog photo (4-8 s) has vehicles
        assert 4.0 <= s.start_s <= s.best_time_s <= s.end_s < 8.0
        assert 0.25 <= s.best_score <= 1.0
        x1, y1, x2, y2 = s.box
        assert 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1
        assert s.thumbnail_jpeg[:2] == b"\xff\xd8"  # a JPEG
    bicycle = by_label["bicycle"]
    assert bicycle.start_s == pytest.approx(4.0, abs=0.1) and bicycle.end_s >= 7.0
    assert by_label["truck"].colour == "white"
    assert progress[-1] == 1.0 and progress == sorted(progress)


def test_motion_gate_on_a_still_street_runs_the_model_once_per_change(
    detector: VehicleDetector, darknet_photos: Path, tmp_path: Path
) -> None:
    """A still street (horses photo) for 10 s with the dog photo's pickup sliding through
    from 4 to 7 s: the gate skips the still frames, and finds what the ungated run finds."""
    horses, dog = read_photo(darknet_photos / "horses.jpg"), read_photo(darknet_photos / "dog.jpg")
    h, w = dog.shape[:2]
    truck = dog[int(0.08 * h) : int(0.33 * h), int(0.55 * w) : w]
    still = (0.0, 0.0, 1.0, 1.0)
    clip = write_clip(
        tmp_path / "still.mp4",
        [
            Segment(horses, 4, still),
            Segment(horses, 3, still, sprite=Sprite(truck, 0.45, (0.0, 0.7), (1.0, 0.7))),
            Segment(horses, 3, still),
        ],
        size=(640, 360),
    )
    gated = index_clip(clip, detector)
    ungated = index_clip(clip, detector, motion_gate=False)
    assert ungated.stats.model_runs == ungated.stats.sampled == 20
    assert gated.stats.gated >= 10 and gated.stats.model_runs <= 10
    assert {s.label for s in ungated.sightings} == {s.label for s in gated.sightings}
    assert {s.label for s in ungated.sightings} & {"truck", "car"}
    for s in gated.sightings:
        assert 4.0 <= s.start_s and s.end_s <= 7.5


def test_keyframes_only_when_they_come_often_enough(
    detector: VehicleDetector, pan_clip: Path
) -> None:
    every_second = index_clip(pan_clip, detector, fps=0.5, thumbnails=False)
    assert every_second.stats.keyframes_only  # keyframes every 2 s, one sample every 2 s
    assert every_second.stats.sampled == 6
    assert index_clip(pan_clip, detector, fps=2.0).stats.keyframes_only is False


def test_not_a_video(detector: VehicleDetector, tmp_path: Path) -> None:
    bogus = tmp_path / "x.mp4"
    bogus.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    with pytest.raises(ClipError):
        index_clip(bogus, detector)
    with pytest.raises(ValueError):
        index_clip(bogus, detector, fps=0)


def test_audio_only_file_is_refused(detector: VehicleDetector, tmp_path: Path) -> None:
    path = tmp_path / "a.m4a"
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=8000)
        for packet in stream.encode(None):
            out.mux(packet)
    with pytest.raises(ClipError):
        index_clip(path, detector)
