"""Audit trail: hash chain, append-only triggers, tamper detection, queries, CSV, CLI."""

from __future__ import annotations

import csv
import io
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from rtcc_console.server.audit import Actor, append_audit, verify_chain
from rtcc_console.server.cli import audit_main, user_main
from rtcc_console.store.schema import AuditEventRow
from tests.server.conftest import API, camera_body


def _some_rows(app: Any, n: int = 5) -> None:
    with app.state.rtcc.db.write() as s:
        for i in range(n):
            append_audit(
                s,
                actor=Actor("ana", "analyst", "127.0.0.1"),
                action="test.row",
                targets={"camera": f"c{i}"},
                reason=f"r{i}",
            )


def test_chain_verifies_and_triggers_block_update_delete(client: TestClient, app: Any) -> None:
    _some_rows(app)
    db = app.state.rtcc.db
    with db.read() as s:
        assert verify_chain(s) is None
    for stmt in (
        "UPDATE audit_events SET reason = 'x' WHERE id = 2",
        "DELETE FROM audit_events WHERE id = 2",
    ):
        with pytest.raises(DBAPIError) as err:
            with db.engine.begin() as conn:
                conn.execute(text(stmt))
        assert "append-only" in str(err.value)
    with db.read() as s:
        assert s.get(AuditEventRow, 2).reason == "r1"


def _drop_triggers(app: Any) -> None:
    db = app.state.rtcc.db
    with db.engine.begin() as conn:
        if db.is_postgres:
            conn.execute(text("DROP TRIGGER audit_events_append_only ON audit_events"))
        else:
            conn.execute(text("DROP TRIGGER audit_events_no_update"))
            conn.execute(text("DROP TRIGGER audit_events_no_delete"))


def test_tampering_is_named_by_verify_and_cli(
    client: TestClient, app: Any, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _some_rows(app, 6)
    assert audit_main(["verify", "--db", settings.db_url]) == 0
    assert "intact" in capsys.readouterr().out
    _drop_triggers(app)
    db = app.state.rtcc.db
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET reason = 'nothing to see' WHERE id = 4"))
    with db.read() as s:
        assert verify_chain(s) == 4
    assert audit_main(["verify", "--db", settings.db_url]) == 1
    assert "event id 4" in capsys.readouterr().err


def test_deleting_a_row_breaks_the_next_link(client: TestClient, app: Any) -> None:
    _some_rows(app, 6)
    _drop_triggers(app)
    with app.state.rtcc.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = 3"))
    with app.state.rtcc.db.read() as s:
        assert verify_chain(s) == 4


def test_concurrent_appends_do_not_fork_the_chain(client: TestClient, app: Any) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            _some_rows(app, 10)
        except Exception as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with app.state.rtcc.db.read() as s:
        assert verify_chain(s) is None
        assert s.query(AuditEventRow).filter(AuditEventRow.action == "test.row").count() == 40


def test_query_filters_and_paging(
    client: TestClient, app: Any, admin: dict[str, str], supervisor: dict[str, str]
) -> None:
    client.post(f"{API}/cameras", headers=admin, json=camera_body(id="cam-9"))
    _some_rows(app, 3)

    def rows(query: str) -> dict[str, Any]:
        r = client.get(f"{API}/audit{query}", headers=supervisor)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    assert [r["targets"]["camera"] for r in rows("?action=test.row")["items"]] == ["c2", "c1", "c0"]
    assert rows("?camera=cam-9")["items"][0]["action"] == "registry.create"
    assert len(rows("?user=adam&action=auth.login")["items"]) == 1
    first_page = rows("?action=test.row&limit=1")
    page = rows(f"?action=test.row&limit=1&before_id={first_page['next_before_id']}")
    assert page["has_more"] and page["items"][0]["targets"]["camera"] == "c1"
    first = rows("?action=test.row")["items"][-1]
    assert len(rows(f"?action=test.row&since={first['at'].replace('+', '%2B')}")["items"]) == 3
    assert rows("?since=2099-01-01T00:00:00%2B00:00")["items"] == []
    item = rows("?action=registry.create")["items"][0]
    assert set(item) >= {
        "id",
        "at",
        "user",
        "role",
        "action",
        "targets",
        "reason",
        "outcome",
        "client_addr",
        "hash",
    }
    assert (
        client.get(f"{API}/audit?since=2026-01-01T00:00:00", headers=supervisor).status_code == 422
    )


def test_csv_export_is_audited(client: TestClient, app: Any, supervisor: dict[str, str]) -> None:
    with app.state.rtcc.db.write() as s:
        append_audit(
            s, actor=Actor("ana", "analyst"), action="test.row", reason='=HYPERLINK("http://x")'
        )
    r = client.get(f"{API}/audit.csv?action=test.row", headers=supervisor)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert len(table) == 1 and table[0]["reason"].startswith("'=")  # formula neutralised
    exports = client.get(f"{API}/audit?action=audit.export", headers=supervisor).json()["items"]
    assert exports and exports[0]["user"] == "sue" and "test.row" in exports[0]["reason"]


def test_cli_user_add_and_unlock(
    settings: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RTCC_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("RTCC_ARGON2_MEMORY_KIB", "8")
    monkeypatch.setenv("RTCC_ARGON2_PARALLELISM", "1")
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert (
        user_main(
            ["add", "Carol", "--role", "supervisor", "--password-stdin", "--db", settings.db_url]
        )
        == 0
    )
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert (
        user_main(
            ["add", "carol", "--role", "supervisor", "--password-stdin", "--db", settings.db_url]
        )
        == 1
    )
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert (
        user_main(["add", "dave", "--role", "analyst", "--password-stdin", "--db", settings.db_url])
        == 2
    )
    assert user_main(["unlock", "carol", "--db", settings.db_url]) == 0
    assert user_main(["unlock", "nobody", "--db", settings.db_url]) == 1
    assert audit_main(["verify", "--db", settings.db_url]) == 0


def test_cli_verify_without_a_trail_exits_2(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert audit_main(["verify", "--db", f"sqlite:///{tmp_path}/missing.sqlite"]) == 2
    assert not (tmp_path / "missing.sqlite").exists()
    import sqlite3

    sqlite3.connect(tmp_path / "empty.sqlite").close()
    assert audit_main(["verify", "--db", f"sqlite:///{tmp_path}/empty.sqlite"]) == 2
    assert "cannot read the audit trail" in capsys.readouterr().err
