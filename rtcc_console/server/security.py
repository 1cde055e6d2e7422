"""Staff accounts, bearer tokens and login lockout.

Token design: a bearer token is 32 random bytes (``secrets.token_urlsafe``), opaque to the
client. The server stores only its SHA-256 as the ``jti`` of an ``auth_tokens`` row with
the expiry and a revocation time. Why not a signed JWT: every request must be checked for
revocation anyway (logout, disabled user, unlock/role change must bite at once, CJIS
session control), which needs a database lookup; once that lookup exists a signature adds
nothing but key management and algorithm pitfalls. A leaked database does not leak usable
tokens (only hashes of 256-bit random values). The user's role is read from ``users`` on
each request, so a demotion applies immediately.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from rtcc_console.core.models import Role, utcnow
from rtcc_console.store import users as store_users
from rtcc_console.store.schema import UserRow

# The account and session rows live in ``store.users``; these names stay importable here
# because routes, jobs and tests across the server use them with the rules below.
from rtcc_console.store.users import (
    SESSIONS_CHANNEL as SESSIONS_CHANNEL,
)
from rtcc_console.store.users import create_user as create_user
from rtcc_console.store.users import get_user as get_user
from rtcc_console.store.users import record_failure as record_failure
from rtcc_console.store.users import record_success as record_success
from rtcc_console.store.users import revoke_all_tokens as revoke_all_tokens
from rtcc_console.store.users import revoke_token as revoke_token
from rtcc_console.store.users import unlock_user as unlock_user

TOKEN_PREFIX = "rtcc_"
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")


def token_digest(token: str) -> str:
    """The stored identifier (jti) of a bearer token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def normalize_username(name: str) -> str:
    return name.strip().lower()


def validate_username(name: str) -> str | None:
    """A human reason why ``name`` is not a valid username, or None."""
    if not USERNAME_RE.match(name):
        return "username must be 2-64 characters: lowercase letters, digits, '.', '_', '-', '@'"
    return None


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of a request."""

    username: str
    role: Role
    jti: str
    expires_at: datetime
    client_addr: str | None = None


def issue_token(
    session: Session, *, username: str, ttl_s: int, now: datetime | None = None
) -> tuple[str, datetime]:
    """Create a bearer token for ``username``; returns the token and its expiry."""
    now = now or utcnow()
    token = new_token()
    expires = now + timedelta(seconds=ttl_s)
    store_users.insert_token(
        session, jti=token_digest(token), username=username, issued_at=now, expires_at=expires
    )
    return token, expires


def resolve_token(
    conn: Session | Connection, *, token: str, now: datetime | None = None
) -> Principal | None:
    """The principal a token stands for, or None when unknown/expired/revoked/disabled.

    Runs on every authenticated request, so it is one Core query on the token's primary key.
    """
    if not token or len(token) > 200:
        return None
    now = now or utcnow()
    row = store_users.token_with_user(conn, jti=token_digest(token))
    if row is None or row.revoked_at is not None or row.expires_at <= now or row.disabled:
        return None
    try:
        role = Role(row.role)
    except ValueError:
        return None
    return Principal(username=row.username, role=role, jti=row.jti, expires_at=row.expires_at)


class TokenCache:
    """Recently verified tokens of this process, trusted for at most ``ttl_s`` seconds.

    Revocations invalidate entries at once: in this process directly, and in the other
    server processes through PostgreSQL NOTIFY on ``rtcc_sessions`` (see ``notify``),
    which clears the whole cache when the listener (re)connects. ``ttl_s`` bounds how long
    a change made outside the API (or a lost notification) can go unnoticed. Expiry is
    checked on every use.
    """

    def __init__(self, *, ttl_s: float = 2.0, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._items: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def get(self, token: str, *, now: datetime | None = None) -> Principal | None:
        entry = self._items.get(token_digest(token))
        if entry is None:
            return None
        principal, at = entry
        if time.monotonic() - at > self.ttl_s or principal.expires_at <= (now or utcnow()):
            return None
        return principal

    def put(self, principal: Principal) -> None:
        with self._lock:
            if len(self._items) >= self.max_entries:
                self._items.clear()
            self._items[principal.jti] = (principal, time.monotonic())

    def invalidate(self, jti: str) -> None:
        with self._lock:
            self._items.pop(jti, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class LoginThrottle:
    """Failed sign-ins per client address in a sliding window (password spraying).

    The per-account lockout stops guessing one password; spraying one password over many
    accounts never trips it. This counts failures per address instead and refuses further
    attempts from an address over the limit until the window slides (429). Per process.
    """

    def __init__(self, *, max_failures: int, window_s: float) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, addr: str, now: float) -> list[float]:
        times = [t for t in self._failures.get(addr, []) if now - t < self.window_s]
        if times:
            self._failures[addr] = times
        else:
            self._failures.pop(addr, None)
        return times

    def retry_after(self, addr: str | None) -> int | None:
        """Seconds until ``addr`` may try again, or None when it may try now."""
        if addr is None or self.max_failures <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            times = self._recent(addr, now)
            if len(times) < self.max_failures:
                return None
            return max(1, int(self.window_s - (now - times[-self.max_failures])) + 1)

    def failed(self, addr: str | None) -> None:
        if addr is None:
            return
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > 100_000:
                self._failures.clear()
            times = self._recent(addr, now)
            times.append(now)
            self._failures[addr] = times


def public_user(user: UserRow, *, now: datetime | None = None) -> dict[str, object]:
    """The API shape of a staff account (never the hash)."""
    now = now or utcnow()
    locked = user.locked_until is not None and user.locked_until > now
    return {
        "username": user.username,
        "role": user.role,
        "disabled": bool(user.disabled),
        "locked_until": user.locked_until.isoformat() if locked and user.locked_until else None,
        "created_at": user.created_at.isoformat() if user.created_at else None,
        "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
        "mfa_enabled": user.mfa_enabled_at is not None,
    }
