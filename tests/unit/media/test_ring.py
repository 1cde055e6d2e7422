"""The packet ring: trimming keeps a keyframe first and at least the asked duration."""

from __future__ import annotations

from fractions import Fraction

from rtcc_console.media.ring import BufferedPacket, PacketRing, StreamInfo

INFO = StreamInfo(codec="h264", width=64, height=36, time_base=Fraction(1, 15))


def pkt(i: int, *, session: int = 1, info: StreamInfo = INFO, gop: int = 30) -> BufferedPacket:
    return BufferedPacket(
        data=b"x", pts=i, dts=i, keyframe=i % gop == 0, duration=1, info=info, session=session
    )


def test_never_starts_with_a_non_keyframe() -> None:
    ring = PacketRing(10.0)
    for i in range(5, 30):
        ring.add(pkt(i))
    assert len(ring) == 0
    ring.add(pkt(30))
    assert len(ring) == 1


def test_trimming_keeps_a_keyframe_start_and_the_horizon() -> None:
    ring = PacketRing(3.0)  # 45 frames at 15 fps; keyframes every 30
    for i in range(0, 200):
        ring.add(pkt(i))
        snap = ring.snapshot()
        assert snap[0].keyframe
        newest = snap[-1].dts
        assert newest - snap[0].dts >= min(newest, 45)  # covers at least 3 s once possible
    snap = ring.snapshot()
    # Trimmed when keyframe 180 arrived: the last keyframe at or before 180 - 45 = 135.
    assert snap[0].dts == 120
    assert abs(ring.duration_s() - (199 - 120) / 15) < 1e-9
    assert ring.duration_s() <= 3.0 + 2 * 30 / 15  # at most seconds + two GOPs


def test_snapshot_of_fewer_seconds_starts_at_a_keyframe() -> None:
    ring = PacketRing(30.0)
    for i in range(0, 200):
        ring.add(pkt(i))
    snap = ring.snapshot(2.5)  # horizon at 199 - 37.5 = 161.5 -> keyframe 150
    assert snap[0].dts == 150 and snap[0].keyframe
    assert ring.snapshot(100.0)[0].dts == 0


def test_new_connection_or_format_restarts_at_its_keyframe() -> None:
    ring = PacketRing(30.0)
    for i in range(0, 40):
        ring.add(pkt(i))
    ring.add(pkt(41, session=2))  # not a keyframe of the new connection: ignored
    assert ring.snapshot()[-1].session == 1
    ring.add(pkt(60, session=2))
    assert [p.dts for p in ring.snapshot()] == [60]
    big = StreamInfo(codec="h264", width=128, height=72, time_base=Fraction(1, 15))
    ring.add(pkt(90, session=2, info=big))
    assert [p.info.width for p in ring.snapshot()] == [128]
