"""Vehicle-type filter of the Evidence tab (issue 17): candidates to verify, never findings.

Filters the case's (or call's) clips by vehicle type and colour through the server's
search (each search is audited there), shows the per-case summary line ("12 clips, 3 with
a truck candidate (verify)") and the moments, best score first, each with the crop of its
best box. Choosing a moment emits ``moment_chosen(evidence_id, time_s, box)``; the tab seeks
its player there and draws the box. Searches and thumbnails run off the GUI thread.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from rtcc_console.client import vehicles_api
from rtcc_console.client.api import ApiClient
from rtcc_console.client.vehicles_api import (
    COLOURS,
    VEHICLES,
    SearchResult,
    VehicleMoment,
    VehicleQuery,
)
from rtcc_console.ui.tasks import run_in_background

THUMB = QSize(64, 40)
CAVEAT = (
    "Automatic sort by a small model: it misses small or hidden vehicles and mixes up cars and "
    "trucks. Every entry is a candidate to verify in the clip, not a finding."
)


class VehicleSource(Protocol):
    """What the filter needs from the server (blocking; called off the GUI thread)."""

    def search(self, query: VehicleQuery) -> SearchResult: ...

    def thumbnail(self, moment: VehicleMoment) -> bytes | None: ...


class ApiVehicleSource:
    def __init__(self, api: ApiClient) -> None:
        self.api = api

    def search(self, query: VehicleQuery) -> SearchResult:
        return vehicles_api.search(self.api, query)

    def thumbnail(self, moment: VehicleMoment) -> bytes | None:
        return vehicles_api.thumbnail(self.api, moment)


def box_dict(moment: VehicleMoment) -> dict[str, float | str]:
    """The box as fractions x1..y2, with the label the player draws over it."""
    x1, y1, x2, y2 = moment.box
    return {"x1": x1, "y1": y1, "x2": x2, "y2": y2, "label": f"{moment.label} candidate: verify"}


def moment_text(moment: VehicleMoment, filename: str) -> str:
    mins, secs = divmod(moment.best_time_s, 60)
    return (
        f"{moment.label} candidate · {moment.colour} · {filename} · at {int(mins)}:{secs:04.1f} "
        f"(seen {moment.start_s:.1f}–{moment.end_s:.1f} s) · score {moment.best_score:.2f} · verify"
    )


class VehicleFilter(QWidget):
    """See the module docstring. ``results_changed`` lets tests and the tab wait."""

    moment_chosen = Signal(
        str, float, object
    )  # evidence id, time (s from clip start), box dict x1..y2 + label
    results_changed = Signal(object)  # SearchResult

    def __init__(self, source: ApiClient | VehicleSource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("VehicleFilter")
        self.source: VehicleSource = (
            ApiVehicleSource(source) if isinstance(source, ApiClient) else source
        )
        self.case_number: str | None = None
        self.call_id: str | None = None
        self.result: SearchResult | None = None
        self._generation = 0
        self._moments: list[VehicleMoment] = []

        title = QLabel("<b>Vehicle sort</b> — candidates: verify", self)
        self.vehicle_box = QComboBox(self)
        self.vehicle_box.addItem("Any vehicle", None)
        for v in VEHICLES:
            self.vehicle_box.addItem(v.capitalize(), v)
        self.colour_box = QComboBox(self)
        self.colour_box.addItem("Any colour", None)
        for c in COLOURS:
            self.colour_box.addItem(c.capitalize(), c)
        self.search_button = QPushButton("Search", self)
        self.summary = QLabel("Choose a call or a case.", self)
        self.summary.setObjectName("VehicleSummary")
        self.caveat = QLabel(CAVEAT, self)
        self.caveat.setWordWrap(True)
        self.caveat.setStyleSheet("color:#c9a227;")
        self.list = QListWidget(self)
        self.list.setObjectName("VehicleMoments")
        self.list.setIconSize(THUMB)
        self.list.setMaximumHeight(150)
        self.list.setUniformItemSizes(True)

        row = QHBoxLayout()
        row.addWidget(title)
        row.addWidget(self.vehicle_box)
        row.addWidget(self.colour_box)
        row.addWidget(self.search_button)
        row.addWidget(self.summary, 1)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(row)
        box.addWidget(self.caveat)
        box.addWidget(self.list)

        self.vehicle_box.currentIndexChanged.connect(self.refresh)
        self.colour_box.currentIndexChanged.connect(self.refresh)
        self.search_button.clicked.connect(self.refresh)
        self.list.itemActivated.connect(self._activated)
        self.list.itemClicked.connect(self._activated)

    # -- scope and filters -------------------------------------------------------------
    def set_scope(self, case_number: str | None, call_id: str | None = None) -> None:
        """Which case and/or call the tab shows; searches again."""
        if (case_number, call_id) == (self.case_number, self.call_id):
            return
        self.case_number, self.call_id = case_number or None, call_id or None
        self.refresh()

    def set_filter(self, vehicle: str | None, colour: str | None = None) -> None:
        for combo, value in ((self.vehicle_box, vehicle), (self.colour_box, colour)):
            idx = combo.findData(value)
            combo.blockSignals(True)
            combo.setCurrentIndex(max(0, idx))
            combo.blockSignals(False)
        self.refresh()

    def query(self) -> VehicleQuery:
        return VehicleQuery(
            case_number=self.case_number,
            call_id=self.call_id,
            vehicle=self.vehicle_box.currentData(),
            colour=self.colour_box.currentData(),
        )

    def refresh(self) -> None:
        query = self.query()
        if query.case_number is None and query.call_id is None:
            return
        self._generation += 1
        gen = self._generation
        source = self.source
        self.summary.setText("Searching…")

        def shown(result: SearchResult) -> None:
            if gen == self._generation:
                self._show(result)

        def failed(exc: BaseException) -> None:
            if gen == self._generation:
                self.summary.setText(f"Vehicle search failed: {exc}")

        run_in_background(
            lambda: source.search(query), on_success=shown, on_failure=failed, what="Vehicle search"
        )

    # -- results -----------------------------------------------------------------------
    def _show(self, result: SearchResult) -> None:
        self.result = result
        pending = result.summary.pending + result.summary.running
        text = result.summary.text
        if pending:
            text += f" · {pending} still being indexed"
        if result.summary.failed:
            text += f" · {result.summary.failed} could not be indexed"
        self.summary.setText(text)
        names = {c.evidence_id: c.filename for c in result.clips}
        self.list.clear()
        self._moments = result.moments()
        for moment in self._moments:
            item = QListWidgetItem(
                moment_text(moment, names.get(moment.evidence_id, moment.evidence_id))
            )
            item.setData(Qt.ItemDataRole.UserRole, self.list.count())
            self.list.addItem(item)
            self._load_thumbnail(item, moment)
        self.results_changed.emit(result)

    def _load_thumbnail(self, item: QListWidgetItem, moment: VehicleMoment) -> None:
        if not moment.thumbnail_path:
            return
        gen, source = self._generation, self.source

        def fetched(data: bytes | None) -> None:
            if gen != self._generation or not data:
                return
            image = QImage.fromData(data)
            if not image.isNull():
                pix = QPixmap.fromImage(image).scaled(THUMB, Qt.AspectRatioMode.KeepAspectRatio)
                item.setIcon(QIcon(pix))

        run_in_background(
            lambda: source.thumbnail(moment),
            on_success=fetched,
            on_failure=lambda _exc: None,
            what="Vehicle thumbnail",
        )

    def moments(self) -> list[VehicleMoment]:
        return list(self._moments)

    def choose(self, row: int) -> None:
        """Choose the ``row``-th moment (as a click would)."""
        item = self.list.item(row)
        if item is not None:
            self.list.setCurrentItem(item)
            self._activated(item)

    def _activated(self, item: QListWidgetItem) -> None:
        row = int(item.data(Qt.ItemDataRole.UserRole))
        if 0 <= row < len(self._moments):
            m = self._moments[row]
            self.moment_chosen.emit(m.evidence_id, m.best_time_s, box_dict(m))
