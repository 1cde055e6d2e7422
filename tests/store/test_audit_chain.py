"""The audit chain's storage (tail, append one or many, walk, count), on both back ends.

The chain's rules (hashes, keys, verification) are tested in tests/server/test_audit*.py;
here: what the server's ``append_audit`` / ``walk_chain`` / checkpoints read and write."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from rtcc_console.store import audit_chain
from rtcc_console.store.schema import AuditEventRow

T0 = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)


def _fields(i: int, prev: str) -> dict[str, Any]:
    return {
        "id": i,
        "at": T0,
        "username": "ana",
        "role": "analyst",
        "action": "live.grant",
        "targets": {"camera": f"c{i}"},
        "reason": "case 1",
        "outcome": "ok",
        "client_addr": None,
        "prev_hash": prev,
        "hash": f"{i:064x}",
        "key_id": None,
    }


def test_tail_append_walk_count(db_session: Session) -> None:
    assert audit_chain.chain_tail(db_session) is None and audit_chain.count_entries(db_session) == 0
    audit_chain.add_entry(db_session, row=AuditEventRow(**_fields(1, "0" * 64)))
    assert audit_chain.chain_tail(db_session) == (1, f"{1:064x}")
    audit_chain.add_entries(db_session, rows=[_fields(i, f"{i - 1:064x}") for i in range(2, 6)])
    db_session.commit()
    assert audit_chain.chain_tail(db_session) == (5, f"{5:064x}")
    assert (
        audit_chain.count_entries(db_session) == 5
        and audit_chain.count_entries(db_session, upto=3) == 3
    )
    page = audit_chain.rows_after(db_session, after=1, batch=2)
    assert (
        [r.id for r in page] == [2, 3]
        and page[0].prev_hash == f"{1:064x}"
        and page[1].targets == {"camera": "c3"}
    )
    assert audit_chain.rows_after(db_session, after=5, batch=10) == []
    row = audit_chain.entry_at(db_session, entry_id=4)
    assert row is not None and row.action == "live.grant" and row.at == T0
    assert audit_chain.entry_at(db_session, entry_id=99) is None
