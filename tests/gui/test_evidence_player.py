"""The evidence player on a real MP4 (15 fps, 60 frames, keyframe every 15): open, play,
pause, step forward and back onto the expected frame, speed, scrubber seek, and the
recording's own time corrected by the owner's stated clock offset."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import av
import pytest
from av.video.reformatter import Interpolation, VideoReformatter

from rtcc_console.client.evidence_models import Evidence, MediaInfo
from rtcc_console.sim.clip_file import write_mp4

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("player")
    return write_mp4(tmp / "front.mp4", seconds=4.0, fps=15, size=(320, 180), gop=15, cache_dir=tmp)


def _item(clip: Path, offset: float = 90.0) -> Evidence:
    return Evidence(
        id="ev-1",
        sha256=hashlib.sha256(clip.read_bytes()).hexdigest(),
        size=clip.stat().st_size,
        filename=clip.name,
        integrity="ok",
        camera_id="cam-000042",
        owner_kind="business",
        media=MediaInfo(
            duration_s=4.0,
            codec="h264",
            width=320,
            height=180,
            start_time=datetime(2026, 11, 29, 3, 0, 0, tzinfo=UTC),
        ),
        clock_offset_s=offset,
    )


def _truth(path: Path, index: int, size: tuple[int, int]) -> bytes:
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i == index:
                out = VideoReformatter().reformat(
                    f,
                    width=size[0],
                    height=size[1],
                    format="bgra",
                    interpolation=Interpolation.FAST_BILINEAR,
                    threads=1,
                )
                return bytes(out.planes[0])
    raise AssertionError("frame not found")


@pytest.fixture
def player(qtbot: Any, clip: Path) -> Iterator[Any]:
    from rtcc_console.ui.evidence.player import EvidencePlayer

    p = EvidencePlayer(zone=ZoneInfo("UTC"))
    qtbot.addWidget(p)
    p.resize(480, 360)
    p.show()
    with qtbot.waitSignal(p.opened, timeout=10_000):
        p.open_file(clip, _item(clip))
    qtbot.waitUntil(lambda: p.shown_index == 0, timeout=5000)
    yield p
    p.shutdown()


def _at(qtbot: Any, p: Any, index: int) -> None:
    qtbot.waitUntil(
        lambda: p.shown_index == index and p.view.frame is not None and p.view.frame.index == index,
        timeout=5000,
    )


def test_step_forward_and_back_land_on_the_expected_frame(
    qtbot: Any, player: Any, clip: Path
) -> None:
    for _ in range(16):  # across the keyframe at 15
        player.step(1)
    _at(qtbot, player, 16)
    player.step(-1)
    player.step(-1)
    _at(qtbot, player, 14)  # back over the keyframe: decoded from the previous GOP
    frame = player.view.frame
    assert bytes(frame.data) == _truth(clip, 14, (frame.width, frame.height))
    assert player.position_label.text().startswith("frame 15/60")


def test_scrubber_seek_and_recorded_time_with_offset(qtbot: Any, player: Any) -> None:
    player.scrubber.setValue(30)  # as a click on the scrubber would
    _at(qtbot, player, 30)
    # camera stamped 03:00:00 with its clock 90 s fast; frame 30 is 2.0 s in
    assert "Recorded 2026-11-29 02:58:32.000 UTC" in player.time_label.text()
    assert "camera clock +90 s off, corrected" in player.time_label.text()
    assert "03:00:02.000" in player.time_label.text()  # what the camera's clock showed


def test_play_pause_and_speed(qtbot: Any, player: Any) -> None:
    player.set_speed(0.25)
    assert player.player.status().speed == 0.25
    player.play()
    qtbot.waitUntil(lambda: player.shown_index >= 1, timeout=5000)
    player.pause()
    qtbot.waitUntil(lambda: not player.player.status().playing, timeout=2000)
    paused_at = player.shown_index
    assert paused_at < 20  # a quarter speed cannot have run far
    with qtbot.waitSignal(player.frame_shown, timeout=3000) as blocker:
        player.step(1)
    assert blocker.args == [paused_at + 1]
    player.set_speed(8.0)
    assert player.player.status().speed == 8.0
    player.play()
    qtbot.waitUntil(lambda: player.shown_index == 59, timeout=5000)  # 4 s clip at 8x: ~0.5 s
    qtbot.waitUntil(lambda: player.play_button.text().endswith("Play"), timeout=2000)


def test_box_overlay_is_drawn(qtbot: Any, player: Any) -> None:
    player.jump_to(1.0, (0.25, 0.25, 0.5, 0.5), "truck")
    _at(qtbot, player, 15)
    image = player.view.grab().toImage()
    rect = player.view.picture_rect()
    dpr = image.devicePixelRatio()  # the grab is in device pixels
    x = round((rect.x() + 0.25 * rect.width()) * dpr)
    y = round((rect.y() + 0.5 * rect.height()) * dpr)
    color = image.pixelColor(x, y)
    assert (color.red(), color.green(), color.blue()) == (255, 204, 0)  # the yellow box edge


def test_not_a_video_is_shown_as_such(qtbot: Any, tmp_path: Path, clip: Path) -> None:
    from rtcc_console.ui.evidence.player import EvidencePlayer

    bad = tmp_path / "renamed.mp4"
    bad.write_text("not a video at all\n" * 100)
    p = EvidencePlayer()
    qtbot.addWidget(p)
    with qtbot.waitSignal(p.open_failed, timeout=5000) as blocker:
        p.open_file(bad, _item(clip))
    assert "Cannot play" in blocker.args[0]
