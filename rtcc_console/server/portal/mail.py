"""Every e-mail the portal sends to an owner goes through :func:`send_portal_mail`.

It only *enqueues* into the durable outbox (``store.outbox``), inside the caller's write
transaction: the message exists if and only if the caller's change commits, and the server's
sender (``server.mail.sender.Mailer``) delivers it once, with retries and backoff, from any
server process, also after a crash.

A single-use link is a ``portal_links`` row (SHA-256 of the token only). The token itself is
never stored anywhere: it is HMAC(server secret, random nonce); the outbox row keeps the
nonce until the message is settled, so a copy of the database alone yields no working link.
The recipient's address is read from the account when the message is sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy.orm import Session

from rtcc_console.config import ServerSettings
from rtcc_console.server.portal import accounts as acc
from rtcc_console.server.state import AppState
from rtcc_console.store import outbox
from rtcc_console.store import portal as store

LINK_PLACEHOLDER = "{link}"
TOKEN_PLACEHOLDER = "{token}"
DEFAULT_LINK_PATH = "/portal/link/{token}"


def link_token(secret: bytes, nonce: str) -> str:
    """A portal link's token: HMAC-SHA256 of the nonce, url-safe base64 (43 characters)."""
    mac = hmac.new(secret, f"rtcc-portal-link:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def message_domain(state: AppState) -> str:
    return state.settings.smtp_from.rpartition("@")[2] or "rtcc.invalid"


def send_portal_mail(
    session: Session,
    state: AppState,
    *,
    account_id: str,
    subject: str,
    body: str,
    link_purpose: str | None = None,
    link_path: str = DEFAULT_LINK_PATH,
    link_ttl_s: int | None = None,
    idem_key: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Queue one e-mail to a portal account; False when ``idem_key`` was queued before.

    ``body`` is plain text; ``{link}`` in it becomes ``portal_base_url + link_path`` with
    ``{token}`` in ``link_path`` replaced by a fresh single-use token for ``link_purpose``
    (valid ``link_ttl_s``, default the portal's link lifetime). The sender is woken when the
    caller's transaction commits.
    """
    if not subject or len(subject) > 200 or "\n" in subject or "\r" in subject:
        raise ValueError("subject must be one line of 1-200 characters")
    if idem_key is not None and not 0 < len(idem_key) <= 100:
        raise ValueError("idem_key must be 1-100 characters")
    key = "portal:" + (idem_key if idem_key is not None else secrets.token_hex(16))
    nonce: str | None = None
    path: str | None = None
    if link_purpose is not None:
        if TOKEN_PLACEHOLDER not in link_path or not link_path.startswith("/"):
            raise ValueError("link_path must be an absolute path holding {token}")
        if LINK_PLACEHOLDER not in body:
            raise ValueError("body must hold {link} when a link is asked for")
        nonce, path = secrets.token_hex(16), link_path
    domain = message_domain(state)
    added = outbox.enqueue_portal(
        session,
        account_id=account_id,
        idem_key=key,
        message_id=f"<portal.{secrets.token_hex(12)}@{domain}>",
        subject=subject,
        body=body,
        link_nonce=nonce,
        link_path=path,
        now=now,
    )
    if added and nonce is not None and link_purpose is not None:
        token = link_token(state.settings.secret_key.get_secret_value().encode(), nonce)
        store.create_link(
            session,
            account_id=account_id,
            purpose=link_purpose,
            token_hash=acc.digest(token),
            ttl_s=link_ttl_s if link_ttl_s is not None else acc.portal_settings(state).link_ttl_s,
            now=now,
        )
    if added:
        mailer = state.extras.get("mailer")
        if mailer is not None:
            outbox.after_commit(session, mailer.wake)
    return added


def link_of(settings: ServerSettings, *, link_nonce: str, link_path: str) -> tuple[str, str]:
    """(token, full URL) of a queued message's link (the sender calls this)."""
    token = link_token(settings.secret_key.get_secret_value().encode(), link_nonce)
    url = settings.portal_base_url.rstrip("/") + link_path.replace(TOKEN_PLACEHOLDER, token)
    return token, url
