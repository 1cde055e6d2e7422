"""A per-feed ring buffer of the last N seconds of compressed packets, for clip saving.

Packets are kept as plain bytes plus timing, never as av objects, so the buffer outlives
the connection that produced them and can be read from another thread. Trimming always
keeps the buffer starting at a keyframe, so a saved clip decodes from its first packet.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """What a muxer needs to describe the stream of the buffered packets."""

    codec: str  # FFmpeg codec name: "h264", "hevc", "mjpeg"
    width: int
    height: int
    time_base: Fraction
    extradata: bytes | None = None


@dataclass(frozen=True, slots=True)
class BufferedPacket:
    data: bytes
    pts: int | None
    dts: int | None
    keyframe: bool
    duration: int
    info: StreamInfo
    session: int  # connection number; timestamps are only comparable within one session


class PacketRing:
    """Thread-safe buffer of packets covering at least the last ``seconds`` of stream time.

    The oldest *group of pictures* is dropped only when the next keyframe is itself older
    than the horizon, so the buffer always begins with a keyframe and covers >= seconds.
    Trimming runs when a keyframe arrives (once per GOP, not per packet: it is Python on
    the decode thread), so the buffer holds at most ``seconds`` plus two GOPs.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._packets: deque[BufferedPacket] = deque()

    def add(self, packet: BufferedPacket) -> None:
        with self._lock:
            if not self._packets and not packet.keyframe:
                return  # never start with a picture that cannot be decoded alone
            last = self._packets[-1] if self._packets else None
            if last is not None and (last.session != packet.session or last.info != packet.info):
                if packet.keyframe:
                    # A new connection or a new format: older packets cannot share a file.
                    self._packets.clear()
                else:
                    return
            self._packets.append(packet)
            if packet.keyframe:
                self._trim()  # cuts only ever fall on keyframes: no need to look before

    def _trim(self) -> None:
        packets = self._packets
        newest = _time_s(packets[-1])
        if newest is None or self.seconds <= 0:
            return
        horizon = newest - self.seconds
        # Find the last keyframe at or before the horizon; drop everything before it.
        cut = 0
        for i, pkt in enumerate(packets):
            t = _time_s(pkt)
            if t is None:
                continue
            if t > horizon:
                break
            if pkt.keyframe:
                cut = i
        for _ in range(cut):
            packets.popleft()

    def snapshot(self, seconds: float | None = None) -> list[BufferedPacket]:
        """The buffered packets covering the last ``seconds`` (or all), from a keyframe."""
        with self._lock:
            packets = list(self._packets)
        if not packets or seconds is None:
            return packets
        newest = _time_s(packets[-1])
        if newest is None:
            return packets
        horizon = newest - seconds
        start = 0
        for i, pkt in enumerate(packets):
            t = _time_s(pkt)
            if t is not None and t > horizon:
                break
            if pkt.keyframe:
                start = i
        return packets[start:]

    def duration_s(self) -> float:
        with self._lock:
            if len(self._packets) < 2:
                return 0.0
            first, last = _time_s(self._packets[0]), _time_s(self._packets[-1])
        if first is None or last is None:
            return 0.0
        return last - first

    def clear(self) -> None:
        with self._lock:
            self._packets.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._packets)


def _time_s(pkt: BufferedPacket) -> float | None:
    ts = pkt.dts if pkt.dts is not None else pkt.pts
    if ts is None:
        return None
    return float(ts * pkt.info.time_base)
