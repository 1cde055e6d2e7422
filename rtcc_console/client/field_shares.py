"""Field shares from the console (issue 16, docs/api/field-shares.md): the officers a call
can be sent to, sending a call's cameras to them, a call's shares and ending one; the same
for an emergency with no call (a panic button: ``/emergencies/{id}/field-shares``).

Blocking HTTP on top of ``ApiClient.request``: the console calls these off the GUI thread.
Answers become frozen dataclasses; a malformed answer raises ``ValueError`` rather than
showing half a share. The single-use links a send answers are kept only in the returned
``SentShare`` values (shown once to the analyst, never logged).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from rtcc_console.client.api import ApiClient


@dataclass(frozen=True, slots=True)
class Officer:
    username: str
    display_name: str | None
    unit_ids: tuple[str, ...]

    @property
    def label(self) -> str:
        """``Kim, J. (ofc.kim) · 1A23, 1A24`` — what the analyst picks from."""
        name = f"{self.display_name} ({self.username})" if self.display_name else self.username
        return f"{name} · {', '.join(self.unit_ids)}" if self.unit_ids else name

    def matches(self, text: str) -> bool:
        """Search by name, display name or unit id (case-insensitive substring)."""
        needle = text.strip().lower()
        if not needle:
            return True
        hay = [self.username, self.display_name or "", *self.unit_ids]
        return any(needle in h.lower() for h in hay)


@dataclass(frozen=True, slots=True)
class OfficerRoster:
    officers: tuple[Officer, ...]
    default_duration_s: int
    max_duration_s: int


@dataclass(frozen=True, slots=True)
class FieldShare:
    id: str
    call_id: str | None  # None: an emergency's share
    officer: str
    camera_ids: tuple[str, ...]
    created_by: str
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    link_used: bool
    emergency_id: str | None = None  # an emergency with no call (None: a call's share)

    def active(self, now: datetime) -> bool:
        return self.ended_at is None and self.expires_at > now


@dataclass(frozen=True, slots=True)
class SentShare:
    share: FieldShare
    link: str  # single-use, for the officer's device: shown once, never logged


def _time(value: Any, what: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{what}: not a time")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"{what}: time without offset")
    return parsed


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what}: missing")
    return value


def share_from_json(raw: Mapping[str, Any]) -> FieldShare:
    """A share as the API (and the ``field_share.*`` events) carry it."""
    cams = raw.get("camera_ids")
    if not isinstance(cams, list):
        raise ValueError("share: camera_ids missing")
    ended = raw.get("ended_at")
    reason = raw.get("end_reason")
    emergency = raw.get("emergency_id")
    emergency_id = _text(emergency, "share emergency_id") if emergency is not None else None
    return FieldShare(
        id=_text(raw.get("id"), "share id"),
        call_id=_text(raw.get("call_id"), "share call_id") if emergency_id is None else None,
        emergency_id=emergency_id,
        officer=_text(raw.get("officer"), "share officer"),
        camera_ids=tuple(str(c) for c in cams),
        created_by=str(raw.get("created_by") or ""),
        created_at=_time(raw.get("created_at"), "share created_at"),
        expires_at=_time(raw.get("expires_at"), "share expires_at"),
        ended_at=_time(ended, "share ended_at") if ended is not None else None,
        end_reason=str(reason) if reason is not None else None,
        link_used=bool(raw.get("link_used")),
    )


def officer_from_json(raw: Mapping[str, Any]) -> Officer:
    units = raw.get("unit_ids") or []
    name = raw.get("display_name")
    return Officer(
        username=_text(raw.get("username"), "officer username"),
        display_name=str(name) if isinstance(name, str) and name else None,
        unit_ids=tuple(str(u) for u in units) if isinstance(units, list) else (),
    )


class FieldSharesApi:
    """``GET /officers``, ``POST/GET /calls/{id}/field-shares``, ``DELETE .../{share_id}``."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    def officers(self) -> OfficerRoster:
        body = self.api.request("GET", "/officers").json()
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise ValueError("officers: items missing")
        return OfficerRoster(
            officers=tuple(officer_from_json(i) for i in items if isinstance(i, dict)),
            default_duration_s=int(body.get("default_duration_s") or 7200),
            max_duration_s=int(body.get("max_duration_s") or 24 * 3600),
        )

    def send(
        self,
        call_id: str,
        *,
        officers: Iterable[str] = (),
        units: Iterable[str] = (),
        camera_ids: Sequence[str] | None = None,
        duration_s: int | None = None,
    ) -> list[SentShare]:
        """Share the call's cameras (``None``: the server's top live cameras) with officers
        and/or the officers of unit ids; one ``SentShare`` (with its link) per officer."""
        return self._send(self._path(call_id), officers, units, camera_ids, duration_s)

    def send_emergency(
        self,
        emergency_id: str,
        *,
        officers: Iterable[str] = (),
        units: Iterable[str] = (),
        camera_ids: Sequence[str] | None = None,
        duration_s: int | None = None,
    ) -> list[SentShare]:
        """Send an emergency with no call (``None`` cameras: the site's cameras live in the
        emergency and the nearest integrated ones); it ends when the emergency ends."""
        path = self._emergency_path(emergency_id)
        return self._send(path, officers, units, camera_ids, duration_s)

    def emergency_shares(self, emergency_id: str) -> list[FieldShare]:
        """Every share of the emergency, open and ended, oldest first."""
        return self._list(self._emergency_path(emergency_id))

    def end_emergency(self, emergency_id: str, share_id: str) -> FieldShare:
        """End one of an emergency's shares."""
        path = f"{self._emergency_path(emergency_id)}/{quote(share_id, safe='')}"
        return share_from_json(self.api.request("DELETE", path).json())

    def _send(
        self,
        path: str,
        officers: Iterable[str],
        units: Iterable[str],
        camera_ids: Sequence[str] | None,
        duration_s: int | None,
    ) -> list[SentShare]:
        body: dict[str, Any] = {"officers": list(officers)}
        unit_list = list(units)
        if unit_list:
            body["units"] = unit_list
        if camera_ids is not None:
            body["camera_ids"] = list(camera_ids)
        if duration_s is not None:
            body["duration_s"] = int(duration_s)
        answer = self.api.request("POST", path, json=body).json()
        if not isinstance(answer, list):
            raise ValueError("send to field: the server answered no list")
        return [SentShare(share_from_json(a), _text(a.get("link"), "share link")) for a in answer]

    def call_shares(self, call_id: str) -> list[FieldShare]:
        """Every share of the call, open and ended, oldest first."""
        return self._list(self._path(call_id))

    def _list(self, path: str) -> list[FieldShare]:
        body = self.api.request("GET", path).json()
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise ValueError("field shares: items missing")
        return [share_from_json(i) for i in items if isinstance(i, dict)]

    def end(self, call_id: str, share_id: str) -> FieldShare:
        """End one share (audited on the server as ended by this user)."""
        path = f"{self._path(call_id)}/{quote(share_id, safe='')}"
        return share_from_json(self.api.request("DELETE", path).json())

    @staticmethod
    def _path(call_id: str) -> str:
        return f"/calls/{quote(call_id, safe='')}/field-shares"

    @staticmethod
    def _emergency_path(emergency_id: str) -> str:
        return f"/emergencies/{quote(emergency_id, safe='')}/field-shares"
