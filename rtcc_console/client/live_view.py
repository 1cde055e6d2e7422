"""What the video wall needs from the server, in one object: grants, media audit, presets.

:class:`ServerGrantService` implements the wall's ``GrantService`` protocol
(``ui/wall/grants.py``) on top of the console's one :class:`ApiClient`: its token, its
per-thread HTTP sessions and its 401 listeners.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rtcc_console.client.api import ApiClient
from rtcc_console.client.grants import GRANT_TIMEOUT_S, Grant, LiveGrantsApi, MediaAuditApi
from rtcc_console.client.presets import PresetsApi


class ServerGrantService:
    """Grants, snapshot/clip audit and presets of the signed-in user, through ``api``."""

    def __init__(self, api: ApiClient, *, timeout_s: float = GRANT_TIMEOUT_S) -> None:
        self.grants = LiveGrantsApi(api, timeout_s=timeout_s)
        self.audit = MediaAuditApi(api, timeout_s=timeout_s)
        self.presets = PresetsApi(api, timeout_s=timeout_s)

    def acquire(self, camera_id: str, reason: str) -> Grant:
        return self.grants.acquire(camera_id, reason)

    def renew(self, grant_id: str) -> Grant:
        return self.grants.renew(grant_id)

    def release(self, grant_id: str) -> None:
        self.grants.release(grant_id)

    def record_snapshot(
        self, camera_id: str, grant_id: str, sha256: str, taken_at: datetime, reason: str
    ) -> None:
        self.audit.record_snapshot(camera_id, grant_id, sha256, taken_at, reason)

    def load_presets(self) -> dict[str, dict[str, Any]]:
        return self.presets.load_presets()

    def save_preset(self, name: str, layout: dict[str, Any]) -> None:
        self.presets.save_preset(name, layout)

    def delete_preset(self, name: str) -> None:
        self.presets.delete_preset(name)
