"""Audit viewer API: filters, keyset paging both ways, streamed CSV, verification job, auditing
of every viewing and export, bad input (docs/api/supervision.md)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from rtcc_console.server.audit import Actor, AuditEntry, append_audit_many
from tests.server.conftest import API


def _seed(app: Any, n: int = 60) -> None:
    entries = []
    for i in range(n):
        user = ("ana", "bob", "cy")[i % 3]
        targets: dict[str, Any] = {"camera": f"cam-{i % 7}"}
        if i % 5 == 0:
            targets["call"] = f"call-{i % 2}"
        if i % 10 == 0:
            targets["case"] = "26-000777"
        entries.append(
            AuditEntry(
                actor=Actor(user, "analyst"),
                action="live.grant" if i % 2 else "live.end",
                targets=targets,
                reason=f"reason {i} {'needle' if i == 33 else ''}",
            )
        )
    with app.state.rtcc.db.write() as s:
        append_audit_many(s, entries=entries)


def _get(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    r = client.get(f"{API}/audit", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_filters_match_what_was_seeded(
    client: TestClient, app: Any, supervisor: dict[str, str]
) -> None:
    _seed(app)

    def ids(**p: Any) -> list[int]:
        return [i["id"] for i in _get(client, supervisor, limit=1000, **p)["items"]]

    bob = _get(client, supervisor, user="bob", limit=1000)["items"]
    assert len(bob) == 20 and all(i["user"] == "bob" for i in bob)
    assert [i["id"] for i in bob] == sorted((i["id"] for i in bob), reverse=True)  # newest first
    assert len(ids(camera="cam-3")) == len([i for i in range(60) if i % 7 == 3])
    assert len(ids(call="call-0")) == len([i for i in range(60) if i % 5 == 0 and i % 2 == 0])
    assert len(ids(case="26-000777")) == 6
    assert len(ids(action="live.grant")) == 30
    assert len(ids(action="live.")) == 60  # a prefix
    found = _get(client, supervisor, q="NEEDLE")["items"]  # the viewing's own audit row matches too
    assert [i["reason"] for i in found if i["action"] != "audit.view"] == ["reason 33 needle"]
    assert [
        i for i in _get(client, supervisor, q="n 1%")["items"] if i["action"] != "audit.view"
    ] == []  # % is literal
    both = ids(user="ana", camera="cam-0")
    assert len(both) == len([i for i in range(60) if i % 3 == 0 and i % 7 == 0])
    count = client.get(f"{API}/audit/count", headers=supervisor, params={"user": "bob"}).json()
    assert count == {"total": 20}


def test_keyset_paging_walks_every_entry_once_in_both_directions(
    client: TestClient, app: Any, supervisor: dict[str, str]
) -> None:
    _seed(app)
    seen: list[int] = []
    pages = [_get(client, supervisor, action="live.", limit=7)]
    while pages[-1]["next_before_id"] is not None:
        pages.append(
            _get(client, supervisor, action="live.", limit=7, before_id=pages[-1]["next_before_id"])
        )
    for p in pages:
        seen += [i["id"] for i in p["items"]]
    assert len(seen) == 60 and len(set(seen)) == 60 and seen == sorted(seen, reverse=True)
    assert pages[-1]["has_more"] is False and pages[0]["has_more"] is True
    # back towards newer from the third page: the second page again
    back = _get(client, supervisor, action="live.", limit=7, after_id=pages[2]["prev_after_id"])
    assert [i["id"] for i in back["items"]] == [i["id"] for i in pages[1]["items"]]
    assert back["has_more"] is True
    top = _get(client, supervisor, action="live.", limit=7, after_id=pages[1]["prev_after_id"])
    assert [i["id"] for i in top["items"]] == [i["id"] for i in pages[0]["items"]] and top[
        "has_more"
    ] is False


def test_first_page_of_a_viewing_is_audited_not_every_scroll(
    client: TestClient, app: Any, supervisor: dict[str, str]
) -> None:
    _seed(app, 10)
    first = _get(client, supervisor, user="ana", limit=2)
    _get(client, supervisor, user="ana", limit=2, before_id=first["next_before_id"])
    views = _get(client, supervisor, action="audit.view", limit=100)["items"]
    # two first pages: the one above and this query (audited before it is read); no row for the scroll
    assert [v["user"] for v in views] == ["sue", "sue"]
    assert '"action": "audit.view"' in (views[0]["reason"] or "") and '"user": "ana"' in (
        views[1]["reason"] or ""
    )


def test_csv_is_streamed_filtered_neutralised_and_audited(
    client: TestClient, app: Any, supervisor: dict[str, str]
) -> None:
    _seed(app, 4500)  # more than two CSV batches
    with app.state.rtcc.db.write() as s:
        append_audit_many(
            s, entries=[AuditEntry(actor=Actor("eve", "analyst"), action="x.y", reason="=cmd()")]
        )
    with client.stream("GET", f"{API}/audit.csv", headers=supervisor, params={"user": "bob"}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        body = "".join(r.iter_text())
    table = list(csv.DictReader(io.StringIO(body)))
    assert len(table) == 1500 and {row["user"] for row in table} == {"bob"}
    ids = [int(row["id"]) for row in table]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 1500
    evil = list(
        csv.DictReader(
            io.StringIO(
                client.get(f"{API}/audit.csv", headers=supervisor, params={"user": "eve"}).text
            )
        )
    )
    assert evil[0]["reason"] == "'=cmd()"
    exports = _get(client, supervisor, action="audit.export")["items"]
    assert len(exports) == 2 and '"user": "bob"' in exports[1]["reason"]


def test_bad_queries_are_422_and_analysts_403(
    client: TestClient, supervisor: dict[str, str], analyst: dict[str, str]
) -> None:
    for params in (
        {"before_id": 5, "after_id": 2},
        {"before_id": -1},
        {"before_id": "x"},
        {"limit": 0},
        {"limit": 5000},
        {"since": "2026-01-01T00:00:00"},
        {"q": "x" * 201},
        {"q": ""},
        {"before_id": 2**70},
    ):
        r = client.get(f"{API}/audit", headers=supervisor, params=params)
        assert r.status_code == 422, (params, r.status_code)
    r = client.get(
        f"{API}/audit?user=%ED%B3%BF&q=%FF", headers=supervisor
    )  # not UTF-8 (a lone surrogate)
    assert r.status_code in (200, 400, 422) and (r.status_code != 200 or r.json()["items"] == [])
    for path in ("/audit", "/audit.csv", "/audit/count", "/audit/flags"):
        assert client.get(f"{API}{path}", headers=analyst).status_code == 403
    assert client.post(f"{API}/audit/verify", headers=analyst).status_code == 403
    assert client.get(f"{API}/audit/verify/averify-nope", headers=supervisor).status_code == 404


def _wait_job(client: TestClient, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = client.get(f"{API}/audit/verify/{job_id}", headers=headers).json()
        if job["status"] != "running":
            return job  # type: ignore[no-any-return]
        time.sleep(0.05)  # polling a server job's status, as the console does
    raise AssertionError("verification job did not finish")


def test_verify_job_reports_progress_and_the_first_broken_entry(
    client: TestClient, app: Any, supervisor: dict[str, str]
) -> None:
    _seed(app, 5000)
    r = client.post(f"{API}/audit/verify", headers=supervisor)
    assert r.status_code == 202, r.text
    job = _wait_job(client, supervisor, r.json()["id"])
    assert job["status"] == "intact" and job["broken_id"] is None
    assert job["checked"] >= 5000 and job["total"] >= 5000 and job["started_by"] == "sue"
    db = app.state.rtcc.db
    with (
        db.engine.begin() as conn
    ):  # tamper with one entry, as an attacker with database access would
        if db.is_postgres:
            conn.execute(text("DROP TRIGGER audit_events_append_only ON audit_events"))
        else:
            conn.execute(text("DROP TRIGGER audit_events_no_update"))
        conn.execute(text("UPDATE audit_events SET reason = 'edited' WHERE id = 3000"))
    job = _wait_job(
        client, supervisor, client.post(f"{API}/audit/verify", headers=supervisor).json()["id"]
    )
    assert job["status"] == "broken" and job["broken_id"] == 3000 and "altered" in job["problem"]
    assert job["checked"] == 2999
    assert len(_get(client, supervisor, action="audit.verify")["items"]) == 2


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_filtered_first_page_uses_an_index(client: TestClient, app: Any) -> None:
    from rtcc_console.store.audit_log import AuditQuery, _filtered
    from rtcc_console.store.schema import AuditEventRow

    with app.state.rtcc.db.read() as s:
        for q in (
            AuditQuery(camera="cam-1"),
            AuditQuery(call="c"),
            AuditQuery(case="x"),
            AuditQuery(user="u"),
            AuditQuery(action="a"),
        ):
            stmt = _filtered(s, q).order_by(AuditEventRow.id.desc()).limit(101)
            sql = str(stmt.compile(s.get_bind(), compile_kwargs={"literal_binds": True}))
            plan = " ".join(str(r[-1]) for r in s.execute(text("EXPLAIN QUERY PLAN " + sql)))
            assert "USING INDEX" in plan and "TEMP B-TREE" not in plan, (q, plan)


def test_a_job_left_running_by_a_stopped_server_does_not_block_a_new_one(
    client: TestClient, app: Any, supervisor: dict[str, str]
) -> None:
    from datetime import timedelta

    from rtcc_console.core.models import utcnow
    from rtcc_console.store import audit_log

    with app.state.rtcc.db.write() as s:
        audit_log.create_verify_job(
            s,
            job_id="averify-old",
            started_by="sue",
            started_at=utcnow() - timedelta(hours=3),
            total=9,
        )
    r = client.post(f"{API}/audit/verify", headers=supervisor)
    assert r.status_code == 202 and r.json()["id"] != "averify-old"
    old = client.get(f"{API}/audit/verify/averify-old", headers=supervisor).json()
    assert old["status"] == "failed" and "abandoned" in old["problem"]
    again = client.post(
        f"{API}/audit/verify", headers=supervisor
    )  # while the new one may still run: the same job
    assert again.status_code in (200, 202)
    _wait_job(client, supervisor, r.json()["id"])
