"""HLS for the officer's field page: a camera's H.264 packets repackaged, never re-encoded.

One :class:`Repackager` per camera however many officers watch: a thread demuxes the
camera's stream with PyAV and cuts it at keyframes into short MPEG-TS segments (at least
``segment_s`` long), kept in memory (the newest ``keep``). It starts on the first playlist
request and stops by itself when nobody has asked for anything for ``idle_s`` seconds.
The camera's URL (which may carry credentials) stays in this process: the page only ever
sees ``/field/s/{share}/cameras/{camera}/...`` paths, each checked against the share by
the route (routes/field_shares.py).

Each segment carries ``EXT-X-PROGRAM-DATE-TIME``: the capture time the camera stamped into
its first frame (``media.wallclock`` SEI, as the simulator does), else the time it arrived
here. Players can then say how old the picture is (``rtcc bench field`` does).

Low-latency HLS (RFC 8216bis, ``part_s`` set): the same packets are also cut every
``part_s`` seconds into parts (``EXT-X-PART``, ``INDEPENDENT=YES`` on those that start with
a keyframe); a segment is the concatenation of its parts. The playlist announces
``EXT-X-PART-INF`` and ``EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES`` and a request with
``_HLS_msn``/``_HLS_part`` is held until that part exists (blocking playlist reload).
"""

from __future__ import annotations

import io
import time
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import av

from rtcc_console.media.wallclock import WALLCLOCK_UUID
from rtcc_console.server.field_media import CameraHub, CameraWorker

_STAMP = WALLCLOCK_UUID + b"wallclock="
LISTED_WITH_PARTS = 3  # the newest segments whose parts the playlist lists (8216bis: >= 3 parts)


def packet_wallclock(data: bytes) -> float | None:
    """The capture time a camera stamped into an access unit (``media.wallclock`` SEI in
    the Annex B bytes), or None when it carries none."""
    at = data.find(_STAMP)
    if at < 0:
        return None
    digits = bytearray()
    for byte in data[at + len(_STAMP) : at + len(_STAMP) + 32]:
        if not (48 <= byte <= 57 or byte == 46):  # digits and the decimal point
            break
        digits.append(byte)
    try:
        return float(digits.decode("ascii"))
    except ValueError:
        return None


def _program_date_time(unix_time: float) -> str:
    stamp = datetime.fromtimestamp(unix_time, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class Part:
    seq: int  # the segment's media sequence number
    index: int  # the part's index within its segment
    duration_s: float
    data: bytes
    independent: bool  # starts with a keyframe


@dataclass(slots=True)
class Segment:
    seq: int
    start_t: float  # its first packet's presentation time (s)
    wallclock: float  # capture time of its first frame (the camera's stamp, else arrival)
    parts: list[Part] = field(default_factory=list)
    duration_s: float = 0.0
    data: bytes = b""
    complete: bool = False


class _PartWriter:
    """One MPEG-TS file in memory, fed the camera's packets as they are."""

    def __init__(self, template: Any, start_t: float, independent: bool) -> None:
        self.buf = io.BytesIO()
        self.out: Any = av.open(self.buf, "w", format="mpegts")
        self.stream: Any = self.out.add_stream_from_template(template)
        self.start_t = start_t
        self.independent = independent

    def mux(self, packet: Any) -> None:
        packet.stream = self.stream
        self.out.mux(packet)

    def close(self) -> bytes:
        self.out.close()
        return self.buf.getvalue()


class Repackager(CameraWorker):
    """Demux one camera, cut TS segments (and parts); thread-safe readers (playlist/media)."""

    label = "HLS"

    def __init__(
        self,
        camera_id: str,
        url: str,
        *,
        segment_s: float = 1.0,
        part_s: float | None = None,
        keep: int = 6,
        idle_s: float = 10.0,
    ) -> None:
        self.segment_s = segment_s
        self.part_s = part_s
        self.keep = keep
        self._segments: deque[Segment] = deque()  # complete ones, then the open one (if any)
        super().__init__(camera_id, url, idle_s=idle_s)

    # --- readers -------------------------------------------------------------------------

    def _ready(self, msn: int | None, part: int | None) -> bool:
        """Whether what a blocking reload asked for exists (the lock is held)."""
        complete = [s for s in self._segments if s.complete]
        if not complete:
            return False
        if msn is None:
            return True
        for seg in self._segments:
            if seg.seq == msn:
                if part is None:
                    return seg.complete
                if len(seg.parts) > part:
                    return True
                # past the last part of a finished segment: part 0 of the next one (8216bis)
                return seg.complete and self._has_part(msn + 1, 0)
        return self._has_part(msn, 0)

    async def playlist_async(
        self, *, msn: int | None = None, part: int | None = None, wait_s: float = 6.0
    ) -> str | None:
        """:meth:`playlist` for an async route: waits without holding a thread."""
        self.touch()

        def ready() -> bool:
            with self._cond:
                return self._ready(msn, part) or not self.alive

        await self._wakers.wait_until(ready, wait_s)
        return self.playlist(wait_s=0.0)

    def _has_part(self, seq: int, index: int) -> bool:
        """Whether segment ``seq`` has part ``index`` (or is older than the newest one)."""
        newest = self._segments[-1] if self._segments else None
        if newest is None or newest.seq < seq:
            return False
        if newest.seq > seq:
            return True
        return len(newest.parts) > index

    def playlist(
        self, *, wait_s: float = 6.0, msn: int | None = None, part: int | None = None
    ) -> str | None:
        """The live media playlist (URIs relative to it), or None when nothing came within
        ``wait_s``. ``msn``/``part`` (``_HLS_msn``/``_HLS_part``): hold the answer until that
        segment (part) exists, at most ``wait_s``."""
        self.touch()
        deadline = time.monotonic() + wait_s
        with self._cond:
            while not self._ready(msn, part) and self.alive:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)  # woken by each new part or segment, and at the end
            # a consistent copy: the demux thread appends parts and closes segments meanwhile
            segments = [replace(s, parts=list(s.parts)) for s in self._segments]
        complete = [s for s in segments if s.complete]
        if not complete:
            return None
        target = max(1, int(max(s.duration_s for s in complete) + 0.999))
        lines = ["#EXTM3U", f"#EXT-X-VERSION:{6 if self.part_s else 3}"]
        lines.append(f"#EXT-X-TARGETDURATION:{target}")
        if self.part_s:
            hold = 3 * self.part_s
            lines += [
                f"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK={hold:.3f}",
                f"#EXT-X-PART-INF:PART-TARGET={self.part_s:.3f}",
            ]
        lines.append(f"#EXT-X-MEDIA-SEQUENCE:{segments[0].seq}")
        with_parts = {s.seq for s in segments[-LISTED_WITH_PARTS:]} if self.part_s else set()
        for seg in segments:
            if not seg.complete and seg.seq not in with_parts:
                continue  # the segment being cut: listed once complete (or by its parts)
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{_program_date_time(seg.wallclock)}")
            if seg.seq in with_parts:
                for p in seg.parts:
                    extra = ",INDEPENDENT=YES" if p.independent else ""
                    lines.append(
                        f'#EXT-X-PART:DURATION={p.duration_s:.3f},URI="part-{p.seq}.{p.index}.ts"'
                        + extra
                    )
            if seg.complete:
                lines += [f"#EXTINF:{seg.duration_s:.3f},", f"seg-{seg.seq}.ts"]
        return "\n".join(lines) + "\n"

    def too_far(self, msn: int) -> bool:
        """A blocking reload for a segment more than two past the newest (8216bis: 400)."""
        with self._cond:
            newest = self._segments[-1].seq if self._segments else 0
        return msn > newest + 2

    def segment(self, seq: int) -> bytes | None:
        self.touch()
        with self._cond:
            found = next((s for s in self._segments if s.seq == seq and s.complete), None)
            return None if found is None else found.data

    def part(self, seq: int, index: int) -> bytes | None:
        self.touch()
        with self._cond:
            seg = next((s for s in self._segments if s.seq == seq), None)
            if seg is None or index >= len(seg.parts) or index < 0:
                return None
            return seg.parts[index].data

    # --- the demux thread ----------------------------------------------------------------

    def _pump(self) -> None:
        with av.open(
            self._url, options={"rw_timeout": "5000000", "timeout": "5000000"}, timeout=5.0
        ) as src:
            vstream = src.streams.video[0]
            seg: Segment | None = None
            writer: _PartWriter | None = None
            seq = 0
            last_t: float | None = None
            frame_s = 0.0  # one frame's duration, from the last two timestamps
            for packet in src.demux(vstream):
                if self._done():
                    break
                if packet.dts is None or packet.pts is None or packet.time_base is None:
                    continue
                t = float(packet.pts * packet.time_base)
                if last_t is not None and 0 < t - last_t < 1.0:
                    frame_s = t - last_t
                last_t = t
                key = bool(packet.is_keyframe)
                new_segment = key and (seg is None or t - seg.start_t >= self.segment_s)
                if new_segment:
                    if seg is not None and writer is not None:
                        self._close_part(seg, writer, t)
                        self._close_segment(seg)
                        seq += 1
                    stamp = packet_wallclock(bytes(packet))
                    seg = Segment(seq, t, stamp if stamp is not None else time.time())
                    self._open_segment(seg)
                    writer = _PartWriter(vstream, t, True)
                elif (
                    seg is not None
                    and writer is not None
                    and self.part_s
                    and t + frame_s - writer.start_t > self.part_s + 1e-6
                ):  # a part never outlasts PART-TARGET (8216bis): cut before this frame would
                    self._close_part(seg, writer, t)
                    writer = _PartWriter(vstream, t, key)
                if writer is None:
                    continue  # wait for the first keyframe
                writer.mux(packet)
            if writer is not None:
                writer.close()

    def _open_segment(self, seg: Segment) -> None:
        with self._cond:
            self._segments.append(seg)
            self._notify()

    def _close_part(self, seg: Segment, writer: _PartWriter, end_t: float) -> None:
        data = writer.close()
        part = Part(
            seg.seq, len(seg.parts), max(0.001, end_t - writer.start_t), data, writer.independent
        )
        with self._cond:
            seg.parts.append(part)
            self._notify()

    def _close_segment(self, seg: Segment) -> None:
        with self._cond:
            seg.duration_s = sum(p.duration_s for p in seg.parts)
            seg.data = b"".join(p.data for p in seg.parts)
            seg.complete = True
            while sum(1 for s in self._segments if s.complete) > self.keep:
                self._segments.popleft()
            for old in list(self._segments)[:-LISTED_WITH_PARTS]:
                old.parts = []  # no longer listed: players take the whole segment
            self._notify()


class HlsHub(CameraHub[Repackager]):
    """One repackager per camera, started on demand; idle ones stop by themselves."""

    def __init__(
        self, *, segment_s: float = 1.0, part_s: float | None = None, idle_s: float = 10.0
    ) -> None:
        super().__init__(idle_s=idle_s)
        self.segment_s = segment_s
        self.part_s = part_s
        self._watched: set[tuple[str, str]] = set()

    def mark_watched(self, share_id: str, camera_id: str) -> bool:
        """True the first time a share's officer asks for a camera (audited once, not per segment)."""
        with self._lock:
            if (share_id, camera_id) in self._watched:
                return False
            self._watched.add((share_id, camera_id))
            return True

    def _start(self, camera_id: str, url: str) -> Repackager:
        return Repackager(
            camera_id, url, segment_s=self.segment_s, part_s=self.part_s, idle_s=self.idle_s
        )
