"""Snapshots and presets of the wall (a mixin of ``VideoWall``, kept apart for size).

Both touch the disk and the server, so both run in the background and report back
through the wall's message bar and signals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rtcc_console.core.models import utcnow
from rtcc_console.ui.wall.feeds import CameraRef
from rtcc_console.ui.wall.layout import LAYOUTS
from rtcc_console.ui.wall.snapshots import Snapshot, default_snapshot_dir, write_snapshot

if TYPE_CHECKING:
    from rtcc_console.ui.wall.wall import VideoWall

PRESET_VERSION = 1


class WallSnapshotsAndPresets:
    """``take_snapshot`` and the preset methods of ``VideoWall``."""

    # --- snapshots ----------------------------------------------------------------------
    def take_snapshot(self: VideoWall, tile_index: int | None = None) -> bool:
        """Save the tile's current frame as an audited PNG (the selected tile by default)."""
        index = self.selected_index if tile_index is None else tile_index
        tile = self.grid.tiles[index]
        feed = self.feeds.feeds.get(tile)
        image = tile.current_image()
        if feed is None or feed.grant is None or image is None:
            self.show_message("error", f"Tile {index + 1} shows no live frame to snapshot.")
            return False
        copy = image.copy()  # the worker's buffer may be gone before the PNG is written
        taken_at = utcnow()
        folder = self.snapshot_dir or default_snapshot_dir()
        camera, grant_id, reason = feed.camera, feed.grant.id, feed.reason

        def done(snap: Snapshot) -> None:
            self.show_message("info", f"Snapshot of {camera.name} saved: {snap.path} (SHA-256 {snap.sha256[:12]}…)")
            self.snapshot_saved.emit(str(snap.path), snap.sha256)

        self.runner.submit(
            lambda: write_snapshot(
                copy, folder=folder, camera_id=camera.id, camera_name=camera.name,
                grant_id=grant_id, user=self.user, reason=reason, taken_at=taken_at,
                grants=self.grants,
            ),
            on_done=done,
            on_failed=lambda exc: self.show_message("error", f"Snapshot of {camera.name} failed: {exc}"),
            what="snapshot",
        )
        return True

    # --- presets ------------------------------------------------------------------------
    def current_preset(self: VideoWall) -> dict[str, Any]:
        """The wall as a preset: layout name and the camera on each tile."""
        tiles = [
            {"index": tile.index, "camera_id": feed.camera.id, "name": feed.camera.name,
             "tier": feed.camera.tier}
            for tile, feed in sorted(self.feeds.feeds.items(), key=lambda item: item[0].index)
        ]
        return {"version": PRESET_VERSION, "layout": self.layout_name, "tiles": tiles}

    def save_preset(self: VideoWall, name: str) -> None:
        """Save the wall under ``name`` for this user (server; local file when offline)."""
        layout = self.current_preset()

        def done(on_server: bool) -> None:
            if on_server:
                self.show_message("info", f"Preset “{name}” saved.")
            else:
                self.show_message("warning", f"Server unreachable: preset “{name}” saved on this workstation only.")
            self.refresh_presets()

        self.runner.submit(
            lambda: self.presets.save(name, layout), on_done=done,
            on_failed=lambda exc: self.show_message("error", f"Saving preset “{name}” failed: {exc}"),
        )

    def delete_preset(self: VideoWall, name: str) -> None:
        self.runner.submit(
            lambda: self.presets.delete(name), on_done=lambda _ok: self.refresh_presets(),
            on_failed=lambda exc: self.show_message("error", f"Deleting preset “{name}” failed: {exc}"),
        )

    def refresh_presets(self: VideoWall) -> None:
        """Reload the preset names into the toolbar (and ``presets_changed``)."""
        def done(result: tuple[dict[str, dict[str, Any]], bool]) -> None:
            presets, _online = result
            self.preset_names = sorted(presets)
            self.toolbar.show_presets(self.preset_names)
            self.presets_changed.emit(self.preset_names)

        self.runner.submit(self.presets.load, on_done=done, what="loading presets")

    def restore_preset(self: VideoWall, name: str) -> None:
        """Apply a preset: its layout, then each camera opened with the current reason."""
        reason = self.reason()
        if not self._require_reason(reason):
            return

        def apply(result: tuple[dict[str, dict[str, Any]], bool]) -> None:
            presets, online = result
            preset = presets.get(name)
            if preset is None or preset.get("layout") not in LAYOUTS:
                self.show_message("error", f"Preset “{name}” is not available.")
                return
            for tile in list(self.feeds.feeds):
                self.close_tile(tile.index)
            self.set_layout(str(preset["layout"]))
            for item in preset.get("tiles", []):
                index = int(item.get("index", -1))
                if 0 <= index < len(self.grid.tiles):
                    self.open_camera(CameraRef.of(item), reason, index)
            if not online:
                self.show_message("warning", f"Server unreachable: restored “{name}” from this workstation's copy.")

        self.runner.submit(
            self.presets.load, on_done=apply,
            on_failed=lambda exc: self.show_message("error", f"Restoring preset “{name}” failed: {exc}"),
        )
