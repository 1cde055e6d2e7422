"""The MJPEG pass-through of the officer's page (server/field_mjpeg.py) against the camera
simulator's real multipart stream: the camera's own JPEG bytes reach every officer from one
reader; an officer's stream re-checks consent at least once a second and ends on a refusal,
even while the camera sends nothing (a stalled camera must not keep a revoked stream open)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from rtcc_console.server.field_mjpeg import BOUNDARY, MjpegReader, player_for, stream_parts


@pytest.fixture(scope="module")
def sim() -> Iterator[Any]:
    from rtcc_console.sim.cameras import SimCameraServer

    server = SimCameraServer(1, fps=10, size=(320, 180), mjpeg_count=1)
    server.start()
    yield server
    server.stop()


def test_player_follows_the_kind_of_stream() -> None:
    assert player_for("http://cam.example/axis-cgi/mjpg/video.cgi") == "mjpeg"
    assert player_for("http://u:p@10.0.0.5/cam/1.mjpeg") == "mjpeg"
    assert player_for("rtsp://10.0.0.5/live") == "hls"
    assert player_for("http://10.0.0.5/cam/1.ts") == "hls"
    assert player_for(None) == "hls"


def test_two_officers_get_the_cameras_own_jpegs_from_one_reader(sim: Any) -> None:
    reader = MjpegReader("cam-m", sim.url(0, "mjpeg"), idle_s=5)
    try:

        async def yes() -> bool:
            return True

        async def officer() -> list[bytes]:
            got: list[bytes] = []
            async for part in stream_parts(reader, yes):
                got.append(part)
                if len(got) == 3:
                    break
            return got

        async def both() -> list[list[bytes]]:
            return list(await asyncio.gather(officer(), officer()))

        parts_a, parts_b = asyncio.run(both())
        for part in parts_a + parts_b:
            head, _, body = part.partition(b"\r\n\r\n")
            assert head.startswith(f"--{BOUNDARY}\r\nContent-Type: image/jpeg".encode())
            length = int(head.rsplit(b"Content-Length: ", 1)[1])
            jpeg = body[:-2]
            assert len(jpeg) == length and jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
        # the simulator's loop has a time code burned in: consecutive pictures differ
        assert len({p for p in parts_a}) == 3
    finally:
        reader.stop()


def test_refusal_ends_the_stream_within_a_second_even_when_the_camera_stalls(sim: Any) -> None:
    reader = MjpegReader("cam-s", sim.url(0, "mjpeg") + "?stall_after=1", idle_s=10)
    allowed = threading.Event()
    allowed.set()
    checks: list[float] = []

    async def still_allowed() -> bool:
        checks.append(time.monotonic())
        return allowed.is_set()

    ended: list[float] = []
    got: list[bytes] = []

    async def stream() -> None:
        async for part in stream_parts(reader, still_allowed, check_every_s=1.0):
            got.append(part)
        ended.append(time.monotonic())

    def officer() -> None:
        asyncio.run(stream())

    t = threading.Thread(target=officer, daemon=True)
    try:
        t.start()
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
        assert got, "no picture before the stall"
        time.sleep(2.0)  # the camera is silent now; the stream must keep checking
        frames_during_stall = len(got)
        assert len(checks) >= 2
        allowed.clear()
        refused_at = time.monotonic()
        t.join(3)
        assert ended and ended[0] - refused_at <= 1.2
        assert len(got) == frames_during_stall
        gaps = [b - a for a, b in zip(checks, checks[1:], strict=False)]
        assert max(gaps) <= 1.2  # consent re-checked at least once a second throughout
    finally:
        reader.stop()
