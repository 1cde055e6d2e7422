"""FeedTile: one video tile of the wall.

It paints the newest frame exactly as the worker scaled it (BGRA wrapped in a QImage
without a copy, drawn 1:1 and letterboxed), then the overlays analysts rely on: camera
name and tier, the state badge, the reason when a feed is closed, and optional
diagnostics. It accepts camera drags from the console's camera list.
"""

from __future__ import annotations

import json
import time
from typing import Any

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDropEvent,
    QFont,
    QFontMetrics,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QWidget

from rtcc_console.ui.wall.badges import EMPTY, TERMINAL, Badge

CAMERA_MIME = "application/x-rtcc-camera"


def fitted_size(box_w: int, box_h: int, src_w: int, src_h: int) -> tuple[int, int]:
    """The largest even size with the source's aspect ratio that fits in the box."""
    if box_w <= 0 or box_h <= 0 or src_w <= 0 or src_h <= 0:
        return max(2, box_w - box_w % 2), max(2, box_h - box_h % 2)
    scale = min(box_w / src_w, box_h / src_h)
    w, h = int(src_w * scale), int(src_h * scale)
    return max(2, w - w % 2), max(2, h - h % 2)


def parse_camera_mime(raw: bytes) -> dict[str, str] | None:
    """The dragged camera ``{"camera_id", "name", "tier"}``, or None if malformed."""
    try:
        data = json.loads(bytes(raw).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or not data.get("camera_id"):
        return None
    payload = {
        "camera_id": str(data["camera_id"]),
        "name": str(data.get("name") or data["camera_id"]),
        "tier": str(data.get("tier") or "integrated"),
    }
    if data.get("action") in ("live", "request", "none"):  # what the camera list said one may do
        payload["action"] = str(data["action"])
    return payload


class FeedTile(QWidget):
    """A tile that shows one camera; the wall feeds it frames and badges."""

    camera_dropped = Signal(int, dict)  # tile index, {"camera_id", "name", "tier"}
    double_clicked = Signal(int)
    clicked = Signal(int)
    resized = Signal(int)

    def __init__(self, index: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index = index
        self.setAcceptDrops(True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setMinimumSize(QSize(80, 45))
        self.camera_name = ""
        self.camera_tier = ""
        self.camera_id = ""
        self.camera_rank: int | None = None
        self.badge = Badge(EMPTY)
        self.stats_text = ""
        self.show_stats = False
        self.selected = False
        self.drop_highlighted = False
        self.frame: Any = None  # the VideoFrame behind ``_image``: keeps its buffer alive
        self._image: QImage | None = None
        self.last_frame_at: float | None = None  # monotonic time of the last new frame
        self.frames_shown = 0  # distinct frames painted (the delivered frame rate)
        self.first_shown_at: float | None = None  # monotonic time the first frame was painted
        self._shown_seq: int | None = None
        self._font = QFont(self.font())
        self._font.setPixelSize(13)
        self._bold = QFont(self._font)
        self._bold.setBold(True)
        self._labels_key: tuple[Any, ...] | None = None
        self._labels: list[tuple[int, int, QImage]] = []

    # --- what the wall tells the tile -------------------------------------------------
    def set_camera(
        self, name: str, tier: str, *, camera_id: str = "", rank: int | None = None
    ) -> None:
        """Name the tile: ``#rank name`` on the first line, ``id · TIER`` on the second, so
        two cameras with the same name are told apart and a long name is never cut for the
        badge's sake (the badge moves down a line instead)."""
        self.camera_name, self.camera_tier = name, tier
        self.camera_id, self.camera_rank = camera_id, rank
        self.setToolTip(self.title_text() + (f"\n{camera_id}" if camera_id else ""))
        self.update()

    def title_text(self) -> str:
        if not self.camera_name:
            return ""
        return f"#{self.camera_rank} {self.camera_name}" if self.camera_rank else self.camera_name

    def subtitle_text(self) -> str:
        parts = [p for p in (self.camera_id, self.camera_tier.upper()) if p]
        return "  ·  ".join(parts)

    def set_frame(self, frame: Any) -> None:
        """Show a new frame (BGRA, already scaled by the worker); no pixel copy."""
        self.frame = frame
        self._image = QImage(
            frame.data, frame.width, frame.height, frame.bytes_per_line, QImage.Format.Format_RGB32
        )
        dpr = self.devicePixelRatioF()
        if dpr != 1.0:
            self._image.setDevicePixelRatio(dpr)
        self.last_frame_at = time.monotonic()
        self.update()

    def clear_frame(self) -> None:
        """Forget the picture (closed or revoked feeds must not keep showing video)."""
        self.frame = None
        self._image = None
        self.last_frame_at = None
        self.first_shown_at = None
        self._shown_seq = None
        self.update()

    def set_badge(self, badge: Badge) -> None:
        if badge != self.badge:
            self.badge = badge
            if badge.kind in TERMINAL:
                self.clear_frame()
            self.update()

    def set_stats_text(self, text: str) -> None:
        if text != self.stats_text:
            self.stats_text = text
            if self.show_stats:
                self.update()

    def frame_age_s(self) -> float | None:
        return None if self.last_frame_at is None else time.monotonic() - self.last_frame_at

    def device_size(self) -> tuple[int, int]:
        """The tile's size in device pixels (what the worker should scale to)."""
        dpr = self.devicePixelRatioF()
        return round(self.width() * dpr), round(self.height() * dpr)

    def current_image(self) -> QImage | None:
        return self._image

    # --- painting ---------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(12, 12, 14))
        if self._image is not None:
            self._draw_frame(painter)
            if not self.badge.is_live:  # a stale or reconnecting picture must not look live
                painter.fillRect(self.rect(), QColor(0, 0, 0, 120))
            if self.frame.seq != self._shown_seq:
                self._shown_seq = self.frame.seq
                self.frames_shown += 1
                if self.first_shown_at is None:
                    self.first_shown_at = time.monotonic()
        self._draw_overlays(painter)
        painter.end()

    def _draw_frame(self, painter: QPainter) -> None:
        assert self._image is not None
        dpr = self._image.devicePixelRatio()
        iw, ih = self._image.width() / dpr, self._image.height() / dpr
        tw, th = self.width(), self.height()
        snug = iw <= tw and ih <= th and (tw - iw <= 4 or th - ih <= 4)
        if snug:  # the worker already scaled to this tile: draw 1:1, centred
            painter.drawImage(round((tw - iw) / 2), round((th - ih) / 2), self._image)
            return
        # only between a resize (or adoption) and the worker's next, rescaled frame
        scale = min(tw / iw, th / ih)
        w, h = round(iw * scale), round(ih * scale)
        painter.drawImage(QRect((tw - w) // 2, (th - h) // 2, w, h), self._image)

    def _label(self, text: str, font: QFont, bg: QColor, max_w: int) -> QImage:
        """A small pre-rendered text box (painted every frame, rendered only on change)."""
        metrics = QFontMetrics(font)
        text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, max(20, max_w - 10))
        image = QImage(
            metrics.horizontalAdvance(text) + 10,
            metrics.height() + 4,
            QImage.Format.Format_ARGB32_Premultiplied,
        )
        image.fill(bg)
        p = QPainter(image)
        p.setFont(font)
        p.setPen(QColor("white"))
        p.drawText(5, 2 + metrics.ascent(), text)
        p.end()
        return image

    def _overlay_labels(self) -> list[tuple[int, int, QImage]]:
        key = (
            self.width(),
            self.height(),
            self.camera_name,
            self.camera_tier,
            self.camera_id,
            self.camera_rank,
            self.badge,
            self.stats_text if self.show_stats else "",
        )
        if key == self._labels_key:
            return self._labels
        labels: list[tuple[int, int, QImage]] = []
        shade = QColor(0, 0, 0, 170)
        badge: QImage | None = None
        if self.badge.kind != EMPTY:
            badge = self._label(
                self.badge.text, self._bold, QColor(self.badge.colour), self.width() - 8
            )
        title_h = 0
        badge_row = 4
        if self.camera_name:
            title = self.title_text()
            title_w = QFontMetrics(self._bold).horizontalAdvance(title) + 10
            beside = self.width() - (badge.width() if badge else 0) - 16
            if badge is not None and title_w > beside:
                beside = self.width() - 8  # the name keeps the row; the badge goes below it
            image = self._label(title, self._bold, shade, max(30, beside))
            labels.append((4, 4, image))
            title_h = image.height()
            sub_room = self.width() - 8
            if badge is not None and beside == self.width() - 8:
                badge_row = 4 + title_h + 2  # below the name, right of the id (elided if need be)
                sub_room = self.width() - badge.width() - 16
            sub_row = 4 + title_h + 2
            if sub_room < 40 and badge is not None:  # no room beside the badge: a line lower
                sub_room, sub_row = self.width() - 8, badge_row + badge.height() + 2
            sub = self._label(self.subtitle_text(), self._font, shade, sub_room)
            labels.append((4, sub_row, sub))
        if badge is not None:
            labels.append((self.width() - 4 - badge.width(), badge_row, badge))
        if self.show_stats and self.stats_text:
            image = self._label(self.stats_text, self._font, shade, self.width() - 8)
            labels.append((4, self.height() - image.height() - 4, image))
        self._labels_key, self._labels = key, labels
        return labels

    def _draw_overlays(self, painter: QPainter) -> None:
        for x, y, image in self._overlay_labels():
            painter.drawImage(x, y, image)
        badge = self.badge
        message = ""
        if badge.kind in TERMINAL and badge.detail:
            message = f"{badge.kind}\n{badge.detail}"
        elif badge.kind == EMPTY:
            message = badge.detail or "Drop a camera here"
        elif self._image is None and badge.detail:
            message = badge.detail
        if message:
            painter.setFont(self._bold if badge.kind in TERMINAL else self._font)
            painter.setPen(
                QColor(badge.colour).lighter(170) if badge.kind in TERMINAL else QColor("#cbd5e1")
            )
            painter.drawText(
                self.rect().adjusted(10, 28, -10, -10),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                message,
            )
        if self.drop_highlighted or self.selected:
            colour = QColor("#38bdf8") if self.drop_highlighted else QColor("#e5e7eb")
            painter.setPen(QPen(colour, 3 if self.drop_highlighted else 1))
            painter.drawRect(self.rect().adjusted(1, 1, -2, -2))

    # --- input ------------------------------------------------------------------------
    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.double_clicked.emit(self.index)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.clicked.emit(self.index)
        super().mousePressEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self.resized.emit(self.index)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(CAMERA_MIME):
            event.acceptProposedAction()
            self.drop_highlighted = True
            self.update()
        else:
            event.ignore()

    def dragMoveEvent(self, event: Any) -> None:
        if event.mimeData().hasFormat(CAMERA_MIME):
            event.acceptProposedAction()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self.drop_highlighted = False
        self.update()

    def dropEvent(self, event: QDropEvent) -> None:
        self.drop_highlighted = False
        self.update()
        payload = parse_camera_mime(bytes(event.mimeData().data(CAMERA_MIME).data()))
        if payload is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.camera_dropped.emit(self.index, payload)
