"""Sign-in dialog: the system-use notice, then user name + password, checked off the GUI
thread. Errors say what happened (wrong password, locked account, server unreachable).
The password is never stored; the token stays in the ``ApiClient``'s memory.

When the server asks for a second factor the dialog asks for the code (or a recovery
code) in place; a user who must enrol first gets the enrolment dialog (QR code)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
)

from rtcc_console.client.api import (
    AccountLocked,
    ApiClient,
    ApiError,
    MfaRequired,
    ServerUnreachable,
    SessionUser,
    Unauthorized,
)
from rtcc_console.client.mfa import MfaApi
from rtcc_console.ui.mfa_enrol import MfaEnrolDialog, describe_code_error
from rtcc_console.ui.tasks import run_in_background


def describe_sign_in_error(exc: BaseException, server_url: str) -> str:
    """One sentence the analyst can act on."""
    if isinstance(exc, AccountLocked):
        return f"This account is locked after too many failed attempts. {exc.detail}"
    if isinstance(exc, Unauthorized):
        return "Wrong user name or password."
    if isinstance(exc, ServerUnreachable):
        return f"Cannot reach the server at {server_url}. Check the network, then try again."
    if isinstance(exc, ApiError) and exc.status == 429:
        return f"Too many sign-in attempts from this workstation; wait and retry. ({exc.detail})"
    return f"Sign-in failed: {exc}"


class SignInDialog(QDialog):
    """Emits ``signed_in(SessionUser)`` and accepts on success."""

    signed_in = Signal(object)

    def __init__(self, api: ApiClient, parent: Any = None, *, username: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("SignInDialog")
        self.setWindowTitle("RTCC Console — sign in")
        self.api = api
        self.notice_view = QTextBrowser(self)
        self.notice_view.setObjectName("SystemNotice")
        self.notice_view.setPlainText("Loading the system-use notice…")
        self.notice_view.setMinimumHeight(140)
        self.username = QLineEdit(username, self)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.code = QLineEdit(self)
        self.code.setObjectName("MfaCode")
        self.code.setPlaceholderText("6-digit code or recovery code")
        self.code.setMaxLength(24)
        self.code_label = QLabel("Code", self)
        self.mfa_token: str | None = None
        self.enrol_dialog: MfaEnrolDialog | None = None
        self.mfa = MfaApi(api)
        self.sign_in_button = QPushButton("I agree — sign in", self)
        self.sign_in_button.setDefault(True)
        self.sign_in_button.clicked.connect(self.submit)
        self.error_label = QLabel(self)
        self.error_label.setObjectName("SignInError")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form = QFormLayout()
        form.addRow("User name", self.username)
        form.addRow("Password", self.password)
        form.addRow(self.code_label, self.code)
        self.code_label.hide()
        self.code.hide()
        box = QVBoxLayout(self)
        box.addWidget(QLabel(f"Server: {api.base_url}", self))
        box.addWidget(self.notice_view, 1)
        box.addLayout(form)
        box.addWidget(self.error_label)
        box.addWidget(self.sign_in_button)
        self.resize(560, 460)
        self.load_notice()

    def load_notice(self) -> None:
        run_in_background(
            self.api.notice, on_success=self._notice_loaded, on_failure=self._notice_failed
        )

    def _notice_loaded(self, body: dict[str, str]) -> None:
        title = (
            f"{body['agency']} — system-use notice" if body.get("agency") else "System-use notice"
        )
        text = body.get("text") or ""
        self.notice_view.setPlainText(f"{title}\n\n{text}".strip())

    def _notice_failed(self, exc: BaseException) -> None:
        self.notice_view.setPlainText(
            "The system-use notice could not be loaded.\n"
            + describe_sign_in_error(exc, self.api.base_url)
        )

    def submit(self) -> None:
        if self.mfa_token is not None:
            self._submit_code()
            return
        username, password = self.username.text().strip(), self.password.text()
        if not username or not password:
            self.error_label.setText("Enter your user name and password.")
            return
        self.sign_in_button.setEnabled(False)
        self.error_label.setText("Signing in…")
        run_in_background(
            lambda: self.api.login(username, password),
            on_success=self._succeeded,
            on_failure=self._failed,
            what="Sign-in",
        )

    def _succeeded(self, user: SessionUser) -> None:
        self.password.clear()
        self.sign_in_button.setEnabled(True)
        self.error_label.clear()
        self.signed_in.emit(user)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.password.clear()
        self.sign_in_button.setEnabled(True)
        if isinstance(exc, MfaRequired):
            if exc.enrol:
                self.error_label.setText(
                    "Your role requires a second factor: set it up in the window that opened."
                )
                self.enrol_dialog = MfaEnrolDialog(self.api, exc.mfa_token, self)
                self.enrol_dialog.enrolled.connect(self._succeeded)
                self.enrol_dialog.open()
                return
            self.ask_for_code(exc.mfa_token)
            return
        self.error_label.setText(describe_sign_in_error(exc, self.api.base_url))
        self.password.setFocus()

    # --- second factor --------------------------------------------------------------
    def ask_for_code(self, mfa_token: str) -> None:
        """Password accepted: show the code field (the password is not asked again)."""
        self.mfa_token = mfa_token
        self.username.setEnabled(False)
        self.password.setEnabled(False)
        self.code_label.show()
        self.code.show()
        self.code.clear()
        self.sign_in_button.setText("Verify code")
        self.error_label.setText(
            "Enter the 6-digit code from your authenticator app (or a recovery code)."
        )
        self.code.setFocus()

    def _submit_code(self) -> None:
        code, token = self.code.text().strip(), self.mfa_token
        if not code or token is None:
            self.error_label.setText("Enter the code from your authenticator app.")
            return
        self.sign_in_button.setEnabled(False)
        self.error_label.setText("Checking the code…")
        run_in_background(
            lambda: self.mfa.verify(token, code),
            on_success=self._code_accepted,
            on_failure=self._code_failed,
            what="Second factor",
        )

    def _code_accepted(self, user: SessionUser) -> None:
        self._reset_code_step()
        self._succeeded(user)

    def _code_failed(self, exc: BaseException) -> None:
        self.sign_in_button.setEnabled(True)
        self.code.clear()
        message = describe_code_error(exc)
        if isinstance(exc, AccountLocked) or "sign in again" in message:
            self._reset_code_step()
        self.error_label.setText(message)

    def _reset_code_step(self) -> None:
        self.mfa_token = None
        self.username.setEnabled(True)
        self.password.setEnabled(True)
        self.code.clear()
        self.code.hide()
        self.code_label.hide()
        self.sign_in_button.setText("I agree — sign in")
