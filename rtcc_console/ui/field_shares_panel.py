"""The call detail's "Sent to field" section (issue 16): who the selected call's cameras were
shared with and until when, the shares that ended and why, and an "End share" button on
each running one.

Reads and ends go through ``client.field_shares`` off the GUI thread (``ui.tasks``); an
answer for a call the analyst has left meanwhile is dropped. The list reloads when the
call is selected, when the server publishes ``field_share.*`` for it, and when a share's
time runs out on screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from html import escape
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from rtcc_console.client.field_shares import FieldShare, FieldSharesApi
from rtcc_console.ui.tasks import run_in_background

MAX_TIMER_MS = 3_600_000


class FieldSharesPanel(QWidget):
    """``set_call(call_id)`` shows that call's shares; ``loaded`` says they are on screen."""

    loaded = Signal(int)  # shares shown
    share_ended = Signal(str)  # share id, once the server ended it

    def __init__(
        self, api: FieldSharesApi, *, zone: tzinfo | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("FieldSharesPanel")
        self.api = api
        self.zone = zone
        self.call_id: str | None = None
        self.shares: list[FieldShare] = []
        self.error = ""
        self.rows: dict[str, tuple[QLabel, QPushButton | None]] = {}
        self.heading = QLabel("<b>Sent to field</b>", self)
        self.empty = QLabel("", self)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color:#8fa3b8")
        self.list_box = QVBoxLayout()
        self.list_box.setContentsMargins(0, 0, 0, 0)
        self.list_box.setSpacing(2)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 2, 4, 4)
        box.addWidget(self.heading)
        box.addLayout(self.list_box)
        box.addWidget(self.empty)
        self.expiry = QTimer(self)
        self.expiry.setSingleShot(True)
        self.expiry.timeout.connect(self.show_shares)
        self.setVisible(False)

    # -- input -----------------------------------------------------------------------
    def set_call(self, call_id: str | None) -> None:
        if call_id != self.call_id:
            self.shares, self.error = [], ""
        self.call_id = call_id
        self.setVisible(call_id is not None)
        self.refresh()

    def refresh(self) -> None:
        """Reload the current call's shares from the server (in the background)."""
        call_id = self.call_id
        if call_id is None:
            self.show_shares()
            return

        def done(shares: list[FieldShare]) -> None:
            if call_id == self.call_id:
                self.shares, self.error = shares, ""
                self.show_shares()

        def failed(exc: BaseException) -> None:
            if call_id == self.call_id:
                self.error = f"Could not load the field shares: {exc}"
                self.show_shares()

        run_in_background(
            lambda: self.api.call_shares(call_id),
            on_success=done,
            on_failure=failed,
            what="Loading the field shares",
            owner=self,
        )

    def on_event(self, kind: str, data: Mapping[str, Any]) -> None:
        """``field_share.created`` / ``.ended`` from the event stream: reload if it is ours."""
        share = data.get("share") if kind.startswith("field_share.") else None
        if isinstance(share, Mapping) and self.call_id and share.get("call_id") == self.call_id:
            self.refresh()

    def end_share(self, share_id: str) -> None:
        """Ask the server to end one share; the list reloads with its reason."""
        call_id = self.call_id
        if call_id is None:
            return
        row = self.rows.get(share_id)
        if row and row[1] is not None:
            row[1].setEnabled(False)
            row[1].setText("Ending…")

        def done(share: FieldShare) -> None:
            self.share_ended.emit(share.id)
            if call_id == self.call_id:
                self.refresh()

        def failed(exc: BaseException) -> None:
            if call_id == self.call_id:
                self.error = f"The share was not ended: {exc}"
                self.refresh()

        run_in_background(
            lambda: self.api.end(call_id, share_id),
            on_success=done,
            on_failure=failed,
            what="Ending the field share",
            owner=self,
        )

    # -- output ----------------------------------------------------------------------
    def _time(self, when: datetime) -> str:
        local = when.astimezone(self.zone) if self.zone else when.astimezone()
        return local.strftime("%H:%M")

    def describe(self, share: FieldShare, now: datetime) -> str:
        cams = ", ".join(share.camera_ids)
        if share.active(now):
            opened = "link opened" if share.link_used else "link not opened yet"
            return (
                f"<b>{escape(share.officer)}</b> · {escape(cams)}<br>"
                f"until {self._time(share.expires_at)} · {opened}"
            )
        if share.ended_at is not None:
            why = share.end_reason or "ended"
            end = f"ended {self._time(share.ended_at)} ({escape(why)})"
        else:
            end = f"expired {self._time(share.expires_at)}"
        return (
            f"<span style='color:#8fa3b8'>{escape(share.officer)} · {escape(cams)}<br>"
            f"{end} · sent {self._time(share.created_at)} by {escape(share.created_by)}</span>"
        )

    def show_shares(self) -> None:
        while self.list_box.count():
            item = self.list_box.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.rows.clear()
        now = datetime.now(UTC)
        active = [s for s in self.shares if s.active(now)]
        past = [s for s in self.shares if not s.active(now)]
        for share in [*active, *reversed(past)]:
            self.list_box.addWidget(self._row(share, now))
        if self.error:
            self.empty.setText(f"<span style='color:#f5b431'>{escape(self.error)}</span>")
        elif not self.shares:
            self.empty.setText("Not sent to any officer. Calls ▸ Send to field… (Ctrl+Shift+F)")
        else:
            self.empty.setText(f"{len(active)} running, {len(past)} ended")
        soonest = min((s.expires_at for s in active), default=None)
        if soonest is not None:
            ms = int((soonest - now).total_seconds() * 1000) + 500
            self.expiry.start(max(500, min(ms, MAX_TIMER_MS)))
        else:
            self.expiry.stop()
        self.loaded.emit(len(self.shares))

    def _row(self, share: FieldShare, now: datetime) -> QFrame:
        frame = QFrame()
        frame.setObjectName("FieldShareRow")
        line = QHBoxLayout(frame)
        line.setContentsMargins(0, 0, 0, 0)
        label = QLabel(self.describe(share, now), frame)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setWordWrap(True)
        label.setMinimumWidth(120)  # the pane's width decides; a long list of cameras wraps
        label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        line.addWidget(label, 1)
        button = None
        if share.active(now):
            button = QPushButton("End share", frame)
            button.setObjectName("EndFieldShare")
            button.setToolTip(f"Stop {share.officer}'s view of these cameras now")
            button.clicked.connect(lambda _=False, sid=share.id: self.end_share(sid))
            line.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        self.rows[share.id] = (label, button)
        return frame

    def text(self) -> str:
        """The rows without markup (tests, accessibility)."""
        from PySide6.QtGui import QTextDocument

        doc = QTextDocument()
        out = []
        for label, _button in self.rows.values():
            doc.setHtml(label.text())
            out.append(doc.toPlainText().replace("\n", " "))
        return "\n".join(out)
