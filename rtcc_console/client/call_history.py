"""A call's history as an analyst reads it: each CAD update with what it changed.

``GET /calls/{id}`` answers ``history`` newest or oldest first (both are handled), each
entry carrying the simple form of the call as that update had it. Consecutive entries are
compared field by field; an update that changed nothing visible says so, an older update
that arrived late says it was kept for the record only, and the parser's warnings (an
unknown status word, say) are shown with the entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rtcc_console.client.convert import parse_time

#: the fields an analyst cares about, in reading order, with their labels
FIELDS = (
    ("status", "status"),
    ("priority", "priority"),
    ("type_text", "type"),
    ("address", "address"),
    ("lat", "lat"),
    ("lon", "lon"),
    ("notes", "notes"),
    ("units", "units"),
    ("agencies", "agencies"),
)


@dataclass(frozen=True)
class HistoryRow:
    updated_at: datetime | None
    source: str
    applied: bool
    changes: tuple[str, ...]
    warnings: tuple[str, ...]


def _show(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.5f}"
    return str(value)


def history_rows(history: list[dict[str, Any]]) -> list[HistoryRow]:
    """Oldest first, each with the changes against the previous applied state."""
    entries = sorted(
        history, key=lambda h: (str(h.get("updated_at") or ""), str(h.get("received_at") or ""))
    )
    rows: list[HistoryRow] = []
    state: dict[str, Any] | None = None
    for entry in entries:
        call = entry.get("call") if isinstance(entry.get("call"), dict) else None
        applied = bool(entry.get("applied", True))
        changes: list[str] = []
        if call is not None:
            if state is None:
                changes.append("first report")
            elif not applied:
                changes.append("older update, kept for the record")
            else:
                for key, label in FIELDS:
                    if key in call and call.get(key) != state.get(key):
                        changes.append(f"{label}: {_show(state.get(key))} → {_show(call.get(key))}")
                if not changes:
                    changes.append("no visible change")
            if applied or state is None:
                state = {**(state or {}), **call}
        rows.append(
            HistoryRow(
                updated_at=parse_time(entry.get("updated_at")),
                source=str(entry.get("source") or ""),
                applied=applied,
                changes=tuple(changes),
                warnings=tuple(str(w) for w in entry.get("warnings") or ()),
            )
        )
    return rows
