"""The supervisor dashboard: six live charts (pyqtgraph), each of which saves as PNG.

Calls per hour by category; registered vs integrated cameras over time, against the
figures Connect Dallas and Connect Arlington publish; footage requests sent and answered
with the median time to first upload; live views per day; emergencies; the health of this
console's own wall. One initial load through ``client.supervision_feed`` (off the GUI
thread), then the event stream (``LiveData`` signals) and the wall's own tiles keep it
current: nothing polls the server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from rtcc_console.client import supervision_feed as feed
from rtcc_console.client.api import ApiClient, Forbidden
from rtcc_console.client.convert import parse_time
from rtcc_console.client.requests_api import FootageRequestsApi
from rtcc_console.core.dashboard_stats import PUBLISHED_REGISTRIES, DashboardStats
from rtcc_console.core.models import Camera, DispatchCall, Tier
from rtcc_console.ui.tasks import run_in_background

log = logging.getLogger(__name__)
COLOURS = ("#2563eb", "#d97706", "#1f9d55", "#b91c1c", "#7c3aed", "#0891b2", "#db2777", "#4b5563")
HOURS, DAYS = 24, 14
#: Roles that see the dashboard; an agency that shows it to analysts adds "analyst".
DASHBOARD_ROLES = frozenset({"supervisor", "admin"})
Items = dict[str, tuple[datetime | None, datetime | None, int]]


def _t(value: Any) -> datetime | None:
    try:
        return parse_time(value) if value else None
    except (TypeError, ValueError):
        return None


class ChartBox(QWidget):
    """A titled chart with its own "Save PNG" button."""

    def __init__(
        self, key: str, title: str, *, date_axis: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.key = key
        self.setObjectName(f"chart_{key}")
        axis = {"bottom": pg.DateAxisItem(utcOffset=0)} if date_axis else {}
        self.plot = pg.PlotWidget(axisItems=axis, background="w")
        self.plot.showGrid(x=False, y=True, alpha=0.25)
        self.plot.setMouseEnabled(x=True, y=False)
        self.title = QLabel(title)
        self.title.setStyleSheet("font-weight: 600")
        self.note = QLabel("")
        self.save_button = QPushButton("Save PNG")
        self.save_button.clicked.connect(self._ask_save)
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addStretch(1)
        head.addWidget(self.note)
        head.addWidget(self.save_button)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addLayout(head)
        box.addWidget(self.plot, 1)
        self.plot.setMinimumHeight(150)

    def save_png(self, path: Path) -> bool:
        """The chart (title and note included) as a PNG image."""
        return bool(self.grab().save(str(path), "PNG"))

    def _ask_save(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Save chart", f"{self.key}.png", "PNG images (*.png)"
        )
        if name:
            self.save_png(Path(name))


class Dashboard(QWidget):
    """Supervisor charts; ``redrawn`` says which chart changed (tests wait on it)."""

    redrawn = Signal(str)
    loaded = Signal()

    def __init__(
        self,
        api: ApiClient | None = None,
        *,
        now: Callable[[], datetime] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("Dashboard")
        self.api = api
        self.now = now or (lambda: datetime.now(UTC))
        self.stats = DashboardStats()
        self.roles = DASHBOARD_ROLES
        self._closed = False
        self._request_items: dict[str, Items] = {}
        self._request_sent: dict[str, datetime] = {}
        self.wall: Any = None
        self._live: Any = None
        specs = (
            ("calls", "Calls per hour by category", True),
            ("cameras", "Registered vs integrated cameras", True),
            ("requests", "Footage requests", False),
            ("live_views", "Live views per day", True),
            ("emergencies", "Emergencies per day", True),
            ("wall", "Wall health (this console)", True),
        )
        self.charts = {k: ChartBox(k, t, date_axis=d, parent=self) for k, t, d in specs}
        grid = QGridLayout(self)
        for i, chart in enumerate(self.charts.values()):
            grid.addWidget(chart, i // 2, i % 2)
        for key, offset in (("calls", (5, 5)), ("cameras", (5, 70)), ("wall", (-5, 60))):
            self.charts[key].plot.addLegend(offset=offset, brush=pg.mkBrush(255, 255, 255, 210))
        self.wall_timer = QTimer(self)
        self.wall_timer.setInterval(5000)
        self.wall_timer.timeout.connect(self.sample_wall)
        self.redraw_all()

    # -- wiring -----------------------------------------------------------------------
    def attach(self, live: Any, wall: Any = None) -> None:
        """Follow the console's event stream (``LiveData``) and its wall (any object with
        ``tiles()`` whose items carry a ``badge``)."""
        live.call_received.connect(self.on_call)
        live.calls_loaded.connect(self.on_calls_loaded)
        live.camera_changed.connect(self.on_camera_changed)
        self._live = live
        live.registry_loaded.connect(self._registry_loaded)
        live.request_event.connect(self.on_request_event)
        live.emergencies_changed.connect(self._emergencies_changed)
        if wall is not None and hasattr(wall, "tiles"):  # VideoWall: a property; fakes: a method
            self.wall = wall
            if hasattr(wall, "tile_opened"):
                wall.tile_opened.connect(self.on_tile_opened)
            self.wall_timer.start()

    def load(self) -> None:
        """The initial figures from the list APIs, read off the GUI thread."""
        api = self.api
        if api is None:
            return
        since = self.now() - timedelta(days=DAYS)

        def fetch() -> tuple[list[dict[str, Any]], ...]:
            calls = feed.all_calls(api)
            try:
                reqs = feed.all_requests(api)
            except Forbidden:  # an analyst shown the dashboard: their own requests
                reqs = [
                    r
                    for r in FootageRequestsApi(api).list_requests(limit=200).get("items", [])
                    if isinstance(r, dict)
                ]
            try:
                views = feed.audit_entries(api, since=since, action="live.grant")
            except Forbidden:  # the audit trail is for supervisors; the wall still counts
                views = []
            ems = feed.all_emergencies(api)
            return calls, reqs, views, ems

        run_in_background(fetch, on_success=self._loaded, what="Loading the dashboard", owner=self)

    def _loaded(self, result: tuple[list[dict[str, Any]], ...]) -> None:
        calls, reqs, views, ems = result
        for c in calls:
            at = _t(c.get("reported_at"))
            if at is not None and c.get("id"):
                self.stats.add_call(str(c["id"]), at, str(c.get("category") or "other"))
        for r in reqs:
            self._merge_request(r, r.get("items") or [])
        for v in views:
            at = _t(v.get("at"))
            if at is not None and v.get("outcome", "ok") == "ok":
                self.stats.add_live_view(f"audit-{v.get('id')}", at)
        started = {str(e["id"]): t for e in ems if e.get("id") and (t := _t(e.get("started_at")))}
        self.stats.set_emergencies(started, active=sum(1 for e in ems if e.get("ended_at") is None))
        self.redraw_all()
        self.loaded.emit()

    # -- events -----------------------------------------------------------------------
    def on_calls_loaded(self, rows: list[tuple[DispatchCall, int]], _at: Any = None) -> None:
        for call, _v in rows:
            self.stats.add_call(call.id, call.reported_at, call.category)
        self.redraw("calls")

    def on_call(self, call: DispatchCall, _version: int = 0) -> None:
        if self.stats.add_call(call.id, call.reported_at, call.category):
            self.redraw("calls")

    def _registry_loaded(self, _count: int) -> None:
        self.on_registry(self._live.index)

    def _emergencies_changed(self) -> None:
        self.on_emergencies(self._live.emergencies.values())

    def on_registry(self, index: Any) -> None:
        cams = {
            cid: cam.tier is Tier.INTEGRATED
            for cid in index.camera_ids()
            if (cam := index.get(cid)) is not None and not cam.revoked
        }
        if self.stats.load_cameras(cams, at=self.now()):
            self.redraw("cameras")

    def on_camera_changed(self, camera: Camera | None, camera_id: str, _change: str = "") -> None:
        integrated = None if camera is None or camera.revoked else camera.tier is Tier.INTEGRATED
        if self.stats.set_camera(camera_id, integrated=integrated, at=self.now()):
            self.redraw("cameras")

    def on_request_event(self, event_type: str, data: Any) -> None:
        if not isinstance(data, dict):
            return
        if event_type.startswith("request.") and isinstance(data.get("request"), dict):
            items = [i for i in (data.get("items") or [data.get("item")]) if isinstance(i, dict)]
            self._merge_request(data["request"], items)
            self.redraw("requests")

    def _merge_request(self, req: dict[str, Any], items: list[Any]) -> None:
        rid, sent = str(req.get("id") or ""), _t(req.get("created_at"))
        if not rid or sent is None:
            return
        known = self._request_items.setdefault(rid, {})
        for item in items:
            if isinstance(item, dict) and item.get("id"):
                known[str(item["id"])] = (
                    _t(item.get("sent_at")),
                    _t(item.get("answered_at")),
                    int(item.get("files") or 0),
                )
        self.stats.set_request(rid, sent_at=sent, items=list(known.values()))

    def on_emergencies(self, emergencies: Any) -> None:
        ems = list(emergencies)
        now = self.now()
        self.stats.set_emergencies(
            {e.id: e.started_at for e in ems}, active=sum(1 for e in ems if e.active(now))
        )
        self.redraw("emergencies")

    def on_tile_opened(self, index: int, camera_id: str) -> None:
        now = self.now()
        self.stats.add_live_view(f"wall-{index}-{camera_id}-{now.timestamp()}", now)
        self.redraw("live_views")

    def sample_wall(self) -> None:
        """Count this console's tiles by badge: live, stale (or reconnecting), failed."""
        if self.wall is None:
            return
        tiles = self.wall.tiles
        kinds = [str(getattr(t.badge, "kind", "")) for t in (tiles() if callable(tiles) else tiles)]
        live = sum(1 for k in kinds if k == "LIVE")
        stale = sum(1 for k in kinds if k in ("STALE", "RECONNECTING", "CONNECTING"))
        failed = sum(1 for k in kinds if k in ("FAILED", "DENIED", "REVOKED"))
        self.stats.add_wall_sample(self.now(), live, stale, failed)
        self.redraw("wall")

    # -- drawing ----------------------------------------------------------------------
    def redraw_all(self) -> None:
        for key in self.charts:
            self.redraw(key)

    def shutdown(self) -> None:
        """The window is closing: stop sampling and destroy the charts' graphics views now,
        on the GUI thread (left to Python's garbage collector, a QGraphicsScene may be
        destroyed on whatever thread collects it, and its timers complain)."""
        self.wall_timer.stop()
        self._closed = True
        for chart in self.charts.values():
            if shiboken6.isValid(chart.plot):
                shiboken6.delete(chart.plot)

    def redraw(self, key: str) -> None:
        if self._closed:
            return
        getattr(self, f"_draw_{key}")(self.charts[key])
        self.redrawn.emit(key)

    def _draw_calls(self, box: ChartBox) -> None:
        box.plot.clear()
        hours, per_cat = self.stats.calls_per_hour(hours=HOURS, now=self.now())
        xs = [h.timestamp() + 1800 for h in hours]
        base = [0] * len(xs)
        for i, (cat, counts) in enumerate(per_cat.items()):
            colour = COLOURS[i % len(COLOURS)]
            box.plot.addItem(
                pg.BarGraphItem(
                    x=xs, y0=list(base), height=counts, width=3000, brush=colour, name=cat
                )
            )
            base = [b + c for b, c in zip(base, counts, strict=True)]
        box.note.setText(f"{sum(base)} in the last {HOURS} h")

    def _draw_cameras(self, box: ChartBox) -> None:
        box.plot.clear()
        pts = self.stats.camera_counts
        now = self.now().timestamp()
        if pts:  # a step line: a count holds until the next change
            xs = [x for p in pts for x in (p[0].timestamp(),) * 2][1:] + [now]
            for col, name, colour in (
                (1, "registered here", COLOURS[0]),
                (2, "integrated here", COLOURS[2]),
            ):
                ys = [p[col] for p in pts for _ in (0, 1)]
                box.plot.plot(xs, ys, pen=pg.mkPen(colour, width=2), name=name)
        for j, (city, reg, integ) in enumerate(PUBLISHED_REGISTRIES):
            for value, what, colour in (
                (reg, "registered", COLOURS[0]),
                (integ, "integrated", COLOURS[2]),
            ):
                line = pg.InfiniteLine(
                    pos=value,
                    angle=0,
                    pen=pg.mkPen(colour, style=Qt.PenStyle.DashLine),
                    label=f"{city} {what} {value:,}",
                    labelOpts={"position": 0.25 + 0.5 * j, "color": colour},
                )
                box.plot.addItem(line)
        reg_now, integ_now = self.stats.counts()
        box.note.setText(f"here: {reg_now:,} registered, {integ_now:,} integrated")
        box.plot.setXRange(now - 7 * 86400, now + 3600, padding=0)

    def _draw_requests(self, box: ChartBox) -> None:
        box.plot.clear()
        sent, answered, median_s = self.stats.request_figures()
        box.plot.addItem(
            pg.BarGraphItem(
                x=[0, 1], height=[sent, answered], width=0.6, brushes=[COLOURS[0], COLOURS[2]]
            )
        )
        box.plot.getAxis("bottom").setTicks(
            [[(0, f"sent ({sent})"), (1, f"answered ({answered})")]]
        )
        box.plot.setXRange(-0.6, 1.6, padding=0)
        box.note.setText(
            "median to first upload: " + (_duration(median_s) if median_s is not None else "—")
        )

    def _per_day(self, box: ChartBox, days: list[Any], counts: list[int], colour: str) -> None:
        box.plot.clear()
        xs = [datetime(d.year, d.month, d.day, 12, tzinfo=UTC).timestamp() for d in days]
        box.plot.addItem(pg.BarGraphItem(x=xs, height=counts, width=86400 * 0.7, brush=colour))

    def _draw_live_views(self, box: ChartBox) -> None:
        days, counts = self.stats.live_views_per_day(days=DAYS, now=self.now())
        self._per_day(box, days, counts, COLOURS[4])
        box.note.setText(f"today: {counts[-1]}")

    def _draw_emergencies(self, box: ChartBox) -> None:
        days, counts = self.stats.emergencies_per_day(days=DAYS, now=self.now())
        self._per_day(box, days, counts, COLOURS[3])
        box.note.setText(f"active now: {self.stats.active_emergencies}")

    def _draw_wall(self, box: ChartBox) -> None:
        box.plot.clear()
        samples = self.stats.wall
        if samples:
            xs = [s[0].timestamp() for s in samples]
            for i, (name, colour) in enumerate(
                (("live", COLOURS[2]), ("stale", COLOURS[1]), ("failed", COLOURS[3]))
            ):
                box.plot.plot(
                    xs,
                    [s[i + 1] for s in samples],
                    pen=pg.mkPen(colour, width=2),
                    name=name,
                    symbol="o" if len(xs) < 30 else None,
                    symbolSize=5,
                    symbolBrush=colour,
                )
            # at least ten minutes in view: a few seconds of samples read as "15.000" ticks
            box.plot.setXRange(min(xs[0], xs[-1] - 600.0), xs[-1], padding=0.02)
            last = samples[-1]
            box.note.setText(f"now: {last[1]} live, {last[2]} stale, {last[3]} failed")
        else:
            box.note.setText("no tiles sampled yet")


def _duration(seconds: float) -> str:
    minutes = int(round(seconds / 60))
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def attach_dashboard(
    window: Any, *, api: ApiClient, live: Any, wall: Any, roles: frozenset[str] | None = None
) -> Dashboard:
    """Build the dashboard for the main window; ``apply_dashboard_role`` shows or hides its
    dock for the signed-in user and loads the figures once per session. ``roles``: who sees
    it (default: the console setting ``dashboard_roles``)."""
    dash = Dashboard(api, parent=window)
    dash.roles = roles if roles is not None else frozenset(window.settings.dashboard_roles)
    dash.attach(live, wall)
    return dash


def apply_dashboard_role(dash: Dashboard, dock: Any, role: str | None) -> None:
    """Shown to the roles allowed (the server checks every read anyway: the audit and
    ``scope=all`` requests answer 403 to an analyst); hidden, and its data dropped, for others."""
    if not shiboken6.isValid(dash) or dash._closed:
        return
    allowed = role in dash.roles
    dock.toggleViewAction().setVisible(allowed)
    if not allowed:
        dock.hide()
        dash.stats = DashboardStats()
        dash.redraw_all()
        return
    dash.load()
