"""The signed-in session around the main window: sign-in dialog, sign-out and any 401.

The window is never destroyed: its data is covered and the live feed stopped while the
dialog is up; after a successful sign-in everything resumes with the same layout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rtcc_console.client.api import ApiClient
from rtcc_console.ui import messages
from rtcc_console.ui.sign_in import SignInDialog
from rtcc_console.ui.tasks import run_in_background, run_on_main

if TYPE_CHECKING:
    from rtcc_console.ui.main_window import MainWindow


class ConsoleSession:
    """Owns the sign-in dialog; reacts to sign-out and to 401 from any request."""

    def __init__(self, window: MainWindow, api: ApiClient) -> None:
        self.window = window
        self.api = api
        self.dialog: SignInDialog | None = None
        api.add_unauthorized_listener(lambda: run_on_main(self.on_unauthorized))
        window.sign_out_requested.connect(self.sign_out)

    def sign_in(self) -> SignInDialog:
        """Show the dialog (window-modal, not blocking the event loop)."""
        if self.dialog is not None and self.dialog.isVisible():
            return self.dialog
        last = self.api.user.username if self.api.user else ""
        self.dialog = SignInDialog(self.api, self.window, username=last)
        self.dialog.signed_in.connect(lambda _user: self.window.show_data())
        self.dialog.open()
        return self.dialog

    def on_unauthorized(self) -> None:
        """The token expired or was revoked: cover the data, ask again."""
        if self.dialog is not None and self.dialog.isVisible():
            return
        self.api.forget_token()
        self.window.hide_data()
        messages.warning("Your session ended; sign in again to continue.")
        self.sign_in()

    def sign_out(self) -> None:
        """Close every live view, end its grant while the session is still valid, then
        revoke the session (off the GUI thread).

        The client drops the token at once, so nothing signed-in starts meanwhile; the
        token is kept only for those last requests. Views whose grant was still being
        requested are ended by the server with the session.
        """
        token = self.api.token
        grant_ids = self.window.wall.close_for_sign_out()
        self.api.forget_token()
        self.window.hide_data()
        if token is not None:
            run_in_background(lambda: self.api.end_session(token, grant_ids), what="Signing out")
        self.sign_in()
