"""Index one clip: when does which kind of vehicle appear, how sure, where, what colour.

Decodes with PyAV at a sampling rate (default 2 frames a second; only keyframes when they
come at least that often, which skips most of the decoding), runs a cheap motion gate on
small grey frames (a sampled frame that differs from the last one the model saw in fewer
than a handful of pixels reuses that frame's detections: a still street costs one model
pass), and folds detections into time ranges per class, each with its best score, the time
and box of that best frame, the box's dominant colour and a small JPEG crop.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from rtcc_console.vision.colour import dominant_colour
from rtcc_console.vision.detector import Detection, VehicleDetector
from rtcc_console.vision.labels import VEHICLE_LABELS
from rtcc_console.vision.thumbs import crop_jpeg

DEFAULT_FPS = 2.0
GATE_SIZE = (96, 54)
GATE_PIXEL_DELTA = 10  # grey levels
GATE_MIN_PIXELS = 4  # changed pixels (of 5,184) that count as motion


class ClipError(RuntimeError):
    """The file is not a decodable video."""


@dataclass(slots=True)
class Sighting:
    """A time range in which one class was detected (candidates: to verify by a person)."""

    label: str
    colour: str
    start_s: float
    end_s: float
    best_score: float
    best_time_s: float
    box: tuple[float, float, float, float]
    thumbnail_jpeg: bytes = b""


@dataclass(slots=True)
class IndexStats:
    duration_s: float = 0.0
    sampled: int = 0
    model_runs: int = 0
    gated: int = 0
    keyframes_only: bool = False
    model_s: float = 0.0  # thread CPU time inside the network
    cpu_s: float = 0.0  # thread CPU time of the whole indexing
    frames_with_vehicles: list[tuple[float, tuple[str, ...]]] = field(default_factory=list)


@dataclass(slots=True)
class IndexResult:
    sightings: list[Sighting]
    stats: IndexStats


@dataclass(slots=True)
class _Open:
    sighting: Sighting
    last_seen: float


class MotionGate:
    """Tells whether a sampled frame differs from the last frame the model looked at."""

    def __init__(self) -> None:
        self._ref: np.ndarray | None = None

    def small(self, frame: av.VideoFrame) -> np.ndarray:
        return (
            frame.reformat(
                width=GATE_SIZE[0], height=GATE_SIZE[1], format="gray", interpolation="AREA"
            )
            .to_ndarray()
            .astype(np.int16)
        )

    def moved(self, small: np.ndarray) -> bool:
        if self._ref is None or self._ref.shape != small.shape:
            return True
        return (
            int(np.count_nonzero(np.abs(small - self._ref) > GATE_PIXEL_DELTA)) >= GATE_MIN_PIXELS
        )

    def remember(self, small: np.ndarray) -> None:
        self._ref = small


def keyframe_interval(path: Path, max_keyframes: int = 32) -> float | None:
    """Median seconds between the first keyframes, from demuxing only (no decoding)."""
    times: list[float] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        tb = stream.time_base or Fraction(1, 90000)
        for packet in container.demux(stream):
            if packet.is_keyframe and packet.pts is not None:
                times.append(float(packet.pts * tb))
                if len(times) >= max_keyframes:
                    break
    if len(times) < 2:
        return None
    gaps = np.diff(np.array(sorted(times)))
    return float(np.median(gaps))


def index_clip(
    path: Path,
    detector: VehicleDetector,
    *,
    fps: float = DEFAULT_FPS,
    motion_gate: bool = True,
    progress: Callable[[float], None] | None = None,
    max_gap_s: float | None = None,
    thumbnails: bool = True,
) -> IndexResult:
    """Index ``path``; ``progress`` gets the fraction done (0..1) after each sampled frame."""
    if fps <= 0:
        raise ValueError("fps must be positive")
    period = 1.0 / fps
    gap = max_gap_s if max_gap_s is not None else 2.5 * period
    stats = IndexStats()
    cpu0 = time.thread_time()
    try:
        kf = keyframe_interval(path)
        container = av.open(str(path))
    except (av.error.FFmpegError, IndexError) as exc:
        raise ClipError(f"not a decodable video: {exc}") from exc
    gate = MotionGate()
    open_: dict[str, _Open] = {}
    done: list[Sighting] = []
    last_dets: list[Detection] = []
    try:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        if kf is not None and kf <= period * 1.001:
            stream.codec_context.skip_frame = "NONKEY"
            stats.keyframes_only = True
        tb = stream.time_base or Fraction(1, 90000)
        duration = _duration(container, stream)
        stats.duration_s = duration
        start_pts = stream.start_time or 0
        next_t = 0.0
        for frame in container.decode(stream):
            if frame.pts is None:
                continue
            t = float((frame.pts - start_pts) * tb)
            if t + 1e-6 < next_t:
                continue
            next_t = (math.floor(t / period + 1e-6) + 1) * period
            stats.sampled += 1
            small = gate.small(frame) if motion_gate else None
            if small is None or gate.moved(small):
                m0 = time.thread_time()
                dets = detector.detect_frame(frame)
                stats.model_s += time.thread_time() - m0
                stats.model_runs += 1
                if small is not None:
                    gate.remember(small)
                last_dets = dets
            else:
                stats.gated += 1
                dets = last_dets
            if dets:
                stats.frames_with_vehicles.append((t, tuple(sorted({d.label for d in dets}))))
            _fold(frame, t, dets, open_, done, gap, thumbnails)
            if progress is not None and duration > 0:
                progress(min(1.0, t / duration))
    except av.error.FFmpegError as exc:
        raise ClipError(f"decoding failed: {exc}") from exc
    finally:
        container.close()
    done.extend(o.sighting for o in open_.values())
    done.sort(key=lambda s: (s.start_s, VEHICLE_LABELS.index(s.label)))
    stats.cpu_s = time.thread_time() - cpu0
    if progress is not None:
        progress(1.0)
    return IndexResult(sightings=done, stats=stats)


def _duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return 0.0


def _fold(
    frame: av.VideoFrame,
    t: float,
    dets: list[Detection],
    open_: dict[str, _Open],
    done: list[Sighting],
    gap: float,
    thumbnails: bool,
) -> None:
    best: dict[str, Detection] = {}
    for det in dets:
        if det.label not in VEHICLE_LABELS:  # the detector never yields one; belt and braces
            continue
        if det.label not in best or det.score > best[det.label].score:
            best[det.label] = det
    for label in list(open_):
        if label not in best and t - open_[label].last_seen > gap:
            done.append(open_.pop(label).sighting)
    rgb: np.ndarray | None = None
    for label, det in best.items():
        cur = open_.get(label)
        if cur is not None and t - cur.last_seen > gap:
            done.append(open_.pop(label).sighting)
            cur = None
        if cur is None:
            sighting = Sighting(label, "", t, t, -1.0, t, det.box)
            cur = open_[label] = _Open(sighting, t)
        cur.last_seen = t
        cur.sighting.end_s = t
        if det.score > cur.sighting.best_score:
            if rgb is None:
                rgb = frame.to_ndarray(format="rgb24")
            s = cur.sighting
            s.best_score, s.best_time_s, s.box = det.score, t, det.box
            s.colour = dominant_colour(rgb, det.box)
            if thumbnails:
                s.thumbnail_jpeg = crop_jpeg(rgb, det.box)
