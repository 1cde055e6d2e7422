"""The audit viewer against a real server: a filtered trail that pages as it scrolls, the
CSV export of the filter, "Verify chain" with its progress bar, a misuse flag explained and
acknowledged with a note; screenshots for docs/."""

from __future__ import annotations

import csv
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from rtcc_console.client.api import ApiClient
from rtcc_console.client.audit_api import AuditApi
from rtcc_console.core.models import utcnow
from rtcc_console.server.audit import Actor, AuditEntry, append_audit, append_audit_many
from rtcc_console.ui.audit_viewer import AuditViewer

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _shot(widget: Any, tmp: Path, name: str) -> None:
    """Offscreen grab; into docs/ when RTCC_DOCS_SCREENSHOTS=1 (how the docs pictures are made)."""
    target = (DOCS if os.environ.get("RTCC_DOCS_SCREENSHOTS") == "1" else tmp) / name
    assert widget.grab().save(str(target))


def _seed(server: Any) -> None:
    db = server.embedded.state.db
    entries = [
        AuditEntry(
            actor=Actor(("ana", "bob")[i % 2], "analyst"),
            action="live.renew",
            targets={"camera": f"cam-{i % 40:06d}", "grant": f"grant-{i}"},
            reason=f"case 26-{i:06d}",
        )
        for i in range(1500)
    ]
    with db.write() as s:
        append_audit_many(s, entries=entries)
        at = utcnow() - timedelta(hours=2)
        for i, reason in enumerate(("", "look")):
            append_audit(
                s,
                actor=Actor("bob", "analyst"),
                action="live.grant",
                reason=reason,
                at=at + timedelta(seconds=i),
                targets={"camera": f"cam-{i:06d}", "grant": f"grant-x{i}"},
            )


def test_audit_viewer_pages_exports_verifies_and_acknowledges(
    qtbot: Any, console_server: Any, tmp_path: Path
) -> None:
    _seed(console_server)
    api = ApiClient(console_server.base)
    api.login("adam", "a-password-of-12+chars")
    out = tmp_path / "bob.csv"
    viewer = AuditViewer(AuditApi(api), ask_path=lambda: out)
    qtbot.addWidget(viewer)
    viewer.resize(1280, 640)
    viewer.show()

    viewer.filters["user"].setText("bob")
    with qtbot.waitSignal(viewer.page_loaded, timeout=20_000):
        viewer.apply_filters()
    assert len(viewer.model.rows) == 200 and {r["user"] for r in viewer.model.rows} == {"bob"}
    viewer.table.scrollToBottom()  # the view asks the model for more (fetchMore), one page at a time
    qtbot.waitUntil(lambda: len(viewer.model.rows) > 200, timeout=20_000)
    while viewer.model.has_more or viewer.model.loading:
        viewer.table.scrollToBottom()
        qtbot.waitUntil(lambda: not viewer.model.loading, timeout=20_000)
    ids = [r["id"] for r in viewer.model.rows]
    assert len(ids) == 752 and ids == sorted(ids, reverse=True) and len(set(ids)) == 752
    viewer.table.scrollToTop()
    qtbot.waitUntil(
        lambda: viewer.table.indexAt(viewer.table.rect().topLeft()).row() == 0, timeout=5000
    )
    _shot(viewer, tmp_path, "console-audit-trail.png")

    with qtbot.waitSignal(viewer.exported, timeout=20_000):
        viewer.export_csv()
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 752 and {r["user"] for r in rows} == {"bob"}

    with qtbot.waitSignal(viewer.verify_finished, timeout=60_000) as blocker:
        viewer.verify_chain()
    assert blocker.args[0]["status"] == "intact" and viewer.progress.value() == 100
    assert "Chain intact" in viewer.status.text()

    viewer.tabs.setCurrentIndex(1)
    with qtbot.waitSignal(viewer.flags_loaded, timeout=30_000):
        viewer.load_flags()
    flagged = [
        viewer.flag_list.item(i)
        for i in range(viewer.flag_list.count())
        if "no reason" in viewer.flag_list.item(i).text()
    ]
    assert len(flagged) == 1
    viewer.flag_list.setCurrentItem(flagged[0])
    assert (
        "without a case number" in viewer.flag_text.toPlainText()
        and "look" in viewer.flag_text.toPlainText()
    )
    _shot(viewer, tmp_path, "console-audit.png")
    viewer.ack_note.setText(
        "Spoke with bob: opened for a welfare check; reminded to enter the case number"
    )
    with qtbot.waitSignal(viewer.flag_acknowledged, timeout=20_000):
        viewer.acknowledge()
    assert (
        "Acknowledged by adam" in viewer.flag_text.toPlainText()
        and not viewer.ack_button.isEnabled()
    )
    trail = AuditApi(api).page({"action": "audit.flag_ack"}).items
    assert trail and trail[0]["reason"].startswith("Spoke with bob")


def test_analyst_sees_the_refusal_not_a_crash(qtbot: Any, console_server: Any) -> None:
    api = ApiClient(console_server.base)
    api.login("ana", "a-password-of-12+chars")
    viewer = AuditViewer(AuditApi(api))
    qtbot.addWidget(viewer)
    viewer.apply_filters()
    qtbot.waitUntil(
        lambda: "Could not read the audit trail" in viewer.status.text(), timeout=20_000
    )
    assert viewer.model.rows == [] and not viewer.model.loading


def test_docked_for_admins_loads_when_shown_hidden_for_analysts(
    qtbot: Any, console_server: Any, make_console: Any
) -> None:
    window, _api = make_console(console_server.base, username="adam")
    dock = window.docks["audit"]
    assert dock.toggleViewAction().isVisible()
    assert (
        window.audit_viewer.model.rows == []
    )  # nothing read (nor audited) until the panel is looked at
    with qtbot.waitSignal(window.audit_viewer.page_loaded, timeout=20_000):
        dock.show()
        dock.raise_()
    assert (
        window.audit_viewer.model.rows
        and window.audit_viewer.model.rows[0]["action"] == "audit.view"
    )
    other, _ = make_console(console_server.base, username="ana")
    assert (
        not other.docks["audit"].toggleViewAction().isVisible()
        and not other.docks["audit"].isVisible()
    )
