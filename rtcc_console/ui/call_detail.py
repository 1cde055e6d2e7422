"""The selected call in full: who, what, where, when, from which CAD, its narrative, units
and agencies, the panic-button emergency that covers it, and its history from the server
(every update with what it changed).

The basic fields show at once from the queue's copy of the call; the server's detail
(``GET /calls/{id}``) follows off the GUI thread and is dropped if the analyst has moved
on to another call meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, tzinfo
from html import escape
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from rtcc_console.client.call_history import history_rows
from rtcc_console.core.models import Camera, DispatchCall, Emergency
from rtcc_console.ui.tasks import run_in_background


class CallDetail(QWidget):
    """Shows one call; ``show_call`` for the basics, ``load`` for the server's detail."""

    def __init__(self, *, zone: tzinfo | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CallDetail")
        self.zone = zone
        self.call: DispatchCall | None = None
        self.detail: dict[str, Any] | None = None
        self.emergency_lines: list[str] = []
        self.filtered_out = False
        self.body = QLabel("Select a call to see its details.", self)
        self.body.setObjectName("CallDetailBody")
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.body)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(scroll)
        self.box = box

    def add_section(self, widget: QWidget) -> None:
        """A part of the pane that keeps its own state below the call's text (e.g. the
        "Sent to field" list with its buttons, ``ui.field_shares_panel``)."""
        self.box.addWidget(widget)

    # -- input -----------------------------------------------------------------------
    def show_call(
        self,
        call: DispatchCall | None,
        *,
        emergencies: Iterable[Emergency] = (),
        cameras: Callable[[str], Camera | None] = lambda _cid: None,
        nearby_camera_ids: Iterable[str] = (),
        now: datetime | None = None,
    ) -> None:
        same = call is not None and self.call is not None and call.id == self.call.id
        self.call = call
        if not same:
            self.detail = None
        self.emergency_lines = self._emergencies(
            call, emergencies, cameras, set(nearby_camera_ids), now
        )
        self.refresh_view()

    def set_filtered_out(self, hidden: bool) -> None:
        self.filtered_out = hidden
        self.refresh_view()

    def load(self, fetch: Callable[[str], dict[str, Any]]) -> None:
        """Fetch the server's detail of the current call in the background."""
        call = self.call
        if call is None:
            return
        call_id = call.id

        def done(detail: dict[str, Any]) -> None:
            if self.call is not None and self.call.id == call_id:
                self.detail = detail
                self.refresh_view()

        run_in_background(
            lambda: fetch(call_id), on_success=done, what="Loading the call's details"
        )

    # -- output ----------------------------------------------------------------------
    def _time(self, when: datetime | None) -> str:
        if when is None:
            return "—"
        local = when.astimezone(self.zone) if self.zone else when.astimezone()
        return local.strftime("%b %d %H:%M:%S %Z")

    def _emergencies(
        self,
        call: DispatchCall | None,
        emergencies: Iterable[Emergency],
        cameras: Callable[[str], Camera | None],
        nearby: set[str],
        now: datetime | None,
    ) -> list[str]:
        if call is None:
            return []
        lines = []
        for em in emergencies:
            if now is not None and not em.active(now):
                continue
            if not (em.camera_ids & nearby):
                continue
            site_cams = [
                c for c in (cameras(cid) for cid in sorted(em.camera_ids)) if c is not None
            ]
            site = next(
                (c.address or c.name for c in site_cams if c.address or c.name),
                em.owner_id or em.id,
            )
            kind = site_cams[0].kind.value if site_cams else "site"
            ends = f", until {self._time(em.ends_at)}" if em.ends_at else ", until ended"
            reason = f" — {em.reason}" if em.reason else ""
            lines.append(
                f"<b>Emergency</b> at {escape(site)} ({escape(kind)}): {len(em.camera_ids)} camera(s) live "
                f"since {self._time(em.started_at)}{ends}{escape(reason)}"
            )
        return lines

    def refresh_view(self) -> None:
        call = self.call
        if call is None:
            self.body.setText("Select a call to see its details.")
            return
        e = escape
        detail = self.detail or {}
        position = (
            f"{call.location.lat:.5f}, {call.location.lon:.5f}" if call.location else "address only"
        )
        rows = [
            ("Incident", e(call.incident_id)),
            (
                "Type",
                f"{e(call.type_text or call.type_code)} <span style='color:#8fa3b8'>({e(call.type_code)} · {e(call.category)})</span>",
            ),
            ("Priority", f"P{call.priority}"),
            ("Status", e(call.status.value.replace("_", " "))),
            ("Address", e(call.address or "—")),
            ("Position", e(position)),
            ("Reported", e(self._time(call.reported_at))),
            ("Updated", e(self._time(call.updated_at))),
            ("Source", e(call.source)),
        ]
        for key, label in (("units", "Units"), ("agencies", "Agencies")):
            values = detail.get(key) or []
            if values:
                rows.append((label, e(", ".join(str(v) for v in values))))
        html = []
        if self.filtered_out:
            html.append(
                "<p style='color:#f5b431'>This call is filtered out of the queue's view.</p>"
            )
        html.extend(
            f"<p style='background:#5a1d1d;padding:4px'>{line}</p>" for line in self.emergency_lines
        )
        html.append("<table cellspacing='0' cellpadding='2'>")
        html.extend(
            f"<tr><td style='color:#8fa3b8;padding-right:10px'>{k}</td><td>{v}</td></tr>"
            for k, v in rows
        )
        html.append("</table>")
        notes = detail.get("notes") or []
        if notes:
            html.append("<p><b>Narrative / notes</b></p><ul>")
            html.extend(f"<li>{e(str(n))}</li>" for n in notes)
            html.append("</ul>")
        history = detail.get("history")
        if history is None:
            html.append(
                "<p style='color:#8fa3b8'>Loading the call's history…</p>"
                if self.detail is None
                else ""
            )
        else:
            html.append(
                f"<p><b>History</b> ({len(history)} update{'s' if len(history) != 1 else ''})</p><ul>"
            )
            for row in reversed(history_rows(history)):
                mark = "" if row.applied else " <i>(late)</i>"
                warn = "".join(
                    f"<br><span style='color:#f5b431'>⚠ {e(w)}</span>" for w in row.warnings
                )
                html.append(
                    f"<li>{e(self._time(row.updated_at))} · {e(row.source)}{mark}: {e('; '.join(row.changes))}{warn}</li>"
                )
            html.append("</ul>")
        self.body.setText("".join(html))

    def text(self) -> str:
        """The pane's text without markup (tests, accessibility)."""
        from PySide6.QtGui import QTextDocument

        doc = QTextDocument()
        doc.setHtml(self.body.text())
        return doc.toPlainText()
