"""Live-view grants as the wall sees them: a small protocol and an offline implementation.

The wall never opens a stream without a grant from the server (the server decides with the
consent policy and audits every view). ``GrantService`` is what the wall needs from the
server; ``client.live_view.ServerGrantService`` maps it onto the REST API and
``LocalGrantService`` grants everything, for the benchmark and offline demos.

All methods may block (network): the wall calls them only from background threads.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from rtcc_console.client.grants import Grant, GrantDenied, GrantServiceUnavailable
from rtcc_console.core.models import utcnow

__all__ = ["Grant", "GrantDenied", "GrantService", "GrantServiceUnavailable", "LocalGrantService"]


@runtime_checkable
class GrantService(Protocol):
    """What the video wall needs from the rtcc server."""

    def acquire(self, camera_id: str, reason: str) -> Grant:
        """Ask for a live grant; raises ``GrantDenied`` when policy refuses."""
        ...

    def renew(self, grant_id: str) -> Grant:
        """Extend a grant; raises ``GrantDenied`` when consent is gone."""
        ...

    def release(self, grant_id: str) -> None:
        """Tell the server the tile closed (idempotent)."""
        ...

    def record_snapshot(
        self, camera_id: str, grant_id: str, sha256: str, taken_at: datetime, reason: str
    ) -> None:
        """Audit a still image taken from a live view."""
        ...

    def load_presets(self) -> dict[str, dict[str, Any]]:
        """The user's named wall presets: name -> layout dict."""
        ...

    def save_preset(self, name: str, layout: dict[str, Any]) -> None: ...

    def delete_preset(self, name: str) -> None: ...


class LocalGrantService:
    """Grants every camera for which ``url_for`` gives a URL; keeps presets in memory.

    Used by ``rtcc bench wall`` and offline demos; records calls so tests can inspect them.
    """

    def __init__(
        self,
        url_for: Callable[[str], str | tuple[str, str | None]],
        *,
        ttl_s: float = 60.0,
    ) -> None:
        self._url_for = url_for
        self._ttl_s = ttl_s
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.active: dict[str, Grant] = {}
        self.snapshots: list[dict[str, Any]] = []
        self.presets: dict[str, dict[str, Any]] = {}

    def acquire(self, camera_id: str, reason: str) -> Grant:
        if not reason.strip():
            raise GrantDenied("a reason or case number is required")
        urls = self._url_for(camera_id)
        main, sub = urls if isinstance(urls, tuple) else (urls, None)
        with self._lock:
            grant = Grant(
                id=f"lg-{next(self._ids)}",
                camera_id=camera_id,
                stream_url=main,
                substream_url=sub,
                expires_at=utcnow() + timedelta(seconds=self._ttl_s),
                ttl_s=self._ttl_s,
            )
            self.active[grant.id] = grant
        return grant

    def renew(self, grant_id: str) -> Grant:
        with self._lock:
            old = self.active.get(grant_id)
            if old is None:
                raise GrantDenied("grant is no longer valid")
            new = Grant(
                old.id,
                old.camera_id,
                old.stream_url,
                old.substream_url,
                utcnow() + timedelta(seconds=self._ttl_s),
                self._ttl_s,
            )
            self.active[grant_id] = new
        return new

    def release(self, grant_id: str) -> None:
        with self._lock:
            self.active.pop(grant_id, None)

    def record_snapshot(
        self, camera_id: str, grant_id: str, sha256: str, taken_at: datetime, reason: str
    ) -> None:
        with self._lock:
            self.snapshots.append(
                {
                    "camera_id": camera_id,
                    "grant_id": grant_id,
                    "sha256": sha256,
                    "taken_at": taken_at,
                    "reason": reason,
                }
            )

    def load_presets(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return dict(self.presets)

    def save_preset(self, name: str, layout: dict[str, Any]) -> None:
        with self._lock:
            self.presets[name] = layout

    def delete_preset(self, name: str) -> None:
        with self._lock:
            self.presets.pop(name, None)
