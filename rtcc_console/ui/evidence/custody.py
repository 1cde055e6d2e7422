"""The chain of custody of one evidence item (``GET /evidence/{id}/custody``), oldest first:
received, viewed, played, attached, exported, verified, integrity failures, snapshots."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from rtcc_console.client.convert import parse_time
from rtcc_console.client.evidence_models import Evidence

COLUMNS = ("When", "Who", "Action", "Case", "Details")


def _details(raw: Any) -> str:
    if isinstance(raw, dict):
        return ", ".join(f"{k}: {v}" for k, v in raw.items() if v not in (None, "", [], {}))
    return "" if raw is None else str(raw)


class CustodyDialog(QDialog):
    """Read-only table of the item's custody entries (the hash chain stays on the server)."""

    def __init__(
        self,
        item: Evidence,
        entries: list[dict[str, Any]],
        *,
        zone: tzinfo | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("CustodyDialog")
        self.setWindowTitle(f"Chain of custody: {item.filename}")
        self.table = QTableWidget(len(entries), len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        for row, entry in enumerate(entries):
            when = parse_time(str(entry.get("at") or "")) if entry.get("at") else None
            local = when.astimezone(zone) if when and zone else when
            cells = (
                f"{local:%Y-%m-%d %H:%M:%S %Z}" if local else "—",
                str(entry.get("actor") or "—"),
                str(entry.get("action") or ""),
                str(entry.get("case_number") or ""),
                _details(entry.get("details")),
            )
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        box = QVBoxLayout(self)
        box.addWidget(QLabel(f"{item.filename} · SHA-256 {item.sha256}", self))
        box.addWidget(self.table)
        self.resize(760, 360)

    def custody_actions(self) -> list[str]:
        """The actions in the table, oldest first."""
        cells = (self.table.item(r, 2) for r in range(self.table.rowCount()))
        return [cell.text() for cell in cells if cell is not None]
