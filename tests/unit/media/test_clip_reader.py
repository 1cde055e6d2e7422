"""ClipReader / ClipPlayer on a real MP4 (H.264, 15 fps, keyframe every 15 frames)."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import av
import pytest

from rtcc_console.media.clip_player import ClipPlayer
from rtcc_console.media.clip_reader import ClipError, ClipReader, probe
from rtcc_console.sim.clip_file import write_mp4


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("clip")
    return write_mp4(tmp / "c.mp4", seconds=4.0, fps=15, size=(320, 180), gop=15, cache_dir=tmp)


def _truth(path: Path) -> list[str]:
    """Every frame decoded in order, converted the same way: the ground truth by index."""
    out = []
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            out.append(hashlib.sha256(bytes(f.reformat(format="bgra").planes[0])).hexdigest())
    return out


def test_probe_counts_frames_and_keyframes(clip: Path) -> None:
    info, _ = probe(clip)
    assert info.frame_count == 60
    assert info.keyframes == (0, 15, 30, 45)
    assert info.width == 320 and info.height == 180
    assert info.fps == pytest.approx(15.0)
    assert info.duration_s == pytest.approx(4.0)
    assert info.index_at(1.0) == 15 and info.index_at(1.0 - 1 / 30) == 14
    assert info.index_at(-5) == 0 and info.index_at(99) == 59


def test_random_access_matches_sequential_decode(clip: Path) -> None:
    truth = _truth(clip)
    assert len(truth) == 60
    with ClipReader(clip) as reader:
        for i in [0, 1, 2, 29, 30, 31, 16, 15, 14, 59, 0, 44, 45, 46, 45, 44]:
            frame = reader.read(i)
            assert frame.index == i
            assert hashlib.sha256(frame.data).hexdigest() == truth[i], f"frame {i}"
            assert frame.time_s == pytest.approx(i / 15)


def test_sequential_reads_do_not_seek(clip: Path) -> None:
    with ClipReader(clip) as reader:
        for i in range(20):
            reader.read(i)
        assert reader.frames_decoded == 20  # no GOP decoded twice
        reader.read(18)  # back: one GOP again (15..18)
        assert reader.frames_decoded == 24
        for i in (17, 16, 15):  # further back within that GOP: kept from the pass above
            assert reader.read(i).index == i
        assert reader.frames_decoded == 24
        reader.read(14)  # into the previous GOP: decoded from its keyframe (0..14)
        assert reader.frames_decoded == 39


def test_scaled_output(clip: Path) -> None:
    with ClipReader(clip, out_size=(160, 90)) as reader:
        frame = reader.read(3)
    assert (frame.width, frame.height) == (160, 90)
    assert (
        frame.bytes_per_line >= 160 * 4
        and memoryview(frame.data).nbytes >= frame.bytes_per_line * 90
    )


def test_not_a_video_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is a text file, not a video\n" * 50)
    with pytest.raises(ClipError):
        ClipReader(bad)


def _wait(pred, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.005)


def test_player_steps_and_plays_to_the_end(clip: Path) -> None:
    player = ClipPlayer(clip, out_size=(160, 90))
    try:
        seen: list[int] = []
        lock = threading.Lock()

        def drain() -> int | None:
            f = player.take_frame()
            if f is not None:
                with lock:
                    seen.append(f.index)
            return f.index if f is not None else None

        _wait(lambda: drain() == 0)
        assert player.step(1) == 1
        _wait(lambda: drain() == 1)
        player.step(-1)
        _wait(lambda: drain() == 0)
        player.seek_index(40)
        _wait(lambda: drain() == 40)
        player.set_speed(8.0)
        player.play()
        _wait(lambda: (drain(), player.status().ended)[1])
        drain()
        assert seen[-1] == 59
        assert not player.status().playing
        assert player.set_speed(100) == 8.0 and player.set_speed(0.01) == 0.25
    finally:
        player.stop()


def test_a_frame_handed_out_is_never_overwritten(clip: Path) -> None:
    """Frames leave without a copy: the player may still paint one while the decoder
    converts the next, so a frame's pixels must belong to it alone."""
    with ClipReader(clip, out_size=(160, 90)) as reader:
        held = reader.read(3)
        before = hashlib.sha256(held.data).hexdigest()
        for i in (4, 5, 20, 2):
            reader.read(i)
        assert hashlib.sha256(held.data).hexdigest() == before
