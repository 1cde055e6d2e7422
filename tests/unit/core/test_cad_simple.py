"""The simple JSON call form, CSV files of calls, and format detection."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from rtcc_console.core.cad import CadParseError, detect_format, parse_call, parse_csv
from rtcc_console.core.categories import CategoryTable
from rtcc_console.core.models import CallStatus, GeoPoint


def simple(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "format": "simple",
        "incident_id": "DPD-26-001234",
        "type_code": "ROBB",
        "type_text": "Robbery of a business",
        "priority": 2,
        "status": "dispatched",
        "lat": 32.7767,
        "lon": -96.797,
        "address": "1500 Main St",
        "reported_at": "2026-11-21T05:30:00+00:00",
        "updated_at": "2026-11-21T05:31:00Z",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def test_simple_form_round_trips_through_to_simple_dict() -> None:
    call = parse_call(simple())
    assert call.location == GeoPoint(32.7767, -96.797)
    assert (call.priority, call.status, call.category, call.source) == (
        2,
        CallStatus.DISPATCHED,
        "robbery",
        "simple",
    )
    assert call.updated_at == datetime(2026, 11, 21, 5, 31, tzinfo=UTC)
    assert parse_call(call.to_simple_dict()) == call


def test_defaults_status_type_text_and_update_time() -> None:
    call = parse_call(simple(status=..., type_text=..., updated_at=..., format=...))
    assert call.status is CallStatus.PENDING
    assert call.type_text == "ROBB"
    assert call.updated_at == call.reported_at


def test_address_only_call_has_no_position() -> None:
    call = parse_call(simple(lat=None, lon=None))
    assert call.location is None and call.address == "1500 Main St"


def test_agency_category_table_is_used() -> None:
    table = CategoryTable.from_text("code,category\nROBB,theft\n")
    assert parse_call(simple(), categories=table).category == "theft"


def test_to_dispatch_call_keeps_every_field() -> None:
    call = parse_call(simple())
    stored = call.to_dispatch_call("call-1")
    assert (stored.id, stored.incident_id, stored.location, stored.category) == (
        "call-1",
        call.incident_id,
        call.location,
        "robbery",
    )


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"incident_id": ...}, "incident_id", "missing"),
        ({"incident_id": ["x"]}, "incident_id", "expected text, got list"),
        ({"priority": 0}, "priority", "1..9"),
        ({"priority": 2.5}, "priority", "1..9"),
        ({"priority": "urgent"}, "priority", "not a number"),
        ({"priority": 10**5000}, "priority", "not a number: <int too long to show>"),
        ({"lat": None}, "lat", "both be given"),
        ({"lon": ...}, "lon", "both be given"),
        ({"lat": 0, "lon": 0}, "lat", "0,0 is not a real location"),
        ({"lat": 95, "lon": 0}, "lat", "latitude 95.0 is outside"),
        ({"lat": float("nan")}, "lat", "not a finite number"),
        ({"lat": None, "lon": None, "address": " "}, "address", "required when lat/lon"),
        ({"status": "lost"}, "status", "unknown call status 'lost'"),
        ({"reported_at": "2026-11-21 05:30"}, "reported_at", "no time zone"),
        ({"updated_at": "2026-11-21T05:00:00Z"}, "updated_at", "is before reported_at"),
        ({"uncertainty_m": -1}, "uncertainty_m", "must not be negative"),
        ({"type_code": "X" * 61}, "type_code", "longer than 60"),
    ],
)
def test_bad_simple_fields_are_named(changes: dict[str, Any], field: str, fragment: str) -> None:
    with pytest.raises(CadParseError) as info:
        parse_call(simple(**changes))
    assert info.value.field == field
    assert fragment in info.value.problem


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ({"incidentComponent": {}}, None, "eido"),
        ({"incident_id": "x"}, "application/json", "simple"),
        ({"format": "eido", "incident_id": "x"}, None, "eido"),
        (
            {"format": "simple", "incidentComponent": {}},
            "application/json; charset=utf-8",
            "simple",
        ),
        ({"incident_id": "x"}, "Application/EIDO+JSON", "eido"),
    ],
)
def test_detect_format(body: dict[str, Any], content_type: str | None, expected: str) -> None:
    assert detect_format(body, content_type) == expected


@pytest.mark.parametrize(
    ("body", "content_type", "field"),
    [
        ({"format": "xml"}, None, "format"),
        ({"hello": 1}, None, "format"),
        ([1, 2], None, "$"),
        ({"incident_id": "x"}, "text/csv", "Content-Type"),
    ],
)
def test_detect_format_refuses_unknown_bodies(
    body: object, content_type: str | None, field: str
) -> None:
    with pytest.raises(CadParseError) as info:
        detect_format(body, content_type)
    assert info.value.field == field


CSV_TEXT = (
    "\ufeffincident_id,type_code,type_text,priority,status,lat,lon,address,reported_at,updated_at\n"
    "A-1,BURG,Burglary,1,pending,32.78,-96.80,,2026-11-21T05:00:00Z,\n"
    'A-2,MVA,Crash,3,on scene,,,"Elm St & Akard St, Dallas",2026-11-21T05:01:00Z,2026-11-21T05:05:00Z\n'
    "A-3,THEFT,Theft,12,pending,32.7,-96.8,,2026-11-21T05:02:00Z,\n"
    "\n"
    "A-4,SUSP,Suspicious,4,pending,32.7,,,2026-11-21T05:03:00Z,\n"
    "A-5,SUSP,Suspicious,4,pending,32.7,-96.8,,2026-11-21T05:03:00Z,,surplus\n"
    "A-6,DIST,Disturbance,5,closed,32.71,-96.81,,2026-11-21T05:04:00-06:00,\n"
)


def test_csv_returns_good_rows_and_names_bad_cells() -> None:
    result = parse_csv(CSV_TEXT)
    assert [c.incident_id for c in result.calls] == ["A-1", "A-2", "A-6"]
    assert all(c.source == "csv" for c in result.calls)
    assert (
        result.calls[1].address == "Elm St & Akard St, Dallas" and result.calls[1].location is None
    )
    assert result.calls[1].status is CallStatus.ON_SCENE
    assert result.calls[2].reported_at == datetime(2026, 11, 21, 11, 4, tzinfo=UTC)
    assert [(e.row, e.field) for e in result.errors] == [(4, "priority"), (6, "lon"), (7, "$")]
    assert "1..9" in result.errors[0].message


def test_csv_missing_columns_are_reported_on_the_header_row() -> None:
    result = parse_csv("incident_id,type_code,lat,lon\nA,B,1,2\n")
    assert result.calls == []
    assert [(e.row, e.field) for e in result.errors] == [(1, "priority"), (1, "reported_at")]


def test_csv_control_characters_are_cleaned_not_fatal() -> None:
    header = CSV_TEXT.splitlines()[0].lstrip("\ufeff")
    text = header + "\nA-9,BURG,Bu\x00rg,1,pending,32.78,-96.8,,2026-11-21T05:00:00Z,\n"
    result = parse_csv(text)
    assert result.errors == []
    assert result.calls[0].type_text == "Bu rg"


def test_csv_unreadable_record_is_reported_and_reading_goes_on() -> None:
    header = CSV_TEXT.splitlines()[0].lstrip("\ufeff")
    huge = '"' + "x" * 200_000 + '"'
    text = (
        header
        + f"\nA-1,BURG,{huge},1,pending,32.78,-96.8,,2026-11-21T05:00:00Z,\n"
        + "A-2,BURG,Burglary,1,pending,32.78,-96.8,,2026-11-21T05:00:00Z,\n"
    )
    result = parse_csv(text)
    assert [(e.row, e.field) for e in result.errors] == [(2, "$")]
    assert "field larger than field limit" in result.errors[0].message
    assert [c.incident_id for c in result.calls] == ["A-2"]
