"""The status bar: server link (connected / reconnecting / offline since HH:MM), open
calls, cameras known, who is signed in, and a clock. Times are shown in the agency time
zone; the clock names the zone and its UTC offset, so an analyst comparing a CAD time with
an owner's camera clock knows which offset applies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QStatusBar

LINK_TEXT = {
    "connected": "● Connected",
    "connecting": "○ Connecting…",
    "reconnecting": "◐ Reconnecting",
    "offline": "✖ Offline",
    "stopped": "○ Not connected",
}


class ConsoleStatusBar(QStatusBar):
    """Permanent fields on the right; transient messages on the left."""

    def __init__(
        self,
        time_zone: str,
        parent: Any = None,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(parent)
        self._now = now
        try:
            self.zone: ZoneInfo | None = ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            self.zone = None
        self.link_label = QLabel(LINK_TEXT["stopped"], self)
        self.link_label.setObjectName("LinkState")
        self.link_label.setProperty("link", "stopped")
        self.calls_label = QLabel("0 open calls", self)
        self.cameras_label = QLabel("0 cameras", self)
        self.user_label = QLabel("", self)
        self.clock_label = QLabel("", self)
        self.clock_label.setObjectName("Clock")
        for label in (
            self.link_label,
            self.calls_label,
            self.cameras_label,
            self.user_label,
            self.clock_label,
        ):
            self.addPermanentWidget(label)
        for label in (self.calls_label, self.cameras_label, self.user_label, self.clock_label):
            label.setMinimumWidth(1)  # may shrink on a narrow window instead of widening it
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self.tick_clock)
        self._clock.start()
        self.tick_clock()

    def clock_text(self, when: datetime) -> str:
        """``14:05:09 CST (UTC-06:00)``: the agency's wall time with its zone and offset."""
        local = when.astimezone(self.zone) if self.zone else when.astimezone()
        offset = local.strftime("%z")
        return f"{local:%H:%M:%S} {local.tzname()} (UTC{offset[:3]}:{offset[3:]})"

    def tick_clock(self) -> None:
        self.clock_label.setText(self.clock_text(self._now()))

    def local_time(self, when: datetime) -> str:
        return (when.astimezone(self.zone) if self.zone else when.astimezone()).strftime("%H:%M %Z")

    def offline_text(self, state: str, since: datetime | None) -> str | None:
        """The banner sentence, or None when the link is fine."""
        if state not in ("reconnecting", "offline"):
            return None
        when = f" since {self.local_time(since)}" if since else ""
        return (
            f"Server unreachable{when}. Showing the last known calls and the cached camera "
            "registry; new calls will appear when the connection returns."
        )

    def set_link(self, state: str, since: datetime | None) -> None:
        text = LINK_TEXT.get(state, state)
        if state in ("reconnecting", "offline") and since is not None:
            text = f"{text} since {self.local_time(since)}"
        self.link_label.setText(text)
        self.link_label.setProperty("link", state)
        self.link_label.style().unpolish(self.link_label)
        self.link_label.style().polish(self.link_label)

    def set_counts(self, open_calls: int, cameras: int) -> None:
        self.calls_label.setText(f"{open_calls} open call{'s' if open_calls != 1 else ''}")
        self.cameras_label.setText(f"{cameras:,} cameras")

    def set_user(self, text: str) -> None:
        self.user_label.setText(f"Signed in: {text}" if text else "Not signed in")
