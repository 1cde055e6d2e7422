"""Live-view grants and the audit of what was taken from a live view (``/api/v1``).

The wall never opens a stream without a grant from the server (the server decides with the
consent policy and audits every view). Blocking: called from background threads only.
Network failures and 5xx answers become :class:`GrantServiceUnavailable`, so callers can
fall back or retry; refusals (401/403/404/410, 422) become :class:`GrantDenied` with the
server's reason. A 401 also reaches the ``ApiClient``'s unauthorized listeners.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests

from rtcc_console.client.api import ApiClient, ApiError, ServerUnreachable

#: Grants are on the path to the screen: fail fast rather than with the client's default.
GRANT_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class Grant:
    """A short-lived permission to watch one camera; ``stream_url`` may hold credentials."""

    id: str
    camera_id: str
    stream_url: str
    substream_url: str | None
    expires_at: datetime
    ttl_s: float


class GrantDenied(Exception):
    """The server refused (403/410...): ``reason`` is the policy's human explanation."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status  # the HTTP status when it came from the server


class GrantServiceUnavailable(Exception):
    """The server could not be reached (network error, timeout, 5xx)."""


def _parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


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


def segment(value: str) -> str:
    """One URL path segment (ids and preset names may hold any character)."""
    return quote(value, safe="")


def call_or_refuse(
    api: ApiClient, method: str, path: str, *, timeout_s: float, json: dict[str, Any] | None = None
) -> requests.Response:
    """``api.request`` with failures mapped to the wall's two outcomes (see the module doc)."""
    try:
        return api.request(method, path, json=json, timeout=timeout_s)
    except ServerUnreachable as exc:
        raise GrantServiceUnavailable(exc.detail) from exc
    except ApiError as exc:
        if exc.status >= 500:
            raise GrantServiceUnavailable(f"server error {exc.status}") from exc
        raise GrantDenied(exc.detail or f"HTTP {exc.status}", exc.status) from exc


class LiveGrantsApi:
    """``/cameras/{id}/live-grants`` and ``/live-grants/{id}``: acquire, renew, release."""

    def __init__(self, api: ApiClient, *, timeout_s: float = GRANT_TIMEOUT_S) -> None:
        self._api = api
        self._timeout_s = timeout_s

    def acquire(self, camera_id: str, reason: str) -> Grant:
        response = call_or_refuse(
            self._api,
            "POST",
            f"/cameras/{segment(camera_id)}/live-grants",
            json={"reason": reason},
            timeout_s=self._timeout_s,
        )
        return grant_from_json(response.json())

    def renew(self, grant_id: str) -> Grant:
        response = call_or_refuse(
            self._api, "POST", f"/live-grants/{segment(grant_id)}/renew", timeout_s=self._timeout_s
        )
        return grant_from_json(response.json())

    def release(self, grant_id: str) -> None:
        """Tell the server the tile closed; a grant already gone is not an error."""
        try:
            call_or_refuse(
                self._api, "DELETE", f"/live-grants/{segment(grant_id)}", timeout_s=self._timeout_s
            )
        except GrantDenied as exc:
            if exc.status not in (404, 410):
                raise


class MediaAuditApi:
    """``/cameras/{id}/snapshots``: audit a still image or a clip taken from a live view."""

    def __init__(self, api: ApiClient, *, timeout_s: float = GRANT_TIMEOUT_S) -> None:
        self._api = api
        self._timeout_s = timeout_s

    def record_snapshot(
        self, camera_id: str, grant_id: str, sha256: str, taken_at: datetime, reason: str
    ) -> None:
        body = {
            "grant_id": grant_id,
            "taken_at": taken_at.isoformat(),
            "sha256": sha256,
            "reason": reason,
        }
        call_or_refuse(
            self._api,
            "POST",
            f"/cameras/{segment(camera_id)}/snapshots",
            json=body,
            timeout_s=self._timeout_s,
        )
