"""Idle lock: after a quiet period an opaque overlay hides the data until the password is
entered again (checked by the server, off the GUI thread), and the second-factor code
when the user's role requires one. The same overlay covers the window while signed out,
so the layout stays intact behind it."""

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

from rtcc_console.client.api import (
    AccountLocked,
    ApiClient,
    MfaRequired,
    ServerUnreachable,
    Unauthorized,
)
from rtcc_console.client.mfa import MfaApi
from rtcc_console.ui.mfa_enrol import MfaEnrolDialog, describe_code_error
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
        self.code = QLineEdit(self)
        self.code.setObjectName("LockMfaCode")
        self.code.setPlaceholderText("6-digit code or recovery code")
        self.code.setFixedWidth(width)
        self.code.setMaxLength(24)
        self.code.returnPressed.connect(self.try_unlock)
        self.code.hide()
        self.mfa = MfaApi(api)
        self.mfa_token: str | None = None
        self.enrol_dialog: MfaEnrolDialog | None = None
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
        for widget in (
            self.title,
            self.password,
            self.code,
            self.unlock_button,
            self.switch_button,
            self.error_label,
        ):
            box.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)
        box.addStretch(1)
        parent.installEventFilter(self)
        self.hide()

    @property
    def locked(self) -> bool:
        return self.isVisible() and (self.password.isVisible() or self.code.isVisible())

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
        self._end_code_step()
        self.password.show()
        self.unlock_button.show()
        self.switch_button.show()
        self.error_label.clear()
        self.password.clear()
        self._cover()
        self.password.setFocus()

    def show_signed_out(self) -> None:
        self.title.setText("Signed out. Sign in to continue.")
        self._end_code_step()
        self.code.hide()
        self.password.hide()
        self.unlock_button.hide()
        self.switch_button.hide()
        self.error_label.clear()
        self._cover()

    def try_unlock(self) -> None:
        if self.mfa_token is not None:
            self._try_code()
            return
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

    # --- second factor --------------------------------------------------------------
    def ask_for_code(self, mfa_token: str) -> None:
        """Password accepted: the code comes next (the password field is not asked again)."""
        self.mfa_token = mfa_token
        self.password.hide()
        self.code.clear()
        self.code.show()
        self.error_label.setText("Enter the 6-digit code from your authenticator app.")
        self.code.setFocus()

    def _end_code_step(self) -> None:
        self.mfa_token = None
        self.code.clear()
        self.code.hide()

    def _try_code(self) -> None:
        code, token = self.code.text().strip(), self.mfa_token
        if not code or token is None:
            return
        self.unlock_button.setEnabled(False)
        self.error_label.setText("Checking…")
        run_in_background(
            lambda: self.mfa.verify(token, code),
            on_success=self._code_accepted,
            on_failure=self._code_failed,
            what="Unlock",
        )

    def _code_accepted(self, user: Any) -> None:
        self._end_code_step()
        self._unlocked(user)

    def _code_failed(self, exc: BaseException) -> None:
        self.unlock_button.setEnabled(True)
        self.code.clear()
        message = describe_code_error(exc)
        if isinstance(exc, AccountLocked) or "sign in again" in message:
            self._end_code_step()
            self.password.show()
            message = message.replace(
                "Close this window and sign in again.", "Enter your password again."
            )
        self.error_label.setText(message)

    def _failed(self, exc: BaseException) -> None:
        self.unlock_button.setEnabled(True)
        self.password.clear()
        if isinstance(exc, MfaRequired):
            if exc.enrol:  # e.g. the second factor was reset while the screen was locked
                self.error_label.setText("Set up your second factor in the window that opened.")
                self.enrol_dialog = MfaEnrolDialog(self.api, exc.mfa_token, self.window())
                self.enrol_dialog.enrolled.connect(self._unlocked)
                self.enrol_dialog.open()
            else:
                self.ask_for_code(exc.mfa_token)
            return
        if isinstance(exc, AccountLocked):
            self.error_label.setText(f"Account locked: {exc.detail}")
        elif isinstance(exc, Unauthorized):
            self.error_label.setText("Wrong password.")
        elif isinstance(exc, ServerUnreachable):
            self.error_label.setText("The server is unreachable; the password cannot be checked.")
        else:
            self.error_label.setText(f"Unlock failed: {exc}")
