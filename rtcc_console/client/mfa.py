"""The second step of sign-in, for the console: enrolment (QR code) and the code itself.

Used after :class:`~rtcc_console.client.api.MfaRequired`; the challenge token it carries
is the only credential. Blocking: run it off the GUI thread (``ui.tasks``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rtcc_console.client.api import ApiClient, SessionUser


@dataclass(frozen=True, slots=True)
class Enrolment:
    """A new shared secret to put into an authenticator app."""

    secret: str
    otpauth_uri: str
    issuer: str
    account: str
    qr_png: bytes


class MfaApi:
    """``POST /auth/mfa/enrol`` (+ its QR PNG) and ``POST /auth/mfa`` on top of ``ApiClient``."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        #: Recovery codes answered by the sign-in that completed enrolment (shown once).
        self.recovery_codes: list[str] = []

    def start_enrolment(self, mfa_token: str) -> Enrolment:
        body: dict[str, Any] = self.api.request(
            "POST", "/auth/mfa/enrol", auth=False, json={"mfa_token": mfa_token}
        ).json()
        png = self.api.request(
            "POST", "/auth/mfa/enrol/qr.png", auth=False, json={"mfa_token": mfa_token}
        ).content
        return Enrolment(
            secret=str(body["secret"]),
            otpauth_uri=str(body["otpauth_uri"]),
            issuer=str(body["issuer"]),
            account=str(body["account"]),
            qr_png=png,
        )

    def verify(self, mfa_token: str, code: str) -> SessionUser:
        """Send the code; on success the client is signed in (token kept in memory)."""
        # a signed-in client (screen unlock) sends its token: the server continues that session
        body: dict[str, Any] = self.api.request(
            "POST",
            "/auth/mfa",
            auth=False,
            headers=self.api.auth_headers(),
            json={"mfa_token": mfa_token, "code": code},
        ).json()
        self.recovery_codes = [str(c) for c in body.get("recovery_codes") or []]
        return self.api.adopt_session(body)
