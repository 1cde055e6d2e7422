"""The in-memory camera registry of one server process: index + public records.

Nearest-camera queries run against a ``core.index.CameraIndex`` held in memory (tens of
microseconds instead of a database round trip per call). The index is refreshed from the
database change feed (``cameras.change_seq``): immediately after this process commits a
camera change, and otherwise at most every ``poll_s`` seconds by one cheap ``max()``
query, so several server processes sharing a PostgreSQL database converge within that
interval even without events. Thread-safe: FastAPI runs sync routes in a thread pool.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from rtcc_console.core.index import CameraIndex, NearestHit
from rtcc_console.core.models import Camera, GeoPoint, Tier
from rtcc_console.server.camera_store import camera_domain, camera_public
from rtcc_console.server.database import Database
from rtcc_console.store import cameras as store_cameras

log = logging.getLogger(__name__)


class CameraRegistry:
    """Process-local mirror of the ``cameras`` table for ranking and policy hints."""

    def __init__(self, db: Database, *, poll_s: float = 1.0) -> None:
        self._db = db
        self._poll_s = poll_s
        self._lock = threading.RLock()
        self._index = CameraIndex()
        self._public: dict[str, dict[str, Any]] = {}
        self._cursor = 0
        self._stale = True
        self._checked_at = 0.0
        self.refreshes = 0

    @property
    def cursor(self) -> int:
        return self._cursor

    def mark_stale(self) -> None:
        """A camera changed in this process: refresh before the next query."""
        self._stale = True

    def __len__(self) -> int:
        return len(self._public)

    def refresh(self, *, force: bool = False) -> None:
        """Pull changes newer than the cursor if stale or the poll interval passed."""
        now = time.monotonic()
        if not (force or self._stale or now - self._checked_at >= self._poll_s):
            return
        with self._lock:
            if not (force or self._stale or time.monotonic() - self._checked_at >= self._poll_s):
                return
            self._stale = False
            self._checked_at = time.monotonic()
            with self._db.read() as session:
                newest = store_cameras.newest_change(session)
                if newest <= self._cursor:
                    return
                rows = store_cameras.change_rows_between(session, after=self._cursor, upto=newest)
                cursor = newest
            self._apply(rows, cursor)

    def _apply(self, rows: list[Any], cursor: int) -> None:
        if self._cursor == 0 and len(rows) > 1000:
            alive = [r for r in rows if not r.deleted]
            self._index = CameraIndex.from_cameras(camera_domain(r) for r in alive)
            self._public = {r.id: camera_public(r) for r in alive}
        else:
            for row in rows:
                if row.deleted:
                    self._index.remove(row.id)
                    self._public.pop(row.id, None)
                else:
                    self._index.upsert(camera_domain(row))
                    self._public[row.id] = camera_public(row)
        self._cursor = max(self._cursor, cursor)
        self.refreshes += 1
        log.debug("camera registry at change %d (%d cameras)", self._cursor, len(self._public))

    def nearest(
        self,
        point: GeoPoint,
        *,
        k: int,
        radius_m: float | None,
        tier: Tier | None = None,
        where: Callable[[Camera], bool] | None = None,
    ) -> list[tuple[NearestHit, Camera, dict[str, Any]]]:
        """k nearest non-revoked cameras with their domain record and public shape."""
        self.refresh()
        with self._lock:
            hits = self._index.nearest(point, k, radius_m=radius_m, tier=tier, where=where)
            out = []
            for hit in hits:
                camera = self._index.get(hit.camera_id)
                public = self._public.get(hit.camera_id)
                if camera is not None and public is not None:
                    out.append((hit, camera, public))
            return out

    def camera(self, camera_id: str) -> Camera | None:
        self.refresh()
        with self._lock:
            return self._index.get(camera_id)
