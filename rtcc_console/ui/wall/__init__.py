"""The live video wall: tiles, layouts, live grants, snapshots, presets and pre-warm.

The console creates one ``VideoWall(grants, user=..., worker_factory=...)`` and docks it;
``grants`` is an ``HttpGrantService`` (or ``LocalGrantService`` offline).
"""

from rtcc_console.ui.wall.feeds import CameraRef
from rtcc_console.ui.wall.grants import (
    Grant,
    GrantDenied,
    GrantService,
    GrantServiceUnavailable,
    LocalGrantService,
)
from rtcc_console.ui.wall.layout import LAYOUTS, WallLayout
from rtcc_console.ui.wall.tile import CAMERA_MIME, FeedTile
from rtcc_console.ui.wall.wall import VideoWall

__all__ = [
    "CAMERA_MIME",
    "LAYOUTS",
    "CameraRef",
    "FeedTile",
    "Grant",
    "GrantDenied",
    "GrantService",
    "GrantServiceUnavailable",
    "LocalGrantService",
    "VideoWall",
    "WallLayout",
]
