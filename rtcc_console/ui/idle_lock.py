"""Idle lock: after a quiet period an opaque overlay hides the data until the password is
entered again (checked by the server, off the GUI thread). The same overlay covers the
window while signed out, so the layout stays intact behind it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from rtcc_console.client.api import AccountLocked, ApiClient, ServerUnreachable, Unauthorized
from rtcc_console.ui.tasks import run_in_background

INPUT_EVENTS = {
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseMove,
    QEvent.Type.Wheel,
    QEvent.Type.TouchBegin,
}


class IdleLock(QObject):
    """Emits ``idle_timed_out`` after ``timeout_ms`` without input.

    Input is seen by an event filter on the console's own widgets, plus a once-a-second
    look at the mouse position (for the map). Not an application-wide filter: a Python
    filter on every object of the process crashes QtWebEngine (PySide6 6.11, offscreen).
    """

    idle_timed_out = Signal()

    def __init__(self, parent: QObject, timeout_ms: int) -> None:
        super().__init__(parent)
        #: True while someone is evidently watching (video playing in the focused window):
        #: checked once a second, it counts as activity so a watched wall never locks.
        self.activity_probe: Callable[[], bool] | None = None
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(timeout_ms)
        self.timer.timeout.connect(self.idle_timed_out.emit)
        self._cursor = QCursor.pos()
        self.cursor_poll = QTimer(self)
        self.cursor_poll.setInterval(1000)
        self.cursor_poll.timeout.connect(self._check_cursor)
        self.cursor_poll.start()

    def watch(self, root: QWidget, *, exclude: tuple[QWidget, ...] = ()) -> None:
        """Filter input of ``root`` and its descendants, except the ``exclude`` subtrees."""
        widgets = [root, *root.findChildren(QWidget)]
        for widget in widgets:
            if any(widget is ex or ex.isAncestorOf(widget) for ex in exclude):
                continue
            widget.installEventFilter(self)

    def _check_cursor(self) -> None:
        pos = QCursor.pos()
        moved = pos != self._cursor
        self._cursor = pos
        watching = self.activity_probe is not None and self.activity_probe()
        if (moved or watching) and self.timer.isActive():
            self.timer.start()

    def set_timeout_ms(self, timeout_ms: int) -> None:
        """A new idle time (per role); a running countdown restarts with it."""
        self.timer.setInterval(timeout_ms)
        if self.timer.isActive():
            self.timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in INPUT_EVENTS and self.timer.isActive():
            self.timer.start()
        return False

    def restart(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()


class LockOverlay(QFrame):
    """Covers the whole window. Locked: password field and "Sign out / switch user";
    signed out: a plain notice."""

    unlocked = Signal()
    sign_out_requested = Signal()

    def __init__(self, api: ApiClient, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("LockOverlay")
        self.setAutoFillBackground(True)
        self.api = api
        self.title = QLabel(self)
        self.title.setObjectName("LockTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Password")
        width = self.fontMetrics().horizontalAdvance("M" * 22)  # scales with the font (high DPI)
        self.password.setFixedWidth(width)
        self.password.returnPressed.connect(self.try_unlock)
        self.unlock_button = QPushButton("Unlock", self)
        self.unlock_button.setFixedWidth(width)
        self.unlock_button.clicked.connect(self.try_unlock)
        self.switch_button = QPushButton("Sign out / switch user", self)
        self.switch_button.setObjectName("LockSwitchUser")
        self.switch_button.setFixedWidth(width)
        self.switch_button.clicked.connect(self.sign_out_requested.emit)
        self.error_label = QLabel(self)
        self.error_label.setObjectName("LockError")
        self.error_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box = QVBoxLayout(self)
        box.addStretch(1)
        for widget in (self.title, self.password, self.unlock_button, self.switch_button, self.error_label):
            box.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)
        box.addStretch(1)
        parent.installEventFilter(self)
        self.hide()

    @property
    def locked(self) -> bool:
        return self.isVisible() and self.password.isVisible()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        parent = self.parentWidget()
        if parent is not None and watched is parent and event.type() == QEvent.Type.Resize:
            self.setGeometry(parent.rect())
        return False

    def _cover(self) -> None:
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
        self.raise_()
        self.show()

    def show_locked(self, username: str) -> None:
        self.title.setText(f"Screen locked — {username}\nEnter your password to continue.")
        self.password.show()
        self.unlock_button.show()
        self.switch_button.show()
        self.error_label.clear()
        self.password.clear()
        self._cover()
        self.password.setFocus()

    def show_signed_out(self) -> None:
        self.title.setText("Signed out. Sign in to continue.")
        self.password.hide()
        self.unlock_button.hide()
        self.switch_button.hide()
        self.error_label.clear()
        self._cover()

    def try_unlock(self) -> None:
        password = self.password.text()
        if not password:
            return
        self.unlock_button.setEnabled(False)
        self.error_label.setText("Checking…")
        run_in_background(
            lambda: self.api.verify_password(password),
            on_success=self._unlocked,
            on_failure=self._failed,
            what="Unlock",
        )

    def _unlocked(self, _user: Any) -> None:
        self.unlock_button.setEnabled(True)
        self.password.clear()
        self.hide()
        self.unlocked.emit()

    def _failed(self, exc: BaseException) -> None:
        self.unlock_button.setEnabled(True)
        self.password.clear()
        if isinstance(exc, AccountLocked):
            self.error_label.setText(f"Account locked: {exc.detail}")
        elif isinstance(exc, Unauthorized):
            self.error_label.setText("Wrong password.")
        elif isinstance(exc, ServerUnreachable):
            self.error_label.setText("The server is unreachable; the password cannot be checked.")
        else:
            self.error_label.setText(f"Unlock failed: {exc}")
