"""The vehicle detector: letterbox, one onnxruntime pass, yolo decoding, per-class NMS.

Only the five vehicle classes are ever decoded (``labels.VEHICLE_CLASS_IDS``): the scores of
every other COCO class, "person" included, are never read out of the network's output, so
nothing else can reach a caller, a database row or a thumbnail.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import onnxruntime as ort
import platformdirs

from rtcc_console.vision import darknet
from rtcc_console.vision.labels import VEHICLE_CLASS_IDS
from rtcc_console.vision.model_files import ModelFiles, find_model_files, sha256_file

log = logging.getLogger(__name__)

SCORE_THRESHOLD = 0.25
NMS_IOU = 0.45
LETTERBOX_FILL = 0.5  # darknet's grey


@dataclass(frozen=True, slots=True)
class Detection:
    """One vehicle candidate. ``box`` is (x1, y1, x2, y2) as fractions of the frame."""

    label: str
    score: float
    box: tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How an image of ``width`` x ``height`` sits inside the square network input."""

    width: int
    height: int
    inner_w: int
    inner_h: int
    dx: int
    dy: int

    @classmethod
    def fit(cls, width: int, height: int, size: int) -> Letterbox:
        scale = min(size / width, size / height)
        inner_w, inner_h = max(1, round(width * scale)), max(1, round(height * scale))
        return cls(width, height, inner_w, inner_h, (size - inner_w) // 2, (size - inner_h) // 2)


def default_cache_dir() -> Path:
    return Path(platformdirs.user_data_dir("rtcc-console", appauthor=False)) / "models"


def cached_onnx(
    files: ModelFiles, cache_dir: Path | None = None
) -> tuple[Path, darknet.Converted | None]:
    """The converted model's path, converting once per weights hash. Returns the conversion
    when it happened in this call (its heads are then at hand), else ``None``."""
    cache_dir = cache_dir or default_cache_dir()
    digest = sha256_file(files.weights)
    target = cache_dir / f"yolov3-tiny-{digest[:32]}.onnx"
    if target.is_file():
        return target, None
    converted = darknet.convert(files.cfg, files.weights)
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(converted.model.SerializeToString())
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    log.info("vehicle model converted to %s", target)
    return target, converted


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float32)


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Greedy non-maximum suppression; ``boxes`` are (x1, y1, x2, y2) rows."""
    order = list(np.argsort(-scores, kind="stable"))
    keep: list[int] = []
    areas = np.maximum(0.0, boxes[:, 2] - boxes[:, 0]) * np.maximum(0.0, boxes[:, 3] - boxes[:, 1])
    while order:
        i = int(order.pop(0))
        keep.append(i)
        if not order:
            break
        rest = np.array(order)
        xx1 = np.maximum(boxes[i, 0], boxes[rest, 0])
        yy1 = np.maximum(boxes[i, 1], boxes[rest, 1])
        xx2 = np.minimum(boxes[i, 2], boxes[rest, 2])
        yy2 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.maximum(0.0, xx2 - xx1) * np.maximum(0.0, yy2 - yy1)
        union = areas[i] + areas[rest] - inter
        overlap = np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)
        order = [int(j) for j, o in zip(rest, overlap, strict=True) if o <= iou]
    return keep


class VehicleDetector:
    """Loads (converting on first use) and runs the network on one CPU thread."""

    def __init__(
        self,
        *,
        files: ModelFiles | None = None,
        cache_dir: Path | None = None,
        threads: int = 1,
        score_threshold: float = SCORE_THRESHOLD,
        nms_iou: float = NMS_IOU,
    ) -> None:
        files = files or find_model_files()
        path, converted = cached_onnx(files, cache_dir)
        if converted is None:
            sections = darknet.parse_cfg(files.cfg.read_text(encoding="utf-8"))
            net = sections[0]
            self.size = int(net.options.get("width", 416))
            self._heads = darknet.yolo_heads(sections)
        else:
            self.size = converted.width
            self._heads = converted.heads
        self.model_path = path
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self._session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name
        self.score_threshold = score_threshold
        self.nms_iou = nms_iou

    # -- pre-processing -----------------------------------------------------------------
    def prepare_frame(self, frame: av.VideoFrame) -> tuple[np.ndarray, Letterbox]:
        """A decoded frame -> the network's input, scaled once straight from YUV."""
        geom = Letterbox.fit(frame.width, frame.height, self.size)
        small = frame.reformat(
            width=geom.inner_w, height=geom.inner_h, format="rgb24", interpolation="BILINEAR"
        ).to_ndarray()
        return self._canvas(small, geom), geom

    def prepare_rgb(self, rgb: np.ndarray) -> tuple[np.ndarray, Letterbox]:
        height, width = rgb.shape[:2]
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        geom = Letterbox.fit(width, height, self.size)
        small = frame.reformat(
            width=geom.inner_w, height=geom.inner_h, interpolation="BILINEAR"
        ).to_ndarray()
        return self._canvas(small, geom), geom

    def _canvas(self, small: np.ndarray, geom: Letterbox) -> np.ndarray:
        canvas = np.full((3, self.size, self.size), LETTERBOX_FILL, dtype=np.float32)
        canvas[:, geom.dy : geom.dy + geom.inner_h, geom.dx : geom.dx + geom.inner_w] = (
            small.transpose(2, 0, 1).astype(np.float32) / 255.0
        )
        return canvas[None]

    # -- the network ----------------------------------------------------------------------
    def run(self, tensor: np.ndarray) -> list[np.ndarray]:
        return [np.asarray(o) for o in self._session.run(None, {self._input: tensor})]

    def decode(self, outputs: list[np.ndarray], geom: Letterbox) -> list[Detection]:
        """Raw yolo maps -> vehicle detections in frame fractions (other classes never read)."""
        boxes: list[np.ndarray] = []
        scores: list[np.ndarray] = []
        classes: list[np.ndarray] = []
        cls_ids = np.array(sorted(VEHICLE_CLASS_IDS), dtype=np.int64)
        for out, head in zip(outputs, self._heads, strict=True):
            _, ch, gh, gw = out.shape
            n = len(head.anchors)
            maps = out.reshape(n, ch // n, gh, gw)
            obj = _sigmoid(maps[:, 4])
            cls = _sigmoid(maps[:, 5 + cls_ids])  # (n, 5, gh, gw): vehicle classes only
            prob = obj[:, None] * cls
            a, c, r, col = np.nonzero(prob > self.score_threshold)
            if a.size == 0:
                continue
            anchors = np.array(head.anchors, dtype=np.float32)
            cx = (col + _sigmoid(maps[a, 0, r, col])) / gw
            cy = (r + _sigmoid(maps[a, 1, r, col])) / gh
            bw = np.exp(maps[a, 2, r, col]) * anchors[a, 0] / self.size
            bh = np.exp(maps[a, 3, r, col]) * anchors[a, 1] / self.size
            boxes.append(np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1))
            scores.append(prob[a, c, r, col])
            classes.append(cls_ids[c])
        if not boxes:
            return []
        all_boxes = self._unletterbox(np.concatenate(boxes), geom)
        all_scores = np.concatenate(scores)
        all_classes = np.concatenate(classes)
        found: list[Detection] = []
        for class_id in np.unique(all_classes):
            sel = np.nonzero(all_classes == class_id)[0]
            for k in nms(all_boxes[sel], all_scores[sel], self.nms_iou):
                i = sel[k]
                x1, y1, x2, y2 = (float(v) for v in all_boxes[i])
                found.append(
                    Detection(
                        VEHICLE_CLASS_IDS[int(class_id)], float(all_scores[i]), (x1, y1, x2, y2)
                    )
                )
        found.sort(key=lambda d: -d.score)
        return found

    def _unletterbox(self, boxes: np.ndarray, geom: Letterbox) -> np.ndarray:
        px = boxes * self.size
        px[:, [0, 2]] = (px[:, [0, 2]] - geom.dx) / geom.inner_w
        px[:, [1, 3]] = (px[:, [1, 3]] - geom.dy) / geom.inner_h
        return np.asarray(np.clip(px, 0.0, 1.0), dtype=np.float64)

    # -- convenience ----------------------------------------------------------------------
    def detect_frame(self, frame: av.VideoFrame) -> list[Detection]:
        tensor, geom = self.prepare_frame(frame)
        return self.decode(self.run(tensor), geom)

    def detect_rgb(self, rgb: np.ndarray) -> list[Detection]:
        tensor, geom = self.prepare_rgb(rgb)
        return self.decode(self.run(tensor), geom)
