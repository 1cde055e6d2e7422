"""Real test media for the evidence vault: small H.264 MP4s made with PyAV, padded to size.

``make_mp4`` encodes a few seconds of moving colour bars (libx264, ultrafast) with a
``creation_time`` tag. ``pad_to`` grows a file to an exact size by appending one top-level
ISO BMFF ``free`` box (64-bit size when needed): the result is still a valid MP4 that
players and PyAV open, which lets benchmarks move gigabytes without encoding gigabytes.
"""

from __future__ import annotations

import os
import struct
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def make_mp4(
    path: Path,
    *,
    seconds: float = 2.0,
    size: tuple[int, int] = (160, 90),
    fps: int = 10,
    seed: int = 0,
    creation_time: datetime | None = None,
) -> Path:
    """Encode a short H.264 MP4 (moov first) and return its path."""
    w, h = size
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, size=(h, w, 3), dtype=np.uint8)
    options = {"movflags": "+faststart"}
    with av.open(str(path), "w", format="mp4", options=options) as out:
        if creation_time is not None:
            out.metadata["creation_time"] = creation_time.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"preset": "ultrafast", "g": str(fps), "bf": "0"}
        stream.codec_context.time_base = Fraction(1, fps)
        for i in range(max(1, int(seconds * fps))):
            img = np.roll(base, i * 3, axis=1)
            img[: h // 8, : (i * 7) % w] = 255  # a growing bar: every frame differs
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def pad_to(path: Path, total_size: int, *, fill: bytes | None = None) -> Path:
    """Append one ``free`` box so the file is exactly ``total_size`` bytes (still a valid MP4)."""
    current = path.stat().st_size
    extra = total_size - current
    if extra == 0:
        return path
    if extra < 16:
        raise ValueError(f"cannot pad {current} bytes to {total_size}: need at least 16 more")
    header = struct.pack(">I4sQ", 1, b"free", extra)
    block = fill or os.urandom(1024 * 1024)
    with path.open("ab") as f:
        f.write(header)
        remaining = extra - len(header)
        while remaining > 0:
            n = min(remaining, len(block))
            f.write(block[:n])
            remaining -= n
    return path
