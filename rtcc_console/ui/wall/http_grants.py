"""``GrantService`` over the rtcc server's REST API (docs/api-contract.md, "Live view").

Blocking (requests): the wall calls it from background threads only. Network failures and
5xx answers become ``GrantServiceUnavailable`` so callers can fall back (presets) or retry
(renewals); 403/404/410 become ``GrantDenied`` with the server's reason.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests

from rtcc_console.ui.wall.grants import Grant, GrantDenied, GrantServiceUnavailable

TokenSource = str | Callable[[], str]


def _parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _reason_of(response: requests.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    if isinstance(detail, str) and detail:
        return detail
    if detail:
        return str(detail)
    return f"HTTP {response.status_code}"


def grant_from_json(body: dict[str, Any]) -> Grant:
    """Parse the server's grant object."""
    return Grant(
        id=str(body["id"]),
        camera_id=str(body["camera_id"]),
        stream_url=str(body.get("stream_url") or ""),
        substream_url=body.get("substream_url") or None,
        expires_at=_parse_time(str(body["expires_at"])),
        ttl_s=float(body.get("ttl_s") or 60.0),
    )


class HttpGrantService:
    """Grants, snapshot audit and presets through ``/api/v1`` with a bearer token.

    ``token`` is the session token or a callable returning the current one (the console's
    API client changes it on re-login). ``on_unauthorized`` is called on a 401 so that the
    console can ask the analyst to sign in again. Each thread gets its own HTTP session.
    """

    def __init__(
        self,
        base_url: str,
        token: TokenSource,
        *,
        timeout_s: float = 5.0,
        on_unauthorized: Callable[[], None] | None = None,
    ) -> None:
        root = base_url.rstrip("/")
        self._api = root if root.endswith("/api/v1") else root + "/api/v1"
        self._token = token
        self._local = threading.local()
        self._timeout_s = timeout_s
        self._on_unauthorized = on_unauthorized

    @classmethod
    def from_api_client(cls, client: Any, *, timeout_s: float = 5.0) -> HttpGrantService:
        """Share the console's ``ApiClient`` session token and its 401 handling."""
        return cls(
            client.base_url, lambda: client.token or "", timeout_s=timeout_s,
            on_unauthorized=getattr(client, "notify_unauthorized", None),
        )

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> requests.Response:
        token = self._token() if callable(self._token) else self._token
        try:
            response = self._session().request(
                method, self._api + path, json=body, timeout=self._timeout_s,
                headers={"Authorization": f"Bearer {token}"},
            )
        except requests.RequestException as exc:
            raise GrantServiceUnavailable(f"server unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 500:
            raise GrantServiceUnavailable(f"server error {response.status_code}")
        if response.status_code == 401 and self._on_unauthorized is not None:
            self._on_unauthorized()
        if response.status_code >= 400:  # 401/403/404/410 refusals, 422 invalid input
            raise GrantDenied(_reason_of(response), response.status_code)
        return response

    def acquire(self, camera_id: str, reason: str) -> Grant:
        response = self._request("POST", f"/cameras/{quote(camera_id, safe='')}/live-grants", {"reason": reason})
        return grant_from_json(response.json())

    def renew(self, grant_id: str) -> Grant:
        response = self._request("POST", f"/live-grants/{quote(grant_id, safe='')}/renew")
        return grant_from_json(response.json())

    def release(self, grant_id: str) -> None:
        try:
            self._request("DELETE", f"/live-grants/{quote(grant_id, safe='')}")
        except GrantDenied as exc:
            if exc.status not in (404, 410):
                raise
            # already gone on the server: nothing left to release

    def record_snapshot(
        self, camera_id: str, grant_id: str, sha256: str, taken_at: datetime, reason: str
    ) -> None:
        self._request(
            "POST", f"/cameras/{quote(camera_id, safe='')}/snapshots",
            {"grant_id": grant_id, "taken_at": taken_at.isoformat(), "sha256": sha256, "reason": reason},
        )

    def load_presets(self) -> dict[str, dict[str, Any]]:
        items = self._request("GET", "/me/presets").json().get("items", [])
        return {str(item["name"]): dict(item.get("layout") or {}) for item in items}

    def save_preset(self, name: str, layout: dict[str, Any]) -> None:
        self._request("PUT", f"/me/presets/{quote(name, safe='')}", {"layout": layout})

    def delete_preset(self, name: str) -> None:
        try:
            self._request("DELETE", f"/me/presets/{quote(name, safe='')}")
        except GrantDenied as exc:
            if exc.status != 404:
                raise
            # no such preset on the server: nothing to delete
