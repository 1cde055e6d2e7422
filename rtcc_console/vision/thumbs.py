"""A small JPEG crop of a vehicle box (PyAV's MJPEG encoder: no image library needed)."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np

THUMB_MAX = 160
MARGIN = 0.08


def crop_jpeg(
    rgb: np.ndarray, box: tuple[float, float, float, float], max_side: int = THUMB_MAX
) -> bytes:
    height, width = rgb.shape[:2]
    x1, y1, x2, y2 = box
    mx, my = MARGIN * (x2 - x1), MARGIN * (y2 - y1)
    left, top = max(0, int((x1 - mx) * width)), max(0, int((y1 - my) * height))
    right, bottom = min(width, int((x2 + mx) * width) + 1), min(height, int((y2 + my) * height) + 1)
    crop = np.ascontiguousarray(rgb[top:bottom, left:right])
    if crop.shape[0] < 2 or crop.shape[1] < 2:
        crop = np.ascontiguousarray(rgb)
    ch, cw = crop.shape[:2]
    scale = min(1.0, max_side / max(cw, ch))
    # even sizes: 4:2:0 JPEG needs them
    tw, th = max(2, int(cw * scale) // 2 * 2), max(2, int(ch * scale) // 2 * 2)
    frame = av.VideoFrame.from_ndarray(crop, format="rgb24").reformat(
        width=tw, height=th, format="yuvj420p", interpolation="AREA"
    )
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height = tw, th
    codec.pix_fmt = "yuvj420p"
    codec.time_base = Fraction(1, 25)
    codec.options = {"q:v": "4"}
    packets = codec.encode(frame) + codec.encode(None)
    return b"".join(bytes(p) for p in packets)
