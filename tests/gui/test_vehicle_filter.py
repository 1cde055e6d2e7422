"""The vehicle filter widget: candidates wording, summary, filters, moment_chosen (offscreen).

The server side is stood in by a small in-memory source here (a unit test of the widget);
tests/server/test_vehicles_api.py runs the real search over HTTP."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from rtcc_console.client.vehicles_api import (
    ClipCandidates,
    SearchResult,
    Summary,
    VehicleMoment,
    VehicleQuery,
)
from rtcc_console.ui.evidence.vehicle_filter import VehicleFilter

pytestmark = pytest.mark.gui


def _moment(i: int, ev: str, label: str, colour: str, score: float, t: float) -> VehicleMoment:
    return VehicleMoment(
        i,
        ev,
        label,
        colour,
        t - 1,
        t + 1,
        score,
        t,
        (0.1, 0.2, 0.4, 0.5),
        f"/evidence/{ev}/vehicles/{i}/thumbnail",
    )


MOMENTS = [
    _moment(1, "ev-a", "truck", "white", 0.62, 6.0),
    _moment(2, "ev-a", "car", "red", 0.91, 2.0),
    _moment(3, "ev-b", "truck", "black", 0.44, 30.5),
]


class FakeSource:
    def __init__(self, thumb: bytes) -> None:
        self.queries: list[VehicleQuery] = []
        self.thumb = thumb
        self.thread_ids: set[int] = set()

    def search(self, query: VehicleQuery) -> SearchResult:
        self.queries.append(query)
        self.thread_ids.add(threading.get_ident())
        hits = [
            m
            for m in MOMENTS
            if query.vehicle in (None, m.label) and query.colour in (None, m.colour)
        ]
        clips = tuple(
            ClipCandidates(
                ev,
                f"{ev}.mp4",
                None,
                None,
                max(m.best_score for m in hits if m.evidence_id == ev),
                tuple(m for m in hits if m.evidence_id == ev),
            )
            for ev in sorted({m.evidence_id for m in hits})
        )
        what = " ".join(x for x in (query.colour, query.vehicle) if x) or "vehicle"
        summary = Summary(
            12, 10, 2, 0, 0, len(clips), f"12 clips, {len(clips)} with a {what} candidate (verify)"
        )
        return SearchResult(query, clips, summary, "Candidates … verify")

    def thumbnail(self, moment: VehicleMoment) -> bytes | None:
        return self.thumb


@pytest.fixture
def thumb_jpeg(tmp_path: Path) -> bytes:
    import numpy as np

    from rtcc_console.vision.thumbs import crop_jpeg

    return crop_jpeg(np.full((40, 60, 3), 200, np.uint8), (0, 0, 1, 1))


def test_filters_summary_and_moments(qtbot: QtBot, thumb_jpeg: bytes) -> None:
    source = FakeSource(thumb_jpeg)
    widget = VehicleFilter(source)
    qtbot.addWidget(widget)
    widget.resize(900, 260)
    with qtbot.waitSignal(widget.results_changed, timeout=5000):
        widget.set_scope("26-000017")
    assert source.queries[-1] == VehicleQuery(case_number="26-000017")
    assert threading.get_ident() not in source.thread_ids  # searched off the GUI thread
    assert widget.list.count() == 3
    texts = [widget.list.item(i).text() for i in range(3)]
    assert texts[0].startswith("car candidate · red") and "score 0.91" in texts[0]  # best first
    assert all("candidate" in t and "verify" in t for t in texts)
    assert "12 clips, 2 with a vehicle candidate (verify)" in widget.summary.text()
    assert "2 still being indexed" in widget.summary.text()
    assert "candidate" in widget.caveat.text() and "not a finding" in widget.caveat.text()

    with qtbot.waitSignal(widget.results_changed, timeout=5000):
        widget.set_filter("truck", "white")
    assert source.queries[-1] == VehicleQuery(
        case_number="26-000017", vehicle="truck", colour="white"
    )
    assert widget.list.count() == 1
    assert widget.summary.text().startswith("12 clips, 1 with a white truck candidate (verify)")
    qtbot.waitUntil(lambda: not widget.list.item(0).icon().isNull(), timeout=5000)

    with qtbot.waitSignal(widget.moment_chosen, timeout=2000) as chosen:
        widget.choose(0)
    assert chosen.args == [
        "ev-a",
        6.0,
        {"x1": 0.1, "y1": 0.2, "x2": 0.4, "y2": 0.5, "label": "truck candidate: verify"},
    ]


def test_no_scope_no_search_and_stale_answers_are_dropped(qtbot: QtBot, thumb_jpeg: bytes) -> None:
    source = FakeSource(thumb_jpeg)
    widget = VehicleFilter(source)
    qtbot.addWidget(widget)
    widget.refresh()
    assert source.queries == []
    widget.set_scope(None, "call-1")
    with qtbot.waitSignal(widget.results_changed, timeout=5000) as got:
        widget.set_filter("bus")
    assert got.args[0].query.vehicle == "bus"
    assert widget.list.count() == 0
    assert "0 with a bus candidate" in widget.summary.text()


def test_screenshot(qtbot: QtBot, thumb_jpeg: bytes, tmp_path: Path) -> None:
    widget = VehicleFilter(FakeSource(thumb_jpeg))
    qtbot.addWidget(widget)
    widget.resize(1000, 240)
    widget.show()
    with qtbot.waitSignal(widget.results_changed, timeout=5000):
        widget.set_scope("26-000017")
    qtbot.waitUntil(
        lambda: all(not widget.list.item(i).icon().isNull() for i in range(widget.list.count()))
    )
    assert widget.grab().save(str(tmp_path / "vf.png"))
