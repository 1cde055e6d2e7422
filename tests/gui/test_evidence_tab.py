"""The Evidence tab against a stand-in vault over loopback HTTP: items per call, a live
``evidence.received``, an integrity failure that stands out, playback, snapshot, and the
case export with progress and cancel."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from rtcc_console.client.api import ApiClient
from rtcc_console.client.evidence_api import EvidenceApi
from rtcc_console.core.models import CallStatus, DispatchCall, GeoPoint
from rtcc_console.sim.clip_file import write_mp4
from rtcc_console.ui.evidence.model import COL_HASH, COL_OWNER
from tests.unit.client.fake_vault import FakeVault

pytestmark = pytest.mark.gui


@pytest.fixture
def vault() -> Iterator[FakeVault]:
    v = FakeVault()
    yield v
    v.close()


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    tmp = tmp_path_factory.mktemp("tab")
    return write_mp4(
        tmp / "c.mp4", seconds=2.0, fps=15, size=(320, 180), gop=15, cache_dir=tmp
    ).read_bytes()


def _call() -> DispatchCall:
    now = datetime.now(UTC)
    return DispatchCall(
        id="call-1",
        incident_id="DPD-T-0001",
        type_code="BURG",
        type_text="Burglary",
        priority=2,
        status=CallStatus.PENDING,
        location=GeoPoint(32.78, -96.8),
        address="1200 Elm St",
        reported_at=now,
        updated_at=now,
    )


@pytest.fixture
def tab(qtbot: Any, vault: FakeVault, tmp_path: Path) -> Iterator[Any]:
    from rtcc_console.ui.evidence.tab import EvidenceTab

    api = ApiClient(vault.base)
    api._token = "t"
    t = EvidenceTab(EvidenceApi(api, tmp_path / "cache"), zone=ZoneInfo("UTC"))
    qtbot.addWidget(t)
    t.resize(900, 700)
    t.show()
    yield t
    t.shutdown()


def test_lists_the_calls_items_and_takes_live_ones(
    qtbot: Any, tab: Any, vault: FakeVault, clip_bytes: bytes
) -> None:
    vault.add(
        "ev-1",
        clip_bytes,
        call_id="call-1",
        received_at="2026-11-29T18:00:00+00:00",
        case_numbers=["DPD-T-0001"],
    )
    vault.add("ev-x", b"other", call_id="call-2", case_numbers=["26-other"])
    with qtbot.waitSignal(tab.items_loaded, timeout=5000) as blocker:
        tab.show_call(_call())
    assert blocker.args == [1]
    assert tab.case_field.text() == "DPD-T-0001"
    model = tab.model
    assert [model.display(i, COL_OWNER) for i in model.items] == ["residential"]
    assert model.display(model.items[0], COL_HASH) == "✔ verified"
    # a live event for this call arrives: a new row on top, no reload
    live = vault.add(
        "ev-2",
        b"new bytes",
        call_id="call-1",
        received_at="2026-11-29T18:05:00+00:00",
        owner_kind="business",
        case_numbers=["DPD-T-0001"],
    )
    with qtbot.waitSignal(tab.item_changed, timeout=2000):
        tab.on_evidence_event("evidence.received", {"evidence": live})
    assert [i.id for i in model.items] == ["ev-2", "ev-1"]
    # an event for another call does not show up here
    tab.on_evidence_event("evidence.received", {"evidence": vault.items["ev-x"]})
    assert model.rowCount() == 2
    # what the analyst sees of the owner: the kind only
    texts = [model.display(i, c) for i in model.items for c in range(7)]
    assert "business" in texts and not any("Jane" in t for t in texts)


def test_integrity_failure_stands_out(
    qtbot: Any, tab: Any, vault: FakeVault, clip_bytes: bytes
) -> None:
    from PySide6.QtCore import Qt

    vault.add("ev-1", clip_bytes, call_id="call-1")
    with qtbot.waitSignal(tab.items_loaded, timeout=5000):
        tab.show_call(_call())
    assert tab.alert.isHidden()
    vault.failed.add("ev-1")  # the stored file was changed behind the vault's back
    with qtbot.waitSignal(tab.integrity_failed, timeout=5000) as blocker:
        tab.select_evidence("ev-1")  # playing it asks the vault, which refuses (409)
    assert blocker.args == ["ev-1"]
    model = tab.model
    idx = model.index(0, COL_HASH)
    assert model.data(idx) == "✖ INTEGRITY FAILURE"
    assert model.data(idx, Qt.ItemDataRole.BackgroundRole).color().name() == "#8b0000"
    assert tab.alert.isVisible() and "INTEGRITY FAILURE" in tab.alert.text()
    assert "INTEGRITY FAILURE" in tab.player.view.message and tab.player.player is None


def test_select_plays_and_snapshot_goes_to_the_vault(
    qtbot: Any, tab: Any, vault: FakeVault, clip_bytes: bytes
) -> None:
    vault.add("ev-1", clip_bytes, call_id="call-1", case_numbers=["DPD-T-0001"])
    with qtbot.waitSignal(tab.items_loaded, timeout=5000):
        tab.show_call(_call())
    with qtbot.waitSignal(tab.player.opened, timeout=10_000):
        tab.select_evidence("ev-1")
    qtbot.waitUntil(lambda: tab.player.shown_index == 0, timeout=5000)
    cached = tab.evidence.cached_path(tab.model.items[0])
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == vault.items["ev-1"]["sha256"]
    tab.player.step(1)
    tab.player.step(1)
    qtbot.waitUntil(lambda: tab.player.shown_index == 2, timeout=5000)
    with qtbot.waitSignal(tab.player.snapshot_taken, timeout=5000):
        tab.player.snapshot_button.click()
    assert vault.snapshots == [
        {"evidence_id": "ev-1", "at_s": pytest.approx(2 / 15), "case_number": "DPD-T-0001"}
    ]
    qtbot.waitUntil(lambda: tab.model.rowCount() == 2, timeout=2000)
    # sign-out: nothing of it stays on screen or on the workstation's disk
    tab.forget()
    assert tab.model.rowCount() == 0 and tab.player.player is None and tab.player.item is None
    assert not cached.exists() and not tab.evidence.cache_dir.exists()
    assert tab.case_number is None and not tab.export_button.isEnabled()


def test_export_progress_and_cancel(qtbot: Any, tab: Any, vault: FakeVault, tmp_path: Path) -> None:
    vault.add("ev-1", b"x" * 1000, call_id="call-1")
    with qtbot.waitSignal(tab.items_loaded, timeout=5000):
        tab.show_call(_call())
    assert tab.export_button.isEnabled()
    vault.export_blob = b"PK" + b"z" * 3_000_000
    vault.export_steps = [0.3, 0.6, 1.0]
    dest = tmp_path / "case.zip"
    values: list[int] = []
    dialog = tab.export_case(dest)
    dialog.progressed.connect(values.append)
    with qtbot.waitSignal(dialog.finished_export, timeout=10_000):
        pass
    assert dest.read_bytes() == vault.export_blob
    assert dialog.bar.value() == 1000 and values == sorted(values) and 480 in values
    dialog.close()

    vault.export_steps = [0.2] * 1000  # a long export
    dest2 = tmp_path / "case2.zip"
    dialog = tab.export_case(dest2)
    qtbot.waitUntil(lambda: dialog.bar.value() == 160, timeout=5000)
    with qtbot.waitSignal(dialog.cancelled, timeout=5000):
        dialog.cancel_button.click()
    assert dialog.state == "cancelled" and "cancelled" in dialog.label.text()
    assert vault.export["status"] == "cancelled" and not dest2.exists()


def test_a_chosen_moment_opens_the_item_with_its_box(
    qtbot: Any, tab: Any, vault: FakeVault, clip_bytes: bytes
) -> None:
    """What the vehicle filter's ``moment_chosen(evidence_id, time_s, box)`` asks for."""
    vault.add("ev-1", clip_bytes, call_id="call-1", case_numbers=["DPD-T-0001"])
    with qtbot.waitSignal(tab.items_loaded, timeout=5000):
        tab.show_call(_call())
    assert tab.vehicle_filter is not None and tab.vehicle_filter.case_number == "DPD-T-0001"
    tab.vehicle_filter.moment_chosen.emit("ev-1", 1.0, (0.25, 0.25, 0.5, 0.5))  # fractions
    qtbot.waitUntil(lambda: tab.player.shown_index == 15, timeout=10_000)
    assert tab.player.view.box == pytest.approx((0.25, 0.25, 0.5, 0.5))
    assert not tab.player.player.status().playing
    tab.jump_to_moment("ev-1", 2.0, {"x1": 80, "y1": 45, "x2": 240, "y2": 90})  # pixels of 320x180
    qtbot.waitUntil(
        lambda: tab.player.shown_index == 29, timeout=10_000
    )  # 2.0 s is past the end: last frame
    assert tab.player.view.box == pytest.approx((0.25, 0.25, 0.5, 0.25))


def test_a_call_takes_the_case_its_evidence_is_filed_under(
    qtbot: Any, tab: Any, vault: FakeVault
) -> None:
    from rtcc_console.ui.evidence.tab import case_for_incident

    vault.add("ev-1", b"a", call_id="call-1", case_numbers=["26-777"])
    vault.add("ev-2", b"b", call_id="call-9", case_numbers=["26-777"])  # same case, another call
    loads: list[int] = []
    tab.items_loaded.connect(loads.append)
    tab.show_call(_call())
    qtbot.waitUntil(lambda: bool(loads), timeout=5000)
    assert tab.case_number == "26-777" and tab.case_field.text() == "26-777"
    assert {i.id for i in tab.model.items} == {"ev-1", "ev-2"}
    assert case_for_incident("urn:emergency:uid:incidentid:DPD/26:0042") == "0042"
    assert case_for_incident("DPD 26/0042") == "DPD-26-0042"


def test_download_progress_and_choosing_another_item_cancels_it(
    qtbot: Any, tab: Any, vault: FakeVault, clip_bytes: bytes
) -> None:
    big = clip_bytes * 40  # a few MB, sent slowly
    vault.add(
        "ev-big",
        big,
        call_id="call-1",
        case_numbers=["DPD-T-0001"],
        received_at="2026-11-29T18:00:00+00:00",
    )
    vault.add(
        "ev-small",
        clip_bytes,
        call_id="call-1",
        case_numbers=["DPD-T-0001"],
        received_at="2026-11-29T17:00:00+00:00",
    )
    vault.slow.add("ev-big")
    with qtbot.waitSignal(tab.items_loaded, timeout=5000):
        tab.show_call(_call())
    with qtbot.waitSignal(tab.fetch_progressed, timeout=10_000) as first:
        tab.select_evidence("ev-big")
    done, total = first.args
    assert total == len(big) and 0 < done < total
    assert "Fetching ev-big.mp4:" in tab.player.view.message
    with qtbot.waitSignal(tab.player.opened, timeout=10_000) as opened:
        tab.select_evidence("ev-small")
    assert opened.args == ["ev-small"]
    big_item = tab.model.items[tab.model.row_of("ev-big")]
    cached = tab.evidence.cached_path(big_item)
    qtbot.waitUntil(lambda: cached.with_name(cached.name + ".part").exists(), timeout=5000)
    assert not cached.exists()  # cancelled: never completed, kept as a resumable part
