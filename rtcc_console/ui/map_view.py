"""MapView: the city map in a QWebEngineView, built once and updated in place.

Python -> page: ``rtcc.*`` functions called with arguments encoded by ``ui.js.js_call``
(calls made before the page is ready are queued and flushed in order). Page -> Python:
the ``bridge`` QObject published on a QWebChannel reports readiness, clicks and when
the cameras are drawn; those become this widget's signals.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QFile, QIODevice, QObject, QUrl, Signal, Slot
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineSettings
from PySide6.QtWebEngineWidgets import QWebEngineView

from rtcc_console.core.models import Camera, DispatchCall
from rtcc_console.ui.js import js_call
from rtcc_console.ui.map_page import new_page_dir, write_map_page
from rtcc_console.ui.map_rows import call_map_row, camera_map_row

log = logging.getLogger(__name__)


class MapBridge(QObject):
    """The object the page sees as ``bridge``; its slots are called from JavaScript."""

    page_ready = Signal()
    call_clicked = Signal(str)
    camera_clicked = Signal(str)
    cameras_drawn = Signal(int, float)

    @Slot()
    def pageReady(self) -> None:
        self.page_ready.emit()

    @Slot(str)
    def callClicked(self, call_id: str) -> None:
        self.call_clicked.emit(call_id)

    @Slot(str)
    def cameraClicked(self, camera_id: str) -> None:
        self.camera_clicked.emit(camera_id)

    @Slot(int, float)
    def camerasDrawn(self, count: int, ms: float) -> None:
        self.cameras_drawn.emit(count, ms)

    area_changed = Signal(object)  # {"area": contract area | None, "area_m2": float | None}

    @Slot(str)
    def areaChanged(self, text: str) -> None:
        try:
            report = json.loads(text)
        except ValueError:
            return
        if isinstance(report, dict):
            self.area_changed.emit(report)


class _Page(QWebEnginePage):
    def javaScriptConsoleMessage(self, level: Any, message: str, line: int, source: str) -> None:
        log.debug("map page: %s (%s:%s)", message, source, line)


def _qwebchannel_js() -> bytes:
    f = QFile(":/qtwebchannel/qwebchannel.js")
    if not f.open(QIODevice.OpenModeFlag.ReadOnly):
        raise RuntimeError("qwebchannel.js is missing from the Qt resources")
    data = bytes(f.readAll().data())
    f.close()
    return data


class MapView(QWebEngineView):
    """Calls, every camera of the registry, the selected call with rings, ranked cameras."""

    call_clicked = Signal(str)
    camera_clicked = Signal(str)
    page_ready = Signal()
    cameras_drawn = Signal(int, float)  # count, ms since navigation start (page clock)
    area_changed = Signal(object)  # the footage-request area was drawn or edited (see rtcc_draw.js)

    def __init__(
        self,
        *,
        tile_url: str,
        tile_attribution: str,
        page_dir: Path | None = None,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("MapView")
        self._ready = False
        self._pending: list[str] = []
        self.load_started_at = time.perf_counter()
        self.bridge = MapBridge(self)
        self._page = _Page(self)
        self.setPage(self._page)
        settings = self._page.settings()
        settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, True)
        settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessFileUrls, True)
        self._channel = QWebChannel(self._page)
        self._channel.registerObject("bridge", self.bridge)
        self._page.setWebChannel(self._channel)
        self.bridge.page_ready.connect(self._on_ready)
        self.bridge.call_clicked.connect(self.call_clicked)
        self.bridge.camera_clicked.connect(self.camera_clicked)
        self.bridge.cameras_drawn.connect(self.cameras_drawn)
        self.bridge.area_changed.connect(self.area_changed)
        self.page_path = write_map_page(
            page_dir or new_page_dir(),
            tile_url=tile_url,
            tile_attribution=tile_attribution,
            qwebchannel_js=_qwebchannel_js(),
        )
        self.load(QUrl.fromLocalFile(str(self.page_path)))

    @property
    def is_ready(self) -> bool:
        return self._ready

    def _on_ready(self) -> None:
        self._ready = True
        pending, self._pending = self._pending, []
        if pending:
            self._page.runJavaScript("".join(pending))
        self.page_ready.emit()

    def run_js(self, function: str, *args: Any) -> None:
        """Call ``rtcc.<function>`` in the page (queued until the page is ready)."""
        script = js_call(function, *args)
        if self._ready:
            self._page.runJavaScript(script)
        else:
            self._pending.append(script)

    def evaluate(self, function: str, callback: Callable[[Any], None], *args: Any) -> None:
        """Call ``function(args)`` in the page and hand its (JSON-able) result to ``callback``.

        The result crosses as a JSON string and is parsed here: Qt's own conversion of
        JavaScript objects returns nothing for nested objects under PySide6 6.11.
        """
        script = f"JSON.stringify({js_call(function, *args).rstrip(';')}) ?? 'null'"

        def done(text: Any) -> None:
            callback(json.loads(text) if isinstance(text, str) and text else None)

        self._page.runJavaScript(script, 0, done)

    # -- data ------------------------------------------------------------------------
    def set_cameras(self, cameras: Iterable[Camera]) -> None:
        rows = [camera_map_row(c) for c in cameras if not c.revoked]
        self.run_js("rtcc.setCameras", json.dumps(rows, separators=(",", ":")))

    def upsert_camera(self, camera: Camera) -> None:
        if camera.revoked:
            self.run_js("rtcc.removeCamera", camera.id)
        else:
            self.run_js("rtcc.upsertCamera", camera_map_row(camera))

    def remove_camera(self, camera_id: str) -> None:
        self.run_js("rtcc.removeCamera", camera_id)

    def set_calls(self, calls: Iterable[DispatchCall]) -> None:
        rows = [r for r in (call_map_row(c) for c in calls) if r is not None]
        self.run_js("rtcc.setCalls", rows)

    def upsert_call(self, call: DispatchCall) -> None:
        row = call_map_row(call)
        if row is None:
            self.run_js("rtcc.removeCall", call.id)
        else:
            self.run_js("rtcc.upsertCall", row)

    def select_call(self, call_id: str | None, *, center: bool = True) -> None:
        self.run_js("rtcc.selectCall", call_id, center)

    def show_ranked(self, camera_ids: list[str]) -> None:
        self.run_js("rtcc.setRanked", camera_ids)

    def set_vector_basemap(self, doc: dict[str, Any]) -> None:
        """Draw a vector basemap (``core.basemap`` format) under everything else."""
        self.run_js("rtcc.setVectorBasemap", doc)

    def select_camera(self, camera_id: str | None) -> None:
        self.run_js("rtcc.selectCamera", camera_id)

    def focus_call(self) -> None:
        self.run_js("rtcc.focusCall")

    # -- footage-request area (rtcc_draw.js) -----------------------------------------
    def start_drawing(
        self,
        kind: str,
        *,
        center: tuple[float, float] | None = None,
        radius_m: float | None = None,
        width_m: float | None = None,
    ) -> None:
        """Start drawing the request area: ``circle`` (around ``center``), ``polygon``, ``corridor``."""
        opts: dict[str, Any] = {}
        if center is not None:
            opts["center"] = {"lat": center[0], "lon": center[1]}
        if radius_m is not None:
            opts["radius_m"] = radius_m
        if width_m is not None:
            opts["width_m"] = width_m
        self.run_js("rtcc.draw.start", kind, opts)

    def set_draw_radius(self, radius_m: float) -> None:
        self.run_js("rtcc.draw.setRadius", radius_m)

    def set_draw_width(self, width_m: float) -> None:
        self.run_js("rtcc.draw.setWidth", width_m)

    def set_request_area(self, area: dict[str, Any] | None, *, fit: bool = True) -> None:
        """Put ``area`` (contract shape) on the map as the editable request area."""
        self.run_js("rtcc.draw.setArea", area, fit)

    def clear_request_area(self) -> None:
        self.run_js("rtcc.draw.clear")

    def show_request(self, area: dict[str, Any] | None, camera_ids: list[str]) -> None:
        """Show a sent request's area (read-only) with its owners' cameras ringed."""
        self.run_js("rtcc.draw.showRequest", area, camera_ids)
