"""The console's emergency alert (issue 12): a red banner nobody can miss when an emergency
starts (panic button in the owner portal, an alarm panel, or declared by a supervisor).

For each new emergency: a line in the banner (site name, kind, AVS-01 alarm level, time),
newest first; the ``urgent`` sound of the call alerts (muted by a click on "Mute"); the map
flies to the site; the wall opens the site's cameras plus the nearest integrated ones, up to
``total`` (default 4). "Acknowledge" is audited on the server (off the GUI thread). Ended
emergencies leave the banner; it hides when none is running. "Send to field…" (issue 16)
opens the field share dialog for the newest emergency (``field_wanted``); who it was sent
to and until when is then shown under the lines (``note_field_shares``), with "End field
shares" (``field_end_wanted``) while they run.

Everything comes from the event stream the console already follows (``LiveData``'s
emergencies, panic details and camera index): site name, kind, alarm level and where in the
site from the structured panic fields, which the emergency record itself carries (``panic``
in ``GET /emergencies`` and ``emergency.started``, so also for an emergency that began before
the console connected) and the ``emergency.panic`` event repeats. Only an emergency without
them (declared by a supervisor, a row from before revision 0111, an older server) has its
site name and level read from the reason text as ``server.portal.panic`` writes it and the
kind from the site's cameras. Position always comes from the site's cameras.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from rtcc_console.client.emergencies import PanicAlert
from rtcc_console.core.models import Camera, Emergency, GeoPoint, SharingMode, Tier

PANIC_REASON = re.compile(
    r"^Panic \((?P<source>[^)]*)\): (?P<site>.*?), AVS-01 level (?P<level>[0-4])"
)
MAX_LINES = 3  # emergencies listed in the banner; the rest are counted

STYLE = (
    "QFrame#emergencyAlert { background: #a1001c; border: 3px solid #5c0010; }"
    "QFrame#emergencyAlert QLabel { color: #ffffff; font-size: 13px; }"
    "QFrame#emergencyAlert QLabel#emergencyTitle { font-size: 15px; font-weight: 700; }"
    "QFrame#emergencyAlert QPushButton { background: #ffffff; color: #5c0010; font-weight: 700; padding: 4px 12px; }"
    "QFrame#emergencyAlert QPushButton:focus { border: 3px solid #ffd23f; }"
)


@dataclass(frozen=True, slots=True)
class AlertItem:
    emergency: Emergency
    site: str
    kind: str
    level: int | None
    text: str
    structured: bool = False  # from the panic fields (record or event), not the reason text


def describe(
    emergency: Emergency,
    cameras: list[Camera],
    zone: Any = None,
    panic: PanicAlert | None = None,
) -> AlertItem:
    """The banner line of one emergency: from ``panic`` when known, else the reason text."""
    where = ""
    if panic is not None:
        site, level, kind, where = panic.site_name, panic.alarm_level, panic.kind, panic.location
    else:
        found = PANIC_REASON.match(emergency.reason or "")
        site = found.group("site") if found else (emergency.reason or "Declared emergency")
        level = int(found.group("level")) if found else None
        kinds = sorted({c.kind.value for c in cameras})
        kind = kinds[0] if len(kinds) == 1 else ("/".join(kinds) or "site")
    started = emergency.started_at.astimezone(zone) if zone is not None else emergency.started_at
    text = (
        f"{site} — {kind} — "
        + (f"alarm level {level}" if level is not None else "declared")
        + (f" — {where}" if where else "")
        + f" — {started.strftime('%H:%M:%S')}"
    )
    return AlertItem(
        emergency=emergency,
        site=site,
        kind=kind,
        level=level,
        text=text,
        structured=panic is not None,
    )


class EmergencyAlert(QFrame):
    """The banner; ``refresh()`` on every change of the active emergencies."""

    acknowledged = Signal(str)  # emergency id
    field_wanted = Signal(str)  # emergency id: "Send to field…" (ui.field_share_dialog)
    field_end_wanted = Signal(str)  # emergency id: "End field shares"

    def __init__(
        self,
        *,
        emergencies: Callable[[], list[Emergency]],
        camera: Callable[[str], Camera | None],
        nearest_integrated: Callable[[GeoPoint, int], list[Camera]],
        open_cameras: Callable[[list[Camera], str], object],
        fly_to: Callable[[str], None],
        play: Callable[[str], None],
        panic: Callable[[str], PanicAlert | None] = lambda _eid: None,
        total: int = 4,
        sound: str = "urgent",
        zone: Any = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("emergencyAlert")
        self.setStyleSheet(STYLE)
        self._emergencies, self._camera, self._nearest = emergencies, camera, nearest_integrated
        self._open, self._fly, self._play = open_cameras, fly_to, play
        self._panic = panic
        self.total, self.sound, self.zone = total, sound, zone
        self.muted = False
        self.seen: set[str] = set()
        self.items: list[AlertItem] = []  # newest first
        self.opened: dict[str, list[str]] = {}  # emergency id -> camera ids sent to the wall
        self.field_notes: dict[str, str] = {}  # emergency id -> "Sent to field: … until …"
        self.field_running: set[str] = set()  # emergencies with field shares running
        self.on_visible: Callable[[bool], None] | None = None  # the toolbar holding the banner
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        texts = QVBoxLayout()
        texts.setSpacing(1)
        self.title = QLabel("EMERGENCY")
        self.title.setObjectName("emergencyTitle")
        self.lines = QLabel("")
        self.lines.setTextFormat(Qt.TextFormat.PlainText)
        self.lines.setWordWrap(True)
        self.field_line = QLabel("")
        self.field_line.setObjectName("emergencyFieldShares")
        self.field_line.setTextFormat(Qt.TextFormat.PlainText)
        self.field_line.hide()
        texts.addWidget(self.title)
        texts.addWidget(self.lines)
        texts.addWidget(self.field_line)
        layout.addLayout(texts, 1)
        self.field_button = QPushButton("Send to field…")
        self.field_button.setToolTip("Share the newest emergency's cameras with officers")
        self.field_button.clicked.connect(self._field_wanted)
        layout.addWidget(self.field_button)
        self.field_end_button = QPushButton("End field shares")
        self.field_end_button.setToolTip("End the field shares of the newest emergency sent")
        self.field_end_button.clicked.connect(self._field_end_wanted)
        self.field_end_button.hide()
        layout.addWidget(self.field_end_button)
        self.mute_button = QPushButton("Mute")
        self.mute_button.setCheckable(True)
        self.mute_button.toggled.connect(self._set_muted)
        self.ack_button = QPushButton("Acknowledge")
        self.ack_button.clicked.connect(self.acknowledge_all)
        layout.addWidget(self.mute_button)
        layout.addWidget(self.ack_button)
        self.setAccessibleName("Emergency alert")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.setMaximumHeight(120)  # several emergencies: newest lines, the panels keep their room
        self.hide()

    def _set_muted(self, muted: bool) -> None:
        self.muted = muted
        self.mute_button.setText("Muted" if muted else "Mute")

    def refresh(self) -> None:
        active = {e.id: e for e in self._emergencies()}
        for emergency in sorted(active.values(), key=lambda e: e.started_at):
            if emergency.id not in self.seen:
                self.seen.add(emergency.id)
                self._alert(emergency)
        self.items = [self._restructured(i) for i in self.items if i.emergency.id in active]
        self._render()

    def _restructured(self, item: AlertItem) -> AlertItem:
        """The line again from the panic fields once they arrive (just after the start)."""
        if item.structured:
            return item
        panic = self._panic(item.emergency.id)
        if panic is None:
            return item
        return describe(item.emergency, self._site_cameras(item.emergency), self.zone, panic)

    def _field_wanted(self) -> None:
        if self.items:
            self.field_wanted.emit(self.items[0].emergency.id)

    def _field_end_wanted(self) -> None:
        running = [i.emergency.id for i in self.items if i.emergency.id in self.field_running]
        if running:
            self.field_end_button.setEnabled(False)
            self.field_end_wanted.emit(running[0])

    def note_field_shares(self, emergency_id: str, text: str, *, running: bool = True) -> None:
        """Who an emergency was sent to and until when (shown while it runs); ``running``
        False once its shares ended."""
        self.field_notes[emergency_id] = text
        if running:
            self.field_running.add(emergency_id)
        else:
            self.field_running.discard(emergency_id)
        self.field_end_button.setEnabled(True)
        self._render()

    def site_cameras(self, emergency: Emergency) -> list[Camera]:
        """The emergency's site cameras known to the console."""
        return self._site_cameras(emergency)

    def camera(self, camera_id: str) -> Camera | None:
        return self._camera(camera_id)

    def panic(self, emergency_id: str) -> PanicAlert | None:
        return self._panic(emergency_id)

    def _site_cameras(self, emergency: Emergency) -> list[Camera]:
        return [
            c for c in (self._camera(cid) for cid in sorted(emergency.camera_ids)) if c is not None
        ]

    def _alert(self, emergency: Emergency) -> None:
        site = self._site_cameras(emergency)
        item = describe(emergency, site, self.zone, self._panic(emergency.id))
        self.items.insert(0, item)
        self.items.sort(key=lambda i: i.emergency.started_at, reverse=True)
        if not self.muted:
            self._play(self.sound)
        if site:
            self._fly(site[0].id)
            wanted = [c for c in site if c.tier is Tier.INTEGRATED][: self.total]
            if len(wanted) < self.total:
                lat = sum(c.location.lat for c in site) / len(site)
                lon = sum(c.location.lon for c in site) / len(site)
                have = {c.id for c in wanted} | {c.id for c in site}
                extra = [
                    c for c in self._nearest(GeoPoint(lat, lon), self.total * 3) if c.id not in have
                ]
                wanted += extra[: self.total - len(wanted)]
            self.opened[emergency.id] = [c.id for c in wanted]
            if wanted:
                self._open(wanted, f"Emergency: {item.site}")

    def _render(self) -> None:
        if not self.items:
            self.hide()
            if self.on_visible is not None:
                self.on_visible(False)
            return
        if self.on_visible is not None:
            self.on_visible(True)
        n = len(self.items)
        self.title.setText("EMERGENCY" if n == 1 else f"{n} EMERGENCIES")
        shown = [i.text for i in self.items[:MAX_LINES]]  # newest first; the banner stays small
        if len(self.items) > MAX_LINES:
            shown.append(f"… and {len(self.items) - MAX_LINES} more")
        self.lines.setText("\n".join(shown))
        notes = [
            self.field_notes[i.emergency.id]
            for i in self.items
            if i.emergency.id in self.field_notes
        ]
        self.field_line.setText("\n".join(notes[:MAX_LINES]))
        self.field_line.setVisible(bool(notes))
        self.field_end_button.setVisible(
            any(i.emergency.id in self.field_running for i in self.items)
        )
        self.show()
        self.raise_()

    def acknowledge_all(self) -> None:
        for item in list(self.items):
            self.acknowledged.emit(item.emergency.id)
        self.ack_button.setText("Acknowledged")


def attach_emergency_alert(
    window: Any, *, api: Any, live: Any, map_view: Any, wall: Any, player: Any, total: int = 4
) -> EmergencyAlert:
    """Create the banner above the docks and wire it to the live data (main window)."""
    from PySide6.QtWidgets import QDockWidget

    from rtcc_console.client.emergencies import acknowledge_emergency
    from rtcc_console.ui.tasks import run_in_background
    from rtcc_console.ui.wall.feeds import CameraRef

    def nearest(point: GeoPoint, k: int) -> list[Camera]:
        """Integrated cameras one may view now: live always, or covered by a running emergency."""
        covered = {cid for e in live.active_emergencies() for cid in e.camera_ids}

        def viewable(c: Camera) -> bool:
            return c.sharing_mode is SharingMode.LIVE_ALWAYS or c.id in covered

        hits = live.index.nearest(point, k, tier=Tier.INTEGRATED, where=viewable)
        return [c for c in (live.index.get(h.camera_id) for h in hits) if c is not None]

    def fly(camera_id: str) -> None:
        window.docks["map"].raise_()
        map_view.select_camera(camera_id)

    def open_on_wall(cameras: list[Camera], reason: str) -> object:
        window.docks["wall"].raise_()
        return wall.open_cameras([CameraRef.of(c) for c in cameras], reason)

    alert = EmergencyAlert(
        emergencies=live.active_emergencies,
        camera=lambda cid: live.index.get(cid),
        nearest_integrated=nearest,
        open_cameras=open_on_wall,
        fly_to=fly,
        play=player.play,
        panic=live.panic_for,
        total=total,
        parent=window,
    )
    alert.acknowledged.connect(
        lambda eid: run_in_background(
            lambda: acknowledge_emergency(api, eid), what="Recording the acknowledgement"
        )
    )
    # a dock across the top (not a tool bar: the window disables its actions while locked,
    # and a tool bar's widgets live in actions)
    bar = QDockWidget("Emergencies", window)
    bar.setObjectName("emergencyBar")
    bar.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
    bar.setWidget(alert)
    window.addDockWidget(Qt.DockWidgetArea.TopDockWidgetArea, bar)
    bar.setVisible(False)

    def show_bar(visible: bool) -> None:
        bar.setVisible(visible)
        if visible:  # as tall as its lines, no more: the wall keeps its room
            window.resizeDocks([bar], [alert.sizeHint().height() + 28], Qt.Orientation.Vertical)

    alert.on_visible = show_bar
    live.emergencies_changed.connect(alert.refresh)
    return alert
