"""Owner portal accounts: sign-up, e-mailed links, sign-in, sessions, CSRF.

E-mail goes through the durable outbox: ``server.portal.mail.send_portal_mail``.

* Tokens (session cookie, e-mailed links) are 256-bit random strings; the database keeps
  their SHA-256 only (``store.portal``).
* No account enumeration: sign-up and "e-mail me a link" answer the same for known and
  unknown addresses; a wrong e-mail and a wrong password give the same message, and an
  unknown e-mail still costs one argon2 verification (``Passwords.verify`` with no hash).
* Lockout per account (settings ``lockout_threshold`` / ``lockout_s``, as for staff) and
  throttling per client address (the app's ``LoginThrottle``).
* CSRF: a signed double-submit token. Signed in, the token is an HMAC of the session
  token; before sign-in it is an HMAC of a random ``rtcc_portal_pre`` cookie. Every POST
  carries it in the ``csrf_token`` field and is refused (403) without the right one.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass

from rtcc_console.server import web_forms
from rtcc_console.server.state import AppState

log = logging.getLogger(__name__)

SESSION_COOKIE = "rtcc_portal"
PRE_COOKIE = "rtcc_portal_pre"


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() else default


@dataclass(frozen=True)
class PortalSettings:
    """Portal knobs (env ``RTCC_PORTAL_…``); tests put their own in ``state.extras``."""

    session_s: int = 8 * 3600
    link_ttl_s: int = 3600
    panic_duration_s: int = 1800
    panic_max_skew_s: int = 300
    signin_ip_max: int = 20
    probe_timeout_s: float = 8.0
    page_size: int = 25
    nearest_total: int = 4
    tile_url: str = (
        ""  # basemap tiles for the portal's maps ("" = none: the pin and areas still show)
    )

    @classmethod
    def from_env(cls) -> PortalSettings:
        return cls(
            session_s=_env_int("RTCC_PORTAL_SESSION_S", cls.session_s),
            link_ttl_s=_env_int("RTCC_PORTAL_LINK_TTL_S", cls.link_ttl_s),
            panic_duration_s=_env_int("RTCC_PORTAL_PANIC_DURATION_S", cls.panic_duration_s),
            panic_max_skew_s=_env_int("RTCC_PORTAL_PANIC_MAX_SKEW_S", cls.panic_max_skew_s),
            tile_url=os.environ.get("RTCC_PORTAL_TILE_URL", cls.tile_url),
        )


def portal_settings(state: AppState) -> PortalSettings:
    found = state.extras.get("portal_settings")
    if not isinstance(found, PortalSettings):
        found = state.extras["portal_settings"] = PortalSettings.from_env()
    return found


def new_token() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _key(state: AppState, purpose: str) -> bytes:
    return hmac.new(
        state.settings.secret_key.get_secret_value().encode(), purpose.encode(), hashlib.sha256
    ).digest()


CSRF_PURPOSE = "portal-csrf"


def csrf_for(state: AppState, basis: str) -> str:
    """The CSRF token bound to a session (or pre-session) cookie value."""
    return web_forms.csrf_for(state, CSRF_PURPOSE, basis)


def site_key_secret(state: AppState, *, key_id: str, nonce: str) -> str:
    """An alarm panel's HMAC key (hex); derived, never stored."""
    return hmac.new(
        _key(state, "panic-site-key"), f"{key_id}:{nonce}".encode(), hashlib.sha256
    ).hexdigest()


def link_url(state: AppState, path: str) -> str:
    return state.settings.portal_base_url.rstrip("/") + path
