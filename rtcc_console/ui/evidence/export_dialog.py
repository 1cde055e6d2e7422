"""Case export: the server builds the BagIt package, the console shows progress, lets the
analyst cancel, then downloads the package to the file they chose (also with progress).

All waiting and downloading runs in the background; progress arrives through
``tasks.run_on_main``. Cancel stops whichever phase is running: the server's job is
cancelled, a half-downloaded file is removed.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from rtcc_console.client.evidence_api import EvidenceApi, TransferCancelled
from rtcc_console.client.evidence_models import ExportJob
from rtcc_console.ui.tasks import run_in_background, run_on_main


def _mb(n: int) -> str:
    return f"{n / 1_000_000:,.1f} MB"


class ExportDialog(QDialog):
    """Runs one case export; ``finished_export`` carries the saved path, ``failed`` a reason."""

    progressed = Signal(int)  # 0..1000 overall
    finished_export = Signal(str)  # saved path
    failed = Signal(str)
    cancelled = Signal()

    def __init__(
        self, evidence: EvidenceApi, case_number: str, dest: Path, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Export case {case_number}")
        self.setObjectName("ExportDialog")
        self.evidence = evidence
        self.case_number = case_number
        self.dest = dest
        self.job: ExportJob | None = None
        self.state = "idle"  # idle | building | downloading | done | failed | cancelled
        self._cancel = threading.Event()
        self.label = QLabel(f"Case {case_number}: asking the vault to build the package…", self)
        self.label.setWordWrap(True)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton("Close", self)
        self.close_button.clicked.connect(self.accept)
        self.close_button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)
        box = QVBoxLayout(self)
        box.addWidget(self.label)
        box.addWidget(self.bar)
        box.addLayout(buttons)
        self.resize(460, 140)

    def start(self) -> None:
        """Build on the server (first 80 % of the bar), then download (last 20 %)."""
        self.state = "building"
        cancel = self._cancel
        ev = self.evidence

        def on_update(job: ExportJob) -> None:
            run_on_main(lambda: self._building(job))

        def work() -> Path:
            job = ev.start_export(self.case_number)
            on_update(job)
            job = ev.wait_export(job, on_update=on_update, cancelled=cancel.is_set)
            if job.status != "done":
                raise RuntimeError(job.error or f"the export {job.status}")
            run_on_main(lambda: self._downloading(0, job.bytes_total))
            return ev.download_export(
                job,
                self.dest,
                cancelled=cancel.is_set,
                progress=lambda done, total: run_on_main(lambda: self._downloading(done, total)),
            )

        run_in_background(work, on_success=self._done, on_failure=self._failed, what="Case export")

    def cancel(self) -> None:
        if self.state in ("building", "downloading"):
            self._cancel.set()
            self.cancel_button.setEnabled(False)
            self.label.setText("Cancelling…")
        else:
            self.reject()

    # -- progress (GUI thread) ---------------------------------------------------------
    def _set(self, value: int) -> None:
        self.bar.setValue(value)
        self.progressed.emit(value)

    def _building(self, job: ExportJob) -> None:
        self.job = job
        if self.state != "building":
            return
        self._set(int(job.progress * 800))
        sizes = f" ({_mb(job.bytes_done)} of {_mb(job.bytes_total)})" if job.bytes_total else ""
        self.label.setText(
            f"Case {self.case_number}: building the BagIt package, {job.progress:.0%}{sizes}"
        )

    def _downloading(self, done: int, total: int) -> None:
        if self.state in ("cancelled", "failed", "done"):
            return
        self.state = "downloading"
        self._set(800 + (int(200 * done / total) if total else 0))
        self.label.setText(
            f"Saving to {self.dest.name}: {_mb(done)}" + (f" of {_mb(total)}" if total else "")
        )

    def _done(self, path: Path) -> None:
        self.state = "done"
        self._set(1000)
        self.label.setText(f"Case {self.case_number} exported to {path}")
        self._finish()
        self.finished_export.emit(str(path))

    def _failed(self, exc: BaseException) -> None:
        self._finish()
        if isinstance(exc, TransferCancelled):
            self.state = "cancelled"
            self.label.setText(f"Export of case {self.case_number} cancelled; nothing was saved.")
            self.cancelled.emit()
            return
        self.state = "failed"
        self.label.setText(f"Export of case {self.case_number} failed: {exc}")
        self.failed.emit(str(exc))

    def _finish(self) -> None:
        self.cancel_button.setEnabled(False)
        self.close_button.setEnabled(True)
        self.close_button.setDefault(True)
        self.setWindowModality(Qt.WindowModality.NonModal)
