"""Random access to the frames of a recorded clip (evidence playback), Qt-free.

Opening a clip demuxes it once without decoding to learn every frame's presentation time
and where the keyframes are; from then on "frame *i*" means the *i*-th picture in display
order, so stepping forward and back lands exactly where the analyst expects. Reading the
next frame continues the running decoder; any other frame seeks to the keyframe at or
before it and decodes forward (at most one GOP). Pictures leave as BGRA at the requested
size through one reused ``VideoReformatter`` (the wall's cheapest path to the screen).

Not thread-safe: one reader belongs to one decode thread (``media.clip_player``).
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
from av.video.reformatter import Interpolation, VideoReformatter

log = logging.getLogger(__name__)


class ClipError(RuntimeError):
    """The file is not a playable video (no video stream, no frames, unreadable)."""


@dataclass(frozen=True, slots=True)
class ClipInfo:
    """What the player needs to know about a clip before showing a frame."""

    path: Path
    codec: str
    width: int
    height: int
    frame_count: int
    fps: float  # nominal rate (frames over the span), for stepping and the play clock
    duration_s: float  # first picture to the end of the last one
    frame_times_s: tuple[float, ...]  # each frame's time from the first picture, display order
    keyframes: tuple[int, ...]  # frame indexes of keyframes

    def index_at(self, time_s: float) -> int:
        """The frame shown at ``time_s`` seconds into the clip (clamped to the clip)."""
        i = bisect.bisect_right(self.frame_times_s, time_s + 1e-6) - 1
        return min(max(i, 0), self.frame_count - 1)


@dataclass(frozen=True, slots=True)
class ClipFrame:
    """One decoded picture, BGRA (QImage ``Format_RGB32`` layout)."""

    index: int
    time_s: float  # from the clip's first picture
    data: Any  # buffer-protocol object (the converted frame's plane; no copy)
    width: int
    height: int
    bytes_per_line: int
    keep: Any = None  # the av frame owning ``data``: alive as long as this ClipFrame


def probe(path: Path) -> tuple[ClipInfo, list[int]]:
    """Demux ``path`` once (no decoding): frame times, keyframes, and raw pts per frame."""
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise ClipError(f"{path.name} cannot be opened as video: {exc}") from exc
    try:
        if not container.streams.video:
            raise ClipError(f"{path.name} holds no video")
        stream = container.streams.video[0]
        entries: list[tuple[int, bool, int]] = []
        for n, packet in enumerate(container.demux(stream)):
            if packet.size == 0:
                continue  # the demuxer's flush packet
            pts = packet.pts if packet.pts is not None else packet.dts
            entries.append(
                (pts if pts is not None else n, bool(packet.is_keyframe), packet.duration or 0)
            )
        if not entries:
            raise ClipError(f"{path.name} has no video frames")
        entries.sort(key=lambda e: e[0])
        tb = stream.time_base or Fraction(1, 90000)
        first = entries[0][0]
        raw_pts = [e[0] for e in entries]
        times = tuple(float((p - first) * tb) for p in raw_pts)
        last_dur = entries[-1][2] or (raw_pts[-1] - raw_pts[-2] if len(raw_pts) > 1 else 0)
        duration = times[-1] + float(last_dur * tb)
        fps = len(entries) / duration if duration > 0 else float(stream.average_rate or 25)
        info = ClipInfo(
            path=path,
            codec=stream.codec_context.name,
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            frame_count=len(entries),
            fps=fps,
            duration_s=duration,
            frame_times_s=times,
            keyframes=tuple(i for i, e in enumerate(entries) if e[1]) or (0,),
        )
        return info, raw_pts
    except av.error.FFmpegError as exc:
        raise ClipError(f"{path.name} is not readable video: {exc}") from exc
    finally:
        container.close()


class ClipReader:
    """Decodes frames of one clip by display index; see the module docstring."""

    def __init__(
        self, path: Path, *, out_size: tuple[int, int] | None = None, cache_bytes: int = 96 << 20
    ) -> None:
        self.info, self._raw_pts = probe(path)
        self._index_of = {p: i for i, p in enumerate(self._raw_pts)}
        self._container: Any = av.open(str(path))
        self._stream = self._container.streams.video[0]
        self._decoder: Iterator[Any] | None = None
        self._next = 0  # the index the running decoder yields next (when _decoder is set)
        self._reformatter = VideoReformatter()
        self._src_key: tuple[int, int, str] | None = None
        self.out_size = out_size
        self.frames_decoded = 0
        self.cache_bytes = cache_bytes
        self._cache: dict[int, Any] = {}  # decoded pictures of the GOP being stepped back through
        self._frame_bytes = self.info.width * self.info.height * 3 // 2 + 1  # YUV 4:2:0

    def close(self) -> None:
        self._decoder = None
        self._cache.clear()
        self._container.close()

    def __enter__(self) -> ClipReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- decoding ----------------------------------------------------------------------
    def _keyframe_before(self, index: int) -> int:
        keys = self.info.keyframes
        return keys[max(bisect.bisect_right(keys, index) - 1, 0)]

    def _restart_at(self, index: int) -> None:
        self._cache.clear()
        key = self._keyframe_before(index)
        self._container.seek(
            self._raw_pts[key], stream=self._stream, backward=True, any_frame=False
        )
        self._decoder = self._container.decode(self._stream)
        self._next = -1  # unknown until the first frame after the seek says where we are

    def _decode_next(self) -> tuple[int, Any] | None:
        assert self._decoder is not None
        try:
            frame = next(self._decoder)
        except StopIteration:
            self._decoder = None
            return None
        self.frames_decoded += 1
        pts = frame.pts
        index = self._index_of.get(pts) if pts is not None else None
        if index is None:  # no or unknown pts: count from where we believed we were
            index = self._next if self._next >= 0 else 0
        self._next = index + 1
        return index, frame

    def decode(self, index: int) -> tuple[int, Any]:
        """(index, av frame) for ``index`` (clamped), decoding as little as possible.

        Stepping back restarts at the keyframe before; the pictures decoded on the way are
        kept (bounded by ``cache_bytes``), so the next steps back within that GOP cost a
        conversion only."""
        index = min(max(index, 0), self.info.frame_count - 1)
        cached = self._cache.get(index)
        if cached is not None:
            return index, cached
        keep = False
        far = self._keyframe_before(index) > self._next  # a keyframe in between: seek instead
        if self._decoder is None or index < self._next or far:
            keep = self._decoder is not None and index < self._next  # a step back
            self._restart_at(index)
        kept = 0
        while True:
            got = self._decode_next()
            if got is None:
                if self._next <= index:  # ran off the end without meeting it: start over once
                    self._restart_at(index)
                    got = self._decode_next()
                if got is None:
                    raise ClipError(f"frame {index} of {self.info.path.name} cannot be decoded")
            found, frame = got
            if keep and found < index and kept + self._frame_bytes <= self.cache_bytes:
                self._cache[found] = frame
                kept += self._frame_bytes
            if found >= index:
                return found, frame

    def skip_to(self, index: int) -> None:
        """Advance the decoder to just before ``index`` without converting pictures."""
        if (
            self._decoder is not None
            and self._next < index
            and self._keyframe_before(index) <= self._next
        ):
            while self._next < index and self._decode_next() is not None:
                pass

    def read(self, index: int) -> ClipFrame:
        """Frame ``index`` as BGRA at ``out_size`` (or the source size)."""
        found, frame = self.decode(index)
        return self.to_bgra(frame, found)

    def to_bgra(self, frame: Any, index: int) -> ClipFrame:
        key = (frame.width, frame.height, frame.format.name)
        if key != self._src_key:
            self._reformatter = VideoReformatter()
            self._src_key = key
        out_w, out_h = self.out_size or (frame.width, frame.height)
        out = self._reformatter.reformat(
            frame,
            width=max(2, out_w),
            height=max(2, out_h),
            format="bgra",
            interpolation=Interpolation.FAST_BILINEAR,
            threads=1,
        )
        plane = out.planes[0]
        return ClipFrame(
            index=index,
            time_s=self.info.frame_times_s[min(index, self.info.frame_count - 1)],
            data=plane,
            width=out.width,
            height=out.height,
            bytes_per_line=plane.line_size,
            keep=out,
        )

    def full_frame_rgb(self, index: int) -> tuple[bytes, int, int]:
        """Frame ``index`` at the source size as packed RGB24 (for a snapshot PNG)."""
        _found, frame = self.decode(index)
        rgb = frame.reformat(format="rgb24")
        arr = rgb.to_ndarray()
        return arr.tobytes(), rgb.width, rgb.height
