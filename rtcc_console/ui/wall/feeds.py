"""The life of a live feed on the wall: grant first, then worker; renew; close at once.

``FeedController`` owns every ``LiveFeed`` (one per tile, plus pre-warmed ones that are not
shown yet). The rules it enforces:

* no worker starts before the server granted the view; a denial shows DENIED, no worker;
* the grant is renewed at half its lifetime, off the GUI thread; a refused renewal or a
  revocation closes the feed at once (REVOKED badge, frame cleared, worker stopped,
  grant released);
* the tile's frame clock is checked independently of the worker's own state;
* tiles narrower than ``SUBSTREAM_BELOW_PX`` device pixels open the camera's substream.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from rtcc_console.core.models import Camera, Tier
from rtcc_console.core.redact import redact_stream_url
from rtcc_console.ui.wall.badges import (
    CONNECTING,
    DENIED,
    FAILED,
    REVOKED,
    STOPPED,
    Badge,
    badge_for,
    stats_line,
)
from rtcc_console.ui.wall.grants import Grant, GrantDenied, GrantService
from rtcc_console.ui.wall.tasks import BackgroundRunner
from rtcc_console.ui.wall.tile import FeedTile, fitted_size

log = logging.getLogger(__name__)

SUBSTREAM_BELOW_PX = 640
RENEW_RETRY_S = 5.0
DEFAULT_SOURCE = (1280, 720)
SWITCH_GIVE_UP_S = 10.0


@dataclass(frozen=True, slots=True)
class CameraRef:
    """What the wall needs of a camera: a ``core.models.Camera`` or a dragged payload."""

    id: str
    name: str
    tier: Tier
    rank: int | None = None  # its place in the selected call's list, shown in the tile title

    def __post_init__(self) -> None:
        object.__setattr__(self, "tier", Tier(self.tier))  # "integrated" from a drag payload

    @classmethod
    def of(
        cls, camera: Camera | CameraRef | Mapping[str, Any], *, rank: int | None = None
    ) -> CameraRef:
        if isinstance(camera, CameraRef):
            return camera if rank is None else cls(camera.id, camera.name, camera.tier, rank)
        if isinstance(camera, Camera):
            return cls(camera.id, camera.name, camera.tier, rank)
        return cls(
            str(camera["camera_id"]),
            str(camera.get("name") or camera["camera_id"]),
            Tier(str(camera.get("tier") or Tier.INTEGRATED)),
            rank,
        )


@dataclass(eq=False)
class LiveFeed:
    """A granted (or being granted) view of one camera and its worker."""

    camera: CameraRef
    reason: str
    tile: FeedTile | None = None  # None while pre-warmed
    grant: Grant | None = None
    worker: Any = None
    url_kind: str = "main"
    worker_started_at: float | None = None
    renew_due: float = math.inf
    expires_at: float = math.inf
    renew_in_flight: bool = False
    source_size: tuple[int, int] | None = None
    closed: bool = False
    warmed_at: float = 0.0
    next_worker: Any = None  # replacing worker (other stream), until its first frame
    next_kind: str = "main"
    next_started_at: float = 0.0
    url_kind_locked: bool = False  # the other stream failed to start: stop trying


class FeedController:
    """Opens, renews and closes live feeds for the wall's tiles."""

    def __init__(
        self,
        grants: GrantService,
        worker_factory: Callable[..., Any],
        runner: BackgroundRunner,
        *,
        on_message: Callable[[str, str], None],
        on_closed: Callable[[FeedTile, str, str], None],
    ) -> None:
        self.grants = grants
        self.worker_factory = worker_factory
        self.runner = runner
        self.on_message = on_message
        self.on_closed = on_closed
        self.feeds: dict[FeedTile, LiveFeed] = {}
        self.workers_started = 0

    # --- opening ------------------------------------------------------------------------
    def open(
        self, tile: FeedTile, camera: CameraRef, reason: str, adopt: LiveFeed | None = None
    ) -> LiveFeed:
        """Show ``camera`` on ``tile``: adopt a pre-warmed feed or ask for a grant first."""
        self.close(tile, None)
        tile.clear_frame()  # never show the previous camera's picture under a new name
        tile.set_camera(camera.name, camera.tier, camera_id=camera.id, rank=camera.rank)
        if adopt is not None:
            feed = adopt
            feed.tile = tile
            self.feeds[tile] = feed
            feed.worker_started_at = time.monotonic()  # the tile's frame clock starts now
            if feed.worker is not None:
                self._switch_stream_if_needed(feed)
                self.resize_output(feed)
                self.refresh(feed)
            else:
                tile.set_badge(Badge(CONNECTING, "requesting live grant"))
            return feed
        feed = LiveFeed(camera, reason, tile=tile)
        self.feeds[tile] = feed
        tile.set_badge(Badge(CONNECTING, "requesting live grant"))
        self.acquire(feed)
        return feed

    def acquire(self, feed: LiveFeed) -> None:
        """Ask the server for a grant in the background; start the worker once granted."""
        self.runner.submit(
            lambda: self.grants.acquire(feed.camera.id, feed.reason),
            on_done=lambda grant: self._granted(feed, grant),
            on_failed=lambda exc: self._grant_failed(feed, exc),
            what=f"live grant for {feed.camera.name}",
        )

    def _granted(self, feed: LiveFeed, grant: Grant) -> None:
        if feed.closed:  # closed while we waited: give the grant back
            self.runner.submit(lambda: self.grants.release(grant.id), what="grant release")
            return
        feed.grant = grant
        self._schedule_renewal(feed, grant)
        if not grant.stream_url:
            self._grant_failed(
                feed, RuntimeError("the server granted no stream URL for this camera")
            )
            self.runner.submit(lambda: self.grants.release(grant.id), what="grant release")
            return
        self.start_worker(feed)

    def _grant_failed(self, feed: LiveFeed, exc: BaseException) -> None:
        if feed.closed:
            return
        if isinstance(exc, GrantDenied):
            badge = Badge(DENIED, exc.reason)
        else:
            badge = Badge(FAILED, f"could not get a live grant: {exc}")
        if feed.tile is None:
            feed.closed = True  # a pre-warm that failed: nothing to show
            return
        self.close(feed.tile, badge, release=False)

    def _preferred_kind(self, feed: LiveFeed) -> str:
        if feed.grant is None or not feed.grant.substream_url:
            return "main"
        if feed.tile is None:
            return "sub"
        return "sub" if feed.tile.device_size()[0] < SUBSTREAM_BELOW_PX else "main"

    def _out_size(self, feed: LiveFeed) -> tuple[int, int]:
        box = feed.tile.device_size() if feed.tile is not None else (640, 360)
        return fitted_size(*box, *(feed.source_size or DEFAULT_SOURCE))

    def _make_worker(self, feed: LiveFeed, kind: str) -> Any:
        assert feed.grant is not None
        url = feed.grant.substream_url if kind == "sub" else feed.grant.stream_url
        assert url
        made: list[Any] = []

        def on_state(stats: Any) -> None:  # called on the worker thread
            def apply() -> None:
                if made and made[0] is feed.worker:  # not a replaced or replacing worker
                    self.refresh(feed, stats)

            self.runner.run_on_main(apply)

        worker = self.worker_factory(
            url, name=feed.camera.name, out_size=self._out_size(feed), on_state=on_state
        )
        made.append(worker)
        self.workers_started += 1
        worker.start()
        log.info("opened %s (%s) on %s", feed.camera.id, kind, redact_stream_url(url))
        return worker

    def start_worker(self, feed: LiveFeed) -> None:
        """Start a worker on the granted URL that suits the tile's size."""
        feed.url_kind = self._preferred_kind(feed)
        feed.worker = self._make_worker(feed, feed.url_kind)
        feed.worker_started_at = time.monotonic()
        if feed.tile is not None:
            self.refresh(feed)

    # --- while open ---------------------------------------------------------------------
    def take_frames(self) -> None:
        """Hand each tile its worker's newest frame; only tiles with a new one repaint."""
        for tile, feed in self.feeds.items():
            if feed.next_worker is not None and self._take_over(feed):
                continue
            if feed.worker is not None:
                frame = feed.worker.take_frame()
                if frame is not None:
                    tile.set_frame(frame)
                    if not tile.badge.is_live:  # say LIVE with the first frame, not a beat later
                        self.refresh(feed)

    def _take_over(self, feed: LiveFeed) -> bool:
        """Make-before-break: the replacing worker takes over at its first frame."""
        frame = feed.next_worker.take_frame()
        if frame is None or feed.tile is None:
            return False
        old = feed.worker
        feed.worker, feed.url_kind, feed.next_worker = feed.next_worker, feed.next_kind, None
        feed.worker_started_at = time.monotonic()
        feed.source_size = None
        if old is not None:
            self.runner.submit(old.stop, what="feed worker stop")
        feed.tile.set_frame(frame)
        return True

    def refresh(self, feed: LiveFeed, stats: Any = None) -> None:
        """Recompute the tile's badge from the worker's stats and the tile's own clock."""
        if feed.closed or feed.tile is None or feed.worker is None:
            return
        stats = stats if stats is not None else feed.worker.stats()
        if stats.width and stats.height and (stats.width, stats.height) != feed.source_size:
            feed.source_size = (stats.width, stats.height)
            self.resize_output(feed)
        since = (
            None if feed.worker_started_at is None else time.monotonic() - feed.worker_started_at
        )
        badge = badge_for(stats, feed.tile.frame_age_s(), since)
        if badge.kind in (FAILED, REVOKED):
            self.close(feed.tile, badge)
            return
        feed.tile.set_badge(badge)
        feed.tile.set_stats_text(stats_line(stats))

    def tick(self) -> None:
        """The slow beat (~4 Hz): badges, renewals, grant expiry, stream choice."""
        now = time.monotonic()
        for feed in list(self.feeds.values()):
            self.refresh(feed)
            self.check_grant(feed, now)
            if not feed.closed:
                self._switch_stream_if_needed(feed)

    def check_grant(self, feed: LiveFeed, now: float) -> None:
        """Renew at half the lifetime; close when a grant ran out without renewal."""
        if feed.closed or feed.grant is None:
            return
        if now >= feed.expires_at:
            reason = "live grant expired: the server could not be reached to renew it"
            if feed.tile is not None:
                self.close(feed.tile, Badge(REVOKED, reason))
            else:
                self.dispose(feed)
            return
        if now >= feed.renew_due and not feed.renew_in_flight:
            self.renew_now(feed)

    def renew_now(self, feed: LiveFeed) -> None:
        """Renew in the background (also used when an emergency ends: ask the server now)."""
        if feed.grant is None or feed.renew_in_flight or feed.closed:
            return
        feed.renew_in_flight = True
        grant_id = feed.grant.id
        self.runner.submit(
            lambda: self.grants.renew(grant_id),
            on_done=lambda grant: self._renewed(feed, grant),
            on_failed=lambda exc: self._renew_failed(feed, exc),
            what=f"grant renewal for {feed.camera.name}",
        )

    def _schedule_renewal(self, feed: LiveFeed, grant: Grant) -> None:
        now = time.monotonic()
        feed.renew_due = now + max(1.0, grant.ttl_s * 0.5)
        feed.expires_at = now + max(2.0, grant.ttl_s)

    def _renewed(self, feed: LiveFeed, grant: Grant) -> None:
        feed.renew_in_flight = False
        if feed.closed or feed.grant is None:
            return
        # keep the URLs we opened: a renewal may not repeat them (relay secrets are one-off)
        feed.grant = replace(feed.grant, expires_at=grant.expires_at, ttl_s=grant.ttl_s)
        self._schedule_renewal(feed, grant)

    def _renew_failed(self, feed: LiveFeed, exc: BaseException) -> None:
        feed.renew_in_flight = False
        if feed.closed:
            return
        if isinstance(exc, GrantDenied):
            if feed.tile is not None:
                self.close(feed.tile, Badge(REVOKED, exc.reason))
            else:
                self.dispose(feed)
            return
        feed.renew_due = time.monotonic() + RENEW_RETRY_S  # keep trying until expiry
        self.on_message("warning", f"Could not renew the grant for {feed.camera.name}: {exc}")

    def resize_output(self, feed: LiveFeed) -> None:
        """Ask the worker for frames that fit the tile 1:1 (device pixels, source aspect)."""
        if feed.worker is not None and feed.tile is not None:
            feed.worker.set_output_size(*self._out_size(feed))

    def _switch_stream_if_needed(self, feed: LiveFeed) -> None:
        """Main stream for large tiles, substream for small ones; the old keeps playing
        until the new one delivers (a layout change never blanks a tile)."""
        if feed.worker is None or feed.grant is None or feed.tile is None:
            return
        want = self._preferred_kind(feed)
        pending = feed.next_worker
        if pending is not None:
            if (
                feed.next_kind == want
                and time.monotonic() - feed.next_started_at < SWITCH_GIVE_UP_S
            ):
                return
            feed.next_worker = None  # changed our mind, or the other stream never came
            self.runner.submit(pending.stop, what="feed worker stop")
            if feed.next_kind == want:
                self.on_message(
                    "warning",
                    f"{feed.camera.name}: the {want} stream did not start; staying on {feed.url_kind}",
                )
                feed.url_kind_locked = True
            return
        if want == feed.url_kind or feed.url_kind_locked:
            return
        feed.next_kind = want
        feed.next_started_at = time.monotonic()
        feed.next_worker = self._make_worker(feed, want)

    # --- closing ------------------------------------------------------------------------
    def close(self, tile: FeedTile, badge: Badge | None, *, release: bool = True) -> None:
        """Close the tile's feed now; ``badge`` says why (None: the tile just empties)."""
        feed = self.feeds.pop(tile, None)
        tile.set_stats_text("")
        if badge is not None:
            tile.set_badge(badge)
            tile.clear_frame()
        if feed is None:
            return
        reason = badge.detail if badge is not None else "closed"
        self.dispose(
            feed,
            revoke_reason=reason if badge is not None and badge.kind == REVOKED else None,
            release=release,
        )
        self.on_closed(tile, feed.camera.id, badge.kind if badge is not None else STOPPED)

    def dispose(
        self, feed: LiveFeed, *, revoke_reason: str | None = None, release: bool = True
    ) -> None:
        """Stop the worker and release the grant, off the GUI thread."""
        feed.closed = True
        workers = [w for w in (feed.worker, feed.next_worker) if w is not None]
        grant = feed.grant
        feed.worker = feed.next_worker = None

        def shut_down() -> None:
            for worker in workers:
                if revoke_reason is not None:
                    worker.revoke(revoke_reason)
                worker.stop()
            if grant is not None and release:
                self.grants.release(grant.id)

        self.runner.submit(shut_down, what=f"closing {feed.camera.name}")

    def feeds_of(
        self, *, grant_id: str | None = None, camera_id: str | None = None
    ) -> list[LiveFeed]:
        return [
            f
            for f in self.feeds.values()
            if (grant_id is not None and f.grant is not None and f.grant.id == grant_id)
            or (camera_id is not None and f.camera.id == camera_id)
        ]
