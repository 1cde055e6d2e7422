"""Junk in, CadParseError out: no KeyError/TypeError/AttributeError ever escapes the parsers."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtcc_console.core.cad import CadParseError, ParsedCall, parse_call, parse_csv

DATA = Path(__file__).resolve().parents[2] / "data" / "eido"
SAMPLES = [json.loads(p.read_text()) for p in sorted(DATA.glob("*.json"))]

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "0",
            "2026-11-21T05:00:00Z",
            "2026-11-21T05:00:00",
            "<x/>",
            "$ref:loc-1",
            "Dispatched",
            "BURG",
            "32.7 -96.8",
        ]
    ),
)
JSON = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(
                st.text(max_size=8),
                st.sampled_from(
                    [
                        "incidentComponent",
                        "locationComponent",
                        "callComponent",
                        "format",
                        "incident_id",
                        "lat",
                        "lon",
                        "lastUpdateTimeStamp",
                        "locationByValue",
                        "incidentTrackingIdentifier",
                        "priority",
                        "reported_at",
                    ]
                ),
            ),
            children,
            max_size=5,
        ),
    ),
    max_leaves=20,
)


def _check(body: object, content_type: str | None = None) -> None:
    try:
        result = parse_call(body, content_type)
    except CadParseError as exc:
        assert exc.field and exc.problem
        return
    assert isinstance(result, ParsedCall)
    assert 1 <= result.priority <= 9
    assert result.location is not None or result.address
    assert result.reported_at <= result.updated_at or result.source == "simple"


@settings(max_examples=300, deadline=None)
@given(body=JSON, content_type=st.sampled_from([None, "application/json", "application/eido+json"]))
def test_arbitrary_json_gives_a_call_or_a_parse_error(
    body: object, content_type: str | None
) -> None:
    _check(body, content_type)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), replacement=JSON)
def test_valid_eido_with_one_part_replaced_by_junk(
    data: st.DataObject, replacement: object
) -> None:
    doc = copy.deepcopy(data.draw(st.sampled_from(SAMPLES)))
    path = data.draw(st.sampled_from(_paths(doc)))
    target = doc
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = replacement
    _check(doc)


_PIDF_PIECES = st.sampled_from(
    [
        "<presence>",
        "</presence>",
        "<gml:Point>",
        "</gml:Point>",
        "<gml:pos>",
        "</gml:pos>",
        "32.7 -96.8",
        "0 0",
        "<gs:Circle>",
        "</gs:Circle>",
        "<gs:radius uom='x'>",
        "</gs:radius>",
        "<ca:civicAddress>",
        "</ca:civicAddress>",
        "<ca:RD>Elm</ca:RD>",
        "&amp;",
        "&x;",
        "<!DOCTYPE p>",
        "<![CDATA[",
        "]]>",
        " xmlns:gml='http://www.opengis.net/gml'",
    ]
)


@settings(max_examples=200, deadline=None)
@given(pieces=st.lists(_PIDF_PIECES, max_size=12))
def test_random_pidf_fragments_never_crash(pieces: list[str]) -> None:
    doc = copy.deepcopy(SAMPLES[0])
    doc["locationComponent"][1]["locationByValue"] = "".join(pieces)
    _check(doc)


_CSV_PIECES = st.sampled_from(
    list('ab,"\n\r 1.-:TZ') + ["\x00", "32.7", "2026-11-21T05:00:00Z", ",,,"]
)


@settings(max_examples=150, deadline=None)
@given(pieces=st.lists(_CSV_PIECES, max_size=60))
def test_arbitrary_csv_text_gives_rows_or_row_errors(pieces: list[str]) -> None:
    header = "incident_id,type_code,priority,reported_at,lat,lon,address\n"
    result = parse_csv(header + "".join(pieces))
    assert all(e.row >= 2 and e.field for e in result.errors)
