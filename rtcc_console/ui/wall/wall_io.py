"""Snapshots and presets of the wall (``VideoWall`` delegates to these; kept apart for size).

Both touch the disk and the server, so both run in the background and report back
through the wall's message bar and signals.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rtcc_console.core.models import utcnow
from rtcc_console.ui.wall.feeds import CameraRef
from rtcc_console.ui.wall.layout import LAYOUTS
from rtcc_console.ui.wall.snapshots import (
    Snapshot,
    default_snapshot_dir,
    safe_filename,
    write_snapshot,
)

if TYPE_CHECKING:
    from rtcc_console.ui.wall.wall import VideoWall

PRESET_VERSION = 1


# --- snapshots ----------------------------------------------------------------------
def take_snapshot(wall: VideoWall, tile_index: int | None = None) -> bool:
    """Save the tile's current frame as an audited PNG (the selected tile by default)."""
    index = wall.selected_index if tile_index is None else tile_index
    tile = wall.grid.tiles[index]
    feed = wall.feeds.feeds.get(tile)
    image = tile.current_image()
    if feed is None or feed.grant is None or image is None:
        wall.show_message("error", f"Tile {index + 1} shows no live frame to snapshot.")
        return False
    copy = image.copy()  # the worker's buffer may be gone before the PNG is written
    taken_at = utcnow()
    folder = wall.snapshot_dir or default_snapshot_dir()
    camera, grant_id, reason = feed.camera, feed.grant.id, feed.reason

    def done(snap: Snapshot) -> None:
        wall.show_message(
            "info", f"Snapshot of {camera.name} saved: {snap.path} (SHA-256 {snap.sha256[:12]}…)"
        )
        wall.snapshot_saved.emit(str(snap.path), snap.sha256)
        wall.evidence_saved.emit(str(snap.path), snap.sha256, camera.id)  # into the vault

    wall.runner.submit(
        lambda: write_snapshot(
            copy,
            folder=folder,
            camera_id=camera.id,
            camera_name=camera.name,
            grant_id=grant_id,
            user=wall.user,
            reason=reason,
            taken_at=taken_at,
            grants=wall.grants,
        ),
        on_done=done,
        on_failed=lambda exc: wall.show_message(
            "error", f"Snapshot of {camera.name} failed: {exc}"
        ),
        what="snapshot",
    )
    return True


def save_clip(wall: VideoWall, tile_index: int | None = None, seconds: float = 30.0) -> bool:
    """Write the tile's last ``seconds`` as an MP4 remuxed from the worker's packet ring
    (no re-encoding), hash it and audit it like a snapshot; all off the GUI thread."""
    index = wall.selected_index if tile_index is None else tile_index
    tile = wall.grid.tiles[index]
    feed = wall.feeds.feeds.get(tile)
    worker = None if feed is None else feed.worker
    if feed is None or feed.grant is None or worker is None or not hasattr(worker, "save_clip"):
        wall.show_message("error", f"Tile {index + 1} has no live feed to save a clip from.")
        return False
    taken_at = utcnow()
    folder = wall.snapshot_dir or default_snapshot_dir()
    camera, grant_id, reason = feed.camera, feed.grant.id, feed.reason
    path = folder / f"{safe_filename(camera.id)}_{taken_at.strftime('%Y%m%dT%H%M%S_%fZ')}.mp4"

    def write() -> tuple[Path, str]:
        folder.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(".mp4.part")
        worker.save_clip(part, seconds)
        digest = hashlib.sha256(part.read_bytes()).hexdigest()
        os.replace(part, path)
        wall.grants.record_snapshot(
            camera.id, grant_id, digest, taken_at, f"{reason} (video clip, last {seconds:.0f} s)"
        )
        return path, digest

    def done(result: tuple[Path, str]) -> None:
        saved, digest = result
        wall.show_message("info", f"Clip of {camera.name} saved: {saved} (SHA-256 {digest[:12]}…)")
        wall.clip_saved.emit(str(saved), digest)
        wall.evidence_saved.emit(str(saved), digest, camera.id)  # into the vault

    wall.runner.submit(
        write,
        on_done=done,
        on_failed=lambda exc: wall.show_message("error", f"Clip of {camera.name} failed: {exc}"),
        what="clip",
    )
    return True


# --- presets ------------------------------------------------------------------------
def current_preset(wall: VideoWall) -> dict[str, Any]:
    """The wall as a preset: layout name and the camera on each tile."""
    tiles: list[dict[str, Any]] = []
    seen: set[str] = set()
    for tile, feed in sorted(wall.feeds.feeds.items(), key=lambda item: item[0].index):
        if feed.camera.id in seen:  # a preset never holds a camera twice
            continue
        seen.add(feed.camera.id)
        tiles.append(
            {
                "index": tile.index,
                "camera_id": feed.camera.id,
                "name": feed.camera.name,
                "tier": feed.camera.tier,
            }
        )
    return {"version": PRESET_VERSION, "layout": wall.layout_name, "tiles": tiles}


def save_preset(wall: VideoWall, name: str) -> None:
    """Save the wall under ``name`` for this user (server; local file when offline)."""
    layout = current_preset(wall)

    def done(on_server: bool) -> None:
        if on_server:
            wall.show_message("info", f"Preset “{name}” saved.")
        else:
            wall.show_message(
                "warning", f"Server unreachable: preset “{name}” saved on this workstation only."
            )
        refresh_presets(wall)

    wall.runner.submit(
        lambda: wall.presets.save(name, layout),
        on_done=done,
        on_failed=lambda exc: wall.show_message("error", f"Saving preset “{name}” failed: {exc}"),
    )


def delete_preset(wall: VideoWall, name: str) -> None:
    wall.runner.submit(
        lambda: wall.presets.delete(name),
        on_done=lambda _ok: refresh_presets(wall),
        on_failed=lambda exc: wall.show_message("error", f"Deleting preset “{name}” failed: {exc}"),
    )


def refresh_presets(wall: VideoWall) -> None:
    """Reload the preset names into the toolbar (and ``presets_changed``)."""

    def done(result: tuple[dict[str, dict[str, Any]], bool]) -> None:
        presets, _online = result
        wall.preset_names = sorted(presets)
        wall.toolbar.show_presets(wall.preset_names)
        wall.presets_changed.emit(wall.preset_names)

    wall.runner.submit(wall.presets.load, on_done=done, what="loading presets")


def restore_preset(wall: VideoWall, name: str) -> None:
    """Apply a preset: its layout, then each camera opened with the current reason."""
    reason = wall.reason()
    if not wall._require_reason(reason):
        return

    def apply(result: tuple[dict[str, dict[str, Any]], bool]) -> None:
        presets, online = result
        preset = presets.get(name)
        if preset is None or preset.get("layout") not in LAYOUTS:
            wall.show_message("error", f"Preset “{name}” is not available.")
            return
        for tile in list(wall.feeds.feeds):
            wall.close_tile(tile.index)
        wall.set_layout(str(preset["layout"]))
        for item in preset.get("tiles", []):
            index = int(item.get("index", -1))
            if 0 <= index < len(wall.grid.tiles):
                wall.open_camera(CameraRef.of(item), reason, index)
        if not online:
            wall.show_message(
                "warning", f"Server unreachable: restored “{name}” from this workstation's copy."
            )

    wall.runner.submit(
        wall.presets.load,
        on_done=apply,
        on_failed=lambda exc: wall.show_message(
            "error", f"Restoring preset “{name}” failed: {exc}"
        ),
    )
