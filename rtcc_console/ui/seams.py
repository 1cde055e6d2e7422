"""What the main window and the call selection need from the map and the video wall.

The real widgets (``ui.map_view.MapView``, ``ui.wall.VideoWall``) and the test fakes
implement these protocols; mypy checks both, so renaming a method on one side is an error
instead of a call that silently does nothing. Both are QWidgets as well (the window docks
them): :func:`as_widget` says so at the one place that needs it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from PySide6.QtCore import SignalInstance
from PySide6.QtWidgets import QWidget

from rtcc_console.core.models import Camera, DispatchCall
from rtcc_console.ui.wall.feeds import CameraRef


class ConsoleMap(Protocol):
    """The map of calls and cameras."""

    @property
    def call_clicked(self) -> SignalInstance: ...  # Signal(str): a call id

    @property
    def camera_clicked(self) -> SignalInstance: ...  # Signal(str): a camera id

    def set_calls(self, calls: Iterable[DispatchCall], /) -> None: ...

    def upsert_call(self, call: DispatchCall, /) -> None: ...

    def select_call(self, call_id: str | None, /, *, center: bool = True) -> None: ...

    def set_cameras(self, cameras: Iterable[Camera], /) -> None: ...

    def upsert_camera(self, camera: Camera, /) -> None: ...

    def remove_camera(self, camera_id: str, /) -> None: ...

    def show_ranked(self, camera_ids: list[str], /) -> None: ...

    def select_camera(self, camera_id: str | None, /) -> None: ...

    def focus_call(self) -> None: ...


class ConsoleWall(Protocol):
    """The video wall: live views of the selected call's cameras, granted by the server."""

    @property
    def open_top_requested(self) -> SignalInstance: ...  # the wall's own "open top cameras"

    def set_reason(self, text: str, /) -> None: ...

    def reason(self) -> str: ...

    def prewarm(self, cameras: list[Camera], reason: str, /) -> list[str]: ...

    def open_camera(self, camera: Camera | CameraRef, reason: str, /) -> bool: ...

    def open_cameras(self, cameras: Iterable[Camera | CameraRef], reason: str, /) -> int: ...

    def on_camera_changed(self, camera: Camera, /) -> None: ...

    def on_emergency_ended(self, camera_ids: Iterable[str], /) -> None: ...

    def on_grant_revoked(
        self, grant_id: str | None, camera_id: str | None, reason: str, /
    ) -> int: ...

    def set_user(self, user: str, /) -> None: ...

    def is_playing(self) -> bool: ...

    def live_view_count(self) -> int: ...

    def tile_of_camera(self, camera_id: str, /) -> int | None: ...  # "Send to field" preselects

    def close_for_sign_out(self) -> list[str]: ...

    def end_session(self) -> None: ...

    def shutdown(self) -> None: ...


def as_widget(part: ConsoleMap | ConsoleWall) -> QWidget:
    """The map or wall as the widget the window docks (every implementation is one)."""
    if not isinstance(part, QWidget):
        raise TypeError(f"{type(part).__name__} must be a QWidget to be docked")
    return part
