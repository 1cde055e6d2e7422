"""The footage-request form: for the selected call (or a case number alone) the analyst
draws the area on the map, picks the time window, writes to the owners and sees, before
sending, who is inside and accepts, who is excluded and why, and the agency's warnings.

A non-modal window beside the map (the map stays usable for drawing). The preview is asked
of the server (``POST /footage-requests/preview``) off the GUI thread, debounced, and a late
answer for an older draft is dropped. Ctrl+Return or the button sends. The server decides
everything; a refusal is shown in its own words (a named limit; supervisors may type an
override reason and send again).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QDateTime, QTime, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from rtcc_console.client.api import ApiError, ServerUnreachable
from rtcc_console.client.requests_api import (
    QUICK_WINDOWS,
    FootageRequestsApi,
    LimitExceeded,
    RequestDraft,
    area_text,
    window_from_call,
)
from rtcc_console.core.categories import CATEGORIES
from rtcc_console.ui.requests.area_map import RequestAreaMap
from rtcc_console.ui.tasks import run_in_background

PREVIEW_DELAY_MS = 400
DEFAULT_MESSAGE = (
    "Hello — the police are investigating an incident near your camera. If your camera "
    "recorded anything during the time below, please use the link to send us the video. "
    "If it recorded nothing, or you prefer not to share, you can say so on the same page. "
    "Thank you for helping keep the neighbourhood safe."
)
OFFENCES = ("theft_from_auto",) + tuple(c for c in CATEGORIES if c != "other") + ("other",)


@dataclass(frozen=True, slots=True)
class RequestSeed:
    """What the form starts from: a call, a camera opened for footage, or nothing."""

    call_id: str | None = None
    call_label: str = ""
    center: tuple[float, float] | None = None
    reported_at: datetime | None = None
    offence_category: str = ""
    case_number: str = ""
    camera_id: str | None = None  # only this camera's owner (a request-only camera opened)
    camera_name: str = ""
    radius_m: float = 150.0


def _to_qdatetime(value: datetime, zone: ZoneInfo) -> QDateTime:
    local = value.astimezone(zone)
    return QDateTime(QDate(local.year, local.month, local.day), QTime(local.hour, local.minute))


def _from_qdatetime(value: QDateTime, zone: ZoneInfo) -> datetime:
    d, t = value.date(), value.time()
    return datetime(d.year(), d.month(), d.day(), t.hour(), t.minute(), tzinfo=zone).astimezone(UTC)


class RequestForm(QDialog):
    """``request_sent(request)`` after the server created it (the request object)."""

    request_sent = Signal(object)
    preview_shown = Signal(object)  # the preview answer (or None when it failed)
    send_failed = Signal(str)

    def __init__(
        self,
        api: FootageRequestsApi,
        *,
        area_map: RequestAreaMap | None,
        role: str,
        zone: ZoneInfo,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("RequestForm")
        self.setWindowTitle("New footage request")
        self.setModal(False)
        self.api = api
        self.area_map = area_map
        self.role = role
        self.zone = zone
        self.seed = RequestSeed()
        self.area: dict[str, Any] | None = None
        self.area_m2: float | None = None
        self.client_key = ""
        self._preview_gen = 0
        self._sending = False
        self.last_preview: dict[str, Any] | None = None
        self._build()
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self.refresh_preview)
        if area_map is not None:
            area_map.area_changed.connect(self._on_area_changed)

    # -- layout ----------------------------------------------------------------------
    def _build(self) -> None:
        self.call_label = QLabel(self)
        self.call_label.setObjectName("RequestCall")
        self.call_label.setWordWrap(True)
        self.case_edit = QLineEdit(self)
        self.case_edit.setObjectName("RequestCase")
        self.case_edit.setPlaceholderText("required, e.g. 26-001234")
        self.case_edit.setMaxLength(40)
        self.offence_combo = QComboBox(self)
        self.offence_combo.setObjectName("RequestOffence")
        self.offence_combo.setEditable(True)
        self.offence_combo.addItems(list(OFFENCES))
        top = QFormLayout()
        top.addRow("Case number *", self.case_edit)
        top.addRow("Offence", self.offence_combo)

        self.kind_circle = QRadioButton("Circle around the call", self)
        self.kind_polygon = QRadioButton("Polygon", self)
        self.kind_corridor = QRadioButton("Corridor along a path", self)
        self.kind_group = QButtonGroup(self)
        for i, b in enumerate((self.kind_circle, self.kind_polygon, self.kind_corridor)):
            self.kind_group.addButton(b, i)
        self.kind_circle.setChecked(True)
        for b in (
            self.kind_circle,
            self.kind_polygon,
            self.kind_corridor,
        ):  # the dark theme hides the dot
            b.setStyleSheet("QRadioButton:checked { font-weight: bold; color: #f5d48a; }")
        self.radius_spin = self._metres(150, 10, 3000)
        self.width_spin = self._metres(60, 5, 1000)
        self.draw_button = QPushButton("Draw on map", self)
        self.draw_button.setObjectName("RequestDraw")
        self.clear_button = QPushButton("Clear", self)
        self.area_label = QLabel("no area drawn", self)
        self.area_label.setObjectName("RequestArea")
        self.only_label = QLabel(self)
        self.only_label.setObjectName("RequestOnlyCamera")
        self.only_label.hide()
        area = QGridLayout()
        area.addWidget(self.kind_circle, 0, 0)
        area.addWidget(QLabel("radius"), 0, 1)
        area.addWidget(self.radius_spin, 0, 2)
        area.addWidget(self.kind_polygon, 1, 0)
        area.addWidget(self.kind_corridor, 2, 0)
        area.addWidget(QLabel("width"), 2, 1)
        area.addWidget(self.width_spin, 2, 2)
        buttons = QHBoxLayout()
        buttons.addWidget(self.draw_button)
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.area_label, 1)
        area.addLayout(buttons, 3, 0, 1, 3)
        area.addWidget(self.only_label, 4, 0, 1, 3)

        self.start_edit = self._datetime_edit("RequestStart")
        self.end_edit = self._datetime_edit("RequestEnd")
        window = QGridLayout()
        window.addWidget(QLabel("From"), 0, 0)
        window.addWidget(self.start_edit, 0, 1)
        window.addWidget(QLabel("to"), 0, 2)
        window.addWidget(self.end_edit, 0, 3)
        picks = QHBoxLayout()
        self.quick_buttons: list[QPushButton] = []
        for i, (label, _b, _a) in enumerate(QUICK_WINDOWS):
            btn = QPushButton(label, self)
            btn.setObjectName(f"RequestQuick{i}")
            btn.clicked.connect(lambda _c=False, i=i: self.apply_quick_window(i))
            picks.addWidget(btn)
            self.quick_buttons.append(btn)
        window.addLayout(picks, 1, 0, 1, 4)

        self.message_edit = QPlainTextEdit(self)
        self.message_edit.setObjectName("RequestMessage")
        self.message_edit.setPlainText(DEFAULT_MESSAGE)
        self.message_edit.setFixedHeight(86)

        self.preview_label = QLabel("Draw an area to see who would be asked.", self)
        self.preview_label.setObjectName("RequestPreview")
        self.preview_label.setWordWrap(True)
        self.warning_label = QLabel(self)
        self.warning_label.setObjectName("RequestWarnings")
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet("color: #f5b431;")
        self.warning_label.hide()
        self.error_label = QLabel(self)
        self.error_label.setObjectName("RequestError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(
            "background: #7f1d1d; color: white; padding: 4px 8px; border-radius: 3px;"
        )
        self.error_label.hide()
        self.override_edit = QLineEdit(self)
        self.override_edit.setObjectName("RequestOverride")
        self.override_edit.setPlaceholderText(
            "supervisor: written reason to exceed the agency's limits"
        )
        self.override_row = QWidget(self)
        row = QHBoxLayout(self.override_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Override reason"))
        row.addWidget(self.override_edit, 1)
        self.override_row.setVisible(self.is_supervisor)

        self.send_button = QPushButton("Send request  (Ctrl+Return)", self)
        self.send_button.setObjectName("RequestSend")
        self.send_button.setDefault(True)
        self.cancel_button = QPushButton("Close", self)
        bottom = QHBoxLayout()
        bottom.addWidget(self.cancel_button)
        bottom.addStretch(1)
        bottom.addWidget(self.send_button)

        box = QVBoxLayout(self)
        box.addWidget(self.call_label)
        box.addLayout(top)
        box.addWidget(self._section("Area"))
        box.addLayout(area)
        box.addWidget(self._section("Time window"))
        box.addLayout(window)
        box.addWidget(self._section("Message to the owners"))
        box.addWidget(self.message_edit)
        box.addWidget(self._section("Before sending"))
        box.addWidget(self.preview_label)
        box.addWidget(self.warning_label)
        box.addWidget(self.override_row)
        box.addWidget(self.error_label)
        box.addLayout(bottom)

        self.draw_button.clicked.connect(self.start_drawing)
        self.clear_button.clicked.connect(self.clear_area)
        self.radius_spin.valueChanged.connect(self._radius_changed)
        self.width_spin.valueChanged.connect(self._width_changed)
        self.send_button.clicked.connect(self.send)
        self.cancel_button.clicked.connect(self.discard)
        for sc in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(sc), self, self.send)
        for w in (self.case_edit, self.override_edit):
            w.textChanged.connect(self._changed)
        self.offence_combo.currentTextChanged.connect(self._changed)
        self.start_edit.dateTimeChanged.connect(self._changed)
        self.end_edit.dateTimeChanged.connect(self._changed)

    def _section(self, text: str) -> QLabel:
        label = QLabel(text, self)
        label.setStyleSheet("font-weight: bold; margin-top: 6px;")
        return label

    def _metres(self, value: float, low: float, high: float) -> QDoubleSpinBox:
        spin = QDoubleSpinBox(self)
        spin.setRange(low, high)
        spin.setDecimals(0)
        spin.setSingleStep(10)
        spin.setSuffix(" m")
        spin.setValue(value)
        return spin

    def _datetime_edit(self, name: str) -> QDateTimeEdit:
        edit = QDateTimeEdit(self)
        edit.setObjectName(name)
        edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        edit.setCalendarPopup(True)
        return edit

    @property
    def is_supervisor(self) -> bool:
        return self.role in ("supervisor", "admin")

    # -- starting --------------------------------------------------------------------
    def start(self, seed: RequestSeed, *, now: datetime | None = None) -> None:
        """Fill the form for ``seed`` (a new draft, a new idempotency key) and show it."""
        now = now or datetime.now(UTC)
        self.seed = seed
        self.client_key = ""
        self._hide_error()
        self.case_edit.setText(seed.case_number)
        self.offence_combo.setCurrentText(seed.offence_category or "")
        if seed.call_id:
            reported = (
                seed.reported_at.astimezone(self.zone).strftime("%H:%M %Z")
                if seed.reported_at
                else "?"
            )
            self.call_label.setText(f"For call <b>{_esc(seed.call_label)}</b>, reported {reported}")
        else:
            self.call_label.setText("No call selected: the request is for the case number alone.")
        for btn in self.quick_buttons:
            btn.setEnabled(seed.reported_at is not None)
        self.kind_circle.setText("Circle around the call" if seed.center else "Circle (map centre)")
        if seed.reported_at is not None:
            self.apply_quick_window(1, now=now)
        else:
            self.set_window(now - timedelta(hours=2), now)
        self.radius_spin.setValue(seed.radius_m)
        if seed.camera_id:
            self.only_label.setText(
                f"Only the owner of <b>{_esc(seed.camera_name or seed.camera_id)}</b>"
            )
            self.only_label.show()
        else:
            self.only_label.hide()
        self.area, self.area_m2 = None, None
        self.area_label.setText("no area drawn")
        self.kind_circle.setChecked(True)
        if seed.center is not None:
            self.start_drawing()  # a circle around the call (or the camera) at once
        if self.isVisible():
            self.raise_()  # already open behind the main window: bring it forward
        self.show()
        self.case_edit.setFocus()

    def discard(self) -> None:
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closed (button, Esc, the window's X): the drawn area leaves the map with the
        form. A lock only hides the form and keeps the draft."""
        self.clear_area()
        super().closeEvent(event)

    def reject(self) -> None:  # Esc
        self.clear_area()
        super().reject()

    def set_window(self, start: datetime, end: datetime) -> None:
        self.start_edit.setDateTime(_to_qdatetime(start, self.zone))
        self.end_edit.setDateTime(_to_qdatetime(end, self.zone))

    def time_window(self) -> tuple[datetime, datetime]:
        return _from_qdatetime(self.start_edit.dateTime(), self.zone), _from_qdatetime(
            self.end_edit.dateTime(), self.zone
        )

    def apply_quick_window(self, pick: int, *, now: datetime | None = None) -> None:
        if self.seed.reported_at is None:
            return
        self.set_window(
            *window_from_call(self.seed.reported_at, pick, now=now or datetime.now(UTC))
        )

    # -- area ------------------------------------------------------------------------
    def area_kind(self) -> str:
        return ("circle", "polygon", "corridor")[max(0, self.kind_group.checkedId())]

    def start_drawing(self) -> None:
        if self.area_map is None:
            self._show_error("No map: the area cannot be drawn here.")
            return
        kind = self.area_kind()
        if kind == "circle":
            self.area_map.start_drawing(
                "circle", center=self.seed.center, radius_m=self.radius_spin.value()
            )
        elif kind == "corridor":
            self.area_map.start_drawing("corridor", width_m=self.width_spin.value())
        else:
            self.area_map.start_drawing("polygon")

    def clear_area(self) -> None:
        if self.area_map is not None:
            self.area_map.clear_request_area()

    def set_area(self, area: dict[str, Any] | None) -> None:
        """Put ``area`` on the map (it comes back through ``area_changed``)."""
        if self.area_map is not None:
            self.area_map.set_request_area(area)

    def _radius_changed(self, value: float) -> None:
        if self.area_map is not None and self.area and self.area.get("kind") == "circle":
            self.area_map.set_draw_radius(value)

    def _width_changed(self, value: float) -> None:
        if self.area_map is not None and self.area and self.area.get("kind") == "corridor":
            self.area_map.set_draw_width(value)

    def _on_area_changed(self, report: dict[str, Any]) -> None:
        area = report.get("area")
        self.area = area if isinstance(area, dict) else None
        m2 = report.get("area_m2")
        self.area_m2 = float(m2) if isinstance(m2, int | float) else None
        self.area_label.setText(area_text(self.area_m2) if self.area else "no area drawn")
        if self.area and self.area.get("kind") == "circle":
            self.radius_spin.blockSignals(True)
            self.radius_spin.setValue(float(self.area.get("radius_m") or self.radius_spin.value()))
            self.radius_spin.blockSignals(False)
        self._changed()

    # -- preview and send ------------------------------------------------------------
    def draft(self) -> RequestDraft | None:
        if self.area is None:
            return None
        start, end = self.time_window()
        if not self.client_key:
            self.client_key = RequestDraft(
                case_number="", area={}, window_start=start, window_end=end
            ).client_key
        return RequestDraft(
            case_number=self.case_edit.text(),
            area=self.area,
            window_start=start,
            window_end=end,
            message=self.message_edit.toPlainText(),
            offence_category=self.offence_combo.currentText(),
            call_id=self.seed.call_id,
            camera_ids=[self.seed.camera_id] if self.seed.camera_id else None,
            override_reason=self.override_edit.text().strip() or None,
            client_key=self.client_key,
        )

    def _changed(self, *_args: Any) -> None:
        self._preview_gen += 1
        self._preview_timer.start()

    def refresh_preview(self) -> None:
        draft = self.draft()
        if draft is None:
            self.preview_label.setText("Draw an area to see who would be asked.")
            return
        if not draft.case_number.strip():
            draft = replace(draft, case_number="(preview)")
        gen = self._preview_gen
        self.preview_label.setText("Asking the server who is inside…")
        run_in_background(
            lambda: self.api.preview(draft),
            on_success=lambda p: self._show_preview(p, gen),
            on_failure=lambda exc: self._preview_failed(exc, gen),
            what="Request preview",
        )

    def _show_preview(self, preview: dict[str, Any], gen: int) -> None:
        if gen != self._preview_gen:
            return  # an older draft's answer
        self.last_preview = preview
        ex = preview.get("excluded") or {}
        excluded = ", ".join(
            f"{int(ex.get(k) or 0)} {label}"
            for k, label in (
                ("opted_out", "opted out"),
                ("revoked", "revoked"),
                ("no_contact", "no contact"),
            )
        )
        self.preview_label.setText(
            f"<b>{int(preview.get('owners_included') or 0)}</b> owners will be asked "
            f"({int(preview.get('cameras_inside') or 0)} registered cameras inside, "
            f"{int(preview.get('owners_inside') or 0)} owners accept requests). "
            f"Excluded: {excluded}. Area {area_text(preview.get('area_m2'))}."
        )
        warnings = [w for w in preview.get("warnings") or [] if isinstance(w, dict)]
        if warnings:
            self.warning_label.setText(
                "<br>".join(
                    f"⚠ <b>{_esc(str(w.get('limit')))}</b>: {_esc(str(w.get('message')))}"
                    + ("" if w.get("overridable") else " (cannot be overridden)")
                    for w in warnings
                )
            )
            self.warning_label.show()
        else:
            self.warning_label.hide()
        self.preview_shown.emit(preview)

    def _preview_failed(self, exc: BaseException, gen: int) -> None:
        if gen != self._preview_gen:
            return
        self.last_preview = None
        self.preview_label.setText(f"No preview: {_reason(exc)}")
        self.preview_shown.emit(None)

    def send(self) -> None:
        if self._sending:
            return
        draft = self.draft()
        if not self.case_edit.text().strip():
            self._show_error("A case number is required.")
            self.case_edit.setFocus()
            return
        if draft is None:
            self._show_error("Draw the area on the map first.")
            return
        self._sending = True
        self.send_button.setEnabled(False)
        self._hide_error()
        run_in_background(
            lambda: self.api.create(draft),
            on_success=self._sent,
            on_failure=self._send_failed,
            what="Sending the footage request",
        )

    def _sent(self, request: dict[str, Any]) -> None:
        self._sending = False
        self.send_button.setEnabled(True)
        self.client_key = ""
        self.request_sent.emit(request)
        if self.area_map is not None:
            self.area_map.clear_request_area()
        self.hide()

    def _send_failed(self, exc: BaseException) -> None:
        self._sending = False
        self.send_button.setEnabled(True)
        text = _reason(exc)
        if isinstance(exc, LimitExceeded) and exc.overridable:
            if self.is_supervisor:
                self.override_row.show()
                self.override_edit.setFocus()
                text += " — type an override reason and send again."
            else:
                text += " — ask a supervisor to override, or change the request."
        if not isinstance(exc, ServerUnreachable):
            self.client_key = ""  # refused: nothing was made, a corrected draft is new
        self._show_error(text)
        self.send_failed.emit(text)

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()

    def _hide_error(self) -> None:
        self.error_label.hide()
        self.error_label.clear()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, LimitExceeded):
        return f"Refused by the agency limit “{exc.limit}”: {exc.message}"
    if isinstance(exc, ServerUnreachable):
        return "The server is unreachable: not sent (try again)."
    if isinstance(exc, ApiError):
        return f"The server refused ({exc.status}): {exc.detail}"
    return f"Failed: {exc}"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
