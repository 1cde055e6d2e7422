"""Call intake (simple, EIDO, batch), idempotency and history, listing, detail, PATCH."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from rtcc_console.sim.cad import build_eido
from rtcc_console.store.schema import CallRow, CallUpdateRow
from tests.server.conftest import API, camera_body, count_rows, events_of, simple_call


def eido(**kw: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "incident_id": "urn:nena:incident:dpd:0042",
        "type_code": "ROB",
        "type_text": "Robbery",
        "priority": 2,
        "status": "dispatched",
        "lat": 32.7790,
        "lon": -96.8010,
        "address": "1300 Main St, Dallas, TX",
        "reported_at": datetime(2026, 11, 21, 5, 0, tzinfo=UTC),
        "updated_at": datetime(2026, 11, 21, 5, 1, tzinfo=UTC),
    }
    args.update(kw)
    return build_eido(**args)


def test_simple_call_created_then_duplicate(
    client: TestClient, app: Any, analyst: dict[str, str]
) -> None:
    r = client.post(f"{API}/calls", headers=analyst, json=simple_call())
    assert r.status_code == 201 and r.json()["created"] is True
    call = r.json()["call"]
    assert call["category"] == "burglary" and call["version"] == 1 and call["source"] == "simple"
    again = client.post(f"{API}/calls", headers=analyst, json=simple_call())
    assert (
        again.status_code == 200
        and again.json()["created"] is False
        and again.json()["duplicate"] is True
    )
    assert again.json()["call"]["id"] == call["id"]
    assert count_rows(app, CallRow) == 1 and count_rows(app, CallUpdateRow) == 1
    assert len(events_of(app, "call.created")) == 1


def test_eido_by_content_type_and_by_format_field(
    client: TestClient, analyst: dict[str, str]
) -> None:
    doc = eido()
    r = client.post(
        f"{API}/calls",
        headers={**analyst, "Content-Type": "application/eido+json"},
        content=json.dumps(doc),
    )
    assert r.status_code == 201, r.text
    assert (
        r.json()["call"]["incident_id"] == "urn:nena:incident:dpd:0042"
        and r.json()["call"]["source"] == "eido"
    )
    doc2 = {**eido(incident_id="urn:x:2"), "format": "eido"}
    assert client.post(f"{API}/calls", headers=analyst, json=doc2).status_code == 201


def test_later_update_changes_call_older_goes_to_history(
    client: TestClient, app: Any, analyst: dict[str, str]
) -> None:
    first = client.post(
        f"{API}/calls", headers=analyst, json=simple_call(updated_at="2026-11-21T05:05:00+00:00")
    ).json()
    later = client.post(
        f"{API}/calls",
        headers=analyst,
        json=simple_call(status="on_scene", updated_at="2026-11-21T05:10:00+00:00"),
    )
    assert later.status_code == 200 and later.json()["updated"] is True
    assert later.json()["call"]["status"] == "on_scene" and later.json()["call"]["version"] == 2
    older = client.post(
        f"{API}/calls",
        headers=analyst,
        json=simple_call(status="dispatched", updated_at="2026-11-21T05:07:00+00:00"),
    )
    assert older.status_code == 200 and older.json()["updated"] is False
    detail = client.get(f"{API}/calls/{first['call']['id']}", headers=analyst).json()
    assert detail["status"] == "on_scene" and detail["version"] == 2
    assert [h["applied"] for h in detail["history"]] == [True, False, True]
    assert [h["call"]["status"] for h in detail["history"]] == ["pending", "dispatched", "on_scene"]
    assert [e[1] for e in events_of(app) if e[1].startswith("call.")] == [
        "call.created",
        "call.updated",
    ]


def test_civic_only_call_has_null_coordinates(client: TestClient, analyst: dict[str, str]) -> None:
    r = client.post(f"{API}/calls", headers=analyst, json=simple_call(lat=None, lon=None))
    assert r.status_code == 201
    call = r.json()["call"]
    assert call["lat"] is None and call["lon"] is None and call["address"]
    r = client.post(
        f"{API}/calls", headers=analyst, json=eido(incident_id="urn:civic", civic_only=True)
    )
    assert r.status_code == 201 and r.json()["call"]["lat"] is None
    detail = client.get(f"{API}/calls/{call['id']}", headers=analyst).json()
    assert detail["cameras"] == []


def test_bad_input_is_422_naming_the_field_nothing_stored(
    client: TestClient, app: Any, analyst: dict[str, str]
) -> None:
    cases = [
        (simple_call(updated_at="yesterday"), "updated_at"),
        (simple_call(lat=95.0), "lat"),
        (simple_call(priority="urgent!"), "priority"),
        ({k: v for k, v in simple_call().items() if k != "incident_id"}, "incident_id"),
        (simple_call(format="xml"), "format"),
        ([1, 2, 3], "$"),
    ]
    for body, field in cases:
        r = client.post(f"{API}/calls", headers=analyst, json=body)
        assert r.status_code == 422, (field, r.text)
        assert field in r.json()["detail"], (field, r.json())
    r = client.post(
        f"{API}/calls",
        headers={**analyst, "Content-Type": "application/json"},
        content=b"{not json",
    )
    assert r.status_code == 422 and "body" in r.json()["detail"]
    bad_eido = eido()
    bad_eido["incidentComponent"]["lastUpdateTimeStamp"] = "soon"
    bad_eido["lastUpdateTimeStamp"] = "soon"
    r = client.post(
        f"{API}/calls",
        headers={**analyst, "Content-Type": "application/eido+json"},
        content=json.dumps(bad_eido),
    )
    assert r.status_code == 422 and "lastUpdateTimeStamp" in r.json()["detail"]
    assert (
        count_rows(app, CallRow) == 0
        and count_rows(app, CallUpdateRow) == 0
        and events_of(app) == []
    )


def test_batch_is_all_or_nothing(client: TestClient, app: Any, analyst: dict[str, str]) -> None:
    items = [simple_call(incident_id=f"B-{i}") for i in range(5)]
    items[3]["lat"] = "north"
    r = client.post(f"{API}/calls/batch", headers=analyst, json={"items": items})
    assert r.status_code == 422 and r.json()["detail"].startswith("items[3].lat")
    assert count_rows(app, CallRow) == 0
    items[3]["lat"] = 32.7
    r = client.post(f"{API}/calls/batch", headers=analyst, json={"items": items + [items[0]]})
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 5 and r.json()["duplicates"] == 1
    assert count_rows(app, CallRow) == 5
    assert client.post(f"{API}/calls/batch", headers=analyst, json={"items": []}).status_code == 422
    assert client.post(f"{API}/calls/batch", headers=analyst, json=[1]).status_code == 422


def test_list_calls_status_time_paging_newest_first(
    client: TestClient, analyst: dict[str, str]
) -> None:
    for i, status in enumerate(["pending", "closed", "dispatched"]):
        stamp = f"2026-11-21T05:0{i}:00+00:00"
        client.post(
            f"{API}/calls",
            headers=analyst,
            json=simple_call(
                incident_id=f"L-{i}", status=status, reported_at=stamp, updated_at=stamp
            ),
        )

    def incidents(query: str) -> list[str]:
        r = client.get(f"{API}/calls{query}", headers=analyst)
        assert r.status_code == 200, r.text
        return [c["incident_id"] for c in r.json()["items"]]

    assert incidents("") == ["L-2", "L-0"]
    assert incidents("?status=closed") == ["L-1"]
    assert incidents("?status=all") == ["L-2", "L-1", "L-0"]
    assert incidents("?status=all&since=2026-11-21T05:01:00%2B00:00") == ["L-2", "L-1"]
    assert incidents("?status=all&until=2026-11-21T05:01:00%2B00:00") == ["L-0"]
    assert incidents("?status=all&limit=1&offset=1") == ["L-1"]
    assert client.get(f"{API}/calls?status=weird", headers=analyst).status_code == 422
    assert client.get(f"{API}/calls?since=2026-11-21T05:00:00", headers=analyst).status_code == 422


def test_call_detail_ranks_cameras_of_both_tiers(
    client: TestClient, admin: dict[str, str], analyst: dict[str, str]
) -> None:
    for i in range(12):  # many integrated cameras right at the scene...
        client.post(
            f"{API}/cameras",
            headers=admin,
            json=camera_body(id=f"cam-i{i}", lat=32.7801 + i * 1e-5),
        )
    client.post(
        f"{API}/cameras",
        headers=admin,  # ...and one registered camera a bit farther
        json=camera_body(
            id="cam-r", tier="registered", sharing_mode="request_only", stream_url=None, lat=32.7830
        ),
    )
    call = client.post(f"{API}/calls", headers=analyst, json=simple_call()).json()["call"]
    detail = client.get(f"{API}/calls/{call['id']}", headers=analyst).json()
    tiers = {c["camera"]["tier"] for c in detail["cameras"]}
    assert tiers == {"integrated", "registered"}
    assert all("explanation" in c for c in detail["cameras"])
    assert client.get(f"{API}/calls/nope", headers=analyst).status_code == 404


def test_patch_call_geocodes_and_publishes(
    client: TestClient, app: Any, analyst: dict[str, str]
) -> None:
    call = client.post(
        f"{API}/calls", headers=analyst, json=simple_call(lat=None, lon=None)
    ).json()["call"]
    r = client.patch(
        f"{API}/calls/{call['id']}",
        headers=analyst,
        json={"lat": 32.78, "lon": -96.8, "status": "dispatched"},
    )
    assert r.status_code == 200 and r.json()["lat"] == 32.78 and r.json()["version"] == 2
    assert len(events_of(app, "call.updated")) == 1
    for body in (
        {"lat": 32.7},
        {"lat": 0, "lon": 0},
        {},
        {"status": "gone"},
        {"lat": 100, "lon": 0},
    ):
        assert (
            client.patch(f"{API}/calls/{call['id']}", headers=analyst, json=body).status_code == 422
        ), body
    assert (
        client.patch(f"{API}/calls/nope", headers=analyst, json={"status": "closed"}).status_code
        == 404
    )


def test_concurrent_duplicates_store_one_call(
    client: TestClient, app: Any, analyst: dict[str, str]
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def post(i: int) -> int:
        body = simple_call(incident_id=f"C-{i % 3}")
        return client.post(f"{API}/calls", headers=analyst, json=body).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(post, range(24)))
    assert codes.count(201) == 3 and codes.count(200) == 21
    assert count_rows(app, CallRow) == 3 and count_rows(app, CallUpdateRow) == 3
    assert len(events_of(app, "call.created")) == 3


def test_writer_batch_failure_only_fails_the_faulty_call(app: Any, client: TestClient) -> None:
    """Group commit: when one call of a batch cannot be stored, the others still are."""
    import asyncio

    from rtcc_console.core.cad import parse_call
    from rtcc_console.server import intake_writer

    real = intake_writer.ingest

    def flaky(session: Any, *, parsed: Any, source: str, raw: Any) -> Any:
        if parsed.incident_id == "BOOM":
            raise RuntimeError("simulated storage failure")
        return real(session, parsed=parsed, source=source, raw=raw)

    writer = intake_writer.IntakeWriter(app.state.rtcc.db)
    writer.start()
    try:
        intake_writer.ingest = flaky  # type: ignore[assignment]

        async def main() -> list[Any]:
            jobs = [
                writer.submit(parse_call(simple_call(incident_id=name)), source="simple", raw=None)
                for name in ("OK-1", "BOOM", "OK-2")
            ]
            return await asyncio.gather(*jobs, return_exceptions=True)

        results = asyncio.run(main())
    finally:
        intake_writer.ingest = real  # type: ignore[assignment]
        writer.stop()
    assert isinstance(results[1], RuntimeError)
    assert results[0].created and results[2].created
    assert count_rows(app, CallRow) == 2
