"""The structured ``emergency.panic`` event (docs/api/portal.md) as the console reads it, and
the banner line made from it or, for an emergency without that event, from the reason text."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from rtcc_console.client.emergencies import PanicAlert, panic_from_emergency, panic_from_event
from rtcc_console.core.models import Emergency


def event(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "emergency": {"id": "em-1", "camera_ids": ["cam-1"], "reason": "ignored here"},
        "site": {
            "owner_id": "own-9",
            "name": "Lakewood Elementary",
            "kind": "school",
            "lat": 32.8,
            "lon": -96.75,
        },
        "alarm_level": 3,
        "location": "Main office",
        "description": "Hold-up button pressed",
        "source": "alarm_panel",
    }
    data.update(over)
    return data


def test_every_field_of_the_event_is_read() -> None:
    panic = panic_from_event(event())
    assert panic == PanicAlert(
        emergency_id="em-1",
        site_name="Lakewood Elementary",
        kind="school",
        alarm_level=3,
        location="Main office",
        description="Hold-up button pressed",
        source="alarm_panel",
        lat=32.8,
        lon=-96.75,
    )


@pytest.mark.parametrize(
    "over",
    [
        {"emergency": None},
        {"emergency": {"id": 7}},
        {"emergency": {"id": ""}},
        {"site": "Lakewood"},
        {"site": {"name": "   "}},
        {"site": {"name": 12}},
    ],
)
def test_without_an_emergency_id_or_a_site_name_there_is_no_structured_alert(
    over: dict[str, Any],
) -> None:
    assert panic_from_event(event(**over)) is None


@pytest.mark.parametrize("level", [5, -1, True, "3", 2.5, None])
def test_an_unusable_alarm_level_is_none_not_a_guess(level: Any) -> None:
    panic = panic_from_event(event(alarm_level=level))
    assert panic is not None and panic.alarm_level is None


def test_bad_coordinates_and_overlong_text_are_dropped_or_cut() -> None:
    site = {"name": "S" * 500, "kind": None, "lat": 123.0, "lon": "x"}
    panic = panic_from_event(event(site=site, location=["Gym"], description="d" * 900))
    assert panic is not None
    assert len(panic.site_name) == 200 and panic.kind == "site"
    assert panic.lat is None and panic.lon is None
    assert panic.location == "" and len(panic.description) == 500


def _emergency(reason: str) -> Emergency:
    return Emergency(
        id="em-1",
        owner_id="own-9",
        camera_ids=frozenset({"cam-1"}),
        started_at=datetime(2026, 11, 29, 22, 5, 7, tzinfo=UTC),
        reason=reason,
    )


def test_banner_line_prefers_the_structured_fields_and_falls_back_to_the_reason() -> None:
    pytest.importorskip("PySide6")
    from rtcc_console.ui.emergency_alert import describe

    # the reason names another site and level: the line must come from the event's fields
    em = _emergency("Panic (portal): Old Mill School, AVS-01 level 1 (call verified, no threat)")
    structured = describe(em, [], panic=panic_from_event(event()))
    assert structured.structured and structured.site == "Lakewood Elementary"
    assert structured.level == 3 and structured.kind == "school"
    assert (
        structured.text == "Lakewood Elementary — school — alarm level 3 — Main office — 22:05:07"
    )

    old = describe(em, [])  # an emergency whose panic event was never seen
    assert not old.structured and old.site == "Old Mill School" and old.level == 1
    assert old.text == "Old Mill School — site — alarm level 1 — 22:05:07"

    declared = describe(_emergency("Stadium evacuation"), [])
    assert declared.text == "Stadium evacuation — site — declared — 22:05:07"


def record(**panic: Any) -> dict[str, Any]:
    """An emergency as ``GET /emergencies`` lists it, with its ``panic`` fields."""
    fields: dict[str, Any] = {
        "site_name": "Lakewood Elementary",
        "site_kind": "school",
        "alarm_level": 2,
        "location": "Gym",
        "description": "intruder",
        "source": "dc09",
        "lat": 32.8,
        "lon": -96.75,
    }
    fields.update(panic)
    return {"id": "em-2", "camera_ids": ["cam-1"], "reason": "ignored", "panic": fields}


def test_the_listed_emergencys_panic_fields_are_read() -> None:
    assert panic_from_emergency(record()) == PanicAlert(
        emergency_id="em-2",
        site_name="Lakewood Elementary",
        kind="school",
        alarm_level=2,
        location="Gym",
        description="intruder",
        source="dc09",
        lat=32.8,
        lon=-96.75,
    )


@pytest.mark.parametrize(
    "emergency",
    [
        {"id": "em-3", "panic": None},  # declared, or a row from before the fields
        {"id": "em-3"},  # an older server
        {"id": "em-3", "panic": "Lakewood"},
        {"id": 3, "panic": record()["panic"]},
        record(site_name="  "),
        record(site_name=None),
    ],
)
def test_a_record_without_usable_panic_fields_gives_no_structured_alert(
    emergency: dict[str, Any],
) -> None:
    assert panic_from_emergency(emergency) is None


def test_hostile_record_fields_are_cut_and_bad_values_dropped() -> None:
    panic = panic_from_emergency(
        record(
            site_name="<script>" + "S" * 500,
            site_kind=["school"],
            alarm_level=True,
            location="L" * 300,
            lat=91.0,
            lon=float("nan"),
        )
    )
    assert panic is not None and panic.site_name.startswith("<script>")
    assert len(panic.site_name) == 200 and len(panic.location) == 200
    assert panic.kind == "site" and panic.alarm_level is None
    assert panic.lat is None and panic.lon is None  # out of range, NaN
