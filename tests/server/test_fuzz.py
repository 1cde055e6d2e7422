"""Property tests: junk into POST /calls and POST /cameras/import never gives a 500 and
never writes part of a request (row counts compared before and after)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtcc_console.server.app import create_app
from rtcc_console.store.schema import CallRow, CallUpdateRow, CameraRow, EventRow
from tests.server.conftest import API, add_user, count_rows, login, make_settings, simple_call

JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["", "2026-11-21T05:00:00", "2026-13-40T99:00:00+00:00", "NaN", "-1e999"]),
)
JSON = st.recursive(
    JSON_LEAF,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
CALL_FIELDS = list(simple_call().keys())


@pytest.fixture(scope="module")
def fuzz_env(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient, Any, dict[str, str]]]:
    """One SQLite app for the whole module (hypothesis runs many examples)."""
    from rtcc_console.core.models import Role
    from rtcc_console.store import migrate

    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.sqlite'}"
    migrate.upgrade(url)
    app = create_app(make_settings(url))
    with TestClient(app) as client:
        add_user(app, "adam", Role.ADMIN)
        yield client, app, login(client, "adam")


def _counts(app: Any) -> tuple[int, ...]:
    return tuple(count_rows(app, t) for t in (CallRow, CallUpdateRow, CameraRow, EventRow))


@st.composite
def mutated_call(draw: st.DrawFn) -> Any:
    if draw(st.booleans()):
        return draw(JSON)
    body: dict[str, Any] = simple_call(incident_id=draw(st.text(min_size=1, max_size=20)))
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from([*CALL_FIELDS, "extra", "incidentComponent"]))
        if draw(st.booleans()):
            body.pop(key, None)
        else:
            body[key] = draw(JSON)
    return body


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=mutated_call(), eido_type=st.booleans())
def test_post_calls_never_500_never_partial(fuzz_env: Any, body: Any, eido_type: bool) -> None:
    client, app, headers = fuzz_env
    before = _counts(app)
    ctype = "application/eido+json" if eido_type else "application/json"
    r = client.post(
        f"{API}/calls",
        headers={**headers, "Content-Type": ctype},
        content=json.dumps(body, allow_nan=True),
    )
    assert r.status_code in (200, 201, 422), r.text
    after = _counts(app)
    if r.status_code == 422:
        assert after == before
        assert isinstance(r.json()["detail"], str) and r.json()["detail"]
    elif r.status_code == 201:
        assert after[0] == before[0] + 1 and after[1] == before[1] + 1


CSV_HEADER = ["id", "name", "tier", "kind", "sharing_mode", "lat", "lon", "address", "owner_id"]
GOOD_ROW = ["", "Cam", "registered", "residential", "request_only", "32.78", "-96.8", "1 Elm", ""]


@st.composite
def junk_csv(draw: st.DrawFn) -> str:
    rows = []
    for _ in range(draw(st.integers(0, 4))):
        row = list(GOOD_ROW)
        for _ in range(draw(st.integers(0, 3))):
            i = draw(st.integers(0, len(row) - 1))
            row[i] = draw(
                st.one_of(
                    st.text(max_size=15),
                    st.sampled_from(["91", "-181", "nan", "inf", "0", "gold", ""]),
                )
            )
        if draw(st.integers(0, 9)) == 0:
            row.append("extra")
        rows.append(row)
    header = list(CSV_HEADER)
    if draw(st.integers(0, 9)) == 0:
        header = draw(st.lists(st.text(max_size=8), max_size=5))
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue() if draw(st.booleans()) else buf.getvalue() + draw(st.text(max_size=20))


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=junk_csv())
def test_camera_import_never_500_never_partial(fuzz_env: Any, text: str) -> None:
    client, app, headers = fuzz_env
    before = count_rows(app, CameraRow)
    r = client.post(
        f"{API}/cameras/import",
        headers={**headers, "Content-Type": "text/csv"},
        content=text.encode("utf-8", "surrogatepass"),
    )
    assert r.status_code in (200, 422), r.text
    after = count_rows(app, CameraRow)
    if r.status_code == 422:
        assert after == before
        assert all({"row", "field", "message"} <= set(e) for e in r.json()["errors"])
    else:
        assert after == before + r.json()["imported"]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(doc=JSON)
def test_geojson_import_junk(fuzz_env: Any, doc: Any) -> None:
    client, app, headers = fuzz_env
    before = count_rows(app, CameraRow)
    r = client.post(
        f"{API}/cameras/import",
        headers={**headers, "Content-Type": "application/geo+json"},
        content=json.dumps(
            {"type": "FeatureCollection", "features": doc} if isinstance(doc, list) else doc
        ),
    )
    assert r.status_code in (200, 422), r.text
    if r.status_code == 422:
        assert count_rows(app, CameraRow) == before
