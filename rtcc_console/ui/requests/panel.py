"""The Requests panel: every footage request with its case number, window, who created it,
its age and, per owner item, the state (queued, sent, opened, uploaded (n files), no
footage, declined, expired, undeliverable with the reason). Live: ``request.created`` /
``request.updated`` / ``evidence.received`` events update rows in place. Filters: mine /
all, case, state. An overdue item stands out. Double-click shows the area on the map with
the owners' cameras. Every network call runs off the GUI thread (``ui.tasks``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from rtcc_console.client.requests_api import ITEM_STATES, FootageRequestsApi, item_state_text
from rtcc_console.ui.requests.area_map import RequestAreaMap
from rtcc_console.ui.tasks import run_in_background

COLUMNS = ("Case / owner", "State", "Window", "Created by", "Age", "")
COL_CASE, COL_STATE, COL_WINDOW, COL_BY, COL_AGE, COL_MAP = range(len(COLUMNS))
ID_ROLE = Qt.ItemDataRole.UserRole + 21
STATE_COLOURS = {
    "queued": "#a0a6ad",
    "sent": "#93c5fd",
    "opened": "#c4b5fd",
    "uploaded": "#7fd88f",
    "no_footage": "#d1d5db",
    "declined": "#fca5a5",
    "expired": "#f5b431",
    "undeliverable": "#f87171",
}
OVERDUE_BG = "#5b1d1d"
RELOAD_MS = 60_000


def _parse(ts: Any) -> datetime | None:
    if not isinstance(ts, str) or not ts:
        return None
    try:
        value = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def age_text(created: datetime | None, now: datetime) -> str:
    if created is None:
        return ""
    s = max(0, int((now - created).total_seconds()))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60:02d}"
    return f"{s // 86400} d"


class RequestsPanel(QWidget):
    """The footage-request tracker; ``new_request_wanted`` asks the console to open the form."""

    new_request_wanted = Signal()
    requests_changed = Signal()  # after any list load or event applied (tests wait on it)
    shown_on_map = Signal(str)  # request id

    def __init__(
        self,
        api: FootageRequestsApi,
        *,
        username: str = "",
        role: str = "analyst",
        zone: ZoneInfo | None = None,
        area_map: RequestAreaMap | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("RequestsPanel")
        self.api = api
        self.username = username
        self.role = role
        self.zone = zone or ZoneInfo("UTC")
        self.area_map = area_map
        self.requests: dict[str, dict[str, Any]] = {}
        self._rows: dict[str, QTreeWidgetItem] = {}
        self._gen = 0
        self._loaded_once = False
        self._build()
        self._age_timer = QTimer(self)
        self._age_timer.setInterval(30_000)
        self._age_timer.timeout.connect(self._refresh_ages)
        self._age_timer.start()
        # "overdue" turns true with time alone (no event): re-read the list now and then.
        self._reload_timer = QTimer(self)
        self._reload_timer.setInterval(RELOAD_MS)
        self._reload_timer.timeout.connect(lambda: self.reload() if self._loaded_once else None)
        self._reload_timer.start()

    def _build(self) -> None:
        self.new_button = QPushButton("New request…", self)
        self.new_button.setObjectName("RequestsNew")
        self.new_button.setToolTip("Draw an area and send a footage request (Ctrl+Shift+R)")
        self.new_button.clicked.connect(self.new_request_wanted)
        self.scope_combo = QComboBox(self)
        self.scope_combo.setObjectName("RequestsScope")
        self.scope_combo.addItem("Mine", "mine")
        self.scope_combo.addItem("All", "all")
        self.case_filter = QLineEdit(self)
        self.case_filter.setObjectName("RequestsCaseFilter")
        self.case_filter.setPlaceholderText("case number")
        self.case_filter.setClearButtonEnabled(True)
        self.state_combo = QComboBox(self)
        self.state_combo.setObjectName("RequestsStateFilter")
        self.state_combo.addItem("any state", "")
        for s in ITEM_STATES:
            self.state_combo.addItem(s.replace("_", " "), s)
        self.refresh_button = QPushButton("Refresh", self)
        self.status_label = QLabel(self)
        self.status_label.setObjectName("RequestsStatus")
        bar = QHBoxLayout()
        bar.addWidget(self.new_button)
        bar.addWidget(self.scope_combo)
        bar.addWidget(self.case_filter, 1)
        bar.addWidget(self.state_combo)
        bar.addWidget(self.refresh_button)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("RequestsTree")
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setSectionResizeMode(COL_CASE, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(COL_CASE, 170)
        header.setSectionResizeMode(COL_STATE, QHeaderView.ResizeMode.Stretch)
        for col in (COL_WINDOW, COL_BY, COL_AGE, COL_MAP):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.tree.itemDoubleClicked.connect(lambda item, _col: self.show_on_map(item))
        self.tree.itemClicked.connect(self._clicked)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addLayout(bar)
        box.addWidget(self.tree, 1)
        box.addWidget(self.status_label)
        self.scope_combo.currentIndexChanged.connect(lambda _i: self.reload())
        self.state_combo.currentIndexChanged.connect(lambda _i: self.reload())
        self.case_filter.returnPressed.connect(self.reload)
        self.case_filter.textChanged.connect(lambda t: self.reload() if not t else None)
        self.refresh_button.clicked.connect(self.reload)
        QShortcut(
            QKeySequence("Return"), self.tree, lambda: self.show_on_map(self.tree.currentItem())
        )
        self.set_user(self.username, self.role)

    def set_user(self, username: str, role: str) -> None:
        """Who is signed in: "All" is offered to supervisors (the server checks it anyway)."""
        self.username, self.role = username, role
        model: Any = self.scope_combo.model()
        item = model.item(1)
        if item is not None:
            item.setEnabled(role in ("supervisor", "admin"))

    # -- filters ---------------------------------------------------------------------
    def scope(self) -> str:
        return str(self.scope_combo.currentData() or "mine")

    def state_filter(self) -> str:
        return str(self.state_combo.currentData() or "")

    def case_number_filter(self) -> str:
        return self.case_filter.text().strip()

    def _matches(self, request: dict[str, Any], *, ignore_state: bool = False) -> bool:
        if self.scope() == "mine" and request.get("created_by") != self.username:
            return False
        case = self.case_number_filter()
        if case and str(request.get("case_number", "")) != case:
            return False
        state = "" if ignore_state else self.state_filter()
        if state and not any(i.get("state") == state for i in request.get("items") or []):
            counts = request.get("counts") or {}
            return int(counts.get(state) or 0) > 0
        return True

    # -- loading ---------------------------------------------------------------------
    def reload(self) -> None:
        """Re-read the list for the current filters (off the GUI thread)."""
        self._gen += 1
        gen = self._gen
        scope, case, state = self.scope(), self.case_number_filter(), self.state_filter()
        self.status_label.setText("Loading…")

        def fetch() -> list[dict[str, Any]]:
            listed = self.api.list_requests(scope=scope, case_number=case, state=state)
            out = []
            for r in listed.get("items", []):
                out.append(r if "items" in r else self.api.get(str(r["id"])))
            return out

        run_in_background(
            fetch,
            on_success=lambda rows: self._loaded(rows, gen),
            on_failure=lambda exc: self._load_failed(exc, gen),
            what="Loading footage requests",
            owner=self.tree,
        )

    def _loaded(self, rows: list[dict[str, Any]], gen: int) -> None:
        if gen != self._gen:
            return
        self.tree.clear()
        self._rows.clear()
        self.requests.clear()
        for r in reversed(rows):  # newest first: each new row goes on top
            self._upsert(r)
        self._loaded_once = True
        self._update_status()
        self.requests_changed.emit()

    def _update_status(self) -> None:
        n = len(self.requests)
        overdue = sum(
            1 for r in self.requests.values() for i in r.get("items") or [] if i.get("overdue")
        )
        text = f"{n} request{'s' if n != 1 else ''}"
        self.status_label.setText(
            text
            + (f" · {overdue} overdue owner item{'s' if overdue != 1 else ''}" if overdue else "")
        )

    def _load_failed(self, exc: BaseException, gen: int) -> None:
        if gen == self._gen:
            self.status_label.setText(f"Could not load requests: {getattr(exc, 'detail', exc)}")

    def clear(self) -> None:
        """Sign-out: nothing of the last session stays on screen."""
        self._gen += 1
        self._loaded_once = False
        self.tree.clear()
        self._rows.clear()
        self.requests.clear()
        self.status_label.clear()

    def add_request(self, request: dict[str, Any]) -> None:
        """A request this console just sent (shown at once, before its event arrives)."""
        if self._matches(request):
            self._upsert(request)
            self.requests_changed.emit()

    # -- live events -----------------------------------------------------------------
    def on_event(self, kind: str, data: dict[str, Any]) -> None:
        """``request.created`` / ``request.updated`` / ``evidence.received`` from the stream."""
        if kind in ("request.created", "request.updated"):
            head = data.get("request")
            if not isinstance(head, dict) or "id" not in head:
                return
            rid = str(head["id"])
            # One changed item ("item"), or several at once ("items", e.g. a batch of sends).
            batch = data.get("items")
            changed: list[Any] = batch if isinstance(batch, list) else [data.get("item")]
            known = self.requests.get(rid)
            if known is None:
                if self._matches(head, ignore_state=True):
                    self._fetch_one(rid)  # the whole request, with its items
                return
            merged = {**known, **{k: v for k, v in head.items() if k != "items"}}
            items = list(known.get("items") or [])
            for item in changed:
                if not isinstance(item, dict) or "id" not in item:
                    continue
                for i, old in enumerate(items):
                    if old.get("id") == item.get("id"):
                        items[i] = {**old, **item}
                        break
                else:
                    items.append(item)
            merged["items"] = items
            self._upsert(merged)
            self.requests_changed.emit()
        elif kind == "evidence.received":
            ev = data.get("evidence")
            ev_request = ev.get("request_id") if isinstance(ev, dict) else None
            if isinstance(ev_request, str) and ev_request in self.requests:
                self._fetch_one(ev_request)

    def _fetch_one(self, request_id: str) -> None:
        gen = self._gen

        def got(request: dict[str, Any]) -> None:
            if gen == self._gen and self._matches(request):
                self._upsert(request)
                self.requests_changed.emit()

        run_in_background(
            lambda: self.api.get(request_id),
            on_success=got,
            on_failure=lambda exc: None,
            what="Reading a footage request",
        )

    # -- rows ------------------------------------------------------------------------
    def _window_text(self, request: dict[str, Any]) -> str:
        start, end = _parse(request.get("window_start")), _parse(request.get("window_end"))
        if start is None or end is None:
            return ""
        s, e = start.astimezone(self.zone), end.astimezone(self.zone)
        tail = e.strftime("%H:%M") if s.date() == e.date() else e.strftime("%m-%d %H:%M")
        return f"{s.strftime('%m-%d %H:%M')} → {tail}"

    def _upsert(self, request: dict[str, Any]) -> None:
        rid = str(request["id"])
        self.requests[rid] = request
        row = self._rows.get(rid)
        if row is None:
            row = QTreeWidgetItem()
            row.setData(0, ID_ROLE, rid)
            self.tree.insertTopLevelItem(0, row)
            self._rows[rid] = row
            row.setExpanded(True)
        items = [i for i in request.get("items") or [] if isinstance(i, dict)]
        overdue = sum(1 for i in items if i.get("overdue"))
        row.setText(COL_CASE, str(request.get("case_number", "")))
        row.setToolTip(COL_CASE, f"{request.get('offence_category') or ''} · {rid}")
        summary = _summary(request, items) + (f" · {overdue} overdue" if overdue else "")
        row.setText(COL_STATE, summary)
        row.setToolTip(COL_STATE, summary)
        row.setText(COL_WINDOW, self._window_text(request))
        row.setText(COL_BY, str(request.get("created_by", "")))
        row.setText(COL_AGE, age_text(_parse(request.get("created_at")), datetime.now(UTC)))
        row.setText(COL_MAP, "show on map")
        row.setForeground(COL_MAP, QBrush(QColor("#93c5fd")))
        font = QFont(row.font(COL_CASE))
        font.setBold(True)
        row.setFont(COL_CASE, font)
        if overdue:
            row.setForeground(COL_STATE, QBrush(QColor("#fca5a5")))
        else:
            row.setData(COL_STATE, Qt.ItemDataRole.ForegroundRole, None)
        self._set_children(row, items)
        self._update_status()

    def _set_children(self, row: QTreeWidgetItem, items: list[dict[str, Any]]) -> None:
        children = [c for c in (row.child(i) for i in range(row.childCount())) if c is not None]
        existing = {str(c.data(0, ID_ROLE)): c for c in children}
        for item in items:
            iid = str(item.get("id"))
            child = existing.pop(iid, None)
            if child is None:
                child = QTreeWidgetItem(row)
                child.setData(0, ID_ROLE, iid)
            state = str(item.get("state") or "")
            cams = item.get("camera_ids") or []
            child.setText(
                COL_CASE, f"{item.get('owner_kind') or 'owner'} {item.get('owner_ref') or ''}"
            )
            child.setToolTip(
                COL_CASE, f"{len(cams)} camera{'s' if len(cams) != 1 else ''}: {', '.join(cams)}"
            )
            text = item_state_text(item)
            shared = item.get("shared_with") or []
            if shared:
                text += (
                    f" · shared with {len(shared)} other request{'s' if len(shared) != 1 else ''}"
                )
            if item.get("overdue"):
                text = "⚠ OVERDUE · " + text
            child.setText(COL_STATE, text)
            child.setToolTip(COL_STATE, text)
            child.setData(COL_STATE, Qt.ItemDataRole.UserRole, state)
            colour = QColor(STATE_COLOURS.get(state, "#e5e7eb"))
            child.setForeground(COL_STATE, QBrush(colour))
            child.setText(COL_MAP, "show on map")
            child.setForeground(COL_MAP, QBrush(QColor("#93c5fd")))
            bg = QBrush(QColor(OVERDUE_BG)) if item.get("overdue") else QBrush()
            for col in range(len(COLUMNS)):
                child.setBackground(col, bg)
            font = QFont(child.font(COL_STATE))
            font.setBold(bool(item.get("overdue")))
            child.setFont(COL_STATE, font)
        for stale in existing.values():
            row.removeChild(stale)

    def _refresh_ages(self) -> None:
        now = datetime.now(UTC)
        for rid, row in self._rows.items():
            row.setText(COL_AGE, age_text(_parse(self.requests[rid].get("created_at")), now))

    # -- reading (tests, screenshots) ------------------------------------------------
    def item_states(self, request_id: str) -> dict[str, str]:
        """owner_ref -> the state text shown for each owner item of ``request_id``."""
        row = self._rows.get(request_id)
        if row is None:
            return {}
        out: dict[str, str] = {}
        for i in range(row.childCount()):
            child = row.child(i)
            if child is None:
                continue
            owner = child.text(COL_CASE).split(" ", 1)[-1]
            out[owner] = child.text(COL_STATE)
        return out

    def row_of(self, request_id: str) -> QTreeWidgetItem | None:
        return self._rows.get(request_id)

    # -- map -------------------------------------------------------------------------
    def _clicked(self, item: QTreeWidgetItem, column: int) -> None:
        if column == COL_MAP:
            self.show_on_map(item)

    def show_on_map(self, item: QTreeWidgetItem | None) -> None:
        """The request's area with its owners' cameras (one owner's, on an item row)."""
        if item is None or self.area_map is None:
            return
        parent = item.parent()
        rid = str((parent or item).data(0, ID_ROLE))
        request = self.requests.get(rid)
        if request is None:
            return
        items = [i for i in request.get("items") or [] if isinstance(i, dict)]
        if parent is not None:
            iid = item.data(0, ID_ROLE)
            items = [i for i in items if str(i.get("id")) == iid]
        cams = sorted({str(c) for i in items for c in i.get("camera_ids") or []})
        self.area_map.show_request(request.get("area"), cams)
        self.shown_on_map.emit(rid)


def _summary(request: dict[str, Any], items: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for i in items:
        s = str(i.get("state") or "")
        counts[s] = counts.get(s, 0) + 1
    if not items:
        counts = {k: int(v) for k, v in (request.get("counts") or {}).items() if v}
    parts = [f"{n} {s.replace('_', ' ')}" for s in ITEM_STATES if (n := counts.get(s, 0))]
    total = len(items) or sum(counts.values())
    return f"{total} owner{'s' if total != 1 else ''}: " + (", ".join(parts) or "none")
