"""Fakes for the video wall tests: a FeedWorker double and an in-memory GrantService.

The fake worker implements the media contract's surface (start/stop/take_frame/
set_output_size/stats/revoke) with frames and states the test drives by hand; the fake
grant service records every call and can deny, refuse renewals or be unreachable.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from rtcc_console.core.models import Camera, CameraKind, GeoPoint, SharingMode, Tier, utcnow
from rtcc_console.ui.wall import VideoWall
from rtcc_console.ui.wall.grants import Grant, GrantDenied, GrantServiceUnavailable


@dataclass(frozen=True)
class FakeFrame:
    data: object
    width: int
    height: int
    bytes_per_line: int
    pts_s: float | None
    seq: int
    decoded_at: float


@dataclass(frozen=True)
class FakeStats:
    state: str = "connecting"
    fps: float = 0.0
    frames_decoded: int = 0
    frames_dropped: int = 0
    decode_ms: float = 0.0
    latency_ms: float | None = None
    last_frame_age_s: float | None = None
    next_retry_in_s: float | None = None
    error: str | None = None
    width: int | None = None
    height: int | None = None
    attempt: int = 0


class FakeWorker:
    """A FeedWorker double: the test sets its state and pushes frames."""

    def __init__(
        self,
        url: str,
        *,
        name: str,
        out_size: tuple[int, int] | None = None,
        options: Any = None,
        on_state: Any = None,
    ) -> None:
        self.url = url
        self.name = name
        self.out_size = out_size
        self.on_state = on_state
        self.started = threading.Event()
        self.stopped = threading.Event()
        self.revoked_reason: str | None = None
        self.size_requests: list[tuple[int, int]] = []
        self._frame: FakeFrame | None = None
        self._seq = itertools.count(1)
        self._stats = FakeStats()
        self._lock = threading.Lock()

    # contract
    def start(self) -> None:
        self.started.set()

    def stop(self, timeout: float = 2.0) -> None:
        self.stopped.set()

    def revoke(self, reason: str) -> None:
        self.revoked_reason = reason
        self.set_stats(state="revoked", error=reason)

    def take_frame(self) -> FakeFrame | None:
        with self._lock:
            frame, self._frame = self._frame, None
        return frame

    def set_output_size(self, width: int, height: int) -> None:
        self.out_size = (width, height)
        self.size_requests.append((width, height))

    def stats(self) -> FakeStats:
        return self._stats

    # test controls
    def set_stats(self, **changes: Any) -> None:
        self._stats = FakeStats(**{**self._stats.__dict__, **changes})

    def push_frame(
        self, colour: tuple[int, int, int] = (200, 40, 40), size: tuple[int, int] | None = None
    ) -> FakeFrame:
        w, h = size or self.out_size or (320, 180)
        pixels = np.zeros((h, w, 4), np.uint8)
        pixels[..., 0], pixels[..., 1], pixels[..., 2], pixels[..., 3] = (
            colour[2],
            colour[1],
            colour[0],
            255,
        )
        pixels[: h // 2, : w // 2, :3] = 255  # not uniform: a white quarter
        frame = FakeFrame(pixels, w, h, w * 4, None, next(self._seq), time.monotonic())
        with self._lock:
            self._frame = frame
        return frame

    def go_live(self) -> FakeFrame:
        self.set_stats(state="live", fps=15.0, width=1280, height=720)
        return self.push_frame()


@dataclass
class WorkerFactory:
    """Records every worker the wall creates; the wall calls it like FeedWorker."""

    workers: list[FakeWorker] = field(default_factory=list)
    on_create: Any = None

    def __call__(self, url: str, **kwargs: Any) -> FakeWorker:
        worker = FakeWorker(url, **kwargs)
        self.workers.append(worker)
        if self.on_create is not None:
            self.on_create(worker)
        return worker


class FakeGrants:
    """In-memory GrantService with switches for denials, refusals and outages."""

    def __init__(self, *, ttl_s: float = 60.0, substream: bool = False) -> None:
        self.ttl_s = ttl_s
        self.substream = substream
        self.deny: dict[str, str] = {}  # camera id -> reason
        self.refuse_renewal: str | None = None
        self.unreachable = False
        self.calls: list[tuple[str, Any]] = []
        self.released: list[str] = []
        self.snapshots: list[dict[str, Any]] = []
        self.presets: dict[str, dict[str, Any]] = {}
        self.grants: dict[str, Grant] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def _log(self, what: str, arg: Any) -> None:
        with self._lock:
            self.calls.append((what, arg))

    def acquire(self, camera_id: str, reason: str) -> Grant:
        self._log("acquire", (camera_id, reason))
        if camera_id in self.deny:
            raise GrantDenied(self.deny[camera_id])
        gid = f"g-{next(self._ids)}"
        sub = f"http://sim/{camera_id}/sub" if self.substream else None
        grant = Grant(
            gid,
            camera_id,
            f"http://sim/{camera_id}/main",
            sub,
            utcnow() + timedelta(seconds=self.ttl_s),
            self.ttl_s,
        )
        with self._lock:
            self.grants[gid] = grant
        return grant

    def renew(self, grant_id: str) -> Grant:
        self._log("renew", grant_id)
        if self.refuse_renewal:
            raise GrantDenied(self.refuse_renewal)
        old = self.grants[grant_id]
        return Grant(
            grant_id,
            old.camera_id,
            old.stream_url,
            old.substream_url,
            utcnow() + timedelta(seconds=self.ttl_s),
            self.ttl_s,
        )

    def release(self, grant_id: str) -> None:
        self._log("release", grant_id)
        with self._lock:
            self.released.append(grant_id)

    def record_snapshot(
        self, camera_id: str, grant_id: str, sha256: str, taken_at: Any, reason: str
    ) -> None:
        self._log("snapshot", camera_id)
        self.snapshots.append(
            {
                "camera_id": camera_id,
                "grant_id": grant_id,
                "sha256": sha256,
                "taken_at": taken_at,
                "reason": reason,
            }
        )

    def load_presets(self) -> dict[str, dict[str, Any]]:
        if self.unreachable:
            raise GrantServiceUnavailable("server unreachable: ConnectionError")
        return dict(self.presets)

    def save_preset(self, name: str, layout: dict[str, Any]) -> None:
        if self.unreachable:
            raise GrantServiceUnavailable("server unreachable: ConnectionError")
        self.presets[name] = layout

    def delete_preset(self, name: str) -> None:
        if self.unreachable:
            raise GrantServiceUnavailable("server unreachable: ConnectionError")
        self.presets.pop(name, None)

    def count(self, what: str) -> int:
        with self._lock:
            return sum(1 for w, _ in self.calls if w == what)


def camera(n: int, *, tier: Tier = Tier.INTEGRATED, revoked: bool = False) -> Camera:
    return Camera(
        id=f"cam-{n:03d}",
        name=f"Elm St {n}00 front",
        tier=tier,
        location=GeoPoint(32.78, -96.8),
        kind=CameraKind.BUSINESS,
        sharing_mode=SharingMode.LIVE_ALWAYS,
        revoked=revoked,
    )


class Env:
    def __init__(self, qtbot: Any, tmp_path: Path) -> None:
        self.qtbot = qtbot
        self.tmp_path = tmp_path
        self.grants = FakeGrants()
        self.factory = WorkerFactory()
        self.walls: list[VideoWall] = []

    def wall(
        self, layout: str = "2x2", size: tuple[int, int] = (1280, 800), **kwargs: Any
    ) -> VideoWall:
        wall = VideoWall(
            self.grants,
            user="analyst1",
            worker_factory=self.factory,
            layout=layout,
            snapshot_dir=self.tmp_path / "snapshots",
            presets_file=self.tmp_path / "presets.json",
            **kwargs,
        )
        self.qtbot.addWidget(wall)
        wall.resize(*size)
        wall.show()
        self.qtbot.waitExposed(wall)
        self.walls.append(wall)
        return wall

    def open_live(self, wall: VideoWall, n: int = 1, tile: int | None = None) -> Any:
        """Open camera n with a reason and wait until its worker runs; return the worker."""
        count = len(self.factory.workers)
        assert wall.open_camera(camera(n), "case 26-001234", tile)
        self.qtbot.waitUntil(lambda: len(self.factory.workers) > count, timeout=3000)
        return self.factory.workers[-1]


def wall_env(qtbot: Any, tmp_path: Path) -> Iterator[Env]:
    """Body of the ``env`` fixture of the wall test modules: walls are shut down after."""
    e = Env(qtbot, tmp_path)
    yield e
    for wall in e.walls:
        wall.shutdown()
