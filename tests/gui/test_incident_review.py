"""Incident review against a real server: a call with a CAD update, a live view opened and
closed with the case as its reason, two recordings with different clock offsets; the time
line shows each, a click asks for the evidence at that moment, the recordings play together."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from rtcc_console.client.api import ApiClient
from rtcc_console.client.evidence_api import EvidenceApi
from rtcc_console.client.incident_timeline import case_for_incident, gather
from rtcc_console.sim.clip_file import write_mp4
from rtcc_console.ui.incident_review import IncidentReview, lane_y


@pytest.fixture(autouse=True)
def _collect_on_the_gui_thread() -> Iterator[None]:
    """Closed windows and charts sit in reference cycles; collected by whichever thread
    next allocates (a server thread), their Qt objects would be destroyed off the GUI
    thread. Collect here, before and after each test, on the GUI thread."""
    gc.collect()
    yield
    gc.collect()


def _admin(server: Any, method: str, path: str, **kw: Any) -> Any:
    r = requests.request(
        method,
        f"{server.base}/api/v1{path}",
        timeout=20,
        headers={"Authorization": f"Bearer {server.admin}"},
        **kw,
    )
    assert r.status_code < 300, r.text
    return r.json() if r.content else None


def _seed(server: Any, tmp: Path) -> tuple[str, str]:
    call = server.post_call(incident_id="DPD-REVIEW-0001")
    later = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    server.admin_post(
        "/calls",
        {
            "format": "simple",
            "incident_id": "DPD-REVIEW-0001",
            "type_code": "BURG",
            "type_text": "Burglary in progress",
            "priority": 1,
            "status": "dispatched",
            "lat": 32.7801,
            "lon": -96.8001,
            "address": "1200 Elm St, Dallas, TX",
            "reported_at": call["reported_at"],
            "updated_at": later,
        },
    )
    case = case_for_incident("DPD-REVIEW-0001")
    cams = _admin(server, "GET", "/cameras?limit=500")["items"]
    cam = next(
        c for c in cams if c["tier"] == "integrated" and c.get("sharing_mode") == "live_always"
    )
    grant = _admin(
        server, "POST", f"/cameras/{cam['id']}/live-grants", json={"reason": f"case {case}"}
    )
    _admin(server, "DELETE", f"/live-grants/{grant['id']}")
    api = ApiClient(server.base)
    api.login("adam", "a-password-of-12+chars")
    ev = EvidenceApi(api, tmp / "ev")
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    for name, stamp, offset in (
        ("a", t0 + timedelta(seconds=3), 2.0),
        ("b", t0 - timedelta(seconds=1), -1.0),
    ):
        clip = write_mp4(
            tmp / f"{name}.mp4", name=f"Cam {name}", start_time=stamp, cache_dir=tmp / "gen"
        )
        ev.form_upload(
            clip,
            case_number=case,
            call_id=str(call["id"]),
            camera_id=f"cam-{name}",
            clock_offset_s=offset,
        )
    return str(call["id"]), case


def test_timeline_of_a_call(qtbot: Any, console_server: Any, tmp_path: Path) -> None:
    call_id, case = _seed(console_server, tmp_path)
    api = ApiClient(console_server.base)
    api.login("adam", "a-password-of-12+chars")
    evidence = EvidenceApi(api, tmp_path / "cache")
    review = IncidentReview(
        lambda c, k: gather(api, evidence, call_id=c, case_number=k),
        lambda item: evidence.fetch_content(item),
        zone=UTC,
    )
    qtbot.addWidget(review, before_close_func=lambda w: w.shutdown())
    review.resize(1200, 900)
    review.show()
    with qtbot.waitSignal(review.loaded, timeout=30_000):
        review.load(call_id)
    lanes = {e.lane for e in review.entries}
    assert {"CAD", "Live views", "Evidence", "Custody"} <= lanes, review.status.text()
    assert review.case_box.text() == case
    cad = [e for e in review.entries if e.lane == "CAD"]
    assert len(cad) == 2 and "dispatched" in cad[1].detail
    view = next(e for e in review.entries if e.lane == "Live views")
    assert (
        view.title.startswith("adam viewed cam-") and view.end is not None and case in view.detail
    )
    recordings = [e for e in review.entries if e.title.startswith("Recording")]
    assert len(recordings) == 2
    starts = sorted(e.at for e in recordings)
    assert (starts[1] - starts[0]) == timedelta(seconds=1)  # 3 s - 2 s vs -1 s + 1 s: corrected
    assert review.list.topLevelItemCount() == len(review.entries)
    assert len(review.points.points()) == len(review.entries)
    assert {p.pos().y() for p in review.points.points()} <= {lane_y(lane) for lane in lanes}

    n = review.entries.index(recordings[0])
    with qtbot.waitSignal(review.moment_wanted) as wanted:
        review.list.itemClicked.emit(review.list.topLevelItem(n), 0)
    assert wanted.args == [recordings[0].evidence_id, 0.0]

    with qtbot.waitSignal(review.sync.opened, timeout=30_000) as opened:
        review.play_together.click()
    assert opened.args == [2] and review.sync.start == starts[0]
    review.choose(n)  # the axis moves to the chosen entry too
    assert review.sync.position == recordings[0].at


def test_case_without_call_and_refusals_are_shown(
    qtbot: Any, console_server: Any, tmp_path: Path
) -> None:
    api = ApiClient(console_server.base)
    api.login("ana", "a-password-of-12+chars")  # an analyst: the audit trail answers 403
    evidence = EvidenceApi(api, tmp_path / "cache")
    review = IncidentReview(
        lambda c, k: gather(api, evidence, call_id=c, case_number=k),
        lambda item: evidence.fetch_content(item),
        zone=UTC,
    )
    qtbot.addWidget(review, before_close_func=lambda w: w.shutdown())
    with qtbot.waitSignal(review.loaded, timeout=30_000):
        review.load("", "26-NOTHING")
    assert review.entries == []
    assert "audit trail" in review.status.text() and not review.play_together.isEnabled()


def test_an_entry_opens_the_evidence_tab_at_its_moment(
    qtbot: Any, console_server: Any, make_console: Any, tmp_path: Path
) -> None:
    call_id, _case = _seed(console_server, tmp_path)
    window, _api = make_console(console_server.base, username="adam")
    qtbot.waitUntil(lambda: window.call_queue.model.call(call_id) is not None, timeout=20_000)
    window.call_queue.select_call(call_id)
    window.docks["review"].show()
    window.docks["review"].raise_()
    qtbot.waitUntil(
        lambda: any(e.title.startswith("Recording") for e in window.review.entries), timeout=30_000
    )
    n = next(i for i, e in enumerate(window.review.entries) if e.title.startswith("Recording"))
    wanted = window.review.entries[n].evidence_id
    with qtbot.waitSignal(window.evidence.tab.player.opened, timeout=30_000) as opened:
        window.review.choose(n)
    assert opened.args == [wanted]
    assert (
        window.evidence.tab.player.item is not None and window.evidence.tab.player.item.id == wanted
    )
