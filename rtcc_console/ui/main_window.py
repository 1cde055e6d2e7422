"""The analyst console's main window: docked panels, keyboard, status bar, persistence.

Panels (all docks, movable and restorable): calls, map, cameras, wall, footage requests
(``ui.requests``) and evidence (``ui.evidence``). The window is never destroyed by sign-out or a 401:
``hide_data`` covers it and stops the live feed; ``show_data`` brings everything back with
the same layout. Layout, geometry and the selected call are saved to a QSettings ini file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QWidget,
)

from rtcc_console.client.api import ApiClient
from rtcc_console.config import ConsoleSettings
from rtcc_console.core.models import DispatchCall, Role
from rtcc_console.ui import messages
from rtcc_console.ui.call_alerts import CallAlerter, QtSoundPlayer
from rtcc_console.ui.call_detail import CallDetail
from rtcc_console.ui.call_queue import CallQueue
from rtcc_console.ui.call_queue_model import COL_AGE
from rtcc_console.ui.camera_list import CameraList
from rtcc_console.ui.console_status import ConsoleStatusBar
from rtcc_console.ui.idle_lock import IdleLock, LockOverlay
from rtcc_console.ui.live_data import LiveData
from rtcc_console.ui.screen_fit import fit_to_screen
from rtcc_console.ui.seams import ConsoleMap, ConsoleWall, as_widget
from rtcc_console.ui.selection import CallSelection
from rtcc_console.ui.shortcut_sheet import ShortcutSheet
from rtcc_console.ui.tasks import run_in_background

STATE_VERSION = 1


def _placeholder(text: str) -> QLabel:
    label = QLabel(text)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    label.setObjectName("PlaceholderPanel")
    return label


class MainWindow(QMainWindow):
    """Composes the panels; ``sign_out_requested`` asks the app to show the sign-in dialog."""

    sign_out_requested = Signal()

    def __init__(
        self,
        settings: ConsoleSettings,
        api: ApiClient,
        live: LiveData,
        *,
        map_view: ConsoleMap,
        wall: ConsoleWall,
        settings_file: Path,
        idle_lock_ms: int | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("RtccMainWindow")
        self.setWindowTitle("RTCC Console")
        self.settings = settings
        self.api = api
        self.live = live
        self.settings_file = settings_file
        self.alerter = CallAlerter(
            sounds=settings.alert_sounds,
            player=QtSoundPlayer(settings.cache_dir),
            window=lambda: self,
            repeat_s=settings.alert_repeat_s,
            max_repeats=settings.alert_max_repeats,
            muted=settings.alert_muted,
            parent=self,
        )
        self.call_queue = CallQueue(
            self,
            alerter=self.alerter,
            hold_s=settings.queue_hold_s,
            closed_linger_s=settings.closed_linger_s,
        )
        self.camera_list = CameraList(self)
        self.map_view = map_view
        self.wall = wall
        from rtcc_console.ui.requests.controller import attach_footage_requests

        self.footage = attach_footage_requests(
            self, api=api, live=live, time_zone=settings.time_zone, map_view=map_view
        )
        self.requests_panel = self.footage.panel
        from rtcc_console.ui.evidence.attach import attach_evidence

        self.evidence = attach_evidence(
            self,
            api=api,
            live=live,
            time_zone=settings.time_zone,
            cache_dir=settings.cache_dir,
            wall=wall,
        )
        from rtcc_console.ui.audit_viewer import attach_audit_viewer

        self.audit_viewer = attach_audit_viewer(self, api=api)  # supervisors and admins (show_data)
        self.call_detail = CallDetail()
        self.evidence_panel = self.evidence.tab
        from rtcc_console.ui.dashboard import apply_dashboard_role, attach_dashboard

        self.dashboard = attach_dashboard(self, api=api, live=live, wall=wall)
        self._apply_dashboard_role = apply_dashboard_role
        from rtcc_console.ui.incident_review import attach_incident_review

        self.review = attach_incident_review(
            self, api=api, evidence=self.evidence, zone=self.evidence.tab.player.zone
        )
        self.docks: dict[str, QDockWidget] = {}
        self.session: Any = None  # the ConsoleSession, attached by build_console
        self._floating_hidden: list[QDockWidget] = []
        self.setDockNestingEnabled(True)
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        self._dock("calls", "Calls", self.call_queue, left)
        self._dock("cameras", "Cameras", self.camera_list, left)
        self._dock("requests", "Requests", self.requests_panel, left, scroll=True)
        self._dock("evidence", "Evidence", self.evidence_panel, left, scroll=True)
        self._dock("details", "Call details", self.call_detail, left, scroll=True)
        self._dock("map", "Map", as_widget(map_view), right)
        self._dock("wall", "Wall", as_widget(wall), right)
        self._dock("audit", "Audit", self.audit_viewer, right, scroll=True)
        self.tabifyDockWidget(self.docks["wall"], self.docks["audit"])
        self.tabifyDockWidget(self.docks["cameras"], self.docks["requests"])
        self.tabifyDockWidget(self.docks["requests"], self.docks["evidence"])
        self.tabifyDockWidget(self.docks["cameras"], self.docks["details"])
        self._dock(
            "dashboard", "Dashboard", self.dashboard, right, scroll=True
        )  # supervisors (show_data)
        self.tabifyDockWidget(self.docks["wall"], self.docks["dashboard"])
        self._dock(
            "review", "Incident review", self.review, right, scroll=True
        )  # supervisors (show_data)
        self.tabifyDockWidget(self.docks["dashboard"], self.docks["review"])
        self.docks["wall"].raise_()
        self.docks["cameras"].raise_()
        docks = self.docks
        self.resizeDocks([docks["calls"], docks["map"]], [660, 940], Qt.Orientation.Horizontal)
        self.resizeDocks([docks["calls"], docks["cameras"]], [480, 420], Qt.Orientation.Vertical)
        self.resizeDocks([docks["map"], docks["wall"]], [420, 480], Qt.Orientation.Vertical)

        self.status = ConsoleStatusBar(settings.time_zone, self)
        self.call_queue.model.zone = self.status.zone
        self.call_detail.zone = self.status.zone
        self.setStatusBar(self.status)
        self.selection = CallSelection(
            settings,
            calls=self.call_queue,
            camera_list=self.camera_list,
            live=live,
            map_view=map_view,
            wall=wall,
            role=self.role,
            request_footage=self.footage.request_for_camera,
            counts_changed=self._update_counts,
        )
        self.lock_overlay = LockOverlay(api, self)
        self._idle_lock_ms_override = idle_lock_ms
        self._quit_confirmed = False  # the Quit action asked already
        self.idle_lock = IdleLock(
            self, settings.idle_lock_s * 1000 if idle_lock_ms is None else idle_lock_ms
        )
        self.idle_lock.idle_timed_out.connect(self.lock)
        self.lock_overlay.unlocked.connect(self.idle_lock.restart)
        self.lock_overlay.unlocked.connect(self._reveal_outside_overlay)
        self.lock_overlay.unlocked.connect(self._summarise_while_locked)
        self.lock_overlay.sign_out_requested.connect(self.sign_out_requested.emit)
        self.idle_lock.activity_probe = self._someone_is_watching
        self._lock_snapshot: tuple[set[str], set[str]] | None = None
        self._build_menus()
        self._wire()
        from rtcc_console.ui.emergency_alert import attach_emergency_alert  # issue 12 banner

        self.emergency_alert = attach_emergency_alert(
            self, api=api, live=live, map_view=map_view, wall=wall, player=self.alerter.player
        )
        self.emergency_alert.zone = self.status.zone  # agency time, as the clock and the queue
        from rtcc_console.ui.field_share_dialog import attach_send_to_field  # issue 16

        self.send_to_field = attach_send_to_field(self, api=api)  # Calls ▸ Send to field…
        self._default_state = self.saveState(STATE_VERSION)
        self.idle_lock.watch(self, exclude=(as_widget(map_view),))

    # -- composition -----------------------------------------------------------------
    def _dock(
        self,
        key: str,
        title: str,
        widget: QWidget,
        area: Qt.DockWidgetArea,
        *,
        scroll: bool = False,
    ) -> None:
        """A movable, floatable panel. ``scroll``: the panel scrolls inside its dock rather
        than forcing the window larger than a small screen (1366x768)."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{key}")
        if scroll:
            holder = QScrollArea(dock)
            holder.setObjectName(f"scroll_{key}")
            holder.setWidgetResizable(True)
            holder.setFrameShape(QFrame.Shape.NoFrame)
            holder.setWidget(widget)
            dock.setWidget(holder)
        else:
            dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(area, dock)
        self.docks[key] = dock

    def _action(self, text: str, keys: list[str], slot: Any) -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_menus(self) -> None:
        console = self.menuBar().addMenu("&Console")
        self.sign_out_action = self._action("Sign out", [], self.sign_out_requested.emit)
        console.addAction(self.sign_out_action)
        console.addAction(self._action("Lock screen", ["Ctrl+L"], self.lock))
        self.quit_action = self._action("Quit", ["Ctrl+Q"], self.request_quit)
        console.addAction(self.quit_action)
        calls = self.menuBar().addMenu("C&alls")
        self.next_call_action = self._action(
            "Next call", ["Ctrl+Down", "J"], lambda: self.call_queue.step(1)
        )
        self.prev_call_action = self._action(
            "Previous call", ["Ctrl+Up", "K"], lambda: self.call_queue.step(-1)
        )
        self.search_action = self._action("Search calls", ["Ctrl+F"], self.focus_search)
        self.ack_action = self._action(
            "Acknowledge new calls", ["Ctrl+Shift+A"], self.call_queue.acknowledge_all
        )
        self.mute_action = self._action(
            "Mute call alerts", ["Ctrl+Shift+M"], self.call_queue.mute_button.toggle
        )
        calls.addActions(
            [
                self.next_call_action,
                self.prev_call_action,
                self.search_action,
                self.ack_action,
                self.mute_action,
            ]
        )
        cams = self.menuBar().addMenu("Ca&meras")
        self.focus_map_action = self._action("Focus map", ["Ctrl+M"], self.focus_map)
        self.open_top_action = self._action(
            "Open top cameras on the wall", ["Ctrl+Return"], self.open_top_cameras
        )
        cams.addActions([self.focus_map_action, self.open_top_action])
        view = self.menuBar().addMenu("&View")
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())
        view.addSeparator()
        self.reset_layout_action = self._action("Reset layout", [], self.reset_layout)
        view.addAction(self.reset_layout_action)
        help_menu = self.menuBar().addMenu("&Help")
        self.shortcuts_action = self._action("Keyboard shortcuts", ["F1"], self.show_shortcuts)
        help_menu.addAction(self.shortcuts_action)

    def _wire(self) -> None:
        messages.bridge().message_posted.connect(self._show_message)
        live = self.live
        live.calls_loaded.connect(self.selection.on_calls_loaded)
        live.call_received.connect(self.selection.on_call_received)
        live.registry_loaded.connect(self.selection.on_registry_loaded)
        live.camera_changed.connect(self.selection.on_camera_changed)
        live.camera_deleted.connect(self.selection.on_camera_deleted)
        live.emergencies_changed.connect(self.selection.refresh_cameras)
        live.emergency_ended.connect(self.selection.on_emergency_ended)
        live.grant_revoked.connect(self.selection.on_grant_revoked)
        live.link_changed.connect(self._on_link_changed)
        self.call_queue.call_selected.connect(self.selection.select)
        self.call_queue.call_acknowledged.connect(self._send_acknowledgement)
        self.call_queue.call_selected.connect(self._show_call_detail)
        self.call_queue.selection_filtered.connect(self.call_detail.set_filtered_out)
        live.call_received.connect(self._call_updated)
        live.emergencies_changed.connect(self._refresh_call_detail)
        self.camera_list.camera_activated.connect(self.selection.open_camera)
        self.camera_list.camera_selected.connect(self.selection.highlight_camera)
        self.call_queue.model.rowsInserted.connect(self._update_counts)
        self.call_queue.model.rowsRemoved.connect(self._update_counts)
        self.call_queue.model.modelReset.connect(self._update_counts)
        self.call_queue.model.dataChanged.connect(self._count_on_change)
        self.map_view.call_clicked.connect(self.call_queue.select_call)
        # a camera clicked on the map: selected in the list, its actions offered
        self.map_view.camera_clicked.connect(self._camera_clicked_on_map)
        self.call_queue.open_top_wanted.connect(lambda _cid: self.open_top_cameras())
        self.call_queue.footage_wanted.connect(lambda _cid: self.footage.new_request())
        self.call_queue.show_on_map_wanted.connect(lambda _cid: self.focus_map())
        self.camera_list.footage_wanted.connect(self.footage.request_for_camera)
        self.camera_list.show_on_map_wanted.connect(self._show_camera_on_map)
        self.wall.open_top_requested.connect(self.open_top_cameras)  # the wall's Ctrl+Shift+O

    # -- actions ---------------------------------------------------------------------
    def _send_acknowledgement(self, call_id: str) -> None:
        """Audited per user on the server; a failure is reported, the local state stays."""
        run_in_background(
            lambda: self.api.acknowledge_call(call_id), what="Recording the acknowledgement"
        )

    def _show_call_detail(self, call_id: str) -> None:
        self._refresh_call_detail(call_id)
        self.call_detail.load(self.api.get_call)

    def _refresh_call_detail(self, call_id: str | None = None) -> None:
        call = self.call_queue.model.call(call_id or self.call_queue.selected_call_id() or "")
        if call is None:
            return
        self.call_detail.show_call(
            call,
            emergencies=self.live.active_emergencies(),
            cameras=self.live.index.get,
            nearby_camera_ids=[o.camera.id for o in self.selection.options],
            now=datetime.now(UTC),
        )

    def _call_updated(self, call: DispatchCall, _version: int) -> None:
        if self.call_detail.call is not None and call.id == self.call_detail.call.id:
            self._show_call_detail(call.id)

    def _camera_clicked_on_map(self, camera_id: str) -> None:
        self.docks["cameras"].raise_()
        if not self.camera_list.offer_actions(camera_id):
            self.status.showMessage(
                f"{camera_id} is not among the selected call's ranked cameras", 5000
            )

    def _show_camera_on_map(self, camera_id: str) -> None:
        self.docks["map"].raise_()
        self.selection.highlight_camera(camera_id)

    def focus_search(self) -> None:
        self.docks["calls"].raise_()
        self.call_queue.search_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.call_queue.search_box.selectAll()

    def focus_map(self) -> None:
        self.docks["map"].raise_()
        as_widget(self.map_view).setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.map_view.focus_call()

    def role(self) -> Role | None:
        """The signed-in user's role (None when signed out or unknown)."""
        user = self.api.user
        return Role(user.role) if user and user.role in Role._value2member_map_ else None

    def open_top_cameras(self) -> int:
        """Open the best cameras the analyst may view live now on the wall."""
        return self.selection.open_top_cameras()

    def _someone_is_watching(self) -> bool:
        """Video playing in the focused console window counts as activity."""
        return self.isActiveWindow() and self.wall.is_playing()

    def _summarise_while_locked(self) -> None:
        """After unlocking: what arrived while the screen was covered."""
        if self._lock_snapshot is None:
            return
        calls_before, emergencies_before = self._lock_snapshot
        self._lock_snapshot = None
        new = [c for c in self.call_queue.model.calls() if c.id not in calls_before]
        started = [e for e in self.live.active_emergencies() if e.id not in emergencies_before]
        if not new and not started:
            self.last_lock_summary = "Nothing new arrived while the screen was locked."
        else:
            parts = []
            if new:
                by_p: dict[int, int] = {}
                for c in new:
                    by_p[c.priority] = by_p.get(c.priority, 0) + 1
                detail = ", ".join(f"{n} P{p}" for p, n in sorted(by_p.items()))
                parts.append(f"{len(new)} new call{'s' if len(new) != 1 else ''} ({detail})")
            if started:
                parts.append(
                    f"{len(started)} emergenc{'ies' if len(started) != 1 else 'y'} started"
                )
            self.last_lock_summary = "While the screen was locked: " + "; ".join(parts) + "."
        messages.info(self.last_lock_summary)

    def apply_role_idle_time(self) -> None:
        """The idle time of the signed-in user's role (``idle_lock_by_role``)."""
        user = self.api.user
        seconds = (
            self.settings.idle_lock_by_role.get(user.role, self.settings.idle_lock_s)
            if user
            else self.settings.idle_lock_s
        )
        if self._idle_lock_ms_override is None:
            self.idle_lock.set_timeout_ms(seconds * 1000)

    def lock(self) -> None:
        """Cover the data until the password is entered again."""
        self._lock_snapshot = (
            {c.id for c in self.call_queue.model.calls()},
            {e.id for e in self.live.active_emergencies()},
        )
        self._conceal_outside_overlay()
        self.lock_overlay.show_locked(self.api.user.username if self.api.user else "")

    def hide_data(self) -> None:
        """Sign-out / 401: stop the feed and cover the panels; layout stays as it is."""
        self.live.stop()
        self.idle_lock.stop()
        self.wall.end_session()  # no live view outlives the session that opened it
        self._conceal_outside_overlay()
        self.lock_overlay.show_signed_out()

    def show_data(self) -> None:
        """Signed in again: uncover and reconnect."""
        self.lock_overlay.hide()
        self._reveal_outside_overlay()
        self.apply_role_idle_time()
        self.idle_lock.restart()
        self.audit_viewer.apply_role(
            self.docks["audit"], self.api.user.role if self.api.user else None
        )
        user = self.api.user
        self.status.set_user(f"{user.username} ({user.role})" if user else "")
        if user is not None:
            self.wall.set_user(user.username)
        self._apply_dashboard_role(
            self.dashboard, self.docks["dashboard"], user.role if user else None
        )
        self.review.apply_role(self.docks["review"], user.role if user else None)
        self.live.start()

    def _set_actions_enabled(self, on: bool) -> None:
        """While covered, shortcuts must not act on hidden data (J, Ctrl+Return...)."""
        for action in self.actions():
            action.setEnabled(on)

    def _conceal_outside_overlay(self) -> None:
        """Floating panels are windows of their own: the overlay cannot cover them."""
        self._set_actions_enabled(False)
        for dock in self.docks.values():
            if dock.isFloating() and dock.isVisible():
                self._floating_hidden.append(dock)
                dock.hide()

    def _reveal_outside_overlay(self) -> None:
        self._set_actions_enabled(True)
        for dock in self._floating_hidden:
            dock.show()
        self._floating_hidden.clear()

    # -- status ----------------------------------------------------------------------
    def _on_link_changed(self, state: str, since: Any) -> None:
        self.status.set_link(state, since)
        self.call_queue.set_offline(self.status.offline_text(state, since))

    def _count_on_change(self, top_left: Any, *_args: Any) -> None:
        if top_left.column() != COL_AGE:  # the age tick changes no count
            self._update_counts()

    def _update_counts(self, *_args: Any) -> None:
        self.status.set_counts(
            self.call_queue.model.open_count(), len(self.live.index.camera_ids())
        )

    def _show_message(self, level: str, text: str) -> None:
        self.status.showMessage(text, 10_000)
        if level == "error" and self.isVisible():
            box = QMessageBox(
                QMessageBox.Icon.Critical, "RTCC Console", text, QMessageBox.StandardButton.Ok, self
            )
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.setModal(False)
            box.show()

    # -- persistence -----------------------------------------------------------------
    def qsettings(self) -> QSettings:
        return QSettings(str(self.settings_file), QSettings.Format.IniFormat)

    def reset_layout(self) -> None:
        """Every panel back where a new console puts it, sized for this screen."""
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()
        self.restoreState(self._default_state, STATE_VERSION)
        fit_to_screen(self, force=True)
        QTimer.singleShot(0, self.size_docks)

    def size_docks(self) -> None:
        """Share the height by proportion, so a small screen still shows both the queue and
        at least eight ranked cameras, and a large one does not leave the queue half empty."""
        usable = max(300, self.height() - self.menuBar().height() - self.statusBar().height())
        docks = self.docks
        calls = int(usable * 0.44)
        self.resizeDocks(
            [docks["calls"], docks["cameras"]], [calls, usable - calls], Qt.Orientation.Vertical
        )
        map_h = int(usable * 0.45)
        self.resizeDocks(
            [docks["map"], docks["wall"]], [map_h, usable - map_h], Qt.Orientation.Vertical
        )
        left = int(self.width() * 0.42)
        self.resizeDocks(
            [docks["calls"], docks["map"]], [left, self.width() - left], Qt.Orientation.Horizontal
        )

    def show_shortcuts(self) -> None:
        self.shortcut_sheet = ShortcutSheet(self)
        self.shortcut_sheet.show()

    def restore_layout(self) -> str | None:
        """Restore geometry and dock layout; returns the call id selected last time."""
        qs = self.qsettings()
        geometry = qs.value("window/geometry")
        restored = isinstance(geometry, QByteArray) and self.restoreGeometry(geometry)
        fit_to_screen(self, force=not restored)
        state = qs.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state, STATE_VERSION)
        else:
            QTimer.singleShot(0, self.size_docks)  # once the fitted size has been applied
        selected = qs.value("calls/selected")
        return str(selected) if selected else None

    def save_layout(self) -> None:
        qs = self.qsettings()
        qs.setValue("window/geometry", self.saveGeometry())
        qs.setValue("window/state", self.saveState(STATE_VERSION))
        qs.setValue(
            "calls/selected",
            self.call_queue.selected_call_id() or self.selection.wanted_call_id or "",
        )
        qs.sync()

    def live_view_count(self) -> int:
        return self.wall.live_view_count()

    def confirm_quit(self) -> bool:
        """With live views open, ask first: quitting ends them (and their grants)."""
        views = self.live_view_count()
        if views == 0:
            return True
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Quit RTCC Console",
            f"{views} live view{'s are' if views != 1 else ' is'} open on the wall. Quitting ends "
            f"{'them' if views != 1 else 'it'} and releases the grant{'s' if views != 1 else ''}.",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        quit_button = box.addButton("Quit", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        self.quit_box = box
        box.exec()
        return box.clickedButton() is quit_button

    def request_quit(self) -> None:
        """The Quit action: confirm, then close without asking again."""
        if self.confirm_quit():
            self._quit_confirmed = True
            self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        # The window manager's close button asks as the Quit action does; a programmatic
        # close (sign-out, tests, the demo's timer) does not.
        if event.spontaneous() and not self._quit_confirmed and not self.confirm_quit():
            event.ignore()
            return
        self.save_layout()
        self.live.stop()
        self.wall.shutdown()
        self.dashboard.shutdown()  # pyqtgraph views die here, on the GUI thread
        self.review.shutdown()
        super().closeEvent(event)
