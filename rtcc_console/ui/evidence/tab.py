"""The Evidence tab: the items of the selected call (or of a case), live, with the player.

Per call or case it lists each item with its thumbnail, camera, owner kind (never the
owner's name), requested window, duration, received time and hash state; an integrity
failure turns the row red and is announced. ``evidence.received`` and
``evidence.integrity_failed`` events update the list as they arrive. Choosing an item
downloads (or re-verifies the cached copy of) the original in the background and opens it
in the player. "Export case…" builds and saves the case's BagIt package.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from datetime import tzinfo
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelection, QSize, Qt, Signal
from PySide6.QtGui import QImage, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from rtcc_console.client.evidence_api import EvidenceApi
from rtcc_console.client.evidence_models import Evidence, evidence_from_json
from rtcc_console.core.case_number import CaseNumberError, check_case_number
from rtcc_console.core.models import DispatchCall
from rtcc_console.ui import messages
from rtcc_console.ui.evidence import tab_io
from rtcc_console.ui.evidence.custody import CustodyDialog
from rtcc_console.ui.evidence.export_dialog import ExportDialog
from rtcc_console.ui.evidence.model import COL_ITEM, THUMB_H, EvidenceModel
from rtcc_console.ui.evidence.player import EvidencePlayer
from rtcc_console.ui.evidence.vehicle_filter import VehicleFilter
from rtcc_console.ui.tasks import run_in_background

log = logging.getLogger(__name__)


def case_for_incident(incident_id: str) -> str:
    """A valid case number made from a CAD incident id (the default case of a call, until
    its evidence shows the case the analyst used in a footage request)."""
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", incident_id.rsplit(":", 1)[-1]).strip("-._")
    return text[:64].rstrip("-._ ") or "case"


class EvidenceTab(QWidget):
    """See the module docstring. ``items_loaded`` and ``item_changed`` let tests wait."""

    items_loaded = Signal(int)  # rows after a (re)load
    item_changed = Signal(str)  # evidence id added or updated live
    integrity_failed = Signal(str)  # evidence id
    export_started = Signal(object)  # the ExportDialog
    custody_shown = Signal(object)  # the CustodyDialog
    fetch_progressed = Signal(int, int)  # bytes of the chosen original downloaded, total

    def __init__(
        self, evidence: EvidenceApi, parent: QWidget | None = None, *, zone: tzinfo | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("EvidenceTab")
        self.evidence = evidence
        self.call_id: str | None = None
        self.case_number: str | None = None
        self._generation = 0
        self.export_dialog: ExportDialog | None = None
        self.custody_dialog: CustodyDialog | None = None
        self._fetch_cancel: threading.Event | None = None
        self.vehicle_filter: VehicleFilter | None = None

        self.model = EvidenceModel(self)
        self.model.zone = zone
        self.scope_label = QLabel("Select a call, or enter a case number.", self)
        self.scope_label.setObjectName("EvidenceScope")
        self.scope_label.setWordWrap(True)
        self.case_field = QLineEdit(self)
        self.case_field.setPlaceholderText("Case number")
        self.case_field.setMaximumWidth(180)
        self.case_button = QPushButton("Show case", self)
        self.refresh_button = QPushButton("Refresh", self)
        self.verify_button = QPushButton("Re-verify", self)
        self.verify_button.setToolTip(
            "Ask the vault to re-hash the selected original now (audited)"
        )
        self.custody_button = QPushButton("Custody…", self)
        self.custody_button.setToolTip(
            "The selected item's chain of custody (received, viewed, played, exported…)"
        )
        self.export_button = QPushButton("Export case…", self)
        self.export_button.setToolTip(
            "Build the case's BagIt package (originals, hashes, custody, report)"
        )
        self.alert = QLabel("", self)
        self.alert.setObjectName("EvidenceAlert")
        self.alert.setStyleSheet("background:#8b0000;color:white;font-weight:bold;padding:4px;")
        self.alert.hide()

        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(THUMB_H + 6)
        self.table.setIconSize(QSize(96, THUMB_H))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_ITEM, QHeaderView.ResizeMode.Interactive)
        self.table.setColumnWidth(COL_ITEM, 250)  # thumbnail + file name, even in a narrow dock
        header.setStretchLastSection(True)  # the hash state takes what is left
        self.detail = QLabel("", self)
        self.detail.setObjectName("EvidenceDetail")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.player = EvidencePlayer(self, zone=zone, snapshot=self._snapshot)
        self.player.snapshot_taken.connect(self._snapshot_taken)

        self.vehicle_slot = QWidget(self)  # the vehicle-type filter lands here (issue 17)
        self.vehicle_slot.setObjectName("VehicleFilterSlot")
        QVBoxLayout(self.vehicle_slot).setContentsMargins(0, 0, 0, 0)
        self.vehicle_slot.hide()

        # the tab lives in a dock of ~660 px: long texts (hashes, the vehicle summary) give way
        for wide in (self.detail, self.scope_label, self.vehicle_slot):
            wide.setSizePolicy(QSizePolicy.Policy.Ignored, wide.sizePolicy().verticalPolicy())
        top = QHBoxLayout()
        top.addWidget(self.scope_label, 1)
        top.addWidget(self.case_field)
        top.addWidget(self.case_button)
        top.addWidget(self.refresh_button)
        top.addWidget(self.verify_button)
        top.addWidget(self.custody_button)
        top.addWidget(self.export_button)
        upper = QWidget(self)
        upper_box = QVBoxLayout(upper)
        upper_box.setContentsMargins(0, 0, 0, 0)
        upper_box.addWidget(self.vehicle_slot)
        upper_box.addWidget(self.table, 1)
        upper_box.addWidget(self.detail)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.addWidget(upper)
        self.splitter.addWidget(self.player)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self._split_done = False
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addLayout(top)
        box.addWidget(self.alert)
        box.addWidget(self.splitter, 1)

        self.case_button.clicked.connect(self._case_entered)
        self.case_field.returnPressed.connect(self._case_entered)
        self.refresh_button.clicked.connect(self.reload)
        self.verify_button.clicked.connect(self.verify_selected)
        self.custody_button.clicked.connect(self.show_custody)
        self.export_button.clicked.connect(self.choose_export_file)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self._update_buttons()
        self.embed_vehicle_filter()

    # -- scope -------------------------------------------------------------------------
    def show_call(self, call: DispatchCall | None) -> None:
        """List the evidence of ``call`` (its case number defaults from the incident id)."""
        if call is None:
            return
        if call.id == self.call_id:
            return
        self.call_id = call.id
        self.case_number = case_for_incident(call.incident_id)
        self.case_field.setText(self.case_number)
        self.scope_label.setText(f"Evidence of call {call.incident_id} · {call.type_text}")
        self.reload()

    def show_case(self, case_number: str) -> None:
        try:
            case_number = check_case_number(case_number)
        except CaseNumberError as exc:
            messages.warning(f"“{case_number.strip()}” is not a case number: {exc}.")
            return
        self.call_id = None
        self.case_number = case_number
        self.case_field.setText(case_number)
        self.scope_label.setText(f"Evidence of case {case_number}")
        self.reload()

    def _case_entered(self) -> None:
        self.show_case(self.case_field.text())

    def current_case(self) -> str | None:
        """The case new items of this call go into (the wall's clips and snapshots)."""
        return self.case_number

    def reload(self) -> None:
        if self.vehicle_filter is not None:
            self.vehicle_filter.set_scope(self.case_number, self.call_id)
        self._generation += 1
        gen = self._generation
        call_id, case = self.call_id, self.case_number
        if call_id is None and case is None:
            return
        ev = self.evidence

        def fetch() -> list[Evidence]:
            if call_id is not None:
                items = {i.id: i for i in ev.list_items(call_id=call_id)}
                if case:
                    items.update({i.id: i for i in ev.list_items(case_number=case)})
                return list(items.values())
            return ev.list_items(case_number=case)

        def fetched(items: list[Evidence]) -> None:
            if gen != self._generation:
                return
            adopted = self._adopt_case(items)
            if adopted:
                self.reload()  # the call's evidence is filed under another case: list that one
                return
            self.model.set_items(items)
            for item in items:
                self._load_thumbnail(item)
            self._update_alert()
            self._update_buttons()
            self.items_loaded.emit(len(items))

        def failed(exc: BaseException) -> None:
            if gen == self._generation:
                self.detail.setText(f"Evidence list unavailable: {exc}")
                messages.warning(f"Loading evidence failed: {exc}")

        run_in_background(fetch, on_success=fetched, on_failure=failed, what="Loading evidence")

    def _adopt_case(self, items: list[Evidence]) -> bool:
        """A call whose evidence is filed under a case other than the default (the case
        number typed in its footage request) takes that case: its wall clips go there too."""
        case = self.case_number
        if self.call_id is None or case is None or any(case in i.case_numbers for i in items):
            return False
        counts = Counter(c for i in items if i.call_id == self.call_id for c in i.case_numbers)
        if not counts:
            return False
        self.case_number = counts.most_common(1)[0][0]
        self.case_field.setText(self.case_number)
        return True

    def in_scope(self, item: Evidence) -> bool:
        if self.call_id is not None and item.call_id == self.call_id:
            return True
        return self.case_number is not None and self.case_number in item.case_numbers

    # -- live events -------------------------------------------------------------------
    def on_evidence_event(self, event_type: str, data: dict[str, Any]) -> None:
        """``evidence.received`` / ``evidence.integrity_failed`` from the event stream."""
        raw = data.get("evidence")
        if not isinstance(raw, dict):
            return
        try:
            item = evidence_from_json(raw)
        except (KeyError, ValueError, TypeError):
            log.warning("evidence event without a usable item; ignored")
            return
        known = self.model.row_of(item.id) is not None
        if not known and not self.in_scope(item):
            return
        new = self.model.upsert(item)
        if new:
            self._load_thumbnail(item)
            messages.info(
                f"New evidence: {item.filename} ({item.owner_kind or 'staff'}, {item.camera_id or 'camera unknown'})"
            )
        if item.integrity_failed:
            self._integrity_failed(item)
        self._update_buttons()
        self.item_changed.emit(item.id)

    def _integrity_failed(self, item: Evidence) -> None:
        self._update_alert()
        if self.player.item is not None and self.player.item.id == item.id:
            self.player.show_failure(
                f"INTEGRITY FAILURE: {item.filename} no longer matches its SHA-256; not played."
            )
        self.integrity_failed.emit(item.id)

    def _update_alert(self) -> None:
        failed = [i for i in self.model.items if i.integrity_failed]
        if not failed:
            self.alert.hide()
            return
        names = ", ".join(i.filename for i in failed[:3]) + ("…" if len(failed) > 3 else "")
        self.alert.setText(
            f"⚠ INTEGRITY FAILURE: {len(failed)} item(s) no longer match their hash ({names}). They are not served."
        )
        self.alert.show()

    def _load_thumbnail(self, item: Evidence) -> None:
        if not item.has_thumbnail or item.id in self.model.thumbs:
            return
        ev = self.evidence

        def fetch() -> QImage | None:
            data = ev.thumbnail(item.id)
            if not data:
                return None
            image = QImage.fromData(data)
            if image.isNull():
                return None
            return image.scaledToHeight(THUMB_H, Qt.TransformationMode.SmoothTransformation)

        def fetched(image: QImage | None) -> None:
            if image is not None:
                self.model.set_thumbnail(item.id, image)

        run_in_background(
            fetch, on_success=fetched, on_failure=lambda exc: log.info("thumbnail: %s", exc)
        )

    # -- selection and playback --------------------------------------------------------
    def selected_item(self) -> Evidence | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.item_at(rows[0].row()) if rows else None

    def select_evidence(self, evidence_id: str) -> bool:
        row = self.model.row_of(evidence_id)
        if row is None:
            return False
        self.table.selectRow(row)
        return True

    def _selection_changed(self, _sel: QItemSelection, _desel: QItemSelection) -> None:
        item = self.selected_item()
        self._update_buttons()
        if item is None:
            return
        self.detail.setText(
            f"SHA-256 {item.sha256} · {item.size:,} bytes · cases {', '.join(item.case_numbers) or 'none'}"
        )
        self.open_item(item)

    def open_item(self, item: Evidence) -> None:
        """Fetch the verified original (cached by hash) and play it (``tab_io.open_item``)."""
        tab_io.open_item(self, item)

    def jump_to_moment(self, evidence_id: str, time_s: float, box: Any = None) -> None:
        """The vehicle filter chose a moment: open that item, pause on it, draw the box."""
        tab_io.jump_to_moment(self, evidence_id, time_s, box)

    def _snapshot(self, evidence_id: str, at_s: float) -> Evidence:
        return self.evidence.snapshot(evidence_id, at_s, self.case_number)

    def _snapshot_taken(self, snap: Evidence) -> None:
        if self.in_scope(snap) or snap.derived_from in {i.id for i in self.model.items}:
            self.model.upsert(snap)
            self._load_thumbnail(snap)
        messages.info(f"Snapshot stored in the vault as {snap.id} (SHA-256 {snap.sha256[:12]}…)")

    def verify_selected(self) -> None:
        tab_io.verify_selected(self)

    def show_custody(self) -> None:
        tab_io.show_custody(self)

    # -- export ------------------------------------------------------------------------
    def choose_export_file(self) -> None:
        tab_io.choose_export_file(self)

    def export_case(self, dest: Path) -> ExportDialog:
        """Start exporting the current case to ``dest`` in a progress dialog."""
        return tab_io.export_case(self, dest)

    # -- the vehicle filter (issue 17) ---------------------------------------------------
    def embed_vehicle_filter(self) -> bool:
        """Embed the vehicle-type sort (docs/api/vehicles.md "Console widget"); its
        ``moment_chosen`` (evidence id, time s, box) jumps the player there, box drawn."""
        widget = VehicleFilter(self.evidence.api, parent=self.vehicle_slot)
        widget.moment_chosen.connect(self.jump_to_moment)
        layout = self.vehicle_slot.layout()
        assert layout is not None
        layout.addWidget(widget)
        self.vehicle_filter = widget
        self.vehicle_slot.show()
        return True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._split_done:  # the first time: the list gets 60 %, the player the rest
            self._split_done = True
            total = max(self.splitter.height(), 400)
            self.splitter.setSizes([total * 6 // 10, total * 4 // 10])

    # -- misc --------------------------------------------------------------------------
    def _update_buttons(self) -> None:
        self.export_button.setEnabled(self.case_number is not None and self.model.rowCount() > 0)
        self.verify_button.setEnabled(self.selected_item() is not None)
        self.custody_button.setEnabled(self.selected_item() is not None)

    def forget(self) -> None:
        """Sign-out or an ended session: nothing of the evidence stays on screen or on disk."""
        self._generation += 1
        if self._fetch_cancel is not None:
            self._fetch_cancel.set()
        self.player.close_clip()
        self.player.item = None
        self.player.title.setText("")
        self.player.view.message = "No recording open"
        self.model.set_items([])
        self.model.thumbs.clear()
        self.call_id = self.case_number = None
        self.case_field.clear()
        self.detail.clear()
        self.scope_label.setText("Select a call, or enter a case number.")
        self._update_alert()
        self._update_buttons()
        self.evidence.clear_cache()

    def shutdown(self) -> None:
        self._generation += 1
        self.player.shutdown()
