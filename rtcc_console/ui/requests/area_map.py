"""What the request form and the Requests panel need from the map (``ui.map_view.MapView``
provides it): draw and edit the request area, show a sent request's area."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class RequestAreaMap(Protocol):
    """The map's drawing side. ``area_changed`` carries ``{"area", "area_m2"}`` dicts."""

    @property
    def area_changed(self) -> Any: ...  # Signal(object)

    def start_drawing(
        self,
        kind: str,
        *,
        center: tuple[float, float] | None = None,
        radius_m: float | None = None,
        width_m: float | None = None,
    ) -> None: ...

    def set_draw_radius(self, radius_m: float) -> None: ...

    def set_draw_width(self, width_m: float) -> None: ...

    def set_request_area(self, area: dict[str, Any] | None, *, fit: bool = True) -> None: ...

    def clear_request_area(self) -> None: ...

    def show_request(self, area: dict[str, Any] | None, camera_ids: list[str]) -> None: ...
