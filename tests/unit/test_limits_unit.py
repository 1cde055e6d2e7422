"""Edge checks of server.limits without a server: rule matching, JSON depth without
parsing, lone surrogates and NUL found exactly (escaped backslashes are not escapes), and
bounded previews in validation errors."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtcc_console.server.limits import (
    MAX_JSON_DEPTH,
    BodyLimits,
    BodyRule,
    _preview,
    default_limits,
    is_json_like,
    json_depth,
    json_text_problem,
)


def test_longest_rule_wins_and_segments_match() -> None:
    limits = default_limits()
    assert limits.rule_for("POST", "/api/v1/auth/login").limit == 8 * 1024
    assert limits.rule_for("POST", "/api/v1/media/auth").limit == 8 * 1024
    assert limits.rule_for("POST", "/api/v1/calls").limit == 1_000_000
    assert limits.rule_for("POST", "/api/v1/calls/batch").limit == 1_000_000
    assert limits.rule_for("POST", "/api/v1/calls/call-1/acknowledge").limit == 8 * 1024
    assert limits.rule_for("POST", "/api/v1/cameras/cam-1/live-grants").limit == 8 * 1024
    assert limits.rule_for("POST", "/api/v1/cameras/import").limit == 50_000_000
    assert (
        limits.rule_for("PATCH", "/api/v1/cameras/import").limit == limits.default.limit
    )  # POST only
    assert limits.rule_for("POST", "/api/v1/cameras").limit == limits.default.limit
    assert (
        limits.rule_for("POST", "/api/v1/callsigns").limit == limits.default.limit
    )  # not a prefix match
    upload = limits.rule_for("PATCH", "/api/v1/uploads/abc")
    assert upload.raw and upload.limit >= 1024**3


def test_a_router_can_register_its_own_rule() -> None:
    limits = BodyLimits([BodyRule("/api/v1/things", 100)], default=10)
    limits.set("/api/v1/things/*/blob", 10_000, methods=["put"], raw=True)
    assert limits.rule_for("PUT", "/api/v1/things/7/blob") == BodyRule(
        "/api/v1/things/*/blob", 10_000, frozenset({"PUT"}), True
    )
    assert limits.rule_for("POST", "/api/v1/things/7/blob").limit == 100
    assert limits.rule_for("GET", "/elsewhere").limit == 10
    limits.set("/api/v1/things", 5)
    assert limits.rule_for("POST", "/api/v1/things").limit == 5
    with pytest.raises(ValueError):
        limits.set("/x", -1)


@pytest.mark.parametrize(
    "media", ["text/csv", "application/offset+octet-stream", "multipart/form-data", "video/mp4"]
)
def test_binary_and_csv_bodies_are_not_json(media: str) -> None:
    assert not is_json_like(media)
    assert is_json_like("application/json") and is_json_like("") and is_json_like("text/plain")


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"username": "\\ud800", "password": "x"}', "lone surrogate \\ud800"),
        (b'{"\\uDFFF": 1}', "lone surrogate \\udfff"),
        (b'["ok", "\\\\\\ud800"]', "lone surrogate"),  # escaped backslash, then a real escape
        (b'{"a": "x\\u0000y"}', "NUL"),
        (b'{"a": "x\x00y"}', "NUL"),
        (b'{"a": "\xed\xa0\x80"}', "encoded surrogate"),
        ('{"a": 1}'.encode("utf-16"), "UTF-8"),
        (b"[" * 5000 + b"]" * 5000, "5000 levels"),
        (b"[" * 5000, "5000 levels"),  # unclosed: what a parser would recurse into
        (b'{"a":' * 65 + b"1" + b"}" * 65, "65 levels"),
    ],
)
def test_bad_text_and_depth_are_named(body: bytes, problem: str) -> None:
    found = json_text_problem(body)
    assert found is not None and problem in found


@pytest.mark.parametrize(
    "body",
    [
        b'{"emoji": "\\ud83d\\ude00", "e": "\\u00e9"}',
        b'{"not an escape": "\\\\ud800", "nor": "\\\\u0000"}',
        b'{"brackets in text": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}',
        b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH,
        b"{not json at all",  # syntax is the route's to name
        b"",
    ],
)
def test_good_text_passes(body: bytes) -> None:
    assert json_text_problem(body) is None


JSONS = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(st.characters(exclude_categories=()), max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text(st.characters(exclude_categories=()), max_size=8), inner, max_size=4
        )
    ),
    max_leaves=30,
)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *_strings(v)]]
    return []


@settings(max_examples=300, deadline=None)
@given(doc=JSONS, ascii_only=st.booleans())
def test_depth_without_parsing_equals_the_real_depth(doc: object, ascii_only: bool) -> None:
    text = json.dumps(doc, ensure_ascii=ascii_only)
    raw = text.encode("utf-8", "surrogatepass")
    assert json_depth(raw) == _depth(doc)
    has_bad = any(
        0xD800 <= ord(ch) <= 0xDFFF or ch == "\x00"
        for text_item in _strings(doc)
        for ch in text_item
    )
    assert (json_text_problem(raw) is not None) == has_bad


def test_previews_never_echo_large_input() -> None:
    assert _preview("x" * 10_000).endswith("...") and len(_preview("x" * 10_000)) < 200
    assert _preview(list(range(100_000))) == "<list of 100000 items>"
    assert _preview({"a": 1}) == {"a": 1}
    assert _preview(["y" * 1000]) == "<list of 1 items>"
    assert _preview(10**4000) == "<a very large integer>"
    assert _preview("\ud800") == "?"


TRICKY = st.text(
    st.sampled_from(
        ["\\", '"', "\ud800", "\udc00", "\ud83d", "\ude00", "\x00", "u", "d", "[", "{", "a"]
    ),
    max_size=12,
)


@settings(max_examples=400, deadline=None)
@given(items=st.lists(TRICKY, max_size=6), ascii_only=st.booleans())
def test_backslashes_quotes_and_surrogates_are_read_as_a_parser_reads_them(
    items: list[str], ascii_only: bool
) -> None:
    raw = json.dumps(
        {"k": items, "nested": [[item] for item in items]}, ensure_ascii=ascii_only
    ).encode("utf-8", "surrogatepass")
    has_bad = any(
        0xD800 <= ord(ch) <= 0xDFFF or ch == "\x00" for text in json.loads(raw)["k"] for ch in text
    )
    assert (json_text_problem(raw) is not None) == has_bad, raw
    assert json_depth(raw) == (3 if items else 2)


def test_an_escaped_backslash_between_two_surrogates_does_not_make_a_pair() -> None:
    assert (
        json_text_problem(b'["\\ud800\\\\\\udc00"]') is not None
    )  # high, "\", low: two lone halves
    assert json_text_problem(b'["\\ud800\\udc00"]') is None  # a real pair
