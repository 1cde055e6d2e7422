"""Incident review: one call's (or case's) story on one time line, and its recordings
played together.

The time line (pyqtgraph, date axis; wheel zooms, drag pans) has one lane per kind: CAD
updates, live views (who, which camera, how long, why), footage requests and each owner's
answer, evidence received and the span each recording covers, vehicle candidates, custody
entries. The list below says the same in words. Clicking an entry that points into a
recording asks for the evidence player at that moment (``moment_wanted``) and moves the
synchronised playback there. Gathering runs off the GUI thread (``client.incident_timeline``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from rtcc_console.client.evidence_models import Evidence
from rtcc_console.client.incident_timeline import Incident
from rtcc_console.core.incident_timeline import LANES, TimelineEntry
from rtcc_console.ui.sync_playback import SyncPlayback
from rtcc_console.ui.tasks import run_in_background

LANE_COLOURS = {
    "CAD": "#2563eb",
    "Live views": "#7c3aed",
    "Field": "#db2777",  # field shares to officers (issue 16)
    "Footage requests": "#d97706",
    "Evidence": "#1f9d55",
    "Vehicles": "#0891b2",
    "Custody": "#4b5563",
}
Gatherer = Callable[[str, str], Incident]  # (call id, case number) -> Incident
Fetcher = Callable[[Evidence], Path]  # the verified original on local disk


def lane_y(lane: str) -> int:
    """CAD on top: the first lane has the highest y."""
    return len(LANES) - 1 - (LANES.index(lane) if lane in LANES else len(LANES) - 1)


class IncidentReview(QWidget):
    """See the module docstring; ``loaded`` says the time line is drawn (tests wait on it)."""

    loaded = Signal(int)  # entries
    moment_wanted = Signal(str, float)  # evidence id, seconds into it
    entry_chosen = Signal(object)  # the TimelineEntry clicked

    def __init__(
        self,
        gather: Gatherer,
        fetch: Fetcher,
        *,
        zone: tzinfo | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("IncidentReview")
        self.gather, self.fetch, self.zone = gather, fetch, zone
        self.incident: Incident | None = None
        self.entries: list[TimelineEntry] = []
        self._generation = 0
        self.call_box = QLineEdit()
        self.call_box.setPlaceholderText("Call id")
        self.case_box = QLineEdit()
        self.case_box.setPlaceholderText("or case number")
        self.load_button = QPushButton("Review")
        self.load_button.clicked.connect(
            lambda: self.load(self.call_box.text().strip(), self.case_box.text().strip())
        )
        self.status = QLabel("Choose a call or enter a case number.")
        self.status.setWordWrap(True)
        bar = QHBoxLayout()
        for w in (QLabel("Incident:"), self.call_box, self.case_box, self.load_button):
            bar.addWidget(w)
        bar.addWidget(self.status, 1)
        self.plot = pg.PlotWidget(
            axisItems={"bottom": pg.DateAxisItem(utcOffset=self._utc_offset())}, background="w"
        )
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.showGrid(x=True, y=False, alpha=0.2)
        self.plot.getAxis("left").setTicks([[(lane_y(lane), lane) for lane in LANES]])
        self.plot.setYRange(-0.7, len(LANES) - 0.3, padding=0)
        self.plot.setMinimumHeight(200)
        self.points = pg.ScatterPlotItem(size=11, pen=pg.mkPen("w"), hoverable=True)
        self.points.sigClicked.connect(self._point_clicked)
        self.list = QTreeWidget()
        self.list.setHeaderLabels(["Time", "Lane", "What", "Details"])
        self.list.setRootIsDecorated(False)
        self.list.setColumnWidth(0, 170)
        self.list.setColumnWidth(1, 120)
        self.list.setColumnWidth(2, 260)
        self.list.itemActivated.connect(self._row_activated)
        self.list.itemClicked.connect(self._row_activated)
        self.play_together = QPushButton("Play recordings together")
        self.play_together.setEnabled(False)
        self.play_together.clicked.connect(self.open_playback)
        self.sync = SyncPlayback(self, zone=zone)
        lower = QWidget()
        lower_box = QVBoxLayout(lower)
        lower_box.setContentsMargins(0, 0, 0, 0)
        lower_box.addWidget(self.play_together, 0, Qt.AlignmentFlag.AlignLeft)
        lower_box.addWidget(self.sync, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        for part in (self.plot, self.list, lower):
            split.addWidget(part)
        split.setSizes([260, 200, 360])
        box = QVBoxLayout(self)
        box.addLayout(bar)
        box.addWidget(split, 1)

    def _utc_offset(self) -> float:
        """pyqtgraph's DateAxisItem wants the zone as seconds *west* of UTC."""
        if self.zone is None:
            return 0.0
        off = datetime.now(self.zone).utcoffset()
        return -off.total_seconds() if off is not None else 0.0

    # -- loading ----------------------------------------------------------------------
    def load(self, call_id: str = "", case_number: str = "") -> None:
        """Gather and draw the incident (off the GUI thread)."""
        if not call_id and not case_number:
            self.status.setText("Enter a call id or a case number.")
            return
        self.call_box.setText(call_id)
        self.case_box.setText(case_number)
        self._generation += 1
        gen = self._generation
        self.status.setText("Gathering the incident…")

        def done(incident: Incident) -> None:
            if gen == self._generation:
                self.show_incident(incident)

        def failed(exc: BaseException) -> None:
            if gen == self._generation:
                self.status.setText(f"Could not gather the incident: {exc}")

        run_in_background(
            lambda: self.gather(call_id, case_number),
            on_success=done,
            on_failure=failed,
            what="Gathering the incident",
            owner=self,
        )

    def show_incident(self, incident: Incident) -> None:
        self.incident = incident
        self.entries = incident.entries
        self.case_box.setText(incident.case_number)
        self._draw()
        self._fill_list()
        videos = [e for e in incident.evidence if e.is_video and e.media.start_time is not None]
        self.play_together.setEnabled(bool(videos))
        self.play_together.setText(f"Play {len(videos)} recording(s) together")
        text = f"{len(self.entries)} entries · case {incident.case_number}"
        if incident.problems:
            text += " · not shown: " + "; ".join(incident.problems)
        self.status.setText(text)
        self.loaded.emit(len(self.entries))

    def _draw(self) -> None:
        if not shiboken6.isValid(self.plot):
            return
        self.plot.clear()
        self.points.clear()
        spots = []
        for n, e in enumerate(self.entries):
            y, colour = lane_y(e.lane), LANE_COLOURS.get(e.lane, "#4b5563")
            if e.end is not None:
                span = pg.PlotDataItem(
                    [e.at.timestamp(), e.end.timestamp()], [y, y], pen=pg.mkPen(colour, width=6)
                )
                self.plot.addItem(span)
            spots.append(
                {
                    "pos": (e.at.timestamp(), y),
                    "data": n,
                    "brush": pg.mkBrush(colour),
                    "symbol": "d" if e.evidence_id else "o",
                }
            )
        self.points.addPoints(spots)
        self.plot.addItem(self.points)
        if self.entries:
            first = min(e.at for e in self.entries).timestamp()
            last = max((e.end or e.at) for e in self.entries).timestamp()
            pad = max(30.0, (last - first) * 0.05)
            self.plot.setXRange(first - pad, last + pad, padding=0)

    def _fill_list(self) -> None:
        self.list.clear()
        for n, e in enumerate(self.entries):
            row = QTreeWidgetItem([self._local(e.at), e.lane, e.title, e.detail])
            row.setData(0, Qt.ItemDataRole.UserRole, n)
            row.setToolTip(3, e.detail)
            self.list.addTopLevelItem(row)

    # -- choosing an entry -----------------------------------------------------------
    def _point_clicked(self, _item: Any, points: Any, *_args: Any) -> None:
        if len(points):
            self.choose(int(points[0].data()))

    def _row_activated(self, row: QTreeWidgetItem, _column: int = 0) -> None:
        self.choose(int(row.data(0, Qt.ItemDataRole.UserRole)))

    def choose(self, n: int) -> None:
        """Select entry ``n``: list and plot agree; evidence opens at that moment."""
        if not 0 <= n < len(self.entries):
            return
        e = self.entries[n]
        row = self.list.topLevelItem(n)
        if row is not None:
            self.list.setCurrentItem(row)
        self.entry_chosen.emit(e)
        if e.evidence_id:
            self.moment_wanted.emit(e.evidence_id, e.offset_s)
        if self.sync.tiles:
            self.sync.seek(e.at)

    # -- playing together ------------------------------------------------------------
    def open_playback(self) -> None:
        """Fetch the verified originals (off the GUI thread), then place them on one axis."""
        incident = self.incident
        if incident is None:
            return
        videos = [e for e in incident.evidence if e.is_video and e.media.start_time is not None]
        self.play_together.setEnabled(False)

        def fetch_all() -> list[tuple[Path, Evidence]]:
            return [(self.fetch(ev), ev) for ev in videos]

        def fetched(clips: list[tuple[Path, Evidence]]) -> None:
            self.play_together.setEnabled(True)
            self.sync.open_clips(clips)

        def failed(exc: BaseException) -> None:
            self.play_together.setEnabled(True)
            self.status.setText(f"Could not fetch the recordings: {exc}")

        run_in_background(
            fetch_all,
            on_success=fetched,
            on_failure=failed,
            what="Fetching the recordings",
            owner=self,
        )

    def _local(self, when: datetime) -> str:
        local = when.astimezone(self.zone) if self.zone else when.astimezone()
        return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"

    def shutdown(self) -> None:
        """The window is closing: close the recordings and destroy the graphics view now,
        on the GUI thread (see ``Dashboard.shutdown``)."""
        self._generation += 1
        self.sync.shutdown()
        if shiboken6.isValid(self.plot):
            shiboken6.delete(self.plot)

    # -- in the console ---------------------------------------------------------------
    def showEvent(self, event: Any) -> None:
        """Brought to front with a call chosen meanwhile: review that call."""
        super().showEvent(event)
        call_id = self.call_box.text().strip()
        shown = self.incident.call.get("id") if self.incident and self.incident.call else None
        if call_id and call_id != shown:
            self.load(call_id)

    def apply_role(
        self,
        dock: Any,
        role: str | None,
        roles: frozenset[str] = frozenset({"supervisor", "admin"}),
    ) -> None:
        """Supervisors and admins review incidents (the server refuses the audit trail to
        others anyway); for anyone else the dock is hidden and what it showed is dropped."""
        if not shiboken6.isValid(self.plot):
            return  # shut down with its window
        allowed = role in roles
        dock.toggleViewAction().setVisible(allowed)
        if not allowed:
            dock.hide()
            self.forget()

    def forget(self) -> None:
        self._generation += 1
        self.sync.close_clips()
        self.incident, self.entries = None, []
        if shiboken6.isValid(self.plot):
            self.plot.clear()
        self.list.clear()
        self.play_together.setEnabled(False)
        self.status.setText("Choose a call or enter a case number.")


def attach_incident_review(
    window: Any, *, api: Any, evidence: Any, zone: tzinfo | None
) -> IncidentReview:
    """The review for the main window: follows the selected call while its dock is shown,
    and opens the Evidence tab's player at the moment an entry points to."""
    from rtcc_console.client.incident_timeline import gather

    review = IncidentReview(
        lambda c, k: gather(api, evidence.evidence, call_id=c, case_number=k, zone=zone),
        lambda item: evidence.evidence.fetch_content(item),
        zone=zone,
        parent=window,
    )

    def call_selected(call_id: str) -> None:
        review.call_box.setText(call_id)
        review.case_box.clear()
        if review.isVisible():
            review.load(call_id)

    def moment(evidence_id: str, offset_s: float) -> None:
        dock = window.docks.get("evidence")
        if dock is not None:
            dock.raise_()
        evidence.tab.jump_to_moment(evidence_id, offset_s)

    window.call_queue.call_selected.connect(call_selected)
    window.sign_out_requested.connect(review.forget)
    review.moment_wanted.connect(moment)
    return review
