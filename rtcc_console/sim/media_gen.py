"""Pre-rendered camera loops for the simulator: encoded once, cached on disk, served forever.

Serving 32+ live cameras from a laptop only works if nothing is encoded live: each camera
gets a few seconds of H.264 (and optionally JPEG frames) rendered from cheap numpy
scenes - moving shapes, the camera's name and a running time code burned in - encoded
once with libx264 (ultrafast, zerolatency, no B-frames, fixed GOP) and cached under a
key of every parameter, so a restart is instant.

Cache file format (``.pk``): a header line of JSON, then records of
``<q pts><q dts><B flags><I size>`` + payload. Plain struct so the GStreamer RTSP
helper (system python, no numpy/av) can read it too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from rtcc_console.sim.font import draw_text

log = logging.getLogger(__name__)

GENERATOR_VERSION = 3  # bump when the picture or the encoding changes
_REC = struct.Struct("<qqBI")
KEYFRAME = 1


@dataclass(frozen=True, slots=True)
class EncodedPacket:
    data: bytes
    pts: int  # in 1/fps units (frame index)
    dts: int
    keyframe: bool


@dataclass(frozen=True)
class Loop:
    """One camera's pre-encoded loop; timestamps count frames (time base 1/fps)."""

    codec: str
    width: int
    height: int
    fps: int
    packets: tuple[EncodedPacket, ...]

    @property
    def time_base(self) -> Fraction:
        return Fraction(1, self.fps)

    @property
    def frames(self) -> int:
        return len(self.packets)

    @property
    def duration_s(self) -> float:
        return self.frames / self.fps


@dataclass(frozen=True)
class LoopSpec:
    """Everything that determines a loop's bytes (and so its cache key)."""

    name: str
    index: int
    fps: int = 15
    size: tuple[int, int] = (1280, 720)
    gop: int = 30
    seconds: float = 4.0
    bitrate: int = 2_000_000
    codec: str = "h264"  # "h264", "hevc" or "mjpeg"
    resize_to: tuple[int, int] | None = None  # second half at this size (fault injection)

    def key(self) -> str:
        raw = json.dumps([GENERATOR_VERSION, self.__dict__], sort_keys=True, default=str)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


def default_cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("rtcc-console")) / "sim-cameras"


def load_or_render(spec: LoopSpec, cache_dir: Path | None = None) -> tuple[Loop, Path]:
    """The loop for ``spec`` from the cache, rendering and caching it on a miss."""
    folder = cache_dir or default_cache_dir()
    path = folder / f"{spec.codec}-{spec.index:03d}-{spec.key()}.pk"
    if path.exists():
        try:
            return read_loop(path), path
        except (OSError, ValueError, struct.error) as exc:
            log.warning("sim cache %s unreadable (%s); re-rendering", path.name, exc)
    loop = render_loop(spec)
    write_loop(loop, path)
    return loop, path


# --- rendering -------------------------------------------------------------------------------


def _scene_frames(
    spec: LoopSpec, size: tuple[int, int], n: int, start: int
) -> Iterator[np.ndarray]:
    """RGB frames: a tinted gradient, two moving blocks, name and time code.

    Drawn at quarter resolution and upscaled by pixel repetition: cheap, and the encoder
    cost (not the drawing) dominates.
    """
    w, h = size
    sw, sh = max(16, w // 4), max(16, h // 4)
    rng = np.random.default_rng(spec.index + 1)
    tint = rng.integers(40, 200, size=3)
    yy, xx = np.mgrid[0:sh, 0:sw]
    base = np.empty((sh, sw, 3), dtype=np.uint8)
    for c in range(3):
        base[..., c] = ((xx * 255 // sw + yy * 128 // sh + tint[c]) % 256).astype(np.uint8)
    speed = rng.uniform(0.5, 2.0, size=2)
    colors = rng.integers(0, 256, size=(2, 3))
    scale = max(1, sh // 45)
    noise_rng = np.random.default_rng(spec.index + 1000)
    for i in range(start, start + n):
        # Sensor-like grain keeps the bit rate (and so the decode cost) realistic.
        img = (base + noise_rng.integers(0, 24, size=base.shape, dtype=np.uint8)).astype(np.uint8)
        for k in range(2):
            bw, bh = sw // 6, sh // 5
            t = i * speed[k] / spec.fps
            x = int((np.sin(t + k) * 0.5 + 0.5) * (sw - bw))
            y = int((np.cos(t * 1.3 + k * 2) * 0.5 + 0.5) * (sh - bh))
            img[y : y + bh, x : x + bw] = colors[k]
        draw_text(img, spec.name.upper()[:20], 2 * scale, 2 * scale, scale=scale)
        secs = i / spec.fps
        code = f"T+{int(secs // 60):02d}:{secs % 60:05.2f} #{i:04d}"
        draw_text(img, code, 2 * scale, sh - 10 * scale, scale=scale)
        if h % sh == 0 and w % sw == 0:
            yield img.repeat(h // sh, axis=0).repeat(w // sw, axis=1)
        else:
            yield np.ascontiguousarray(_resize_nearest(img, w, h))


def _resize_nearest(img: np.ndarray, w: int, h: int) -> np.ndarray:
    sh, sw = img.shape[:2]
    out: np.ndarray = img[(np.arange(h) * sh // h)[:, None], (np.arange(w) * sw // w)[None, :]]
    return out


def render_loop(spec: LoopSpec) -> Loop:
    """Encode ``spec.seconds`` of the scene (one encoder per size segment)."""
    total = max(spec.gop, int(round(spec.seconds * spec.fps)))
    total -= total % spec.gop or 0  # whole GOPs, so the loop restarts on a keyframe
    total = max(total, spec.gop)
    segments = [(spec.size, 0, total)]
    if spec.resize_to is not None:
        half = max(spec.gop, (total // 2) // spec.gop * spec.gop)
        segments = [(spec.size, 0, half), (spec.resize_to, half, total - half)]
    packets: list[EncodedPacket] = []
    for size, start, n in segments:
        packets.extend(_encode(spec, size, start, n))
    log.info("sim: rendered %s (%d frames, %s)", spec.name, len(packets), spec.codec)
    return Loop(spec.codec, spec.size[0], spec.size[1], spec.fps, tuple(packets))


def _encode(spec: LoopSpec, size: tuple[int, int], start: int, n: int) -> list[EncodedPacket]:
    import av

    w, h = size
    ctx: Any
    if spec.codec == "mjpeg":
        ctx = av.CodecContext.create("mjpeg", "w")
        ctx.pix_fmt = "yuvj420p"
        ctx.bit_rate = spec.bitrate * 4  # intra-only: ~4x the H.264 rate for a similar look
    else:
        enc = "libx264" if spec.codec == "h264" else "libx265"
        ctx = av.CodecContext.create(enc, "w")
        ctx.pix_fmt = "yuv420p"
        ctx.bit_rate = spec.bitrate
        ctx.gop_size = spec.gop
        ctx.max_b_frames = 0
        if enc == "libx264":
            ctx.options = {
                "preset": "ultrafast",
                "tune": "zerolatency",
                "x264-params": f"keyint={spec.gop}:min-keyint={spec.gop}:scenecut=0:bframes=0:repeat-headers=1",
            }
        else:
            ctx.options = {
                "preset": "ultrafast",
                "tune": "zerolatency",
                "x265-params": f"keyint={spec.gop}:min-keyint={spec.gop}:scenecut=0:bframes=0:repeat-headers=1:log-level=error",
            }
    ctx.width, ctx.height = w, h
    ctx.time_base = Fraction(1, spec.fps)
    ctx.framerate = Fraction(spec.fps, 1)
    out: list[EncodedPacket] = []

    def collect(pkts: list[Any]) -> None:
        for p in pkts:
            pts = int(p.pts) if p.pts is not None else start + len(out)
            dts = int(p.dts) if p.dts is not None else pts
            out.append(EncodedPacket(bytes(p), pts, dts, bool(p.is_keyframe)))

    for i, rgb in enumerate(_scene_frames(spec, size, n, start)):
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        frame = frame.reformat(format=ctx.pix_fmt)
        frame.pts = start + i
        collect(ctx.encode(frame))
    collect(ctx.encode(None))
    return out


# --- cache files ---------------------------------------------------------------------------


def write_loop(loop: Loop, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{id(loop)}.tmp")
    header = {"codec": loop.codec, "width": loop.width, "height": loop.height, "fps": loop.fps}
    with tmp.open("wb") as f:
        f.write(json.dumps(header).encode() + b"\n")
        for p in loop.packets:
            f.write(_REC.pack(p.pts, p.dts, KEYFRAME if p.keyframe else 0, len(p.data)))
            f.write(p.data)
    tmp.replace(path)


def read_loop(path: Path) -> Loop:
    raw = path.read_bytes()
    nl = raw.index(b"\n")
    header = json.loads(raw[:nl])
    packets: list[EncodedPacket] = []
    pos = nl + 1
    while pos < len(raw):
        pts, dts, flags, size = _REC.unpack_from(raw, pos)
        pos += _REC.size
        packets.append(EncodedPacket(raw[pos : pos + size], pts, dts, bool(flags & KEYFRAME)))
        pos += size
    if not packets or not packets[0].keyframe:
        raise ValueError("cached loop does not start with a keyframe")
    return Loop(header["codec"], header["width"], header["height"], header["fps"], tuple(packets))
