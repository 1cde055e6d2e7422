"""Enrolment of a second factor: the QR code to scan, the secret to type if the app
cannot scan, the first code to prove it works, then the one-time recovery codes.

Shown by the sign-in dialog (or the unlock screen) when the server answers that the user
must enrol (``MfaRequired.enrol``). Network work runs off the GUI thread.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from rtcc_console.client.api import AccountLocked, ApiClient, SessionUser, Unauthorized
from rtcc_console.client.mfa import Enrolment, MfaApi
from rtcc_console.ui.tasks import run_in_background


def describe_code_error(exc: BaseException) -> str:
    if isinstance(exc, AccountLocked):
        return f"This account is locked after too many failed attempts. {exc.detail}"
    if isinstance(exc, Unauthorized):
        detail = exc.detail or ""
        if "sign in again" in detail:
            return "This sign-in step has expired. Close this window and sign in again."
        return "That code was not accepted (wrong, or already used). Wait for the next code and try again."
    return f"The code could not be checked: {exc}"


class MfaEnrolDialog(QDialog):
    """Emits ``enrolled(SessionUser)`` once the first code was accepted and the recovery
    codes were acknowledged."""

    enrolled = Signal(object)
    loaded = Signal()

    def __init__(self, api: ApiClient, mfa_token: str, parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("MfaEnrolDialog")
        self.setWindowTitle("RTCC Console — set up your second factor")
        self.mfa = MfaApi(api)
        self.mfa_token = mfa_token
        self.user: SessionUser | None = None
        self.intro = QLabel(
            "Your role requires a second factor (CJIS). Scan this code with an authenticator "
            "app (e.g. FreeOTP, Google or Microsoft Authenticator), then enter the 6-digit code it shows.",
            self,
        )
        self.intro.setWordWrap(True)
        self.qr_label = QLabel("Loading…", self)
        self.qr_label.setObjectName("MfaQrCode")
        self.qr_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr_label.setMinimumSize(260, 260)
        self.qr_label.setStyleSheet("background: white; color: black;")
        self.secret_label = QLabel(self)
        self.secret_label.setObjectName("MfaSecret")
        self.secret_label.setWordWrap(True)
        self.secret_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.code = QLineEdit(self)
        self.code.setObjectName("MfaCode")
        self.code.setPlaceholderText("6-digit code")
        self.code.setMaxLength(12)
        self.code.returnPressed.connect(self.submit)
        self.verify_button = QPushButton("Verify and sign in", self)
        self.verify_button.setDefault(True)
        self.verify_button.setEnabled(False)
        self.verify_button.clicked.connect(self.submit)
        self.error_label = QLabel(self)
        self.error_label.setObjectName("MfaError")
        self.error_label.setWordWrap(True)
        self.codes_view = QPlainTextEdit(self)
        self.codes_view.setObjectName("MfaRecoveryCodes")
        self.codes_view.setReadOnly(True)
        self.codes_view.setFont(QFont("monospace"))
        self.codes_view.hide()
        self.done_button = QPushButton("I have saved these codes", self)
        self.done_button.hide()
        self.done_button.clicked.connect(self._finish)
        row = QHBoxLayout()
        row.addWidget(self.code, 1)
        row.addWidget(self.verify_button)
        box = QVBoxLayout(self)
        box.addWidget(self.intro)
        box.addWidget(self.qr_label, 1)
        box.addWidget(self.secret_label)
        box.addLayout(row)
        box.addWidget(self.error_label)
        box.addWidget(self.codes_view, 1)
        box.addWidget(self.done_button)
        self.resize(460, 600)
        run_in_background(
            lambda: self.mfa.start_enrolment(mfa_token),
            on_success=self._loaded,
            on_failure=self._load_failed,
            what="Second-factor enrolment",
        )

    def _loaded(self, enrolment: Enrolment) -> None:
        pixmap = QPixmap()
        pixmap.loadFromData(enrolment.qr_png, "PNG")
        self.qr_label.setPixmap(pixmap)
        grouped = " ".join(enrolment.secret[i : i + 4] for i in range(0, len(enrolment.secret), 4))
        self.secret_label.setText(
            f"Cannot scan? Account {enrolment.account} at {enrolment.issuer}, key:\n{grouped}"
        )
        self.verify_button.setEnabled(True)
        self.code.setFocus()
        self.loaded.emit()

    def _load_failed(self, exc: BaseException) -> None:
        self.qr_label.setText("—")
        self.error_label.setText(describe_code_error(exc))

    def submit(self) -> None:
        code = self.code.text().strip()
        if not code:
            self.error_label.setText("Enter the code your authenticator app shows.")
            return
        self.verify_button.setEnabled(False)
        self.error_label.setText("Checking…")
        run_in_background(
            lambda: self.mfa.verify(self.mfa_token, code),
            on_success=self._verified,
            on_failure=self._failed,
            what="Second factor",
        )

    def _failed(self, exc: BaseException) -> None:
        self.verify_button.setEnabled(True)
        self.code.clear()
        self.error_label.setText(describe_code_error(exc))

    def _verified(self, user: SessionUser) -> None:
        self.user = user
        self.code.setEnabled(False)
        self.error_label.setText(
            "Done. These recovery codes sign you in once each if you lose your phone. "
            "Store them somewhere safe now: they are not shown again."
        )
        self.codes_view.setPlainText("\n".join(self.mfa.recovery_codes))
        self.codes_view.show()
        self.done_button.show()
        self.done_button.setFocus()

    def _finish(self) -> None:
        self.codes_view.clear()
        self.enrolled.emit(self.user)
        self.accept()
