"""Write a simulated camera's loop as an MP4 file: what an owner would upload as evidence.

The loop comes from ``media_gen`` (rendered once, cached); each frame carries its own
index burned in (``#0042``) so a test or a screenshot can see which frame is shown.
The packets are remuxed, never re-encoded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import av

from rtcc_console.sim.media_gen import LoopSpec, load_or_render


def write_mp4(
    path: Path,
    *,
    name: str = "Evidence cam",
    index: int = 7,
    seconds: float = 4.0,
    fps: int = 15,
    size: tuple[int, int] = (640, 360),
    gop: int = 15,
    cache_dir: Path | None = None,
    start_time: datetime | None = None,
) -> Path:
    """An H.264 MP4 of ``seconds`` (whole GOPs) at ``fps``; frame i has pts i/fps.
    ``start_time`` is stamped as the file's ``creation_time``, as cameras do."""
    spec = LoopSpec(name=name, index=index, fps=fps, size=size, gop=gop, seconds=seconds)
    loop, _ = load_or_render(spec, cache_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tb = Fraction(1, fps)
    with av.open(str(path), "w", format="mp4") as out:
        if start_time is not None:
            stamp = start_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            out.metadata["creation_time"] = stamp
        stream = out.add_mux_stream(loop.codec, width=loop.width, height=loop.height)
        stream.time_base = tb
        for p in loop.packets:
            pkt = av.Packet(p.data)
            pkt.stream = stream
            pkt.time_base = tb
            pkt.pts, pkt.dts = p.pts, p.dts
            pkt.duration = 1
            pkt.is_keyframe = p.keyframe
            out.mux(pkt)
    return path
