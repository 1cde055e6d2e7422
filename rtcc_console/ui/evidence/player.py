"""The evidence player: a recorded clip with scrubber, play/pause, frame steps, speed, the
recording's own (corrected) time, a vault snapshot of the shown frame and a box overlay.

Decoding runs on ``media.clip_player.ClipPlayer``'s thread; this widget only takes the
newest BGRA picture on a timer (as the wall does) and paints it 1:1, the decoder having
scaled it to the view. Opening a file (a whole-file demux) runs in the background.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QKeySequence, QPainter, QPaintEvent, QPen, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from rtcc_console.client.evidence_models import Evidence
from rtcc_console.media.clip_player import SPEEDS, ClipPlayer
from rtcc_console.media.clip_reader import ClipFrame
from rtcc_console.ui.tasks import run_in_background

log = logging.getLogger(__name__)

POLL_MS = 15
Box = tuple[float, float, float, float]  # x, y, w, h as fractions of the picture


def format_offset(seconds: float) -> str:
    sign = "+" if seconds >= 0 else "-"
    return f"{sign}{abs(seconds):g} s"


class FrameView(QWidget):
    """Paints the newest frame centred 1:1 and, when set, a box over the picture."""

    resized = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.frame: ClipFrame | None = None
        self._image: QImage | None = None
        self.box: Box | None = None
        self.box_label = ""
        self.message = "No recording open"
        self.setMinimumSize(240, 135)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def set_frame(self, frame: ClipFrame | None) -> None:
        self.frame = frame
        self._image = (
            None
            if frame is None
            else QImage(
                frame.data,
                frame.width,
                frame.height,
                frame.bytes_per_line,
                QImage.Format.Format_RGB32,
            )
        )
        if self._image is not None:
            self._image.setDevicePixelRatio(self.devicePixelRatioF())  # decoded at device pixels
        self.update()

    def picture_rect(self) -> QRectF | None:
        if self._image is None:
            return None
        dpr = self._image.devicePixelRatio() or 1.0
        w, h = self._image.width() / dpr, self._image.height() / dpr
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#050506"))
        rect = self.picture_rect()
        if self._image is None or rect is None:
            painter.setPen(QColor("#8a8f98"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.message)
            painter.end()
            return
        painter.drawImage(rect.topLeft(), self._image)
        if self.box is not None:
            x, y, w, h = self.box
            box = QRectF(
                rect.x() + x * rect.width(),
                rect.y() + y * rect.height(),
                w * rect.width(),
                h * rect.height(),
            )
            painter.setPen(QPen(QColor("#ffcc00"), 3))
            painter.drawRect(box)
            if self.box_label:
                painter.drawText(box.topLeft() + QRectF(0, -4, 0, 0).topLeft(), self.box_label)
        painter.end()

    def resizeEvent(self, event: Any) -> None:
        self.resized.emit(self.width(), self.height())

    def sizeHint(self) -> QSize:
        return QSize(640, 360)


class EvidencePlayer(QWidget):
    """Plays one evidence item; see the module docstring."""

    opened = Signal(str)  # evidence id
    open_failed = Signal(str)  # reason
    frame_shown = Signal(int)  # frame index now on screen
    snapshot_taken = Signal(object)  # the new image Evidence
    snapshot_requested = Signal(str, float)  # evidence id, seconds into the recording

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        zone: tzinfo | None = None,
        snapshot: Callable[[str, float], Evidence] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("EvidencePlayer")
        self.zone = zone
        self.snapshot_fn = snapshot
        self.player: ClipPlayer | None = None
        self.item: Evidence | None = None
        self.shown_index = -1
        self._box_until: float | None = None
        self._open_generation = 0

        self.view = FrameView(self)
        self.title = QLabel("", self)
        self.title.setObjectName("PlayerTitle")
        self.time_label = QLabel("", self)
        self.time_label.setObjectName("PlayerTime")
        self.time_label.setStyleSheet("font-weight: bold; font-size: 11pt;")
        self.time_label.setWordWrap(True)
        self.time_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.scrubber = QSlider(Qt.Orientation.Horizontal, self)
        self.scrubber.setObjectName("PlayerScrubber")
        self.scrubber.setEnabled(False)
        self.play_button = QPushButton("▶ Play", self)
        self.back_button = QPushButton("◀| Frame", self)
        self.forward_button = QPushButton("Frame |▶", self)
        self.speed_box = QComboBox(self)
        for speed in SPEEDS:
            self.speed_box.addItem(f"{speed:g}x", speed)
        self.speed_box.setCurrentIndex(SPEEDS.index(1.0))
        self.snapshot_button = QPushButton("Snapshot to vault", self)
        self.position_label = QLabel("", self)
        for w in (self.play_button, self.back_button, self.forward_button, self.snapshot_button):
            w.setEnabled(False)
        self.back_button.setToolTip("One frame back (,)")
        self.forward_button.setToolTip("One frame forward (.)")
        self.play_button.setToolTip("Play / pause (Space)")
        self.snapshot_button.setToolTip("Store the shown frame as a new evidence item (audited)")

        controls = QHBoxLayout()
        controls.addWidget(self.play_button)
        controls.addWidget(self.back_button)
        controls.addWidget(self.forward_button)
        controls.addWidget(QLabel("Speed", self))
        controls.addWidget(self.speed_box)
        controls.addStretch(1)
        controls.addWidget(self.position_label)
        controls.addWidget(self.snapshot_button)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(self.title)
        box.addWidget(self.view, 1)
        box.addWidget(self.time_label)
        box.addWidget(self.scrubber)
        box.addLayout(controls)

        self.play_button.clicked.connect(self.toggle)
        self.back_button.clicked.connect(lambda: self.step(-1))
        self.forward_button.clicked.connect(lambda: self.step(1))
        self.speed_box.currentIndexChanged.connect(self._speed_chosen)
        self.scrubber.sliderMoved.connect(self.seek_index)
        self.scrubber.valueChanged.connect(self._scrubbed)
        self.snapshot_button.clicked.connect(self.take_snapshot)
        self.view.resized.connect(self._view_resized)
        for keys, slot in (
            ("Space", self.toggle),
            (",", lambda: self.step(-1)),
            (".", lambda: self.step(1)),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self._poll)

    # -- opening -----------------------------------------------------------------------
    def open_file(self, path: Path, item: Evidence) -> None:
        """Open a verified local copy of ``item`` (probing runs in the background)."""
        self.close_clip()
        self._open_generation += 1
        gen = self._open_generation
        self.item = item
        self.title.setText(f"{item.filename} · {item.camera_id or 'camera unknown'}")
        self.view.message = "Opening…"
        self.view.update()
        size = self._out_size()

        def opened(player: ClipPlayer) -> None:
            if gen != self._open_generation:
                player.stop()
                return
            self.player = player
            self.scrubber.blockSignals(True)
            self.scrubber.setRange(0, player.info.frame_count - 1)
            self.scrubber.setValue(0)
            self.scrubber.blockSignals(False)
            self.scrubber.setEnabled(True)
            for w in (self.play_button, self.back_button, self.forward_button):
                w.setEnabled(True)
            self.snapshot_button.setEnabled(self.snapshot_fn is not None)
            player.set_speed(float(self.speed_box.currentData()))
            self.timer.start()
            self.opened.emit(item.id)

        def failed(exc: BaseException) -> None:
            if gen == self._open_generation:
                self.show_failure(f"Cannot play {item.filename}: {exc}")

        run_in_background(
            lambda: ClipPlayer(path, out_size=size),
            on_success=opened,
            on_failure=failed,
            what="Opening the recording",
        )

    def show_failure(self, text: str) -> None:
        self.close_clip()
        self.view.message = text
        self.view.update()
        self.open_failed.emit(text)

    def close_clip(self) -> None:
        self.timer.stop()
        player, self.player = self.player, None
        if player is not None:
            run_in_background(player.stop, what="Closing the recording")
        self.shown_index = -1
        self.view.set_frame(None)
        self.view.box = None
        self.time_label.setText("")
        self.position_label.setText("")
        self.scrubber.setEnabled(False)
        for w in (self.play_button, self.back_button, self.forward_button, self.snapshot_button):
            w.setEnabled(False)
        self.play_button.setText("▶ Play")

    # -- commands ----------------------------------------------------------------------
    def toggle(self) -> None:
        if self.player is not None:
            self.player.toggle()

    def play(self) -> None:
        if self.player is not None:
            self.player.play()

    def pause(self) -> None:
        if self.player is not None:
            self.player.pause()

    def step(self, delta: int) -> None:
        if self.player is not None:
            self.view.box = None
            self.player.step(delta)

    def seek_index(self, index: int) -> None:
        if self.player is not None:
            self.player.seek_index(index)

    def seek_time(self, time_s: float) -> int:
        return -1 if self.player is None else self.player.seek_time(time_s)

    def set_speed(self, speed: float) -> None:
        i = min(range(len(SPEEDS)), key=lambda k: abs(SPEEDS[k] - speed))
        self.speed_box.setCurrentIndex(i)

    def jump_to(self, time_s: float, box: Box | None = None, label: str = "") -> int:
        """Pause on the frame at ``time_s`` and draw ``box`` over it (a chosen moment)."""
        if self.player is None:
            return -1
        self.player.pause()
        self.view.box = box
        self.view.box_label = label
        return self.player.seek_time(time_s)

    def take_snapshot(self) -> None:
        """Ask the vault to store the shown frame as a new item (it decodes the original)."""
        item, fn = self.item, self.snapshot_fn
        if item is None or fn is None or self.player is None or self.shown_index < 0:
            return
        at_s = self.player.info.frame_times_s[self.shown_index]
        self.snapshot_requested.emit(item.id, at_s)
        self.snapshot_button.setEnabled(False)

        def done(snap: Evidence) -> None:
            self.snapshot_button.setEnabled(self.player is not None)
            self.snapshot_taken.emit(snap)

        def failed(exc: BaseException) -> None:
            self.snapshot_button.setEnabled(self.player is not None)
            from rtcc_console.ui import messages

            messages.error(f"Snapshot failed: {exc}")

        run_in_background(
            lambda: fn(item.id, at_s), on_success=done, on_failure=failed, what="Snapshot"
        )

    # -- display -----------------------------------------------------------------------
    def _out_size(self) -> tuple[int, int]:
        """The view's size keeping the recording's aspect (frames are scaled by the decoder)."""
        item = self.item
        dpr = self.view.devicePixelRatioF()  # decode at device pixels: sharp on HiDPI screens
        vw, vh = max(round(self.view.width() * dpr), 16), max(round(self.view.height() * dpr), 16)
        if self.player is not None:
            sw, sh = self.player.info.width, self.player.info.height
        elif item is not None and item.media.width and item.media.height:
            sw, sh = item.media.width, item.media.height
        else:
            return vw, vh
        scale = min(vw / sw, vh / sh)
        return max(2, int(sw * scale) // 2 * 2), max(2, int(sh * scale) // 2 * 2)

    def _view_resized(self, _w: int, _h: int) -> None:
        if self.player is not None:
            self.player.set_output_size(*self._out_size())

    def _speed_chosen(self, _index: int) -> None:
        if self.player is not None:
            self.player.set_speed(float(self.speed_box.currentData()))

    def _scrubbed(self, value: int) -> None:
        if self.player is not None and value != self.shown_index:
            self.player.seek_index(value)

    def _poll(self) -> None:
        player = self.player
        if player is None:
            return
        frame = player.take_frame()
        status = player.status()
        self.play_button.setText("❚❚ Pause" if status.playing else "▶ Play")
        if player.error:
            self.show_failure(f"Playback stopped: {player.error}")
            return
        if frame is None:
            return
        self.shown_index = frame.index
        self.view.set_frame(frame)
        self.scrubber.blockSignals(True)
        self.scrubber.setValue(frame.index)
        self.scrubber.blockSignals(False)
        info = player.info
        self.position_label.setText(
            f"frame {frame.index + 1}/{info.frame_count} · {frame.time_s:6.2f} / {info.duration_s:.2f} s"
        )
        self.time_label.setText(self.recorded_time_text(frame.time_s))
        self.frame_shown.emit(frame.index)

    def recorded_time_text(self, offset_s: float) -> str:
        """The recording's own time of the picture, corrected by the stated clock offset."""
        item = self.item
        if item is None:
            return ""
        when = item.recorded_at(offset_s)
        if when is None:
            return f"Recorded time unknown (no start time in the file) · +{offset_s:.3f} s"
        text = f"Recorded {self._local(when)}"
        start = item.media.start_time
        if item.clock_offset_s and start is not None:
            shown = start + timedelta(seconds=offset_s)
            text += (
                f" · camera clock {format_offset(item.clock_offset_s)} off, corrected"
                f" (camera showed {self._local(shown)})"
            )
        return text

    def _local(self, when: datetime) -> str:
        local = when.astimezone(self.zone) if self.zone else when.astimezone()
        return f"{local:%Y-%m-%d %H:%M:%S}.{local.microsecond // 1000:03d} {local.tzname()}"

    def shutdown(self) -> None:
        self._open_generation += 1
        self.close_clip()
