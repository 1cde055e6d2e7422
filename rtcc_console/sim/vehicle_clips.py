"""H.264 clips made from real photos: slow pans and a vehicle sliding across a still street.

Used by the vision tests and ``rtcc bench vehicles``: the pictures are real (Debian's
darknet sample photos), the motion is synthetic, so the expected time ranges are known.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

Crop = tuple[float, float, float, float]  # x, y, w, h as fractions of the photo


@dataclass(frozen=True, slots=True)
class Sprite:
    """A cut-out (RGB) that moves in a straight line across the frame (fractions of it)."""

    rgb: np.ndarray
    height_frac: float
    start: tuple[float, float]
    end: tuple[float, float]


@dataclass(frozen=True, slots=True)
class Segment:
    """``seconds`` of ``photo`` seen through a crop window moving from ``crop_from`` to ``crop_to``."""

    photo: np.ndarray
    seconds: float
    crop_from: Crop = (0.0, 0.0, 1.0, 1.0)
    crop_to: Crop | None = None
    sprite: Sprite | None = None


def read_photo(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return np.ascontiguousarray(frame.to_ndarray(format="rgb24"))


def _resize(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    out = frame.reformat(width=width, height=height, interpolation="BILINEAR").to_ndarray()
    return np.asarray(out)


def _crop(photo: np.ndarray, crop: Crop) -> np.ndarray:
    h, w = photo.shape[:2]
    x, y, cw, ch = crop
    left, top = int(round(x * w)), int(round(y * h))
    right, bottom = (
        min(w, left + max(2, int(round(cw * w)))),
        min(h, top + max(2, int(round(ch * h)))),
    )
    return photo[top:bottom, left:right]


def render_frame(seg: Segment, u: float, size: tuple[int, int]) -> np.ndarray:
    """The frame at ``u`` (0..1) through the segment."""
    to = seg.crop_to or seg.crop_from
    crop = tuple(a + (b - a) * u for a, b in zip(seg.crop_from, to, strict=True))
    img = _resize(_crop(seg.photo, crop), *size).copy()  # type: ignore[arg-type]
    if seg.sprite is not None:
        sp = seg.sprite
        sh = max(2, int(sp.height_frac * size[1]))
        sw = max(2, int(sp.rgb.shape[1] * sh / sp.rgb.shape[0]))
        cut = _resize(sp.rgb, sw, sh)
        cx = sp.start[0] + (sp.end[0] - sp.start[0]) * u
        cy = sp.start[1] + (sp.end[1] - sp.start[1]) * u
        left, top = int(cx * size[0] - sw / 2), int(cy * size[1] - sh / 2)
        x0, y0 = max(0, left), max(0, top)
        x1, y1 = min(size[0], left + sw), min(size[1], top + sh)
        if x1 > x0 and y1 > y0:
            img[y0:y1, x0:x1] = cut[y0 - top : y1 - top, x0 - left : x1 - left]
    return img


def write_clip(
    path: Path,
    segments: Sequence[Segment],
    *,
    size: tuple[int, int] = (1280, 720),
    fps: int = 15,
    keyframe_s: float = 2.0,
    bit_rate: int = 2_000_000,
) -> Path:
    """Encode the segments one after another as an H.264 MP4 (no B-frames, fixed GOP)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    gop = max(1, int(round(keyframe_s * fps)))
    tmp = path.with_suffix(".part.mp4")
    with av.open(str(tmp), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = bit_rate
        stream.codec_context.time_base = Fraction(1, fps)
        stream.options = {
            "preset": "veryfast",
            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0",
        }
        index = 0
        for seg in segments:
            n = max(1, int(round(seg.seconds * fps)))
            for i in range(n):
                rgb = render_frame(seg, i / max(1, n - 1), size)
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
                frame.pts = index
                frame.time_base = Fraction(1, fps)
                index += 1
                for packet in stream.encode(frame):
                    out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    tmp.replace(path)
    return path
