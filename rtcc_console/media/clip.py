"""Remux buffered packets into an MP4 clip: stream copy, no re-encoding.

The clip starts at a keyframe (the ring guarantees it) and its timestamps are rebased to
zero. The MP4 muxer builds its avcC/hvcC header from the in-band parameter sets of the
first keyframe; when a camera sends them only out of band (RTSP SDP) we prepend the
stream's Annex B extradata to that keyframe.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import av
import av.error

from rtcc_console.media.ring import BufferedPacket

log = logging.getLogger(__name__)


class ClipError(RuntimeError):
    """Nothing usable to save (empty buffer, no keyframe yet)."""


def write_clip(packets: list[BufferedPacket], path: Path) -> Path:
    """Write ``packets`` (starting at a keyframe) to ``path`` as MP4 and return ``path``."""
    if not packets or not packets[0].keyframe:
        raise ClipError("no buffered video to save yet (waiting for a keyframe)")
    info = packets[0].info
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    first = packets[0]
    base = first.dts if first.dts is not None else (first.pts or 0)
    try:
        with av.open(str(tmp), "w", format="mp4") as out:
            stream = out.add_mux_stream(info.codec, width=info.width, height=info.height)
            stream.time_base = info.time_base
            last_dts: int | None = None
            for i, bp in enumerate(packets):
                data = bp.data
                if i == 0 and _needs_extradata(info.codec, data, info.extradata):
                    data = (info.extradata or b"") + data
                pkt = av.Packet(data)
                pkt.stream = stream
                pkt.time_base = info.time_base
                dts = (bp.dts if bp.dts is not None else bp.pts or 0) - base
                pts = (bp.pts if bp.pts is not None else dts + base) - base
                if last_dts is not None and dts <= last_dts:
                    dts = last_dts + 1  # a muxer refuses non-increasing dts
                pkt.dts = dts
                pkt.pts = max(pts, dts)
                pkt.duration = bp.duration
                pkt.is_keyframe = bp.keyframe
                last_dts = dts
                out.mux(pkt)
    except (av.error.FFmpegError, OSError, ValueError):
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)
    log.info(
        "saved clip %s (%d packets, %.1f s)",
        path.name,
        len(packets),
        float((last_dts or 0) * Fraction(info.time_base)),
    )
    return path


def _needs_extradata(codec: str, data: bytes, extradata: bytes | None) -> bool:
    """True for an Annex B keyframe that lacks the SPS the extradata would give it."""
    if codec not in {"h264", "hevc"} or not extradata or not extradata.startswith(b"\x00\x00"):
        return False
    sps_type = 7 if codec == "h264" else 33
    return not any(_nal_type(codec, nal) == sps_type for nal in _nal_units(data[:4096]))


def _nal_units(data: bytes) -> list[bytes]:
    return [chunk for chunk in data.split(b"\x00\x00\x01") if chunk]


def _nal_type(codec: str, nal: bytes) -> int:
    return nal[0] & 0x1F if codec == "h264" else (nal[0] >> 1) & 0x3F
