"""Simulated CAD feed: the EIDO builder inverts the parser, the generator is plausible."""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtcc_console.core.cad import parse_call
from rtcc_console.core.models import CallStatus, GeoPoint
from rtcc_console.sim.cad import (
    CALL_MIX,
    LAT_MAX,
    LAT_MIN,
    LON_MAX,
    LON_MIN,
    build_eido,
    distance_from_center_m,
    eido_priority,
    generate_calls,
    simple_to_eido,
)

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
_ORDER = list(CallStatus)


def test_priority_mapping_is_inverted_by_the_parser() -> None:
    for priority in range(1, 10):
        assert 0 <= eido_priority(priority) <= 10
        assert 1 + round((10 - eido_priority(priority)) * 0.8) == priority


_ADDRESSES = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "1200 Elm St, Dallas, TX",
            "1500A N Akard St, Dallas, TX 75201",
            "Elm St & Akard St, Dallas, TX",
            "Fair Park",
            "3 Main <&> St, Dallas, TX",
        ]
    ),
)


@settings(max_examples=150, deadline=None)
@given(
    kind=st.sampled_from(CALL_MIX),
    priority=st.integers(1, 9),
    status=st.sampled_from(CallStatus),
    lat=st.floats(LAT_MIN, LAT_MAX),
    lon=st.floats(LON_MIN, LON_MAX),
    address=_ADDRESSES,
    reported=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ),
    delay=st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=5)),
    uncertainty=st.one_of(st.none(), st.floats(0, 5000)),
    civic_only=st.booleans(),
)
def test_build_eido_round_trips_through_the_parser(
    kind, priority, status, lat, lon, address, reported, delay, uncertainty, civic_only
) -> None:  # type: ignore[no-untyped-def]
    if civic_only and address is None:
        address = "1200 Elm St, Dallas, TX"
    doc = build_eido(
        incident_id="urn:emergency:uid:incidentid:x1:dallas.example",
        type_code=kind.code,
        type_text=kind.text,
        priority=priority,
        status=status,
        lat=lat,
        lon=lon,
        address=address,
        reported_at=reported,
        updated_at=reported + delay,
        uncertainty_m=uncertainty,
        civic_only=civic_only,
        registry_text=kind.registry,
    )
    call = parse_call(doc)
    assert (call.type_code, call.type_text, call.priority, call.status) == (
        kind.code,
        kind.text,
        priority,
        status,
    )
    assert call.reported_at == reported and call.updated_at == reported + delay
    assert call.address == address
    if civic_only:
        assert call.location is None and call.uncertainty_m is None
    else:
        assert call.location == GeoPoint(lat, lon)
        assert call.uncertainty_m == uncertainty


def test_generator_is_repeatable_and_sorted() -> None:
    a = generate_calls(random.Random(7), 300, NOW)
    assert a == generate_calls(random.Random(7), 300, NOW)
    assert a != generate_calls(random.Random(8), 300, NOW)
    times = [datetime.fromisoformat(r["updated_at"]) for r in a]
    assert times == sorted(times)
    assert NOW - timedelta(hours=1) < times[0] and times[-1] <= NOW


def test_generated_calls_are_plausible_dallas_calls() -> None:
    records = generate_calls(random.Random(1), 2000, NOW)
    incidents = {r["incident_id"]: r for r in records if r["updated_at"] == r["reported_at"]}
    positioned = [r for r in incidents.values() if r["lat"] is not None]
    civic_share = 1 - len(positioned) / len(incidents)
    assert 0.01 <= civic_share <= 0.06
    assert all(
        LAT_MIN <= r["lat"] <= LAT_MAX and LON_MIN <= r["lon"] <= LON_MAX for r in positioned
    )
    near = sum(distance_from_center_m(r["lat"], r["lon"]) < 10_000 for r in positioned)
    assert near / len(positioned) > 0.5  # the centre is denser than the edges
    codes = Counter(r["type_code"] for r in incidents.values())
    assert len(codes) >= 12 and codes.most_common(1)[0][1] / len(incidents) < 0.25
    urgent = [r for r in incidents.values() if r["type_code"] == "SHOTS"]
    assert urgent and all(r["priority"] == 1 for r in urgent)
    assert all(r["address"] for r in incidents.values())


def test_updates_keep_the_incident_and_move_its_status_forward() -> None:
    records = generate_calls(random.Random(3), 1000, NOW)
    by_incident: dict[str, list[dict]] = defaultdict(list)  # type: ignore[type-arg]
    for record in records:
        by_incident[record["incident_id"]].append(record)
    updated = [versions for versions in by_incident.values() if len(versions) > 1]
    assert 0.15 <= sum(len(v) - 1 for v in updated) / len(records) <= 0.35
    for versions in updated:
        first = versions[0]
        for earlier, later in zip(versions, versions[1:], strict=False):
            assert later["updated_at"] > earlier["updated_at"]
            assert _ORDER.index(CallStatus(later["status"])) > _ORDER.index(
                CallStatus(earlier["status"])
            )
            same = {k: v for k, v in later.items() if k not in ("status", "updated_at")}
            assert same == {k: v for k, v in first.items() if k not in ("status", "updated_at")}
    assert len({(r["incident_id"], r["updated_at"]) for r in records}) == len(records)


@pytest.mark.parametrize("seed", [11, 12])
def test_every_generated_record_parses_in_both_forms(seed: int) -> None:
    for record in generate_calls(random.Random(seed), 200, NOW):
        simple, eido = parse_call(record), parse_call(simple_to_eido(record))
        assert simple.incident_id == eido.incident_id == record["incident_id"]
        assert (simple.location, simple.address, simple.status, simple.updated_at) == (
            eido.location,
            eido.address,
            eido.status,
            eido.updated_at,
        )
        assert simple.category == eido.category != "other"
        if eido.location is not None:
            assert not math.isnan(eido.location.lat)


def test_generator_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="n must be"):
        generate_calls(random.Random(1), -1, NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        generate_calls(random.Random(1), 1, datetime(2026, 1, 1))
    assert generate_calls(random.Random(1), 0, NOW) == []
