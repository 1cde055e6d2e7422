"""Multi-factor sign-in: TOTP (RFC 6238) with enrolment by QR code and recovery codes.

Rules (the SQL lives in ``store.mfa``):

* Policy: ``mfa_required_roles`` (default supervisor and admin, as CJIS asks of
  privileged access; add analyst to require it of everyone).
* A correct password for such a user does not sign in: it opens a *challenge*, a random
  token (stored as its SHA-256) that is valid ``mfa_challenge_s`` seconds and once. The
  code then goes to ``POST /auth/mfa`` with that token.
* A code is accepted for the current 30-second step or one step either side (clock skew),
  and only for a step later than the last accepted one, so a code is never accepted twice.
* Recovery codes: ten random one-time codes, shown once at enrolment, stored as an HMAC
  under a key derived from the server secret (a stolen database cannot brute-force them).
* The TOTP secret is stored encrypted (AES-GCM, key derived from the server secret).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rtcc_console.server.audit_keys import derive

PERIOD_S = 30
DIGITS = 6
RECOVERY_CODES = 10
_SECRET_INFO = b"rtcc mfa totp secret v1"
_RECOVERY_INFO = b"rtcc mfa recovery code v1"

#: Wall clock in seconds; tests replace it to test skew and reuse at exact step boundaries.
clock: Callable[[], float] = time.time


class MfaSecretError(ValueError):
    """The stored secret cannot be decrypted (the server secret changed)."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_challenge_token() -> str:
    return "mfa_" + secrets.token_urlsafe(32)


def new_secret() -> str:
    return pyotp.random_base32(32)


def encrypt_secret(server_secret: str, secret: str) -> str:
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(derive(server_secret, _SECRET_INFO)).encrypt(
        nonce, secret.encode("ascii"), b"totp"
    )
    return "v1:" + base64.b64encode(nonce + sealed).decode("ascii")


def decrypt_secret(server_secret: str, stored: str) -> str:
    try:
        version, _, payload = stored.partition(":")
        if version != "v1":
            raise ValueError(version)
        raw = base64.b64decode(payload, validate=True)
        return (
            AESGCM(derive(server_secret, _SECRET_INFO))
            .decrypt(raw[:12], raw[12:], b"totp")
            .decode("ascii")
        )
    except (ValueError, InvalidTag) as exc:
        raise MfaSecretError(
            "the stored second-factor secret cannot be read; reset it with `rtcc user reset-mfa`"
        ) from exc


def provisioning_uri(secret: str, *, username: str, issuer: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD_S).provisioning_uri(
        name=username, issuer_name=issuer
    )


def qr_png(uri: str, *, scale: int = 6) -> bytes:
    import io

    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def qr_svg(uri: str, *, scale: int = 6) -> str:
    import io

    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=scale, border=4, xmldecl=False)
    return out.getvalue().decode("utf-8")


def clean_code(code: str) -> str:
    return "".join(ch for ch in code if not ch.isspace())


def matching_step(secret: str, code: str, *, now: float | None = None) -> int | None:
    """The time-step (current, or one either side) whose TOTP is ``code``, or None."""
    code = clean_code(code)
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD_S)
    current = int((clock() if now is None else now) // PERIOD_S)
    found = None
    for step in (current - 1, current, current + 1):  # compare all three: no early exit on timing
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def looks_like_recovery_code(code: str) -> bool:
    cleaned = clean_code(code).replace("-", "")
    return len(cleaned) == 10 and cleaned.isalnum() and not cleaned.isdigit()


def new_recovery_codes() -> list[str]:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o/1/l/i: read aloud, typed by hand
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(alphabet) for _ in range(10))
        if raw.isdigit():  # vanishingly rare; a code must not look like a TOTP
            raw = "a" + raw[1:]
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def recovery_hash(server_secret: str, code: str) -> str:
    normal = clean_code(code).replace("-", "").lower()
    return hmac.new(
        derive(server_secret, _RECOVERY_INFO), normal.encode("ascii", "replace"), hashlib.sha256
    ).hexdigest()


def required_for(role: str, required_roles: list[str]) -> bool:
    return role in required_roles
