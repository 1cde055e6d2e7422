"""Synchronised playback: several recordings of an incident in a grid, on one time axis,
with one scrubber.

Each clip is placed by its true start (the camera's stamp corrected by the owner's stated
clock offset, ``core.sync_axis``). One master clock on the GUI thread moves the axis
position; every tile asks its own decode thread (``media.clip_player.ClipPlayer``) for the
frame due at that position, so the pictures stay aligned however fast each decoder is. A
camera that was not recording at the position says so instead of showing a stale frame.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from rtcc_console.client.evidence_models import Evidence
from rtcc_console.core.sync_axis import AxisClip, span, true_start
from rtcc_console.media.clip_player import ClipPlayer
from rtcc_console.ui.evidence.player import FrameView, format_offset
from rtcc_console.ui.tasks import run_in_background

TICK_MS = 30


class SyncTile(QWidget):
    """One recording: its label (camera, corrected start) and its picture."""

    def __init__(
        self, item: Evidence, clip: AxisClip, player: ClipPlayer, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.item, self.clip, self.player = item, clip, player
        self.requested = -1  # frame index last asked of the decoder
        self.shown_index = -1  # frame index on screen (-1: none)
        self.label = QLabel(self._label_text())
        self.label.setStyleSheet("color: #d8dbe0; background: #1b1d22; padding: 2px 4px")
        self.view = FrameView(self)
        self.view.setMinimumSize(200, 112)
        self.view.resized.connect(self._resized)
        box = QVBoxLayout(self)
        box.setContentsMargins(1, 1, 1, 1)
        box.setSpacing(0)
        box.addWidget(self.label)
        box.addWidget(self.view, 1)

    def _label_text(self) -> str:
        text = f"{self.item.camera_id or self.item.filename}"
        if self.item.clock_offset_s:
            text += f" · clock {format_offset(self.item.clock_offset_s)}, corrected"
        return text

    def _resized(self, w: int, h: int) -> None:
        info = self.player.info
        scale = min(max(w, 16) / info.width, max(h, 16) / info.height)
        self.player.set_output_size(
            max(2, int(info.width * scale) // 2 * 2), max(2, int(info.height * scale) // 2 * 2)
        )

    def show_moment(self, moment: datetime, when_text: str) -> None:
        """Ask the decoder for the frame due at ``moment`` (or show that none is)."""
        offset = self.clip.offset_at(moment)
        if offset is None:
            if self.requested != -1 or self.shown_index != -1:
                self.requested = self.shown_index = -1
                self.view.set_frame(None)
            self.view.message = f"not recording at {when_text}"
            self.view.update()
            return
        index = self.player.info.index_at(offset)
        if index != self.requested:
            self.requested = index
            self.player.seek_index(index)

    def poll(self) -> bool:
        frame = self.player.take_frame()
        if frame is None or self.requested == -1:
            return False
        self.shown_index = frame.index
        self.view.set_frame(frame)
        if frame.index != self.requested and self.player.status().index != self.requested:
            # a resize re-showed the previous picture after our seek was taken: ask again
            self.player.seek_index(self.requested)
        return True

    def true_time_shown(self) -> datetime | None:
        """The true time of the picture on screen (tests and the time label)."""
        if self.shown_index < 0:
            return None
        return self.clip.true_start + timedelta(
            seconds=self.player.info.frame_times_s[self.shown_index]
        )


class SyncPlayback(QWidget):
    """The grid, the play button, one scrubber over the whole span, the axis time."""

    opened = Signal(int)  # tiles placed
    position_changed = Signal(object)  # datetime on the axis
    frames_shown = Signal()

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        zone: tzinfo | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("SyncPlayback")
        self.zone = zone
        self.clock = clock
        self.tiles: list[SyncTile] = []
        self.skipped: list[str] = []  # recordings without a start time: not placed
        self.start: datetime | None = None
        self.end: datetime | None = None
        self.position: datetime | None = None
        self.playing = False
        self.speed = 1.0
        self._anchor: tuple[float, datetime] | None = None
        self._generation = 0
        self.grid_holder = QWidget(self)
        self.grid = QGridLayout(self.grid_holder)
        self.grid.setSpacing(3)
        self.play_button = QPushButton("▶ Play")
        self.play_button.clicked.connect(self.toggle)
        self.scrubber = QSlider(Qt.Orientation.Horizontal)
        self.scrubber.setObjectName("SyncScrubber")
        self.scrubber.valueChanged.connect(self._scrubbed)
        self.time_label = QLabel("No recordings")
        controls = QHBoxLayout()
        controls.addWidget(self.play_button)
        controls.addWidget(self.scrubber, 1)
        controls.addWidget(self.time_label)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.grid_holder, 1)
        box.addLayout(controls)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)

    # -- opening ----------------------------------------------------------------------
    def open_clips(self, clips: Sequence[tuple[Path, Evidence]]) -> None:
        """Place local, verified copies of evidence videos; probing runs off the GUI thread."""
        self.close_clips()
        gen = self._generation
        placed: list[tuple[Path, Evidence, AxisClip]] = []
        for path, item in clips:
            start = item.media.start_time
            if not item.is_video or start is None:
                self.skipped.append(item.filename)
                continue
            duration = item.media.duration_s or 0.0
            placed.append(
                (path, item, AxisClip(item.id, true_start(start, item.clock_offset_s), duration))
            )

        def open_all() -> list[tuple[Evidence, AxisClip, ClipPlayer]]:
            out = []
            for path, item, clip in placed:
                player = ClipPlayer(path, out_size=(320, 180))
                out.append(
                    (item, AxisClip(clip.key, clip.true_start, player.info.duration_s), player)
                )
            return out

        def opened(result: list[tuple[Evidence, AxisClip, ClipPlayer]]) -> None:
            if gen != self._generation:
                for _i, _c, player in result:
                    player.stop()
                return
            self._place(result)

        run_in_background(open_all, on_success=opened, what="Opening the recordings", owner=self)

    def _place(self, result: list[tuple[Evidence, AxisClip, ClipPlayer]]) -> None:
        cols = max(1, math.ceil(math.sqrt(len(result))))
        for n, (item, clip, player) in enumerate(result):
            tile = SyncTile(item, clip, player, self.grid_holder)
            self.tiles.append(tile)
            self.grid.addWidget(tile, n // cols, n % cols)
        if self.tiles:
            self.start, self.end = span([t.clip for t in self.tiles])
            self.scrubber.blockSignals(True)
            self.scrubber.setRange(0, int((self.end - self.start).total_seconds() * 1000))
            self.scrubber.blockSignals(False)
            self.timer.start()
            self.seek(self.start)
        if self.skipped:
            self.time_label.setToolTip("Not placed (no start time): " + ", ".join(self.skipped))
        self.opened.emit(len(self.tiles))

    def close_clips(self) -> None:
        self._generation += 1
        self.timer.stop()
        self.playing = False
        for tile in self.tiles:
            run_in_background(tile.player.stop, what="Closing a recording")
            tile.deleteLater()
        self.tiles, self.skipped = [], []
        self.start = self.end = self.position = None

    # -- the master clock -------------------------------------------------------------
    def seek(self, moment: datetime) -> None:
        """Show every recording at ``moment`` (clamped to the span)."""
        if self.start is None or self.end is None:
            return
        moment = min(max(moment, self.start), self.end)
        self.position = moment
        if self.playing:
            self._anchor = (self.clock(), moment)
        self.scrubber.blockSignals(True)
        self.scrubber.setValue(int((moment - self.start).total_seconds() * 1000))
        self.scrubber.blockSignals(False)
        text = self._local(moment)
        self.time_label.setText(text)
        for tile in self.tiles:
            tile.show_moment(moment, text)
        self.position_changed.emit(moment)

    def play(self) -> None:
        if self.position is None:
            return
        if self.end is not None and self.position >= self.end:
            self.position = self.start
        self.playing = True
        self._anchor = (self.clock(), self.position or datetime.min)
        self.play_button.setText("❚❚ Pause")

    def pause(self) -> None:
        self.playing = False
        self.play_button.setText("▶ Play")

    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    def _tick(self) -> None:
        if self.playing and self._anchor is not None:
            t0, p0 = self._anchor
            moment = p0 + timedelta(seconds=(self.clock() - t0) * self.speed)
            if self.end is not None and moment >= self.end:
                moment = self.end
                self.pause()
            self.seek(moment)
        if any([tile.poll() for tile in self.tiles]):
            self.frames_shown.emit()

    def _scrubbed(self, value: int) -> None:
        if self.start is not None:
            self.seek(self.start + timedelta(milliseconds=value))

    def _local(self, when: datetime) -> str:
        local = when.astimezone(self.zone) if self.zone else when.astimezone()
        return f"{local:%Y-%m-%d %H:%M:%S}.{local.microsecond // 1000:03d} {local.tzname()}"

    def shutdown(self) -> None:
        self.close_clips()
