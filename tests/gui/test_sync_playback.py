"""Synchronised playback: two recordings with different camera start stamps and clock
offsets line up at the same true moment, paused and while playing."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rtcc_console.client.evidence_models import Evidence, MediaInfo
from rtcc_console.sim.clip_file import write_mp4
from rtcc_console.ui.sync_playback import SyncPlayback


@pytest.fixture(autouse=True)
def _collect_on_the_gui_thread() -> Iterator[None]:
    """Closed windows and charts sit in reference cycles; collected by whichever thread
    next allocates (a server thread), their Qt objects would be destroyed off the GUI
    thread. Collect here, before and after each test, on the GUI thread."""
    gc.collect()
    yield
    gc.collect()


FPS = 15
T0 = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)


def _item(eid: str, camera: str, path: Path, stamp: datetime, offset_s: float) -> Evidence:
    return Evidence(
        id=eid,
        sha256="0" * 64,
        size=path.stat().st_size,
        filename=path.name,
        integrity="ok",
        media=MediaInfo(duration_s=4.0, start_time=stamp),
        clock_offset_s=offset_s,
        camera_id=camera,
    )


@pytest.fixture
def two_clips(tmp_path: Path) -> list[tuple[Path, Evidence]]:
    # A: the camera stamped 12:00:03 but its clock runs 2 s fast -> truly 12:00:01.
    # B: stamped 11:59:59, clock 1 s slow -> truly 12:00:00.
    a_stamp, b_stamp = T0 + timedelta(seconds=3), T0 - timedelta(seconds=1)
    a = write_mp4(
        tmp_path / "a.mp4",
        name="Cam A",
        index=3,
        fps=FPS,
        start_time=a_stamp,
        cache_dir=tmp_path / "gen",
    )
    b = write_mp4(
        tmp_path / "b.mp4",
        name="Cam B",
        index=5,
        fps=FPS,
        start_time=b_stamp,
        cache_dir=tmp_path / "gen",
    )
    return [
        (a, _item("ev-a", "cam-a", a, a_stamp, 2.0)),
        (b, _item("ev-b", "cam-b", b, b_stamp, -1.0)),
    ]


def test_clips_line_up_at_the_same_true_moment(
    qtbot: Any, two_clips: list[tuple[Path, Evidence]]
) -> None:
    sync = SyncPlayback(zone=UTC)
    qtbot.addWidget(sync, before_close_func=lambda w: w.shutdown())
    sync.resize(800, 300)
    sync.show()
    with qtbot.waitSignal(sync.opened, timeout=20_000) as opened:
        sync.open_clips(two_clips)
    assert opened.args == [2]
    assert sync.start == T0 and sync.end == T0 + timedelta(seconds=5)  # B's start .. A's end
    a, b = sync.tiles
    sync.seek(T0 + timedelta(seconds=2.5))  # A is 1.5 s in (frame 22), B 2.5 s in (frame 37)
    qtbot.waitUntil(lambda: (a.shown_index, b.shown_index) == (22, 37), timeout=10_000)
    shown_a, shown_b = a.true_time_shown(), b.true_time_shown()
    assert shown_a is not None and shown_a == shown_b  # the same true instant on both
    assert abs((shown_a - (T0 + timedelta(seconds=2.5))).total_seconds()) < 1 / FPS
    # before A starts: B shows its picture, A says it was not recording
    sync.seek(T0 + timedelta(seconds=0.5))
    qtbot.waitUntil(lambda: b.shown_index == 7, timeout=10_000)
    assert a.shown_index == -1 and a.view.message.startswith(
        "not recording at 2026-11-29 12:00:00.500"
    )
    # the scrubber is one axis for both
    sync.scrubber.setValue(3000)
    qtbot.waitUntil(lambda: (a.shown_index, b.shown_index) == (30, 45), timeout=10_000)


def test_playing_keeps_them_aligned(qtbot: Any, two_clips: list[tuple[Path, Evidence]]) -> None:
    now = [0.0]
    sync = SyncPlayback(zone=UTC, clock=lambda: now[0])
    qtbot.addWidget(sync, before_close_func=lambda w: w.shutdown())
    with qtbot.waitSignal(sync.opened, timeout=20_000):
        sync.open_clips(two_clips)
    a, b = sync.tiles
    sync.seek(T0 + timedelta(seconds=1.2))
    sync.play()
    for step in range(1, 11):  # the master clock advances 0.2 s per step
        now[0] = step * 0.2
        want = T0 + timedelta(seconds=1.2 + step * 0.2)
        qtbot.waitUntil(lambda w=want: sync.position == w, timeout=5_000)  # type: ignore[misc]
        qtbot.waitUntil(lambda w=want: _aligned(a, b, w), timeout=5_000)  # type: ignore[misc]
    sync.pause()
    assert not sync.playing


def _aligned(a: Any, b: Any, want: datetime) -> bool:
    """Both tiles show the picture of the true moment ``want`` (within one frame)."""
    ta, tb = a.true_time_shown(), b.true_time_shown()
    return (
        ta is not None
        and tb is not None
        and all(abs((t - want).total_seconds()) < 1 / FPS for t in (ta, tb))
    )
