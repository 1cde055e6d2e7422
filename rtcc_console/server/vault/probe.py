"""Is it really a video? PyAV probing, thumbnails, browser copies and snapshot frames.

Refusals carry a message an owner understands (it is shown on the upload page). The MP4
family (ISO base media) is also checked structurally: every top-level box must end inside
the file and a ``moov`` box must exist, which catches a file cut off in transit even when
its first frames still decode.
"""

from __future__ import annotations

import io
import os
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error

_ISO_TOP = {
    b"ftyp",
    b"moov",
    b"mdat",
    b"free",
    b"skip",
    b"wide",
    b"uuid",
    b"meta",
    b"moof",
    b"mfra",
    b"styp",
    b"sidx",
    b"pdin",
    b"prft",
    b"emsg",
}
_IMAGE_FORMATS = {
    "image2",
    "png_pipe",
    "jpeg_pipe",
    "webp_pipe",
    "bmp_pipe",
    "gif_pipe",
    "tiff_pipe",
    "gif",
    "jpegls_pipe",
    "j2k_pipe",
    "pam_pipe",
    "ppm_pipe",
    "pgm_pipe",
    "svg_pipe",
    "qoi_pipe",
}
_IMAGE_CODECS = {"png", "mjpeg", "bmp", "gif", "webp", "tiff", "jpeg2000", "ppm", "pgm", "qoi"}
_BROWSER_CODECS = {"h264", "av1", "vp9", "hevc"}

NOT_VIDEO = (
    "This file is not a video we can read. Please send the original recording as it was exported from "
    "your camera or recorder (for example .mp4, .mkv, .avi, .mov or .ts)."
)
INCOMPLETE = (
    "This video file is incomplete: it looks cut off, perhaps the copy or download did not finish. "
    "Please export the recording again and send the whole file."
)
STILL_IMAGE = (
    "This is a still image, not a video. Please send the video recording itself; if you only have "
    "photos, contact the agency on the request page."
)
NO_VIDEO = (
    "This file has no video picture in it (it may be audio only). Please send the video recording."
)
DAMAGED = (
    "This video could not be decoded; the file may be damaged. Please export the recording again."
)


class MediaRefused(Exception):
    """The file is not acceptable evidence video; ``str(exc)`` is for the owner."""


@dataclass(frozen=True, slots=True)
class ProbeResult:
    kind: str  # "video" | "image"
    content_type: str
    format_name: str
    duration_s: float | None
    codec: str | None
    width: int | None
    height: int | None
    start_time: datetime | None

    def media(self) -> dict[str, Any]:
        return {
            "duration_s": self.duration_s,
            "codec": self.codec,
            "width": self.width,
            "height": self.height,
            "start_time": self.start_time.isoformat() if self.start_time else None,
            "format": self.format_name,
        }


def iso_bmff_check(path: Path) -> bool | None:
    """None: not an ISO BMFF file; True: structurally complete; False: truncated."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(8)
        if len(head) < 8 or head[4:8] not in _ISO_TOP:
            return None
        pos, seen_moov = 0, False
        while pos < size:
            f.seek(pos)
            hdr = f.read(16)
            if len(hdr) < 8:
                return False
            box_size, box_type = struct.unpack(">I4s", hdr[:8])
            if box_size == 1:
                if len(hdr) < 16:
                    return False
                box_size = struct.unpack(">Q", hdr[8:16])[0]
            elif box_size == 0:
                box_size = size - pos
            if box_size < 8 or pos + box_size > size:
                return False
            seen_moov = seen_moov or box_type in (b"moov", b"moof")
            pos += box_size
        return seen_moov


def _content_type(format_name: str) -> str:
    names = format_name.split(",")
    table = {
        "mov": "video/mp4",
        "mp4": "video/mp4",
        "matroska": "video/x-matroska",
        "webm": "video/webm",
        "avi": "video/x-msvideo",
        "mpegts": "video/mp2t",
        "flv": "video/x-flv",
        "asf": "video/x-ms-asf",
        "png_pipe": "image/png",
        "jpeg_pipe": "image/jpeg",
        "image2": "image/jpeg",
    }
    for name in names:
        if name in table:
            return table[name]
    return "application/octet-stream"


def _creation_time(container: Any) -> datetime | None:
    raw = (container.metadata or {}).get("creation_time")
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def probe(path: Path, *, allow_image: bool = False) -> ProbeResult:
    """Open and check a file; raises :class:`MediaRefused` with an owner-readable reason."""
    if path.stat().st_size == 0:
        raise MediaRefused(NOT_VIDEO)
    structure = iso_bmff_check(path)
    if structure is False:
        raise MediaRefused(INCOMPLETE)
    try:
        container = av.open(str(path), mode="r", options={"probesize": "5000000"})
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise MediaRefused(NOT_VIDEO) from exc
    try:
        fmt = container.format.name or ""
        videos = list(container.streams.video)
        if not videos:
            raise MediaRefused(NO_VIDEO)
        vs = videos[0]
        codec = vs.codec_context.name if vs.codec_context is not None else None
        is_image = bool(set(fmt.split(",")) & _IMAGE_FORMATS) or (
            codec in _IMAGE_CODECS and (vs.frames or 0) <= 1 and structure is None
        )
        if is_image and not allow_image:
            raise MediaRefused(STILL_IMAGE)
        first = _first_frame(container, vs)
        if first is None:
            raise MediaRefused(DAMAGED)
        duration: float | None = None
        if container.duration is not None and container.duration > 0:
            duration = container.duration / av.time_base
        elif vs.duration is not None and vs.time_base is not None:
            duration = float(vs.duration * vs.time_base)
        return ProbeResult(
            kind="image" if is_image else "video",
            content_type=_content_type(fmt),
            format_name=fmt,
            duration_s=round(duration, 3) if duration is not None else None,
            codec=codec,
            width=first.width,
            height=first.height,
            start_time=_creation_time(container),
        )
    except av.error.FFmpegError as exc:
        raise MediaRefused(DAMAGED) from exc
    finally:
        container.close()


def _first_frame(container: Any, stream: Any) -> Any:
    for packet in container.demux(stream):
        try:
            for frame in packet.decode():
                return frame
        except av.error.InvalidDataError:
            continue
    return None


def _encode_still(frame: Any, codec_name: str, pix_fmt: str, max_width: int | None) -> bytes:
    width, height = frame.width, frame.height
    if max_width is not None and width > max_width:
        height = max(2, int(round(height * max_width / width / 2)) * 2)
        width = max_width
    ctx: Any = av.CodecContext.create(codec_name, "w")
    ctx.width, ctx.height, ctx.pix_fmt = width, height, pix_fmt
    ctx.time_base = Fraction(1, 25)
    if codec_name == "mjpeg":
        ctx.options = {"qmin": "2", "qmax": "6"}
    img = frame.reformat(width=width, height=height, format=pix_fmt)
    img.pts = 0
    out = io.BytesIO()
    for packet in [*ctx.encode(img), *ctx.encode(None)]:
        out.write(bytes(packet))
    return out.getvalue()


def thumbnail_jpeg(path: Path, *, max_width: int = 320) -> bytes | None:
    """A JPEG of the first keyframe (None when nothing decodes)."""
    try:
        with av.open(str(path)) as container:
            vs = container.streams.video[0]
            vs.codec_context.skip_frame = "NONKEY"
            frame = _first_frame(container, vs)
            return (
                _encode_still(frame, "mjpeg", "yuvj420p", max_width) if frame is not None else None
            )
    except (av.error.FFmpegError, IndexError):
        return None


def frame_png(path: Path, at_s: float) -> tuple[bytes, float, int, int]:
    """The frame shown at ``at_s`` seconds from the start, as PNG; (png, frame_time_s, w, h)."""
    with av.open(str(path)) as container:
        vs = container.streams.video[0]
        start = (
            float(vs.start_time * vs.time_base)
            if vs.start_time is not None and vs.time_base
            else 0.0
        )
        target = start + max(0.0, at_s)
        if vs.time_base and at_s > 0:
            container.seek(int(target / vs.time_base), stream=vs, backward=True, any_frame=False)
        chosen = None
        for frame in container.decode(vs):
            if frame.time is None or frame.time <= target + 1e-6 or chosen is None:
                chosen = frame
            if frame.time is not None and frame.time >= target - 1e-6:
                break
        if chosen is None:
            raise MediaRefused(DAMAGED)
        png = _encode_still(chosen, "png", "rgb24", None)
        return png, float((chosen.time or start) - start), chosen.width, chosen.height


def remux_for_browser(src: Path, dest: Path) -> bool:
    """Remux (no re-encoding) into a fast-start MP4 browsers play; False when not possible."""
    tmp = dest.with_name(dest.name + ".tmp")
    try:
        with av.open(str(src)) as inp:
            vs = inp.streams.video[0]
            if vs.codec_context.name not in _BROWSER_CODECS:
                return False
            audio = [a for a in inp.streams.audio if a.codec_context.name == "aac"][:1]
            with av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as out:
                mapping: dict[int, Any] = {vs.index: out.add_stream_from_template(vs)}
                for a in audio:
                    mapping[a.index] = out.add_stream_from_template(a)
                for packet in inp.demux([vs, *audio]):
                    if packet.dts is None:
                        continue
                    packet.stream = mapping[packet.stream.index]
                    out.mux(packet)
        os.replace(tmp, dest)
        return True
    except (av.error.FFmpegError, IndexError, ValueError):
        tmp.unlink(missing_ok=True)
        return False
