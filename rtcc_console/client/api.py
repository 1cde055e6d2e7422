"""HTTP client for the rtcc server API (``docs/api-contract.md``).

Qt-free and blocking: callers run it on worker threads (``ui.tasks``). The bearer token
lives in memory only; nothing about the session is written to disk. Every 401 is reported
to the registered ``unauthorized`` listeners so the console can return to the sign-in
dialog, whatever request discovered it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

API_PREFIX = "/api/v1"


class ApiError(Exception):
    """The server answered with an error status; ``detail`` is its explanation."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}" if status else detail)
        self.status = status
        self.detail = detail
        self.payload: Any = None  # the JSON body's ``detail`` as sent (e.g. a named limit)


class Unauthorized(ApiError):
    """401: bad credentials, or the token expired or was revoked."""


class MfaRequired(Unauthorized):
    """401 after a right password: a second factor is due. ``mfa_token`` is the single-use
    challenge for ``client.mfa``; ``enrol`` is True when the user must set one up first."""

    def __init__(self, detail: str, *, mfa_token: str, enrol: bool) -> None:
        super().__init__(401, detail)
        self.mfa_token = mfa_token
        self.enrol = enrol


class AccountLocked(ApiError):
    """423: too many failed sign-ins; ``detail`` says until when."""


class Forbidden(ApiError):
    """403: the role or the consent policy does not allow it; ``detail`` says why."""


class ServerUnreachable(ApiError):
    """No answer at all (connection refused, DNS, timeout)."""

    def __init__(self, detail: str) -> None:
        super().__init__(0, detail)


@dataclass(frozen=True, slots=True)
class SessionUser:
    """Who is signed in, as the server sees it."""

    username: str
    role: str
    expires_at: str | None = None


def _mfa_challenge(resp: requests.Response) -> tuple[str, bool] | None:
    """(challenge token, must enrol) of a sign-in answer that asks for a second factor."""
    try:
        body = resp.json()
    except ValueError:
        return None
    if (
        isinstance(body, dict)
        and body.get("mfa_required") is True
        and isinstance(body.get("mfa_token"), str)
    ):
        return body["mfa_token"], bool(body.get("mfa_enrol"))
    return None


def _detail(resp: requests.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200] or resp.reason or "error"
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):
        return "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail)
    return str(detail) if detail is not None else resp.reason or "error"


class ApiClient:
    """One server, one signed-in user. Thread-safe: each thread gets its own HTTP session."""

    def __init__(self, base_url: str, *, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._local = threading.local()
        self._token: str | None = None
        self.user: SessionUser | None = None
        self._unauthorized: list[Callable[[], None]] = []

    # -- session ---------------------------------------------------------------------
    @property
    def token(self) -> str | None:
        return self._token

    def add_unauthorized_listener(self, fn: Callable[[], None]) -> None:
        """``fn`` is called (on the thread that saw it) whenever a signed-in request gets 401."""
        self._unauthorized.append(fn)

    def url(self, path: str) -> str:
        return f"{self.base_url}{API_PREFIX}{path}"

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    def http(self) -> requests.Session:
        """This thread's HTTP session (requests sessions are not shared across threads)."""
        sess = getattr(self._local, "session", None)
        if sess is None:
            sess = requests.Session()
            self._local.session = sess
        return sess

    def request(
        self, method: str, path: str, *, auth: bool = True, **kwargs: Any
    ) -> requests.Response:
        """Send one request; map failures to the exception types above."""
        headers = dict(kwargs.pop("headers", None) or {})
        sent = self._token if auth else None
        if auth:
            headers.update(self.auth_headers())
        kwargs.setdefault("timeout", self.timeout_s)
        try:
            resp = self.http().request(method, self.url(path), headers=headers, **kwargs)
        except requests.RequestException as exc:
            raise ServerUnreachable(f"server unreachable ({type(exc).__name__})") from exc
        if resp.status_code < 400:
            return resp
        detail = _detail(resp)
        if resp.status_code == 401:
            challenge = _mfa_challenge(resp)
            if challenge is not None:
                raise MfaRequired(detail, mfa_token=challenge[0], enrol=challenge[1])
            if (
                sent is not None and sent == self._token
            ):  # not a request of a session since replaced (unlock)
                self.notify_unauthorized()
            raise Unauthorized(401, detail)
        if resp.status_code == 403:
            raise Forbidden(403, detail)
        if resp.status_code == 423:
            raise AccountLocked(423, detail)
        error = ApiError(resp.status_code, detail)
        try:
            error.payload = resp.json().get("detail")
        except (ValueError, AttributeError):
            pass
        raise error

    def notify_unauthorized(self) -> None:
        for fn in list(self._unauthorized):
            fn()

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        resp = self.request(method, path, **kwargs)
        return resp.json() if resp.content else None

    # -- auth ------------------------------------------------------------------------
    def notice(self) -> dict[str, str]:
        return dict(self._json("GET", "/system/notice", auth=False))

    def health(self) -> dict[str, Any]:
        return dict(self._json("GET", "/health", auth=False))

    def login(self, username: str, password: str) -> SessionUser:
        """Sign in; on success the token is kept in memory for the following requests."""
        body = self._json(
            "POST", "/auth/login", auth=False, json={"username": username, "password": password}
        )
        return self.adopt_session(body, username)

    def adopt_session(self, body: dict[str, Any], username: str = "") -> SessionUser:
        """Keep the token of a sign-in answer (password, or password + second factor)."""
        user = body.get("user") or {}
        self._token = body["access_token"]
        self.user = SessionUser(
            user.get("username", username), user.get("role", "analyst"), body.get("expires_at")
        )
        return self.user

    def verify_password(self, password: str) -> SessionUser:
        """Re-check the signed-in user's password (screen unlock); renews the token.

        The current token goes along: the server continues that session with the new one
        (its open live views move over, the old token is revoked)."""
        if self.user is None:
            raise Unauthorized(401, "not signed in")
        body = self._json(
            "POST",
            "/auth/login",
            auth=False,
            headers=self.auth_headers(),
            json={"username": self.user.username, "password": password},
        )
        return self.adopt_session(body, self.user.username)

    def logout(self) -> None:
        """Forget the token at once, then revoke it on the server (best effort)."""
        token, self._token, self.user = self._token, None, None
        if token is not None:
            self.revoke_token(token)

    def revoke_token(self, token: str) -> None:
        """Ask the server to end a session whose token was already dropped locally."""
        try:
            self.http().post(
                self.url("/auth/logout"), headers={"Authorization": f"Bearer {token}"}, timeout=3
            )
        except requests.RequestException:
            pass  # offline: the token expires on its own; it is already gone from memory

    def end_session(self, token: str, grant_ids: list[str]) -> None:
        """Sign-out on the server with a token already dropped locally: end each live grant
        of the session (``?why=sign-out``, audited), then revoke the token. Best effort:
        offline, the server ends the grants with the session when the token expires."""
        headers = {"Authorization": f"Bearer {token}"}
        try:
            for grant_id in grant_ids:
                self.http().delete(
                    self.url(f"/live-grants/{quote(grant_id, safe='')}"),
                    params={"why": "sign-out"},
                    headers=headers,
                    timeout=3,
                )
        except requests.RequestException:
            pass  # the logout below (or the token's expiry) ends them on the server
        self.revoke_token(token)

    def forget_token(self) -> None:
        self._token = None

    def me(self) -> dict[str, Any]:
        return dict(self._json("GET", "/auth/me"))

    # -- calls -----------------------------------------------------------------------
    def list_calls(
        self, status: str = "open", *, page: int = 500, max_items: int = 5000
    ) -> list[dict[str, Any]]:
        """All calls of ``status``, newest first, following pagination."""
        items: list[dict[str, Any]] = []
        while len(items) < max_items:
            body = self._json(
                "GET", "/calls", params={"status": status, "limit": page, "offset": len(items)}
            )
            batch = body.get("items", [])
            items.extend(batch)
            if len(batch) < page or len(items) >= int(body.get("total", 0)):
                break
        return items

    def get_call(self, call_id: str) -> dict[str, Any]:
        return dict(self._json("GET", f"/calls/{call_id}"))

    def post_call(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._json("POST", "/calls", json=body))

    def acknowledge_call(self, call_id: str) -> None:
        """Tell the server (and so the audit trail) that this user has seen a new call."""
        self.request("POST", f"/calls/{call_id}/acknowledge")

    # -- cameras and emergencies -----------------------------------------------------
    def cameras_since(self, cursor: str, limit: int = 5000) -> dict[str, Any]:
        return dict(
            self._json("GET", "/cameras", params={"since": cursor, "limit": limit}, timeout=60)
        )

    def nearest(self, lat: float, lon: float, k: int, radius_m: float) -> list[dict[str, Any]]:
        body = self._json(
            "GET", "/cameras/nearest", params={"lat": lat, "lon": lon, "k": k, "radius_m": radius_m}
        )
        return list(body.get("items", []))

    def active_emergencies(self) -> list[dict[str, Any]]:
        body = self._json("GET", "/emergencies", params={"active": "true"})
        return list(body.get("items", []) if isinstance(body, dict) else body)
