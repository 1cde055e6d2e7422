"""What the Evidence tab does with an item, kept apart for size (``EvidenceTab`` delegates):
fetch and play it (with progress, cancelled by the next choice), jump to a chosen moment,
re-verify it, show its custody, and export the case. Blocking work runs in the background.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from rtcc_console.client.evidence_api import IntegrityFailure, TransferCancelled
from rtcc_console.client.evidence_models import Evidence
from rtcc_console.ui import messages
from rtcc_console.ui.evidence.custody import CustodyDialog
from rtcc_console.ui.evidence.export_dialog import ExportDialog
from rtcc_console.ui.evidence.player import Box
from rtcc_console.ui.tasks import run_in_background, run_on_main

if TYPE_CHECKING:
    from rtcc_console.ui.evidence.tab import EvidenceTab


def open_item(tab: EvidenceTab, item: Evidence) -> None:
    """Fetch the verified original (cached by hash) and play it. The download shows its
    progress in the player; choosing another item cancels it (the part is kept and
    resumed with ``Range`` next time)."""
    if tab._fetch_cancel is not None:
        tab._fetch_cancel.set()
    if item.integrity_failed:
        tab.player.show_failure(
            f"INTEGRITY FAILURE: {item.filename} no longer matches its SHA-256; not played."
        )
        return
    ev = tab.evidence
    cancel = tab._fetch_cancel = threading.Event()
    tab.player.close_clip()
    tab.player.view.message = f"Fetching {item.filename}…"
    tab.player.view.update()
    last = [0.0]

    def progress(done: int, total: int) -> None:  # on the worker thread
        now = time.monotonic()
        if total and (now - last[0] > 0.2 or done >= total):
            last[0] = now
            run_on_main(lambda: _fetch_progress(tab, item, done, total, cancel))

    def fetched(path: Path) -> None:
        current = tab.selected_item()
        if not cancel.is_set() and (current is None or current.id == item.id):
            tab.player.open_file(path, item)

    def failed(exc: BaseException) -> None:
        if isinstance(exc, TransferCancelled):
            return  # another item was chosen
        if isinstance(exc, IntegrityFailure):
            tab.model.upsert(with_integrity(item, "failed"))
            tab._integrity_failed(item)
            tab.player.show_failure(f"INTEGRITY FAILURE: {exc.detail}")
            return
        tab.player.show_failure(f"Cannot fetch {item.filename}: {exc}")

    run_in_background(
        lambda: ev.fetch_content(item, purpose="play", progress=progress, cancelled=cancel.is_set),
        on_success=fetched,
        on_failure=failed,
        what="Fetching evidence",
    )


def _fetch_progress(
    tab: EvidenceTab, item: Evidence, done: int, total: int, cancel: threading.Event
) -> None:
    if cancel.is_set() or tab.player.player is not None:
        return
    tab.player.view.message = (
        f"Fetching {item.filename}: {done / total:.0%} of {total / 1e6:,.1f} MB"
    )
    tab.player.view.update()
    tab.fetch_progressed.emit(done, total)


def jump_to_moment(tab: EvidenceTab, evidence_id: str, time_s: float, box: Any = None) -> None:
    """The vehicle filter chose a moment: open that item, pause on it, draw the box."""
    row = tab.model.row_of(evidence_id)
    media = tab.model.items[row].media if row is not None else None
    size = (media.width or 0, media.height or 0) if media is not None else None
    normalized = as_box(box, size)

    def go(_eid: str = "") -> None:
        label = str(box.get("label", "vehicle")) if isinstance(box, dict) else "vehicle"
        tab.player.jump_to(time_s, normalized, label)

    if (
        tab.player.item is not None
        and tab.player.item.id == evidence_id
        and tab.player.player is not None
    ):
        go()
        return
    if not tab.select_evidence(evidence_id):
        return

    def once(eid: str) -> None:
        tab.player.opened.disconnect(once)
        if eid == evidence_id:
            go()

    tab.player.opened.connect(once)


def verify_selected(tab: EvidenceTab) -> None:
    item = tab.selected_item()
    if item is None:
        return
    ev = tab.evidence

    def done(result: dict[str, Any]) -> None:
        state = str(result.get("integrity", "unverified"))
        tab.model.upsert(with_integrity(item, state))
        if state == "failed":
            tab._integrity_failed(item)
        else:
            messages.info(f"{item.filename}: hash verified.")

    run_in_background(lambda: ev.verify(item.id), on_success=done, what="Verifying")


def show_custody(tab: EvidenceTab) -> None:
    """Fetch the selected item's custody entries and show them."""
    item = tab.selected_item()
    if item is None:
        return
    ev = tab.evidence

    def show(entries: list[dict[str, Any]]) -> None:
        dialog = CustodyDialog(item, entries, zone=tab.model.zone, parent=tab)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        tab.custody_dialog = dialog
        dialog.show()
        tab.custody_shown.emit(dialog)

    run_in_background(lambda: ev.custody(item.id), on_success=show, what="Chain of custody")


def choose_export_file(tab: EvidenceTab) -> None:
    case = tab.case_number
    if not case:
        messages.warning("Choose a call or enter a case number first.")
        return
    name, _ = QFileDialog.getSaveFileName(
        tab,
        f"Export case {case}",
        str(Path.home() / f"case-{case.replace('/', '-')}.zip"),
        "BagIt package (*.zip)",
    )
    if name:
        export_case(tab, Path(name))


def export_case(tab: EvidenceTab, dest: Path) -> ExportDialog:
    """Start exporting the current case to ``dest`` in a progress dialog."""
    assert tab.case_number is not None
    dialog = ExportDialog(tab.evidence, tab.case_number, dest, tab)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    tab.export_dialog = dialog
    dialog.show()
    dialog.start()
    tab.export_started.emit(dialog)
    return dialog


def with_integrity(item: Evidence, state: str) -> Evidence:
    from dataclasses import replace

    return replace(
        item, integrity=state if state in ("ok", "failed", "unverified") else "unverified"
    )


def as_box(box: Any, size: tuple[int, int] | None = None) -> Box | None:
    """A box as fractions (x, y, w, h) of the picture, from a tuple/list (x, y, w, h) or a
    dict with x/y/w/h or x1/y1/x2/y2; pixel values (> 1) are divided by ``size``."""
    if box is None:
        return None
    if isinstance(box, dict):
        if "x1" in box:
            box = (
                box.get("x1"),
                box.get("y1"),
                float(box.get("x2", 0)) - float(box.get("x1", 0)),
                float(box.get("y2", 0)) - float(box.get("y1", 0)),
            )
        else:
            box = (box.get("x"), box.get("y"), box.get("w"), box.get("h"))
    try:
        x, y, w, h = (float(v) for v in box)
    except (TypeError, ValueError):
        return None
    if max(x, y, w, h) > 1.0:
        if size is None or not size[0] or not size[1]:
            return None
        x, w, y, h = x / size[0], w / size[0], y / size[1], h / size[1]
    return (x, y, w, h)
