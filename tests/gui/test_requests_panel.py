"""The Requests panel against a real server: mine / all, case and state filters, an overdue
item that stands out, and live events that update one row in place (and never show another
analyst's request in "mine")."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from PySide6.QtGui import QColor

from rtcc_console.sim.smtp_sink import SmtpSink
from tests.gui.conftest import PASSWORD, ConsoleServer
from tests.gui.requests_support import SPOT, link_token, seed_owner, smtp_settings

pytestmark = pytest.mark.gui


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as s:
        yield s


@pytest.fixture
def server(tmp_path: Path, sink: SmtpSink) -> Iterator[ConsoleServer]:
    extra = {
        **smtp_settings(sink),
        "request_reminders_s": [2],
        "request_dedup_s": 0,
        "request_max_per_case": 5,
    }
    srv = ConsoleServer(tmp_path, n_registered=10, n_integrated=2, settings_extra=extra)
    srv.embedded.ensure_user("sue", "supervisor", PASSWORD)
    seed_owner(srv, "own-a", email_addr="a@owners.example", lat=SPOT[0], lon=SPOT[1])
    seed_owner(srv, "own-b", email_addr="b@owners.example", lat=SPOT[0] + 0.0002, lon=SPOT[1])
    yield srv
    srv.stop()


def api_for(server: ConsoleServer, user: str) -> Any:
    from rtcc_console.client.api import ApiClient
    from rtcc_console.client.requests_api import FootageRequestsApi

    api = ApiClient(server.base)
    api.login(user, PASSWORD)
    return FootageRequestsApi(api)


def send(fr: Any, case: str) -> dict[str, Any]:
    from rtcc_console.client.requests_api import RequestDraft

    end = datetime.now(UTC) - timedelta(minutes=5)
    return dict(
        fr.create(
            RequestDraft(
                case_number=case,
                area={"kind": "circle", "center": {"lat": SPOT[0], "lon": SPOT[1]}, "radius_m": 60},
                window_start=end - timedelta(hours=1),
                window_end=end,
                message="please",
            )
        )
    )


def panel_for(qtbot: Any, fr: Any, user: str, role: str) -> Any:
    from rtcc_console.ui.requests import RequestsPanel

    panel = RequestsPanel(fr, username=user, role=role, zone=ZoneInfo("UTC"))
    qtbot.addWidget(panel)
    panel.resize(900, 400)
    panel.show()
    return panel


def cases(panel: Any) -> set[str]:
    return {str(r.get("case_number")) for r in panel.requests.values()}


def test_filters_mine_all_case_state_and_overdue(
    qtbot: Any, server: ConsoleServer, sink: SmtpSink
) -> None:
    ana, sue = api_for(server, "ana"), api_for(server, "sue")
    first = send(ana, "26-100001")
    send(ana, "26-100002")
    send(sue, "26-100003")
    panel = panel_for(qtbot, ana, "ana", "analyst")
    scope_all = panel.scope_combo.model().item(1)
    assert not scope_all.isEnabled()  # a courtesy: the server refuses scope=all to analysts
    with qtbot.waitSignal(panel.requests_changed, timeout=15_000):
        panel.reload()
    assert cases(panel) == {"26-100001", "26-100002"}
    assert "2 requests" in panel.status_label.text()

    panel.case_filter.setText("26-100002")
    with qtbot.waitSignal(panel.requests_changed, timeout=15_000):
        panel.case_filter.returnPressed.emit()
    assert cases(panel) == {"26-100002"}
    panel.case_filter.clear()
    qtbot.waitUntil(lambda: cases(panel) == {"26-100001", "26-100002"}, timeout=15_000)

    # own-a declines the first request: only it has a declined item.
    assert sink.wait_for(6, timeout=30)
    token = next(
        link_token(r.message())
        for r in sink.messages
        if "a@owners.example" in r.rcpt_tos
        and "26-100001" in r.message().get_body(preferencelist=("plain",)).get_content()
    )  # type: ignore[union-attr]
    r = requests.post(
        f"{server.base}/api/v1/portal/requests/{token}/answer",
        json={"answer": "declined"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    with qtbot.waitSignal(panel.requests_changed, timeout=15_000):
        panel.state_combo.setCurrentIndex(panel.state_combo.findData("declined"))
    assert cases(panel) == {"26-100001"}

    # Unanswered items pass the reminder offset (2 s here): overdue, and it shows.
    panel.state_combo.setCurrentIndex(0)
    qtbot.waitUntil(lambda: len(panel.requests) == 2, timeout=15_000)

    def overdue_rows() -> list[Any]:
        panel.reload()
        qtbot.waitSignal(panel.requests_changed, timeout=15_000).wait()
        row = panel.row_of(first["id"])
        return [row.child(i) for i in range(row.childCount()) if "OVERDUE" in row.child(i).text(1)]

    qtbot.waitUntil(lambda: len(overdue_rows()) == 1, timeout=20_000)  # own-b; own-a answered
    child = overdue_rows()[0]
    assert child.text(0).endswith("own-b")
    assert child.background(1).color() == QColor("#5b1d1d") and child.font(1).bold()
    assert "overdue" in panel.status_label.text()

    sup_panel = panel_for(qtbot, sue, "sue", "supervisor")
    assert sup_panel.scope_combo.model().item(1).isEnabled()
    with qtbot.waitSignal(sup_panel.requests_changed, timeout=15_000):
        sup_panel.scope_combo.setCurrentIndex(1)  # All
    assert cases(sup_panel) == {"26-100001", "26-100002", "26-100003"}


def test_live_events_update_rows_in_place_and_respect_mine(
    qtbot: Any, server: ConsoleServer
) -> None:
    ana = api_for(server, "ana")
    panel = panel_for(qtbot, ana, "ana", "analyst")
    with qtbot.waitSignal(panel.requests_changed, timeout=15_000):
        panel.reload()
    assert panel.requests == {}
    mine = send(ana, "26-200001")
    item = mine["items"][0]
    head = {k: v for k, v in mine.items() if k != "items"}
    with qtbot.waitSignal(panel.requests_changed, timeout=15_000):
        panel.on_event("request.created", {"request": head})  # fetched whole (with items)
    assert set(panel.item_states(mine["id"])) == {"own-a", "own-b"}
    row = panel.row_of(mine["id"])
    panel.on_event(
        "request.updated", {"request": head, "item": {**item, "state": "uploaded", "files": 2}}
    )
    assert panel.row_of(mine["id"]) is row  # updated in place
    assert panel.item_states(mine["id"])[item["owner_ref"]] == "uploaded (2 files)"
    # Several items changed at once: "items" lists them all ("item" is the first).
    both = [{**i, "state": "expired"} for i in mine["items"]]
    panel.on_event("request.updated", {"request": head, "item": both[0], "items": both})
    assert set(panel.item_states(mine["id"]).values()) == {"expired"}
    theirs = send(api_for(server, "sue"), "26-200002")
    panel.on_event(
        "request.created", {"request": {k: v for k, v in theirs.items() if k != "items"}}
    )
    panel.on_event("request.updated", {"request": {"id": "freq-forged"}, "item": "not an object"})
    panel.on_event("request.updated", {"request": "nonsense"})
    assert set(panel.requests) == {mine["id"]}
    # A later event of our own still arrives after those: the panel kept working.
    again = send(ana, "26-200003")
    with qtbot.waitSignal(panel.requests_changed, timeout=15_000):
        panel.on_event(
            "request.created", {"request": {k: v for k, v in again.items() if k != "items"}}
        )
    assert set(panel.requests) == {mine["id"], again["id"]}
