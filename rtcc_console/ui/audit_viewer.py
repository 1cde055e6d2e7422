"""The audit viewer (supervisors and admins): filters, a keyset-paged table that fetches the
next page only when scrolled near its end (a million entries open at once), CSV export,
"Verify chain" with a progress bar, and the misuse flags with their explanation, entries and
acknowledgement. All reads go through ``client.audit_api`` off the GUI thread."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from rtcc_console.client.audit_api import AuditApi
from rtcc_console.ui.tasks import run_in_background

COLUMNS = (
    ("id", "Id"),
    ("at", "Time (UTC)"),
    ("user", "User"),
    ("action", "Action"),
    ("targets", "Targets"),
    ("reason", "Reason"),
    ("outcome", "Outcome"),
)
ROLES = frozenset({"supervisor", "admin"})
_Index = QModelIndex | QPersistentModelIndex


class AuditTableModel(QAbstractTableModel):
    """Rows of the current filter, newest first; ``fetchMore`` asks for the next keyset page."""

    page_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []
        self.has_more = False
        self.loading = False

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section][1]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
        ):
            return None
        row = self.rows[index.row()]
        key = COLUMNS[index.column()][0]
        value = row.get(key)
        if key == "targets":
            return ", ".join(f"{k}={v}" for k, v in sorted((value or {}).items()))
        if key == "at":
            return str(value or "")[:19].replace("T", " ")
        return "" if value is None else str(value)

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self.has_more and not self.loading

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent):
            self.loading = True
            self.page_requested.emit()

    def reset_rows(self) -> None:
        self.beginResetModel()
        self.rows, self.has_more, self.loading = [], False, False
        self.endResetModel()

    def append(self, items: list[dict[str, Any]], has_more: bool) -> None:
        if items:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(items) - 1)
            self.rows.extend(items)
            self.endInsertRows()
        self.has_more, self.loading = has_more, False


class AuditViewer(QWidget):
    """The panel; ``page_loaded``, ``verify_finished``, ``flags_loaded`` and
    ``flag_acknowledged`` tell tests (and the status line) that work came back."""

    page_loaded = Signal(int)
    verify_finished = Signal(dict)
    flags_loaded = Signal(int)
    flag_acknowledged = Signal(str)
    exported = Signal(str)

    def __init__(
        self,
        audit: AuditApi,
        parent: QWidget | None = None,
        ask_path: Callable[[], Path | None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.audit = audit
        self.ask_path = ask_path or self._ask_path
        self._generation = 0
        self._job: str | None = None
        self._polling = False
        self._allowed = False
        self._dock_watched = False
        self.filters: dict[str, QLineEdit] = {}
        self.model = AuditTableModel()
        self.model.page_requested.connect(self._next_page)
        self._build()

    # -- layout ------------------------------------------------------------------------
    def _build(self) -> None:
        tabs = QTabWidget(self)
        trail = QWidget()
        row = QHBoxLayout()
        for key, hint in (
            ("user", "user"),
            ("action", "action or prefix."),
            ("camera", "camera"),
            ("call", "call"),
            ("case", "case number"),
            ("since", "since 2026-11-01T00:00Z"),
            ("until", "until"),
            ("q", "text"),
        ):
            edit = QLineEdit()
            edit.setPlaceholderText(hint)
            edit.setObjectName(f"audit_filter_{key}")
            edit.setClearButtonEnabled(True)
            edit.returnPressed.connect(self.apply_filters)
            self.filters[key] = edit
            row.addWidget(edit)
        self.apply_button = QPushButton("Apply")
        self.apply_button.clicked.connect(self.apply_filters)
        row.addWidget(self.apply_button)
        actions = QHBoxLayout()
        self.export_button = QPushButton("Export CSV…")
        self.export_button.clicked.connect(self.export_csv)
        self.verify_button = QPushButton("Verify chain")
        self.verify_button.clicked.connect(self.verify_chain)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        for w in (self.export_button, self.verify_button, self.progress):
            actions.addWidget(w)
        actions.addWidget(self.status, 1)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(
            False
        )  # one line a row: fixed heights keep a long trail cheap to scroll
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in enumerate((70, 140, 90, 150, 300, 260, 70)):
            self.table.setColumnWidth(col, width)
        header.setSectionResizeMode(
            5, QHeaderView.ResizeMode.Stretch
        )  # the reason takes the room left
        layout = QVBoxLayout(trail)
        layout.addLayout(row)
        layout.addLayout(actions)
        layout.addWidget(self.table, 1)
        tabs.addTab(trail, "Trail")

        flags = QWidget()
        self.flag_list = QListWidget()
        self.flag_list.currentItemChanged.connect(self._show_flag)
        self.flag_text = QTextEdit()
        self.flag_text.setReadOnly(True)
        self.ack_note = QLineEdit()
        self.ack_note.setPlaceholderText("note (what was checked, what was done)")
        self.ack_button = QPushButton("Acknowledge")
        self.ack_button.clicked.connect(self.acknowledge)
        self.refresh_flags_button = QPushButton("Refresh")
        self.refresh_flags_button.clicked.connect(self.load_flags)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.flag_list)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.flag_text, 1)
        ack = QHBoxLayout()
        ack.addWidget(self.ack_note, 1)
        ack.addWidget(self.ack_button)
        rl.addLayout(ack)
        split.addWidget(right)
        split.setSizes([380, 620])
        fl = QVBoxLayout(flags)
        top = QHBoxLayout()
        top.addWidget(QLabel("Misuse flags of the last 7 days, newest first"), 1)
        top.addWidget(self.refresh_flags_button)
        fl.addLayout(top)
        fl.addWidget(split, 1)
        tabs.addTab(flags, "Misuse flags")
        self.tabs = tabs
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addWidget(tabs)

    # -- trail -------------------------------------------------------------------------
    def current_filters(self) -> dict[str, str]:
        return {k: e.text() for k, e in self.filters.items() if e.text().strip()}

    def apply_filters(self) -> None:
        """Start a new viewing: the first page of the filters (the server audits it)."""
        self._generation += 1
        self.model.reset_rows()
        self.model.loading = True
        self._load(before_id=None)

    def _next_page(self) -> None:
        last = self.model.rows[-1]["id"] if self.model.rows else None
        self._load(before_id=last)

    def _load(self, *, before_id: int | None) -> None:
        generation, filters = self._generation, self.current_filters()

        def done(page: Any) -> None:
            if generation != self._generation:
                return  # the filters changed meanwhile
            self.model.append(page.items, page.has_more)
            self.status.setText(
                f"{len(self.model.rows):,} entries shown"
                + (" (scroll for more)" if page.has_more else "")
            )
            self.page_loaded.emit(len(self.model.rows))

        def failed(exc: BaseException) -> None:
            self.model.loading = False
            self.status.setText(f"Could not read the audit trail: {exc}")

        run_in_background(
            lambda: self.audit.page(filters, before_id=before_id),
            on_success=done,
            on_failure=failed,
            what="Audit page",
            owner=self,
        )

    def export_csv(self) -> None:
        path = self.ask_path()
        if path is None:
            return
        filters = self.current_filters()
        self.status.setText("Exporting…")

        def done(size: Any) -> None:
            self.status.setText(f"Exported {int(size):,} bytes to {path}")
            self.exported.emit(str(path))

        run_in_background(
            lambda: self.audit.export_csv(filters, path),
            on_success=done,
            on_failure=lambda exc: self.status.setText(f"Export failed: {exc}"),
            what="Audit export",
            owner=self,
        )

    def _ask_path(self) -> Path | None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Export audit entries", "rtcc-audit.csv", "CSV (*.csv)"
        )
        return Path(name) if name else None

    # -- verification ------------------------------------------------------------------
    def verify_chain(self) -> None:
        self.verify_button.setEnabled(False)
        self.progress.setValue(0)
        self.status.setText("Verifying the chain…")
        run_in_background(
            self.audit.start_verify,
            on_success=self._verify_progress,
            on_failure=self._verify_failed,
            what="Chain verification",
            owner=self,
        )

    def _verify_progress(self, job: Any) -> None:
        self._job = job["id"]
        total = max(1, int(job["total"]))
        self.progress.setValue(min(100, int(100 * int(job["checked"]) / total)))
        if job["status"] == "running":
            self.status.setText(
                f"Verifying the chain… {int(job['checked']):,} of {total:,} entries"
            )
            QTimer.singleShot(300, self._poll)
            return
        self.verify_button.setEnabled(True)
        if job["status"] == "intact":
            self.progress.setValue(100)
            self.status.setText(f"Chain intact: {int(job['checked']):,} entries verified")
        elif job["status"] == "broken":
            self.status.setText(
                f"Chain BROKEN at entry {job['broken_id']}: {job['problem']} "
                f"({int(job['checked']):,} entries before it verify)"
            )
        else:
            self.status.setText(f"Verification failed: {job.get('problem')}")
        self.verify_finished.emit(dict(job))

    def _poll(self) -> None:
        job_id = self._job
        if job_id is None:
            return
        run_in_background(
            lambda: self.audit.verify_status(job_id),
            on_success=self._verify_progress,
            on_failure=self._verify_failed,
            what="Chain verification",
            owner=self,
        )

    def _verify_failed(self, exc: BaseException) -> None:
        self.verify_button.setEnabled(True)
        self.status.setText(f"Verification could not run: {exc}")

    # -- flags -------------------------------------------------------------------------
    def load_flags(self) -> None:
        def done(items: Any) -> None:
            current = self.flag_list.currentItem()
            keep = current.data(Qt.ItemDataRole.UserRole)["id"] if current else None
            self.flag_list.clear()
            for flag in items:
                mark = "✓ " if flag["acknowledged"] else "⚑ "
                item = QListWidgetItem(
                    f"{mark}{flag['kind'].replace('_', ' ')} · {flag['user'] or '-'} · "
                    f"{flag['first_at'][:16].replace('T', ' ')}"
                )
                item.setData(Qt.ItemDataRole.UserRole, flag)
                item.setToolTip(flag["explanation"])
                self.flag_list.addItem(item)
                if flag["id"] == keep:
                    self.flag_list.setCurrentItem(item)
            if self.flag_list.currentItem() is None and self.flag_list.count():
                self.flag_list.setCurrentRow(0)
            self.flags_loaded.emit(len(items))

        run_in_background(self.audit.flags, on_success=done, what="Misuse flags", owner=self)

    def _show_flag(
        self, item: QListWidgetItem | None, _previous: QListWidgetItem | None = None
    ) -> None:
        if item is None:
            self.flag_text.clear()
            return
        flag = item.data(Qt.ItemDataRole.UserRole)
        lines = [
            f"<h3>{_esc(flag['kind'].replace('_', ' '))}</h3><p>{_esc(flag['explanation'])}</p>"
        ]
        if flag["acknowledged"]:
            lines.append(
                f"<p><b>Acknowledged</b> by {_esc(flag['ack_by'])} at {_esc(flag['ack_at'][:16])}: "
                f"{_esc(flag['ack_note'])}</p>"
            )
        lines.append(
            "<table cellspacing=4><tr><th align=left>Id</th><th align=left>Time</th><th align=left>Action</th>"
            "<th align=left>Targets</th><th align=left>Reason</th></tr>"
        )
        for e in flag["entries"]:
            targets = ", ".join(f"{k}={v}" for k, v in sorted(e["targets"].items()))
            lines.append(
                f"<tr><td>{e['id']}</td><td>{_esc(e['at'][:19])}</td><td>{_esc(e['action'])}</td>"
                f"<td>{_esc(targets)}</td><td>{_esc(e['reason'] or '')}</td></tr>"
            )
        lines.append("</table>")
        self.flag_text.setHtml("".join(lines))
        self.ack_button.setEnabled(not flag["acknowledged"])

    def acknowledge(self) -> None:
        item = self.flag_list.currentItem()
        note = self.ack_note.text().strip()
        if item is None or not note:
            self.status.setText("Choose a flag and write a note first")
            return
        flag_id = item.data(Qt.ItemDataRole.UserRole)["id"]

        def done(flag: Any) -> None:
            item.setData(Qt.ItemDataRole.UserRole, flag)
            item.setText("✓ " + item.text()[2:])
            self.ack_note.clear()
            self._show_flag(item)
            self.flag_acknowledged.emit(flag_id)

        run_in_background(
            lambda: self.audit.acknowledge(flag_id, note),
            on_success=done,
            what="Acknowledging the flag",
            owner=self,
        )

    # -- role --------------------------------------------------------------------------
    def apply_role(self, dock: Any, role: str | None) -> None:
        """Shown to supervisors and admins (the server refuses the trail to others anyway);
        hidden, and what it showed dropped, for anyone else."""
        allowed = role in ROLES
        dock.toggleViewAction().setVisible(allowed)
        if not self._dock_watched:  # load on first sight, not at every sign-in
            dock.visibilityChanged.connect(self._dock_shown)
            self._dock_watched = True
        self._allowed = allowed
        if not allowed:
            dock.hide()
            self._generation += 1
            self.model.reset_rows()
            self.flag_list.clear()
            self.flag_text.clear()
            self.status.setText("")

    def _dock_shown(self, visible: bool) -> None:
        if visible and self._allowed and not self.model.rows and not self.model.loading:
            self.apply_filters()
            self.load_flags()


def _esc(text: Any) -> str:
    from html import escape

    return escape(str(text if text is not None else ""))


def attach_audit_viewer(window: QWidget, *, api: Any) -> AuditViewer:
    """The panel for the main window (docked for supervisors and admins by ``apply_role``)."""
    return AuditViewer(AuditApi(api), parent=window)
