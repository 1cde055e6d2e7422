"""MJPEG for the officer's field page, for cameras that only give MJPEG: the camera's own
JPEG pictures passed through, never re-encoded.

One :class:`MjpegReader` per camera however many officers watch: a thread reads the
camera's ``multipart/x-mixed-replace`` stream (FFmpeg's ``mpjpeg`` demuxer through PyAV:
each packet is one JPEG, nothing is decoded) and keeps the newest picture. Each officer's
request is a streaming response that waits for the next picture and writes it as one part
of its own ``multipart/x-mixed-replace`` answer (:func:`stream_parts`), re-checking the
share and the camera's consent at least once a second and ending when either says no.
The reader stops by itself when nobody has waited for a picture for ``idle_s`` seconds.
The camera's URL (which may carry credentials) never leaves this process.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Literal

import av

from rtcc_console.media.sources import SourceKind, classify, open_spec
from rtcc_console.server.field_media import CameraHub, CameraWorker

BOUNDARY = "rtccfield"
CONTENT_TYPE = f"multipart/x-mixed-replace; boundary={BOUNDARY}"
Player = Literal["hls", "mjpeg"]


def player_for(url: str | None) -> Player:
    """How the officer's page plays a camera whose stream is ``url``: MJPEG cameras as
    pictures (``<img>``), everything else as HLS (``<video>``)."""
    return "mjpeg" if url is not None and classify(url) is SourceKind.MJPEG else "hls"


class MjpegReader(CameraWorker):
    """Reads one MJPEG camera; thread-safe :meth:`next_frame` for any number of officers."""

    label = "MJPEG"

    def __init__(self, camera_id: str, url: str, *, idle_s: float = 10.0) -> None:
        self._frame: bytes | None = None
        self._seq = 0
        super().__init__(camera_id, url, idle_s=idle_s)

    async def next_frame(self, after: int, *, wait_s: float) -> tuple[int, bytes] | None:
        """The newest picture if it is newer than ``after`` (waiting at most ``wait_s``,
        without holding a thread), else None. Pictures an officer was too slow for are
        skipped, never queued."""
        self.touch()

        def ready() -> bool:
            with self._cond:
                return self._seq > after or not self.alive or self._stop.is_set()

        await self._wakers.wait_until(ready, wait_s)
        with self._cond:
            if self._seq <= after or self._frame is None:
                return None
            return self._seq, self._frame

    def _pump(self) -> None:
        spec = open_spec(self._url, read_timeout_s=5.0)
        with av.open(spec.url, format=spec.format, options=spec.options, timeout=5.0) as src:
            for packet in src.demux(video=0):
                if self._done():
                    break
                data = bytes(packet)
                if not data:
                    continue
                with self._cond:
                    self._frame, self._seq = data, self._seq + 1
                    self._notify()


class MjpegHub(CameraHub[MjpegReader]):
    """One reader per camera, started on demand; idle ones stop by themselves."""

    def _start(self, camera_id: str, url: str) -> MjpegReader:
        return MjpegReader(camera_id, url, idle_s=self.idle_s)


async def stream_parts(
    reader: MjpegReader,
    still_allowed: Callable[[], Awaitable[bool]],
    *,
    check_every_s: float = 1.0,
) -> AsyncIterator[bytes]:
    """One officer's ``multipart/x-mixed-replace`` body: each new picture as a part, until
    ``still_allowed()`` (awaited at least every ``check_every_s``) says no or the camera
    stops. Waiting for a picture holds no thread."""
    seq = 0
    checked = time.monotonic()
    while True:
        now = time.monotonic()
        if now - checked >= check_every_s:
            if not await still_allowed():
                return
            checked = now
        got = await reader.next_frame(seq, wait_s=max(0.05, checked + check_every_s - now))
        if got is None:
            if not reader.alive:
                return
            continue
        seq, jpeg = got
        head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
        yield head.encode("ascii") + jpeg + b"\r\n"
