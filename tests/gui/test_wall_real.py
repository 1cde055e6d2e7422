"""The wall with the REAL FeedWorker against the camera simulator over loopback HTTP TS.

Slower than the fake-worker tests (connect + first keyframe), so only the essentials: a
tile goes LIVE and really shows a picture, and a revocation stops the real worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rtcc_console.core.models import Tier
from rtcc_console.ui.wall import CameraRef, LocalGrantService, VideoWall

pytestmark = [pytest.mark.gui, pytest.mark.slow]


@pytest.fixture(scope="module")
def sim() -> Iterator[Any]:
    """The camera simulator: pre-encoded 720p15 H.264 loops served live over HTTP TS."""
    from rtcc_console.sim.cameras import SimCameraServer

    server = SimCameraServer(2, fps=15, size=(1280, 720))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def wall(qtbot: Any, tmp_path: Path, sim: Any) -> Iterator[VideoWall]:
    grants = LocalGrantService(lambda cid: sim.url(int(cid.rsplit("-", 1)[1]), kind="ts"))
    w = VideoWall(
        grants,
        user="analyst1",
        layout="2x2",
        snapshot_dir=tmp_path / "snaps",
        presets_file=tmp_path / "presets.json",
    )
    qtbot.addWidget(w)
    w.resize(1280, 760)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.shutdown()


def test_a_real_feed_goes_live_and_shows_a_real_picture(qtbot: Any, wall: VideoWall) -> None:
    assert wall.open_camera(
        CameraRef("cam-0", "Sim camera 1", Tier.INTEGRATED), "case 26-000001", 0
    )
    tile = wall.tiles[0]
    qtbot.waitUntil(lambda: tile.badge.kind == "LIVE" and tile.frames_shown >= 3, timeout=20000)
    frame = tile.frame
    assert abs(frame.width / frame.height - 16 / 9) < 0.03  # scaled by the worker, aspect kept
    assert frame.width <= tile.width() and frame.height <= tile.height()
    shot = tile.grab().toImage()
    colours = {
        shot.pixel(x, y)
        for x in range(0, shot.width(), 7)
        for y in range(30, shot.height() - 30, 7)
    }
    assert len(colours) > 50, f"the tile looks uniform ({len(colours)} colours)"
    stats = wall.feeds.feeds[tile].worker.stats()
    assert stats.width == 1280 and stats.height == 720 and stats.frames_decoded >= 3


def test_revoking_a_real_feed_stops_its_worker(qtbot: Any, wall: VideoWall) -> None:
    wall.open_camera(CameraRef("cam-1", "Sim camera 2", Tier.INTEGRATED), "case 26-000002", 1)
    tile = wall.tiles[1]
    qtbot.waitUntil(lambda: tile.frames_shown >= 1, timeout=20000)
    worker = wall.feeds.feeds[tile].worker
    grant_id = wall.feeds.feeds[tile].grant.id
    wall.on_grant_revoked(grant_id, "cam-1", "owner revoked access")
    assert tile.badge.kind == "REVOKED" and tile.current_image() is None
    qtbot.waitUntil(lambda: str(worker.stats().state.value) in ("revoked", "stopped"), timeout=5000)
    qtbot.waitUntil(lambda: grant_id not in wall.grants.active, timeout=5000)  # type: ignore[attr-defined]


def test_stream_credentials_never_reach_the_tile_or_the_log(
    qtbot: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A grant's URL may carry the camera's password; a failing feed must not show it."""
    import logging
    import socket

    with socket.socket() as s:  # a loopback port with nothing behind it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    secret_url = f"http://viewer:S3cretPW42@127.0.0.1:{port}/cam/0.ts"
    grants = LocalGrantService(lambda cid: secret_url)
    w = VideoWall(
        grants,
        user="analyst1",
        layout="2x2",
        snapshot_dir=tmp_path / "snaps",
        presets_file=tmp_path / "presets.json",
    )
    qtbot.addWidget(w)
    w.show()
    caplog.set_level(logging.DEBUG)
    try:
        assert w.open_camera(CameraRef("cam-9", "Porch", Tier.INTEGRATED), "case 26-000009", 0)
        tile = w.tiles[0]
        qtbot.waitUntil(lambda: tile.badge.kind in ("RECONNECTING", "FAILED"), timeout=20000)
        worker = w.feeds.feeds[tile].worker
        qtbot.waitUntil(lambda: worker.stats().error is not None, timeout=20000)
        shown = " ".join(
            [tile.badge.detail or "", worker.stats().error or "", w.message_label.text()]
        )
        assert "127.0.0.1" in worker.redacted_url and "S3cretPW42" not in worker.redacted_url
        assert "S3cretPW42" not in shown
        assert any(f"127.0.0.1:{port}" in r.getMessage() for r in caplog.records), (
            "no log line names the stream: the check below would be empty"
        )
        assert not [r for r in caplog.records if "S3cretPW42" in r.getMessage()]
    finally:
        w.shutdown()


def test_save_clip_writes_an_audited_mp4_without_re_encoding(qtbot: Any, wall: VideoWall) -> None:
    import hashlib

    import av

    wall.open_camera(CameraRef("cam-0", "Sim camera 1", Tier.INTEGRATED), "case 26-000003", 2)
    tile = wall.tiles[2]

    def live_for_a_while() -> bool:
        feed = wall.feeds.feeds.get(tile)
        return (
            feed is not None
            and feed.worker is not None
            and feed.worker.stats().frames_decoded >= 45
        )

    qtbot.waitUntil(live_for_a_while, timeout=30000)  # ~3 s buffered: more than one GOP
    with qtbot.waitSignal(wall.clip_saved, timeout=20000) as saved:
        assert wall.save_clip(2, seconds=2.0)
    path, digest = saved.args
    data = open(path, "rb").read()
    assert hashlib.sha256(data).hexdigest() == digest
    with av.open(path) as clip:
        stream = clip.streams.video[0]
        assert stream.codec_context.name == "h264" and (stream.width, stream.height) == (1280, 720)
        frames = sum(1 for _ in clip.decode(stream))
    assert 30 <= frames <= 62  # 2 s asked, from the keyframe before it (2 s GOP), 15 fps
    audited = [s for s in wall.grants.snapshots if s["sha256"] == digest]  # type: ignore[attr-defined]
    assert audited and "clip" in audited[0]["reason"] and audited[0]["camera_id"] == "cam-0"
