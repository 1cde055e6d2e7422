"""Posted HTML forms of the server's own pages (the camera-owner portal, the field page):
CSRF tokens bound to a session (or pre-session) cookie, and reading a form behind them.

A page's CSRF token is an HMAC of its cookie's value under a key derived from the server
secret and the page's ``purpose`` (so a portal token is worthless on the field page and
the other way round)."""

from __future__ import annotations

import hashlib
import hmac

from fastapi import HTTPException, Request
from starlette.datastructures import FormData

from rtcc_console.server.state import AppState

EXPIRED = "the form expired or came from another site: reload the page and try again"


def csrf_for(state: AppState, purpose: str, basis: str) -> str:
    """The CSRF token bound to ``basis`` (a session or pre-session cookie value)."""
    key = hmac.new(
        state.settings.secret_key.get_secret_value().encode(), purpose.encode(), hashlib.sha256
    ).digest()
    return hmac.new(key, basis.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def csrf_ok(state: AppState, purpose: str, basis: str | None, sent: str | None) -> bool:
    """Whether ``sent`` is the CSRF token of ``basis`` (compared in constant time)."""
    if not basis or not sent or len(sent) > 200:
        return False
    return hmac.compare_digest(
        csrf_for(state, purpose, basis).encode(), sent.encode("utf-8", "surrogatepass")
    )


async def csrf_form(
    request: Request,
    state: AppState,
    *,
    purpose: str,
    basis: str | None,
    max_fields: int,
    max_part_size: int,
) -> FormData:
    """The posted form: 400 when it cannot be read (or is over the limits), 403 without
    the CSRF token of ``basis``."""
    try:
        form = await request.form(max_files=0, max_fields=max_fields, max_part_size=max_part_size)
    except Exception as exc:  # any unreadable body is the client's fault
        raise HTTPException(400, "the form could not be read") from exc
    sent = form.get("csrf_token")
    if not csrf_ok(state, purpose, basis, sent if isinstance(sent, str) else None):
        raise HTTPException(403, EXPIRED)
    return form
