"""The console asks for the second factor: enrolment dialog with the QR code, the code in
the sign-in dialog, the code on the unlock screen. Real server (embedded), real TOTP codes
computed from the secret the enrolment dialog shows; the server's TOTP clock is pinned so
that each sign-in uses the next 30-second step (a code is never accepted twice)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
import requests

from rtcc_console.client.api import ApiClient, MfaRequired
from rtcc_console.client.mfa import MfaApi
from rtcc_console.server import mfa as server_mfa
from rtcc_console.ui.sign_in import SignInDialog
from tests.gui.conftest import PASSWORD, ConsoleServer

T0 = 1_900_000_020.0
DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def mfa_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ConsoleServer, list[float]]]:
    now = [T0]
    monkeypatch.setattr(server_mfa, "clock", lambda: now[0])
    server = ConsoleServer(
        tmp_path,
        n_registered=20,
        n_integrated=10,
        settings_extra={"mfa_required_roles": ["supervisor"]},
    )  # the fixture's admin signs in alone
    server.embedded.ensure_user("sue", "supervisor", PASSWORD)
    try:
        yield server, now
    finally:
        server.stop()


def _shot(widget: Any, name: str, tmp: Path) -> Path:
    """Offscreen grab; into docs/ when RTCC_DOCS_SCREENSHOTS=1 (how the docs pictures are made)."""
    target = (DOCS if os.environ.get("RTCC_DOCS_SCREENSHOTS") == "1" else tmp) / name
    assert widget.grab().save(str(target))
    return target


def _code(secret: str, at: float) -> str:
    return str(pyotp.TOTP(secret).at(int(at)))


def _enrol_over_api(base: str, now: float) -> tuple[ApiClient, str]:
    api = ApiClient(base)
    try:
        api.login("sue", PASSWORD)
    except MfaRequired as exc:
        mfa = MfaApi(api)
        secret = mfa.start_enrolment(exc.mfa_token).secret
        mfa.verify(exc.mfa_token, _code(secret, now))
        return api, secret
    raise AssertionError("sue should have had to enrol")


@pytest.mark.qt_log_ignore("GPUInfo not initialized")
def test_enrolment_dialog_shows_the_qr_code_then_the_recovery_codes(
    qtbot: Any, mfa_server: Any, tmp_path: Path
) -> None:
    server, now = mfa_server
    api = ApiClient(server.base)
    dialog = SignInDialog(api, username="sue")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.password.setText(PASSWORD)
    dialog.sign_in_button.click()
    qtbot.waitUntil(
        lambda: dialog.enrol_dialog is not None and dialog.enrol_dialog.isVisible(), timeout=10000
    )
    enrol = dialog.enrol_dialog
    assert enrol is not None
    qtbot.waitUntil(enrol.verify_button.isEnabled, timeout=10000)
    pixmap = enrol.qr_label.pixmap()
    assert not pixmap.isNull() and pixmap.width() >= 200  # the server's PNG, decoded by Qt
    secret = enrol.secret_label.text().split("\n")[-1].replace(" ", "")
    assert len(secret) == 32 and api.token is None
    _shot(enrol, "console-mfa-enrol.png", tmp_path)
    enrol.code.setText("000000" if _code(secret, now[0]) != "000000" else "111111")
    enrol.verify_button.click()
    qtbot.waitUntil(lambda: "not accepted" in enrol.error_label.text(), timeout=10000)
    enrol.code.setText(_code(secret, now[0]))
    enrol.verify_button.click()
    qtbot.waitUntil(enrol.done_button.isVisible, timeout=10000)
    codes = enrol.codes_view.toPlainText().split("\n")
    assert len(codes) == 10 and all(len(c) == 11 and c[5] == "-" for c in codes)
    with qtbot.waitSignal(dialog.signed_in, timeout=5000) as signed:
        enrol.done_button.click()
    assert signed.args[0].username == "sue" and signed.args[0].role == "supervisor"
    assert api.token is not None and api.me()["username"] == "sue"


@pytest.mark.qt_log_ignore("GPUInfo not initialized")
def test_sign_in_dialog_asks_for_the_code(qtbot: Any, mfa_server: Any, tmp_path: Path) -> None:
    server, now = mfa_server
    _api, secret = _enrol_over_api(server.base, now[0])
    now[0] += 30
    api = ApiClient(server.base)
    dialog = SignInDialog(api, username="sue")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.password.setText(PASSWORD)
    dialog.sign_in_button.click()
    qtbot.waitUntil(dialog.code.isVisible, timeout=10000)
    assert dialog.mfa_token is not None and not dialog.password.isEnabled()
    assert (
        dialog.sign_in_button.text() == "Verify code"
        and "authenticator" in dialog.error_label.text()
    )
    _shot(dialog, "console-signin-mfa.png", tmp_path)
    dialog.code.setText(_code(secret, now[0] - 30))  # the code already used at enrolment
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: "already used" in dialog.error_label.text(), timeout=10000)
    assert dialog.code.isVisible() and api.token is None
    dialog.code.setText(_code(secret, now[0]))
    with qtbot.waitSignal(dialog.signed_in, timeout=10000):
        dialog.sign_in_button.click()
    assert api.token is not None and not dialog.code.isVisible()


@pytest.mark.qt_log_ignore("GPUInfo not initialized")
def test_unlock_screen_asks_for_the_code(qtbot: Any, mfa_server: Any, make_console: Any) -> None:
    server, now = mfa_server
    api, secret = _enrol_over_api(server.base, now[0])
    window, _ = make_console.rebuild(api, idle_lock_ms=300)
    overlay = window.lock_overlay
    qtbot.waitUntil(lambda: overlay.locked, timeout=5000)
    now[0] += 30
    overlay.password.setText(PASSWORD)
    overlay.unlock_button.click()
    qtbot.waitUntil(overlay.code.isVisible, timeout=10000)
    assert overlay.locked and not overlay.password.isVisible()  # still covering the data
    overlay.code.setText("not a code")
    overlay.unlock_button.click()
    qtbot.waitUntil(lambda: "not accepted" in overlay.error_label.text(), timeout=10000)
    old_token = api.token
    overlay.code.setText(_code(secret, now[0]))
    with qtbot.waitSignal(overlay.unlocked, timeout=10000):
        overlay.unlock_button.click()
    assert not overlay.isVisible()
    assert api.token != old_token  # the unlock continued the session: the old token is revoked
    gone = requests.get(
        f"{server.base}/api/v1/auth/me",
        headers={"Authorization": f"Bearer {old_token}"},
        timeout=10,
    )
    assert gone.status_code == 401 and api.me()["username"] == "sue"
