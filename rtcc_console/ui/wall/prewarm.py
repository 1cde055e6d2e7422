"""Pre-warmed feeds: the top cameras of the selected call, granted and decoding unseen.

When the analyst selects a call, the console asks the wall to pre-warm its best cameras.
Opening one of them then adopts the running worker (first frame at once, no second
worker). Unused feeds stop and give their grant back after ``keep_s`` or when another
call's pre-warm replaces them.
"""

from __future__ import annotations

import time

from rtcc_console.core.models import Tier
from rtcc_console.ui.wall.feeds import CameraRef, FeedController, LiveFeed


class PrewarmPool:
    """Up to ``limit`` live feeds that are running but not on a tile."""

    def __init__(self, controller: FeedController, *, limit: int = 4, keep_s: float = 60.0) -> None:
        self.controller = controller
        self.limit = limit
        self.keep_s = keep_s
        self.entries: dict[str, LiveFeed] = {}

    def prewarm(self, cameras: list[CameraRef], reason: str, skip: set[str]) -> list[str]:
        """Warm the first ``limit`` live-capable cameras not in ``skip``; drop the others."""
        wanted: list[CameraRef] = []
        for camera in cameras:
            if (
                camera.tier is Tier.INTEGRATED
                and camera.id not in skip
                and camera.id not in {c.id for c in wanted}
            ):
                wanted.append(camera)
            if len(wanted) >= self.limit:
                break
        wanted_ids = {c.id for c in wanted}
        for camera_id in [cid for cid in self.entries if cid not in wanted_ids]:
            self.controller.dispose(self.entries.pop(camera_id))
        now = time.monotonic()
        for camera in wanted:
            entry = self.entries.get(camera.id)
            if entry is not None and not entry.closed:
                entry.warmed_at = now  # still wanted: keep it another keep_s
                continue
            feed = LiveFeed(camera, reason, warmed_at=now)
            self.entries[camera.id] = feed
            self.controller.acquire(feed)
        return [c.id for c in wanted]

    def take(self, camera_id: str) -> LiveFeed | None:
        """Hand a warm feed over to a tile (None if there is none, or it was refused)."""
        feed = self.entries.pop(camera_id, None)
        if feed is None or feed.closed:
            return None
        return feed

    def tick(self) -> None:
        """Drop feeds nobody opened in time; renew the grants of the others."""
        now = time.monotonic()
        for camera_id, feed in list(self.entries.items()):
            if feed.closed:
                del self.entries[camera_id]
            elif now - feed.warmed_at > self.keep_s:
                del self.entries[camera_id]
                self.controller.dispose(feed)
            else:  # the worker's mailbox keeps only the newest frame for the adopting tile
                self.controller.check_grant(feed, now)

    def revoke(
        self, *, grant_id: str | None = None, camera_id: str | None = None, reason: str = ""
    ) -> int:
        """Stop warm feeds whose grant or camera was revoked."""
        hits = [
            cid
            for cid, f in self.entries.items()
            if (grant_id is not None and f.grant is not None and f.grant.id == grant_id)
            or (camera_id is not None and cid == camera_id)
        ]
        for cid in hits:
            self.controller.dispose(self.entries.pop(cid), revoke_reason=reason or "revoked")
        return len(hits)

    def grant_ids(self) -> list[str]:
        return [f.grant.id for f in self.entries.values() if f.grant is not None and not f.closed]

    def clear(self, *, release: bool = True) -> None:
        for feed in self.entries.values():
            self.controller.dispose(feed, release=release)
        self.entries.clear()
