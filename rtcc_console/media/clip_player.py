"""Playback of a recorded clip on its own decode thread, Qt-free.

The GUI sends commands (play, pause, seek, step, speed) and takes the newest picture from
a one-slot mailbox on its timer, exactly like the wall. While playing, the thread keeps a
clock anchored at the last play/seek/speed change; frames whose time has already passed
(fast speeds, a slow machine) are decoded but not converted, so 8x costs decoding only.
Stepping pauses first and always lands on the neighbouring frame index.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rtcc_console.media.clip_reader import ClipError, ClipFrame, ClipInfo, ClipReader
from rtcc_console.media.mailbox import Mailbox

log = logging.getLogger(__name__)

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
MIN_SPEED, MAX_SPEED = SPEEDS[0], SPEEDS[-1]


@dataclass(frozen=True, slots=True)
class PlayerStatus:
    """What the controls show: position, state, speed (read from any thread)."""

    index: int
    time_s: float
    playing: bool
    speed: float
    ended: bool


class ClipPlayer:
    """One clip, one decode thread; ``take_frame`` is the GUI's side of the mailbox."""

    def __init__(
        self,
        path: Path,
        *,
        out_size: tuple[int, int] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reader = ClipReader(path, out_size=out_size)
        self.info: ClipInfo = self._reader.info
        self._clock = clock
        self._mailbox: Mailbox[ClipFrame] = Mailbox()
        self._cond = threading.Condition()
        self._playing = False
        self._speed = 1.0
        self._shown = -1  # index of the last frame put in the mailbox
        self._target: int | None = 0  # a frame to show once (seek/step/first frame)
        self._anchor = (0.0, 0)  # (clock, index) the play clock counts from
        self._ended = False
        self._resize: tuple[int, int] | None = None
        self._stop = False
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name="rtcc-clip", daemon=True)
        self._thread.start()

    # -- commands (any thread) ------------------------------------------------------------
    def play(self) -> None:
        with self._cond:
            if self._playing:
                return
            start = self._shown if self._shown >= 0 else 0
            if start >= self.info.frame_count - 1:
                start = 0  # play at the end starts over
                self._target = 0
            self._playing, self._ended = True, False
            self._anchor = (self._clock(), start)
            self._cond.notify_all()

    def pause(self) -> None:
        with self._cond:
            self._playing = False
            self._cond.notify_all()

    def toggle(self) -> None:
        if self.status().playing:
            self.pause()
        else:
            self.play()

    def set_speed(self, speed: float) -> float:
        speed = min(max(float(speed), MIN_SPEED), MAX_SPEED)
        with self._cond:
            self._anchor = (self._clock(), max(self._shown, 0))
            self._speed = speed
            self._cond.notify_all()
        return speed

    def seek_index(self, index: int) -> int:
        index = min(max(int(index), 0), self.info.frame_count - 1)
        with self._cond:
            self._target = index
            self._ended = False
            self._anchor = (self._clock(), index)
            self._cond.notify_all()
        return index

    def seek_time(self, time_s: float) -> int:
        return self.seek_index(self.info.index_at(time_s))

    def step(self, delta: int) -> int:
        """Pause and move ``delta`` frames (negative: back); returns the target index."""
        with self._cond:
            self._playing = False
            base = self._target if self._target is not None else max(self._shown, 0)
        return self.seek_index(base + delta)

    def set_output_size(self, width: int, height: int) -> None:
        with self._cond:
            self._resize = (max(2, width), max(2, height))
            if self._target is None and self._shown >= 0:
                self._target = self._shown  # redraw the paused picture at the new size
            self._cond.notify_all()

    def take_frame(self) -> ClipFrame | None:
        return self._mailbox.take()

    def status(self) -> PlayerStatus:
        with self._cond:
            index = self._target if self._target is not None else max(self._shown, 0)
            return PlayerStatus(
                index=index,
                time_s=self.info.frame_times_s[index],
                playing=self._playing,
                speed=self._speed,
                ended=self._ended,
            )

    def stop(self, timeout_s: float = 2.0) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout_s)

    # -- the decode thread ------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._loop()
        except (ClipError, OSError, ValueError) as exc:
            self.error = str(exc)
            log.warning("clip playback of %s stopped: %s", self.info.path.name, exc)
        finally:
            self._reader.close()

    def _loop(self) -> None:
        reader = self._reader
        while True:
            with self._cond:
                while not self._stop and self._target is None and not self._playing:
                    self._cond.wait()
                if self._stop:
                    return
                if self._resize is not None:
                    reader.out_size, self._resize = self._resize, None
                target, self._target = self._target, None
                speed, (t0, i0) = self._speed, self._anchor
            if target is not None:
                self._show(reader.read(target))
                continue
            # playing: which frame is due now, and when is the next one due?
            elapsed = (self._clock() - t0) * speed
            times = self.info.frame_times_s
            due = self.info.index_at(times[i0] + elapsed)
            if due > self._shown:
                reader.skip_to(due)  # frames already late: decoded, never converted
                self._show(reader.read(due))
            if due >= self.info.frame_count - 1:
                with self._cond:
                    if self._target is None and self._anchor == (t0, i0):
                        self._playing, self._ended = False, True
                continue
            wait = (times[due + 1] - times[i0] - elapsed) / speed
            with self._cond:
                if self._target is None and not self._stop and self._anchor == (t0, i0):
                    self._cond.wait(max(0.0, min(wait, 0.5)))

    def _show(self, frame: ClipFrame) -> None:
        with self._cond:
            self._shown = frame.index
        self._mailbox.put(frame)
