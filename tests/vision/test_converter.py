"""The numpy + onnx.helper converter against OpenCV's own Darknet importer (test extra only)."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from rtcc_console.sim.vehicle_clips import read_photo
from rtcc_console.vision import darknet
from rtcc_console.vision.detector import VehicleDetector, cached_onnx
from rtcc_console.vision.labels import VEHICLE_CLASS_IDS
from rtcc_console.vision.model_files import WEIGHTS_SHA256, find_model_files, sha256_file


def test_model_files_are_the_published_original() -> None:
    files = find_model_files()
    assert files.weights.stat().st_size == 35_434_956
    assert sha256_file(files.weights) == WEIGHTS_SHA256


def test_raw_outputs_equal_opencv_to_three_decimals(
    detector: VehicleDetector, darknet_photos: Path
) -> None:
    files = find_model_files()
    net = cv2.dnn.readNetFromDarknet(str(files.cfg), str(files.weights))
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    tensor, _ = detector.prepare_rgb(read_photo(darknet_photos / "dog.jpg"))
    net.setInput(tensor)
    # the two 255-channel maps right before OpenCV's yolo layers
    theirs = net.forward(["conv_15", "conv_22"])
    ours = detector.run(tensor)
    assert [o.shape for o in ours] == [(1, 255, 13, 13), (1, 255, 26, 26)]
    for a, b in zip(theirs, ours, strict=True):
        np.testing.assert_allclose(b, a, atol=1e-3, rtol=0)


def test_decoded_vehicles_equal_opencv_yolo_layers(
    detector: VehicleDetector, darknet_photos: Path
) -> None:
    """OpenCV decodes its yolo layers itself (boxes, objectness * class); after per-class NMS
    (OpenCV's NMSBoxes) the vehicles and their scores and boxes equal ours to 3 decimals."""
    files = find_model_files()
    net = cv2.dnn.readNetFromDarknet(str(files.cfg), str(files.weights))
    tensor, geom = detector.prepare_rgb(read_photo(darknet_photos / "dog.jpg"))
    net.setInput(tensor)
    rows = np.concatenate(net.forward(net.getUnconnectedOutLayersNames()))
    expected: list[tuple[str, float, tuple[float, ...]]] = []
    for class_id, label in VEHICLE_CLASS_IDS.items():
        scores = rows[:, 5 + class_id]
        sel = np.nonzero(scores > detector.score_threshold)[0]
        if sel.size == 0:
            continue
        cx, cy, w, h = (rows[sel, k] for k in range(4))
        xyxy = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
        xywh = [[float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])] for b in xyxy]
        keep = cv2.dnn.NMSBoxes(
            xywh, [float(s) for s in scores[sel]], detector.score_threshold, detector.nms_iou
        )
        frac = detector._unletterbox(xyxy[np.array(keep).ravel()], geom)
        for k, box in zip(np.array(keep).ravel(), frac, strict=True):
            expected.append((label, float(scores[sel][k]), tuple(float(v) for v in box)))
    ours = detector.decode(detector.run(tensor), geom)
    assert len(expected) >= 3
    assert sorted(d.label for d in ours) == sorted(e[0] for e in expected)
    for label, score, box in expected:
        match = min(
            (d for d in ours if d.label == label),
            key=lambda d: max(abs(a - b) for a, b in zip(d.box, box, strict=True)),
        )
        assert match.score == pytest.approx(score, abs=1e-3)
        np.testing.assert_allclose(match.box, box, atol=1e-3)


def test_conversion_is_cached_by_weights_hash(tmp_path: Path) -> None:
    files = find_model_files()
    path, converted = cached_onnx(files, tmp_path)
    assert converted is not None and path.exists()
    assert WEIGHTS_SHA256[:32] in path.name
    stamp = path.stat().st_mtime_ns
    again, converted_again = cached_onnx(files, tmp_path)
    assert again == path and converted_again is None
    assert path.stat().st_mtime_ns == stamp
    assert not list(tmp_path.glob("*.part"))


def test_mismatched_files_are_refused(tmp_path: Path) -> None:
    files = find_model_files()
    short = tmp_path / "short.weights"
    short.write_bytes(files.weights.read_bytes()[:1_000_000])
    with pytest.raises(darknet.DarknetError, match="ends before"):
        darknet.convert(files.cfg, short)
    bad_cfg = tmp_path / "bad.cfg"
    bad_cfg.write_text("[net]\nwidth=416\n[lstm]\nfilters=4\n")
    with pytest.raises(darknet.DarknetError, match="not supported"):
        darknet.convert(bad_cfg, files.weights)
    with pytest.raises(darknet.DarknetError, match="net"):
        darknet.parse_cfg("[convolutional]\nfilters=1\n")


def test_session_uses_one_thread(detector: VehicleDetector) -> None:
    assert detector._session.get_session_options().intra_op_num_threads == 1
    assert os.path.getsize(detector.model_path) > 30_000_000
