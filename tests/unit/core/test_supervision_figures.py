"""Pure parts of the supervisor panels: dashboard figures, the incident time line, the
synchronised-playback axis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from rtcc_console.core import incident_timeline as tl
from rtcc_console.core.dashboard_stats import DashboardStats
from rtcc_console.core.sync_axis import AxisClip, span, true_start

T = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_calls_per_hour_counts_each_call_once_in_its_hour() -> None:
    s = DashboardStats()
    assert s.add_call("a", T - timedelta(minutes=1), "violent")
    assert not s.add_call("a", T - timedelta(minutes=1), "violent")  # an update
    s.add_call("b", T - timedelta(hours=30), "violent")  # outside the window
    s.add_call("c", T + timedelta(minutes=5), "")
    hours, per = s.calls_per_hour(hours=3, now=T + timedelta(minutes=10))
    assert hours[-1] == T and len(hours) == 3
    assert per == {"other": [0, 0, 1], "violent": [0, 1, 0]}


def test_median_time_to_first_upload_per_request() -> None:
    s = DashboardStats()
    s.set_request(
        "r1",
        sent_at=T,
        items=[
            (T, T + timedelta(minutes=30), 1),
            (T, T + timedelta(minutes=10), 0),
            (T, T + timedelta(minutes=20), 2),
        ],
    )
    s.set_request("r2", sent_at=T, items=[(T, T + timedelta(minutes=50), 1)])
    s.set_request("r3", sent_at=T, items=[(T, None, 0)])
    assert s.request_figures() == (
        3,
        2,
        35 * 60.0,
    )  # firsts: 20 min (r1: a "no footage" is no upload) and 50


def test_camera_counts_record_only_changes() -> None:
    s = DashboardStats()
    assert s.load_cameras({"a": True, "b": False}, at=T)
    assert not s.set_camera("b", integrated=False, at=T + timedelta(minutes=1))
    assert s.set_camera("b", integrated=None, at=T + timedelta(minutes=2))
    assert [c[1:] for c in s.camera_counts] == [(2, 1), (1, 1)]


def test_live_views_from_grant_and_end_entries() -> None:
    audit = [
        {
            "id": 1,
            "at": T.isoformat(),
            "user": "sue",
            "action": "live.grant",
            "outcome": "ok",
            "targets": {"camera": "cam-1", "grant": "g1"},
            "reason": "case 26-1",
        },
        {
            "id": 2,
            "at": (T + timedelta(seconds=90)).isoformat(),
            "action": "live.renew",
            "targets": {"grant": "g1"},
        },
        {
            "id": 3,
            "at": (T + timedelta(seconds=200)).isoformat(),
            "action": "live.end",
            "targets": {"grant": "g1"},
        },
        {
            "id": 4,
            "at": T.isoformat(),
            "user": "ana",
            "action": "live.grant",
            "outcome": "denied",
            "targets": {"camera": "cam-2", "grant": "g2"},
        },
        {
            "id": 5,
            "at": T.isoformat(),
            "user": "bob",
            "action": "live.grant",
            "outcome": "ok",
            "targets": {"camera": "cam-3", "grant": "g3"},
        },
        {
            "id": 6,
            "at": (T + timedelta(seconds=40)).isoformat(),
            "action": "live.renew",
            "targets": {"grant": "g3"},
        },
    ]
    views = {e.key: e for e in tl.live_view_entries(audit)}
    assert set(views) == {"live-g1", "live-g3"}  # a denied grant is no view
    assert views["live-g1"].duration_s == 200 and "3 min 20 s" in views["live-g1"].detail
    assert views["live-g1"].title == "sue viewed cam-1" and "case 26-1" in views["live-g1"].detail
    assert views["live-g3"].duration_s == 40  # no end recorded: the last renewal


def test_requests_and_answers_name_no_owner() -> None:
    req = {
        "id": "fr-1",
        "created_at": T.isoformat(),
        "created_by": "sue",
        "window_start": "a",
        "window_end": "b",
        "items": [
            {
                "id": "i1",
                "owner_kind": "business",
                "state": "uploaded",
                "files": 2,
                "answered_at": (T + timedelta(hours=1)).isoformat(),
                "owner_ref": "Jane Roe",
            },
            {"id": "i2", "owner_kind": "residential", "state": "sent", "answered_at": None},
        ],
    }
    entries = tl.request_entries([req])
    assert [e.title for e in entries] == ["Request fr-1 sent to 2 owner(s)", "business: uploaded"]
    assert all("Jane" not in e.title + e.detail for e in entries)


def test_vehicle_moments_at_true_time_and_merge_order() -> None:
    item = SimpleNamespace(id="ev-1", filename="a.mp4", true_start=T + timedelta(seconds=10))
    moment = SimpleNamespace(id=7, label="car", colour="red", best_time_s=2.5, best_score=0.9)
    veh = tl.vehicle_entries(item, [moment])
    assert (
        veh[0].at == T + timedelta(seconds=12.5)
        and veh[0].offset_s == 2.5
        and veh[0].evidence_id == "ev-1"
    )
    cad = tl.cad_entries(
        [(T + timedelta(seconds=12.5), "cad", ("status: a → b",)), (None, "cad", ())]
    )
    merged = tl.merged(veh, cad, veh)
    assert [e.lane for e in merged] == ["CAD", "Vehicles"]  # once each; same instant: CAD first


def test_sync_axis_places_by_true_start() -> None:
    a = AxisClip("a", true_start(T + timedelta(seconds=3), 2.0), 4.0)  # truly 12:00:01
    b = AxisClip("b", true_start(T - timedelta(seconds=1), -1.0), 4.0)  # truly 12:00:00
    assert span([a, b]) == (T, T + timedelta(seconds=5))
    moment = T + timedelta(seconds=2.5)
    assert (a.offset_at(moment), b.offset_at(moment)) == (1.5, 2.5)
    assert (
        a.offset_at(T + timedelta(seconds=0.5)) is None
        and b.offset_at(T + timedelta(seconds=4.5)) is None
    )
    with pytest.raises(ValueError):
        span([])
