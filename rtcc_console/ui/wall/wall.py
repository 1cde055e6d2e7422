"""VideoWall: the live video wall widget the console docks.

It arranges ``FeedTile``s in a ``WallLayout``, polls every worker with ONE timer and
repaints only tiles with a new frame, and exposes what the console needs: open cameras
(with the analyst's reason), react to revocations, pre-warm a call's cameras, presets and
snapshots. Everything that can block runs in the background (``tasks.BackgroundRunner``);
failures are shown on the tile or in the wall's message bar.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QPalette
from PySide6.QtWidgets import QLabel, QMenu, QVBoxLayout, QWidget

from rtcc_console.core.models import Camera, Tier
from rtcc_console.ui.wall import wall_io
from rtcc_console.ui.wall.badges import EMPTY, REVOKED, Badge
from rtcc_console.ui.wall.feeds import CameraRef, FeedController
from rtcc_console.ui.wall.grants import GrantService
from rtcc_console.ui.wall.layout import LAYOUTS, WallLayout
from rtcc_console.ui.wall.presets import PresetStore, default_presets_file
from rtcc_console.ui.wall.prewarm import PrewarmPool
from rtcc_console.ui.wall.tasks import BackgroundRunner
from rtcc_console.ui.wall.tile import FeedTile
from rtcc_console.ui.wall.toolbar import WallActions, WallToolbar

log = logging.getLogger(__name__)

FRAME_POLL_MS = 25  # 40 Hz: a 15 fps frame waits at most one beat
SLOW_EVERY = 10  # badges/renewals/expiry every 10th beat (~4 Hz)


#: A camera to open: the registry's record, the wall's reference, or a dropped payload.
WallCamera = Camera | CameraRef | dict[str, Any]


def _revoked(camera: WallCamera) -> bool:
    return isinstance(camera, Camera) and camera.revoked


def default_worker_factory(url: str, **kwargs: Any) -> Any:
    from rtcc_console.media.feed import FeedWorker

    return FeedWorker(url, **kwargs)


class _TileGrid(QWidget):
    """Places the tiles by the layout's rectangles (or one maximised tile)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.tiles: list[FeedTile] = []
        self.layout_spec: WallLayout = LAYOUTS["2x2"]
        self.maximised: FeedTile | None = None
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor("#050506"))
        self.setPalette(palette)
        self.setAutoFillBackground(True)  # the gaps between tiles stay dark

    def arrange(self) -> None:
        if self.maximised is not None:
            for tile in self.tiles:
                tile.setVisible(tile is self.maximised)
            self.maximised.setGeometry(0, 0, self.width(), self.height())
            return
        for tile, (x, y, w, h) in zip(
            self.tiles, self.layout_spec.rects(self.width(), self.height()), strict=True
        ):
            tile.setGeometry(x, y, w, h)
            tile.setVisible(True)

    def resizeEvent(self, event: Any) -> None:
        self.arrange()


class VideoWall(QWidget):
    """The video wall: tiles, layouts, live grants, snapshots, presets, pre-warm."""

    tile_opened = Signal(int, str)  # tile index, camera id
    tile_closed = Signal(int, str, str)  # tile index, camera id, why (badge kind)
    open_top_requested = Signal()  # the console answers with open_cameras(top cameras)
    snapshot_saved = Signal(str, str)  # path, sha256
    clip_saved = Signal(str, str)  # path, sha256 (an MP4 remuxed from the packet ring)
    evidence_saved = Signal(
        str, str, str
    )  # path, sha256, camera id: a clip or snapshot for the vault
    message_shown = Signal(str, str)  # level ("info"/"warning"/"error"), text
    presets_changed = Signal(list)  # preset names
    footage_request_wanted = Signal(str)  # camera id: a request-only camera was dropped

    def __init__(
        self,
        grants: GrantService,
        *,
        user: str,
        worker_factory: Callable[..., Any] | None = None,
        parent: QWidget | None = None,
        snapshot_dir: Path | None = None,
        presets_file: Path | None = None,
        prewarm_limit: int = 4,
        prewarm_keep_s: float = 60.0,
        layout: str = "2x2",
    ) -> None:
        super().__init__(parent)
        self.grants = grants
        self.user = user
        self.snapshot_dir = snapshot_dir
        self.runner = BackgroundRunner(on_error=lambda text: self.show_message("error", text))
        self.feeds = FeedController(
            grants,
            worker_factory or default_worker_factory,
            self.runner,
            on_message=self.show_message,
            on_closed=self._feed_closed,
        )
        self.prewarm_pool = PrewarmPool(self.feeds, limit=prewarm_limit, keep_s=prewarm_keep_s)
        self._presets_file = presets_file  # an explicit file (tests) gets a per-user sibling
        self.presets = PresetStore(grants, presets_file or default_presets_file(user))
        self.preset_names: list[str] = []
        self.selected_index = 0
        self.show_stats = False

        self.actions_ = WallActions(self)
        self.open_top_action: QAction = self.actions_.open_top
        self.toolbar = WallToolbar(self, self.actions_, list(LAYOUTS))
        self.message_label = QLabel(self)
        self.message_label.setWordWrap(True)
        self.message_label.hide()
        self._message_timer = QTimer(self)
        self._message_timer.setSingleShot(True)
        self._message_timer.setInterval(10_000)
        self._message_timer.timeout.connect(self.message_label.hide)
        self.grid = _TileGrid(self)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.toolbar)
        box.addWidget(self.message_label)
        box.addWidget(self.grid, 1)

        self._beat = 0
        self._message_cause: str | None = None  # what a standing banner is about
        self._default_reason = ""  # the last default offered by the console (see set_reason)
        self._shut_down = False
        self._presets_loaded = False
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_POLL_MS)
        self.timer.timeout.connect(self._on_timer)
        self.timer.start()
        self.set_layout(layout)

    # --- layout -------------------------------------------------------------------------
    @property
    def tiles(self) -> list[FeedTile]:
        return list(self.grid.tiles)

    @property
    def layout_name(self) -> str:
        return self.grid.layout_spec.name

    def set_layout(self, name: str) -> None:
        """Switch layout; tiles beyond the new count close (their grants are released)."""
        spec = LAYOUTS[name]
        tiles = self.grid.tiles
        for tile in tiles[spec.tile_count :]:
            self.feeds.close(tile, None)
            tile.deleteLater()
        del tiles[spec.tile_count :]
        while len(tiles) < spec.tile_count:
            tile = FeedTile(len(tiles), self.grid)
            tile.show_stats = self.show_stats
            tile.camera_dropped.connect(self._on_drop)
            tile.double_clicked.connect(self.toggle_maximised)
            tile.clicked.connect(self.select_tile)
            tile.resized.connect(self._on_tile_resized)
            tile.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            tile.customContextMenuRequested.connect(lambda pos, t=tile: self._tile_menu(t, pos))
            tiles.append(tile)
        self.grid.layout_spec = spec
        self.grid.maximised = None
        if len(tiles) > len(self.feeds.feeds):
            self._clear_cause("wall_full")
        self.selected_index = min(self.selected_index, spec.tile_count - 1)
        self.grid.arrange()
        self.toolbar.show_layout(name)

    def toggle_maximised(self, index: int) -> None:
        """Double-click: one tile fills the wall; again: back to the layout."""
        tile = self.grid.tiles[index]
        self.grid.maximised = None if self.grid.maximised is tile else tile
        self.grid.arrange()

    @property
    def maximised_index(self) -> int | None:
        return None if self.grid.maximised is None else self.grid.maximised.index

    def select_tile(self, index: int) -> None:
        self.selected_index = index
        for tile in self.grid.tiles:
            selected = tile.index == index
            if tile.selected != selected:
                tile.selected = selected
                tile.update()

    def set_show_stats(self, on: bool) -> None:
        """Show fps / drops / latency / decode time on every tile (toolbar toggle, 'i')."""
        self.show_stats = on
        self.actions_.stats.setChecked(on)
        for tile in self.grid.tiles:
            tile.show_stats = on
            tile.update()

    # --- reason and messages ------------------------------------------------------------
    def set_reason(self, text: str) -> None:
        """Offer the selected call's default reason / case number.

        What the analyst typed is never overwritten: the default replaces the field only
        while it is empty or still holds the previous default. Every live view is audited
        with this text.
        """
        edit = self.toolbar.reason_edit
        current = edit.text().strip()
        if not current or current == self._default_reason:
            edit.setText(text)
        self._default_reason = text.strip()

    def reason(self) -> str:
        return self.toolbar.reason_edit.text().strip()

    def show_message(self, level: str, text: str) -> None:
        colours = {"error": "#7f1d1d", "warning": "#78350f", "info": "#1e3a5f"}
        self.message_label.setStyleSheet(
            f"background: {colours.get(level, '#1e3a5f')}; color: white; padding: 4px 8px;"
        )
        self.message_label.setText(text)
        self.message_label.show()
        self._message_cause = None
        if level == "info":  # confirmations fade; warnings and errors stay until replaced
            self._message_timer.start()
        else:
            self._message_timer.stop()
        self.message_shown.emit(level, text)

    def _require_reason(self, reason: str) -> bool:
        if reason.strip():
            self.toolbar.mark_reason_missing(False)
            return True
        self.toolbar.mark_reason_missing(True)
        self.show_message("error", "Enter a reason or case number before opening a camera.")
        self.toolbar.reason_edit.setFocus(Qt.FocusReason.OtherFocusReason)  # ask for it right there
        return False

    # --- opening and closing ------------------------------------------------------------
    def open_camera(self, camera: WallCamera, reason: str, tile_index: int | None = None) -> bool:
        """Open ``camera`` (a Camera or CameraRef) on a tile after a live grant.

        Picks the first empty tile when ``tile_index`` is None (the selected one if all
        are in use). Returns False, with a visible message, when it cannot even try.
        """
        ref = CameraRef.of(camera)
        if not self._require_reason(reason):
            return False
        if tile_index is None:
            tile_index = self._free_tile_index()
        if not 0 <= tile_index < len(self.grid.tiles):
            self.show_message(
                "error", f"There is no tile {tile_index + 1} in layout {self.layout_name}."
            )
            return False
        tile = self.grid.tiles[tile_index]
        if ref.tier is not Tier.INTEGRATED:
            # No live view exists: offer the footage request and leave every tile alone.
            self.footage_request_wanted.emit(ref.id)
            self.show_message(
                "info",
                f"{ref.name} is a registered camera: no live view; request its footage instead.",
            )
            return False
        if _revoked(camera):
            self.show_message("warning", f"{ref.name}: the owner revoked access to this camera.")
            return False
        already = self.tile_of_camera(ref.id)
        if already is not None:
            if already != tile_index:  # never the same camera twice: point at the open one
                self.select_tile(already)
                self.show_message("info", f"{ref.name} is already open on tile {already + 1}.")
            return already == tile_index
        self.feeds.open(tile, ref, reason.strip(), adopt=self.prewarm_pool.take(ref.id))
        self.tile_opened.emit(tile_index, ref.id)
        return True

    def open_cameras(self, cameras: Iterable[WallCamera], reason: str) -> int:
        """Open several cameras on free tiles (the console's "open top cameras").

        A camera already on the wall is not opened again, registered and revoked cameras
        are skipped (they have no live view), and the free tiles of the current layout are
        filled in order. When cameras are left over, a banner says so; it clears itself
        once a tile frees up or the layout grows.
        """
        if not self._require_reason(reason):
            return 0
        opened = 0
        left_over = 0
        seen: set[str] = set()
        for camera in cameras:
            ref = CameraRef.of(camera)
            if ref.id in seen or self.tile_of_camera(ref.id) is not None:
                continue
            seen.add(ref.id)
            if ref.tier is not Tier.INTEGRATED or _revoked(camera):
                continue
            index = self._free_tile_index(allow_reuse=False)
            if index is None:
                left_over += 1
                continue
            opened += bool(self.open_camera(camera, reason, index))
        if left_over:
            self.show_message(
                "warning",
                f"The wall is full: {left_over} more camera{'s' if left_over != 1 else ''} could open; "
                "close a tile or choose a larger layout.",
            )
            self._message_cause = "wall_full"
        return opened

    def is_playing(self, within_s: float = 2.0) -> bool:
        """A live tile painted a new frame in the last ``within_s`` seconds."""
        now = time.monotonic()
        return any(
            tile.last_frame_at is not None and now - tile.last_frame_at < within_s
            for tile in self.feeds.feeds
        )

    def live_view_count(self) -> int:
        """Tiles holding a live view (granted or being granted)."""
        return len(self.feeds.feeds)

    def tile_of_camera(self, camera_id: str) -> int | None:
        """The tile showing ``camera_id``, if any."""
        for tile, feed in self.feeds.feeds.items():
            if feed.camera.id == camera_id:
                return tile.index
        return None

    def _clear_cause(self, cause: str) -> None:
        """Hide a banner whose cause is gone (e.g. the wall is no longer full)."""
        if self._message_cause == cause:
            self._message_cause = None
            self.message_label.hide()

    def close_tile(self, index: int) -> None:
        tile = self.grid.tiles[index]
        self.feeds.close(tile, None)
        tile.clear_frame()
        tile.set_camera("", "")
        tile.set_badge(Badge(EMPTY))
        self._clear_cause("wall_full")

    def _free_tile_index(self, allow_reuse: bool = True) -> Any:
        for tile in self.grid.tiles:
            if tile not in self.feeds.feeds and tile.badge.kind == EMPTY:
                return tile.index
        for tile in self.grid.tiles:
            if tile not in self.feeds.feeds:
                return tile.index
        return self.selected_index if allow_reuse else None

    def _feed_closed(self, tile: FeedTile, camera_id: str, why: str) -> None:
        self.tile_closed.emit(tile.index, camera_id, why)
        self._clear_cause("wall_full")

    def _on_drop(self, index: int, payload: dict[str, str]) -> None:
        if payload.get("action") == "request" or payload.get("tier") == Tier.REGISTERED:
            self.footage_request_wanted.emit(payload["camera_id"])  # the tile is left as it is
            return
        self.select_tile(index)
        self.open_camera(CameraRef.of(payload), self.reason(), index)

    # --- events from the server (forwarded by the console) -------------------------------
    def on_grant_revoked(self, grant_id: str | None, camera_id: str | None, reason: str) -> int:
        """Close every feed of a revoked grant (or camera) at once; returns how many."""
        text = reason or "access revoked"
        closed = 0
        hits = self.feeds.feeds_of(grant_id=grant_id, camera_id=None if grant_id else camera_id)
        if grant_id and camera_id:  # a grant still on its way to us cannot be matched by id
            hits += [f for f in self.feeds.feeds_of(camera_id=camera_id) if f.grant is None]
        for feed in hits:
            if feed.tile is not None:
                self.feeds.close(feed.tile, Badge(REVOKED, text))
                closed += 1
        closed += self.prewarm_pool.revoke(
            grant_id=grant_id, camera_id=None if grant_id else camera_id, reason=text
        )
        return closed

    def on_camera_changed(self, camera: Camera) -> None:
        """A registry change: a revoked (or no longer live) camera's tiles close now."""
        ref = CameraRef.of(camera)
        if camera.revoked or not camera.is_live_capable:
            why = "the owner revoked access" if camera.revoked else "live view no longer allowed"
            for feed in self.feeds.feeds_of(camera_id=ref.id):
                if feed.tile is not None:
                    self.feeds.close(feed.tile, Badge(REVOKED, why))
            self.prewarm_pool.revoke(camera_id=ref.id, reason=why)
            return
        for feed in self.feeds.feeds_of(camera_id=ref.id):
            if feed.tile is not None:
                feed.tile.set_camera(ref.name, ref.tier, camera_id=ref.id, rank=ref.rank)

    def on_emergency_ended(self, camera_ids: Iterable[str]) -> None:
        """An emergency ended: re-check those grants with the server now (refusal closes)."""
        for camera_id in camera_ids:
            for feed in self.feeds.feeds_of(camera_id=camera_id):
                self.feeds.renew_now(feed)

    # --- pre-warm -----------------------------------------------------------------------
    def prewarm(self, cameras: list[Camera], reason: str) -> list[str]:
        """Grant and start up to N cameras unseen, so opening one shows a frame at once."""
        if not reason.strip():
            return []  # no reason, no grant: the console prefills it from the call
        on_wall = {f.camera.id for f in self.feeds.feeds.values()}
        return self.prewarm_pool.prewarm(
            [CameraRef.of(c) for c in cameras], reason.strip(), on_wall
        )

    # --- timer --------------------------------------------------------------------------
    def _on_timer(self) -> None:
        self.feeds.take_frames()
        self._beat += 1
        if self._beat % SLOW_EVERY == 0:
            self.feeds.tick()
            self.prewarm_pool.tick()

    def _on_tile_resized(self, index: int) -> None:
        tile = self.grid.tiles[index] if index < len(self.grid.tiles) else None
        feed = self.feeds.feeds.get(tile) if tile is not None else None
        if feed is not None:
            self.feeds.resize_output(feed)

    def _tile_menu(self, tile: FeedTile, pos: QPoint) -> None:
        menu = QMenu(self)
        menu.addAction("Snapshot", lambda: self.take_snapshot(tile.index))
        menu.addAction("Save last 30 s", lambda: self.save_clip(tile.index))
        menu.addAction("Maximise / restore", lambda: self.toggle_maximised(tile.index))
        menu.addAction("Close", lambda: self.close_tile(tile.index))
        menu.popup(tile.mapToGlobal(pos))

    # --- snapshots and presets (wall_io.py) ----------------------------------------------
    def save_clip(self, tile_index: int | None = None, seconds: float = 30.0) -> bool:
        """Save the tile's last ``seconds`` as an audited MP4 (no re-encoding)."""
        return wall_io.save_clip(self, tile_index, seconds)

    def take_snapshot(self, tile_index: int | None = None) -> bool:
        """Save the tile's frame (the selected tile by default) as an audited PNG."""
        return wall_io.take_snapshot(self, tile_index)

    def current_preset(self) -> dict[str, Any]:
        """The wall as a preset document: layout name and the camera on each tile."""
        return wall_io.current_preset(self)

    def save_preset(self, name: str) -> None:
        """Save the wall for this user (server; a local file when it is unreachable)."""
        wall_io.save_preset(self, name)

    def restore_preset(self, name: str) -> None:
        """Apply a preset: its layout, then each camera opened with the current reason."""
        wall_io.restore_preset(self, name)

    def delete_preset(self, name: str) -> None:
        wall_io.delete_preset(self, name)

    def refresh_presets(self) -> None:
        """Reload the preset names into the toolbar (and ``presets_changed``)."""
        wall_io.refresh_presets(self)

    def end_session(self) -> None:
        """The analyst signed out or the session ended: no live view may outlive it.

        Every tile's feed stops and its grant is released; pre-warmed feeds too. The
        layout stays; the tiles are left empty for whoever signs in next.
        """
        for tile in list(self.feeds.feeds):
            self.close_tile(tile.index)
        self.prewarm_pool.clear()

    def close_for_sign_out(self) -> list[str]:
        """Sign-out: close every live view (tiles and pre-warmed feeds) and return the ids of
        their grants, without releasing them one by one here: the console's session ends
        them with its token still valid, then revokes the token (``ConsoleSession``)."""
        ids = [
            f.grant.id for f in self.feeds.feeds.values() if f.grant is not None and not f.closed
        ]
        ids += self.prewarm_pool.grant_ids()
        for tile in list(self.feeds.feeds):
            self.feeds.close(tile, None, release=False)
            tile.clear_frame()
            tile.set_camera("", "")
            tile.set_badge(Badge(EMPTY))
        self.prewarm_pool.clear(release=False)
        return ids

    def set_user(self, user: str) -> None:
        """Someone signed in: a different user gets their own presets and snapshot tags."""
        if user == self.user:
            return
        self.end_session()
        self.user = user
        given = self._presets_file
        file = given.with_name(f"{given.stem}-{user}{given.suffix}") if given else None
        self.presets = PresetStore(self.grants, file or default_presets_file(user))
        self._presets_loaded = self.isVisible()
        if self._presets_loaded:
            self.refresh_presets()

    def shutdown(self) -> None:
        """Stop every worker and release every grant (call before the window closes).

        Idempotent; also runs when the application is about to quit.
        """
        if self._shut_down:
            return
        self._shut_down = True
        self.timer.stop()
        for tile in list(self.feeds.feeds):
            self.feeds.close(tile, None)
        self.prewarm_pool.clear()
        self.runner.shutdown(wait=True)

    def showEvent(self, event: Any) -> None:
        """The first time the wall is shown, fill the preset list (in the background)."""
        super().showEvent(event)
        if not self._presets_loaded:
            self._presets_loaded = True
            self.refresh_presets()

    def keyPressEvent(self, event: Any) -> None:
        if event.key() == Qt.Key.Key_I and not event.modifiers():
            self.set_show_stats(not self.show_stats)
            return
        if event.key() == Qt.Key.Key_Escape and self.grid.maximised is not None:
            self.toggle_maximised(self.grid.maximised.index)
            return
        super().keyPressEvent(event)
