""" "Send to field" (issue 16): share the selected call's cameras with responding officers.

The dialog lists the officer accounts (checkable; the search matches a name, a display
name or a unit id, and Enter checks every officer shown, so typing a unit id and Enter
picks the car's crew), the call's cameras that may be viewed live now (preselected: those
open on the wall, else the top live ones), and how long the share lasts (default: the
server's setting). Send posts off the GUI thread; a refusal is shown in the dialog in the
server's words. After sending, each officer's single-use link is shown once to relay to
the officer's phone or laptop.

``attach_send_to_field`` adds the Calls ▸ "Send to field…" action (Ctrl+Shift+F) and the
call detail's "Sent to field" section (``ui.field_shares_panel``). The emergency banner's
"Send to field…" (``ui.emergency_alert``) opens the same dialog for an emergency with no
call (a panic button): the site's cameras and the nearest integrated ones the banner opened
on the wall, preselected; the share ends when the emergency ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from rtcc_console.client.api import ApiClient
from rtcc_console.client.field_shares import FieldSharesApi, OfficerRoster, SentShare
from rtcc_console.client.nearest import CameraOption
from rtcc_console.core.models import Camera, DispatchCall, Tier
from rtcc_console.ui import messages
from rtcc_console.ui.field_shares_panel import FieldSharesPanel
from rtcc_console.ui.tasks import run_in_background

TOP_CAMERAS = 4
MAX_CAMERAS = 8  # the server's limit per share
SHORTCUT = "Ctrl+Shift+F"
USERNAME = Qt.ItemDataRole.UserRole


@dataclass(frozen=True, slots=True)
class CameraChoice:
    id: str
    label: str
    on_wall: bool


@dataclass(frozen=True, slots=True)
class SendRequest:
    call_id: str | None  # None: an emergency's share (``emergency_id``)
    officers: tuple[str, ...]
    camera_ids: tuple[str, ...]
    duration_s: int
    emergency_id: str | None = None


@dataclass(frozen=True, slots=True)
class EmergencySubject:
    """An emergency with no call, as the dialog heads it (from the banner's line)."""

    id: str
    title: str  # "Lakewood Elementary — school — alarm level 4"
    detail: str  # where in the site, the description


def emergency_camera_choices(
    site: Sequence[Camera], nearby: Sequence[Camera], opened: Iterable[str]
) -> tuple[list[CameraChoice], list[str]]:
    """An emergency's cameras: the site's integrated ones, then the nearest integrated ones;
    preselected those the banner opened on the wall (else the site's)."""
    choices: list[CameraChoice] = []
    seen: set[str] = set()
    on_wall = set(opened)
    for where, cams in (("site", site), ("nearby", nearby)):
        for cam in cams:
            if cam.tier is not Tier.INTEGRATED or cam.id in seen:
                continue
            seen.add(cam.id)
            wall = cam.id in on_wall
            label = f"{cam.name} · {where}" + (" · on the wall" if wall else "")
            choices.append(CameraChoice(cam.id, label, wall))
    walled = [c.id for c in choices if c.on_wall][:MAX_CAMERAS]
    site_ids = [c.id for c in choices if c.id in {s.id for s in site}][:MAX_CAMERAS]
    return choices, walled or site_ids or [c.id for c in choices[:TOP_CAMERAS]]


def camera_choices(
    options: Sequence[CameraOption], on_wall: Callable[[str], bool]
) -> tuple[list[CameraChoice], list[str]]:
    """The call's cameras an officer may be sent (viewable live now, best first) and the
    ones to preselect: those open on the wall, else the top live ones."""
    choices = []
    for rank, o in enumerate(options, start=1):
        if o.action != "live" or o.camera.tier is not Tier.INTEGRATED:
            continue
        wall = on_wall(o.camera.id)
        label = f"#{rank} {o.camera.name} · {o.explanation.split(',')[0]}"
        choices.append(CameraChoice(o.camera.id, label + (" · on the wall" if wall else ""), wall))
    walled = [c.id for c in choices if c.on_wall][:MAX_CAMERAS]
    return choices, walled or [c.id for c in choices[:TOP_CAMERAS]]


class FieldShareDialog(QDialog):
    """See the module docstring. ``send`` is blocking (it runs off the GUI thread)."""

    roster_shown = Signal(int)  # officers listed
    sent = Signal(object)  # list[SentShare]
    send_failed = Signal(str)

    def __init__(
        self,
        *,
        call: DispatchCall | None = None,
        cameras: Sequence[CameraChoice],
        preselected: Iterable[str],
        send: Callable[[SendRequest], list[SentShare]],
        parent: QWidget | None = None,
        emergency: EmergencySubject | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("FieldShareDialog")
        self.setWindowTitle("Send to field" + (" — emergency" if emergency else ""))
        if (call is None) == (emergency is None):
            raise ValueError("the dialog sends a call or an emergency")
        self.call = call
        self.emergency = emergency
        self._send = send
        self.roster: OfficerRoster | None = None
        self.results: list[SentShare] = []
        if call is not None:
            what = f"{call.incident_id} · P{call.priority} {call.type_text or call.type_code}"
            where = call.address or "address unknown"
        else:
            assert emergency is not None
            what, where = f"EMERGENCY · {emergency.title}", emergency.detail
        head = QLabel(f"<b>{_esc(what)}</b><br>{_esc(where)}", self)
        head.setWordWrap(True)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Find an officer by name or unit id (Enter checks them)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self._check_shown)
        self.officer_list = QListWidget(self)
        self.officer_list.setObjectName("FieldOfficers")
        self.officer_list.itemChanged.connect(lambda _item: self._update())
        self.officer_note = QLabel("Loading the officers…", self)
        self.camera_list = QListWidget(self)
        self.camera_list.setObjectName("FieldCameras")
        self.camera_list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.camera_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        wanted = set(preselected)
        for cam in cameras:
            item = QListWidgetItem(cam.label, self.camera_list)
            item.setToolTip(cam.id)
            item.setData(USERNAME, cam.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if cam.id in wanted else Qt.CheckState.Unchecked
            )
        self.camera_list.itemChanged.connect(lambda _item: self._update())
        self.camera_note = QLabel(
            "Preselected: the site's cameras and the nearest ones open on the wall."
            " The share ends when the emergency ends."
            if emergency is not None and cameras
            else "Preselected: the cameras open on the wall."
            if any(c.on_wall for c in cameras)
            else "Preselected: the call's top live cameras."
            if cameras
            else "No camera near this call can be viewed live now.",
            self,
        )
        self.minutes = QSpinBox(self)
        self.minutes.setRange(1, 24 * 60)
        self.minutes.setValue(120)
        self.minutes.setSuffix(" min")
        self.summary = QLabel(self)
        self.error = QLabel(self)
        self.error.setObjectName("FieldShareError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color:#ff6b6b;font-weight:bold")
        self.error.hide()
        self.links = QPlainTextEdit(self)
        self.links.setReadOnly(True)
        self.links.hide()
        self.buttons = QDialogButtonBox(self)
        self.send_button = QPushButton("Send", self)
        self.send_button.setDefault(False)
        self.send_button.setAutoDefault(False)
        self.buttons.addButton(self.send_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button = self.buttons.addButton(
            "Copy links", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.copy_button.hide()
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.send_button.clicked.connect(self.submit)
        self.copy_button.clicked.connect(self._copy_links)
        self.close_button.clicked.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(head)
        box.addWidget(QLabel("<b>Officers</b>", self))
        box.addWidget(self.search)
        box.addWidget(self.officer_list, 3)
        box.addWidget(self.officer_note)
        box.addWidget(QLabel("<b>Cameras</b>", self))
        box.addWidget(self.camera_list, 3)
        box.addWidget(self.camera_note)
        row = QHBoxLayout()
        row.addWidget(QLabel("Share for", self))
        row.addWidget(self.minutes)
        row.addStretch(1)
        row.addWidget(self.summary)
        box.addLayout(row)
        box.addWidget(self.error)
        box.addWidget(self.links)
        box.addWidget(self.buttons)
        self.resize(560, 560)
        self._update()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter in the search checks the officers shown; it never sends by accident."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.search.hasFocus():
            event.accept()
            return
        super().keyPressEvent(event)

    # -- officers --------------------------------------------------------------------
    def set_roster(self, roster: OfficerRoster) -> None:
        self.roster = roster
        self.officer_list.clear()
        for officer in roster.officers:
            item = QListWidgetItem(officer.label, self.officer_list)
            item.setData(USERNAME, officer.username)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
        self.minutes.setMaximum(max(1, roster.max_duration_s // 60))
        self.minutes.setValue(max(1, roster.default_duration_s // 60))
        self.officer_note.setText(
            f"{len(roster.officers)} officer account(s)"
            if roster.officers
            else "No officer accounts: an administrator adds them (rtcc user add --role officer)."
        )
        self._filter(self.search.text())
        self._update()
        self.roster_shown.emit(len(roster.officers))

    def set_roster_error(self, text: str) -> None:
        self.officer_note.setText("")
        self._show_error(f"The officers could not be listed: {text}")

    def _filter(self, text: str) -> None:
        roster = {o.username: o for o in (self.roster.officers if self.roster else ())}
        for i in range(self.officer_list.count()):
            item = self.officer_list.item(i)
            officer = roster.get(str(item.data(USERNAME)))
            item.setHidden(officer is None or not officer.matches(text))
        if self.roster is not None and self.roster.officers:
            shown = sum(
                not self.officer_list.item(i).isHidden() for i in range(self.officer_list.count())
            )
            total = len(self.roster.officers)
            self.officer_note.setText(
                f"{total} officer account(s)" if shown == total else f"{shown} of {total} shown"
            )

    def _check_shown(self) -> None:
        for i in range(self.officer_list.count()):
            item = self.officer_list.item(i)
            if not item.isHidden():
                item.setCheckState(Qt.CheckState.Checked)

    # -- state -----------------------------------------------------------------------
    @staticmethod
    def _checked(widget: QListWidget) -> list[str]:
        return [
            str(widget.item(i).data(USERNAME))
            for i in range(widget.count())
            if widget.item(i).checkState() == Qt.CheckState.Checked
        ]

    def checked_officers(self) -> list[str]:
        return self._checked(self.officer_list)

    def checked_cameras(self) -> list[str]:
        return self._checked(self.camera_list)

    def _update(self) -> None:
        officers, cameras = self.checked_officers(), self.checked_cameras()
        self.summary.setText(f"{len(officers)} officer(s), {len(cameras)} camera(s)")
        ok = bool(officers) and 0 < len(cameras) <= MAX_CAMERAS and not self.results
        self.send_button.setEnabled(ok)
        if len(cameras) > MAX_CAMERAS:
            self.summary.setText(f"At most {MAX_CAMERAS} cameras per share")

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    # -- sending ---------------------------------------------------------------------
    def request(self) -> SendRequest:
        return SendRequest(
            self.call.id if self.call is not None else None,
            tuple(self.checked_officers()),
            tuple(self.checked_cameras()),
            self.minutes.value() * 60,
            self.emergency.id if self.emergency is not None else None,
        )

    def submit(self) -> None:
        req = self.request()
        if not req.officers or not req.camera_ids:
            self._show_error("Choose at least one officer and one camera.")
            return
        self.send_button.setEnabled(False)
        self.send_button.setText("Sending…")
        self.error.hide()

        def failed(exc: BaseException) -> None:
            self.send_button.setText("Send")
            self._update()
            self._show_error(f"Not sent: {exc}")
            self.send_failed.emit(str(exc))

        run_in_background(
            lambda: self._send(req),
            on_success=self._sent,
            on_failure=failed,
            what="Sending to the field",
            owner=self,
        )

    def _sent(self, results: list[SentShare]) -> None:
        self.results = results
        self.send_button.setText("Sent")
        self.send_button.setEnabled(False)
        self.close_button.setText("Close")
        until = min((r.share.expires_at for r in results), default=None)
        lines = [f"{r.share.officer}: {r.link}" for r in results]
        self.links.setPlainText(
            "Give each officer their own link (single use, shown once"
            + (f"; the share runs until {until.astimezone().strftime('%H:%M')}" if until else "")
            + (" or the emergency ends" if self.emergency is not None else "")
            + "):\n"
            + "\n".join(lines)
        )
        self.links.show()
        self.copy_button.show()
        self.sent.emit(results)

    def _copy_links(self) -> None:
        QGuiApplication.clipboard().setText(
            "\n".join(f"{r.share.officer}: {r.link}" for r in self.results)
        )


def sent_note(results: Sequence[SentShare], zone: tzinfo | None = None) -> str:
    """``Sent to field: ofc.kim, ofc.lee until 16:30`` (the emergency banner's line)."""
    if not results:
        return ""
    until = min(r.share.expires_at for r in results).astimezone(zone).strftime("%H:%M")
    names = ", ".join(r.share.officer for r in results)
    return f"Sent to field: {names} until {until} (or the emergency ends)"


def _esc(text: str) -> str:
    from html import escape

    return escape(text)


class SendToField(QObject):
    """The window's "Send to field" action, its dialog and the call detail's share list."""

    dialog_opened = Signal(object)  # the FieldShareDialog

    def __init__(self, window: Any, api: ApiClient, *, zone: tzinfo | None) -> None:
        super().__init__(window)
        self.window = window
        self.fields = FieldSharesApi(api)
        self.dialog: FieldShareDialog | None = None
        self.panel = FieldSharesPanel(self.fields, zone=zone)
        self.zone = zone
        self.action = QAction("Send to field…", window)
        self.action.setShortcut(QKeySequence(SHORTCUT))
        self.action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.action.setToolTip("Share the selected call's cameras with responding officers")
        self.action.triggered.connect(self.open_dialog)
        window.addAction(self.action)

    def open_dialog(self) -> FieldShareDialog | None:
        selection = self.window.selection
        call = selection.current_call()
        if call is None:
            messages.info("Select a call first: its cameras are what the officers will see.")
            return None
        wall = self.window.wall
        choices, preselected = camera_choices(
            selection.options, lambda cid: wall.tile_of_camera(cid) is not None
        )
        if self.dialog is not None:
            self.dialog.close()
        dialog = FieldShareDialog(
            call=call,
            cameras=choices,
            preselected=preselected,
            send=lambda r: self.fields.send(
                call.id,
                officers=r.officers,
                camera_ids=list(r.camera_ids),
                duration_s=r.duration_s,
            ),
            parent=self.window,
        )
        dialog.sent.connect(lambda _r: self.panel.refresh())
        return self._show(dialog)

    def open_emergency_dialog(self, emergency_id: str) -> FieldShareDialog | None:
        """The dialog for an emergency of the banner (no call): its site's cameras and the
        nearest integrated ones the banner opened, preselected."""
        alert = getattr(self.window, "emergency_alert", None)
        item = (
            next((i for i in alert.items if i.emergency.id == emergency_id), None)
            if alert
            else None
        )
        if alert is None or item is None:
            messages.info("That emergency is no longer running.")
            return None
        site = alert.site_cameras(item.emergency)
        opened = alert.opened.get(emergency_id, [])
        nearby = [c for c in (alert.camera(cid) for cid in opened) if c is not None]
        choices, preselected = emergency_camera_choices(site, nearby, opened)
        panic = alert.panic(emergency_id)
        detail = " — ".join(
            p
            for p in (
                panic.location if panic else "",
                panic.description if panic else item.emergency.reason,
            )
            if p
        )
        level = f"alarm level {item.level}" if item.level is not None else "declared"
        title = f"{item.site} — {item.kind} — {level}"
        subject = EmergencySubject(emergency_id, title, detail or "no location given")
        if self.dialog is not None:
            self.dialog.close()
        dialog = FieldShareDialog(
            emergency=subject,
            cameras=choices,
            preselected=preselected,
            send=lambda r: self.fields.send_emergency(
                emergency_id,
                officers=r.officers,
                camera_ids=list(r.camera_ids),
                duration_s=r.duration_s,
            ),
            parent=self.window,
        )
        dialog.sent.connect(
            lambda results: alert.note_field_shares(emergency_id, sent_note(results, self.zone))
        )
        return self._show(dialog)

    def end_emergency_shares(self, emergency_id: str) -> None:
        """The banner's "End field shares": end the emergency's running shares (off the
        GUI thread; each audited on the server as ended by this analyst)."""
        alert = getattr(self.window, "emergency_alert", None)

        def work() -> int:
            running = [s for s in self.fields.emergency_shares(emergency_id) if s.ended_at is None]
            for share in running:
                self.fields.end_emergency(emergency_id, share.id)
            return len(running)

        def done(count: int) -> None:
            if alert is not None:
                alert.note_field_shares(
                    emergency_id, f"Field shares ended ({count})", running=False
                )

        def failed(exc: BaseException) -> None:
            if alert is not None:
                alert.note_field_shares(emergency_id, f"Field shares not ended: {exc}")

        run_in_background(
            work, on_success=done, on_failure=failed, what="Ending the field shares", owner=self
        )

    def _show(self, dialog: FieldShareDialog) -> FieldShareDialog:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dialog
        dialog.destroyed.connect(lambda *_: self._forget(dialog))
        run_in_background(
            self.fields.officers,
            on_success=dialog.set_roster,
            on_failure=lambda exc: dialog.set_roster_error(str(exc)),
            what="Listing the officers",
            owner=dialog,
        )
        dialog.show()
        self.dialog_opened.emit(dialog)
        return dialog

    def _forget(self, dialog: FieldShareDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None


def attach_send_to_field(window: Any, *, api: ApiClient) -> SendToField:
    """Calls ▸ "Send to field…" (Ctrl+Shift+F) and the call detail's "Sent to field" list."""
    wiring = SendToField(window, api, zone=window.status.zone)
    for menu_action in window.menuBar().actions():
        menu = menu_action.menu()
        if menu is not None and menu_action.text().replace("&", "") == "Calls":
            menu.addAction(wiring.action)
            break
    window.call_detail.add_section(wiring.panel)
    window.call_queue.call_selected.connect(wiring.panel.set_call)
    window.call_queue.field_wanted.connect(lambda _call_id: wiring.open_dialog())
    alert = getattr(window, "emergency_alert", None)  # the banner's "Send to field…"
    if alert is not None:
        alert.field_wanted.connect(wiring.open_emergency_dialog)
        alert.field_end_wanted.connect(wiring.end_emergency_shares)
    window.live.request_event.connect(wiring.panel.on_event)
    window.live.call_received.connect(
        lambda call, _v: wiring.panel.refresh() if call.id == wiring.panel.call_id else None
    )
    return wiring
