"""The global camera change counter behind ``GET /cameras?since=CURSOR``.

Every camera write stamps the row with the next value, so a client that remembers the
highest value it saw can ask for everything changed after it. Two properties matter:

* uniqueness: on PostgreSQL a real SEQUENCE; on SQLite a row of ``sequence_counters``
  bumped inside the writing transaction (SQLite has one writer at a time);
* commit order: a reader must never see seq 7 committed while seq 6 is still in flight
  and later commits, or a client that synced up to 7 would miss 6 forever. On PostgreSQL
  each camera-writing transaction therefore takes a transaction-scoped advisory lock
  before drawing numbers, so numbers are handed out in commit order; camera writes are
  rare (admin edits, revocations, imports), so serialising them costs nothing visible.
  On SQLite the database write lock gives the same guarantee.

Call :func:`next_change_seq` as the first statement of a camera-writing transaction: on
SQLite it also takes the write lock up front.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from rtcc_console.store.schema import CAMERA_CHANGE_SEQ

# Arbitrary constant identifying "camera writers" among advisory locks.
_PG_ADVISORY_KEY = 0x52544343  # "RTCC"


def next_change_seq(session: Session, *, count: int = 1) -> int:
    """Reserve ``count`` consecutive change numbers; return the first of them."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_ADVISORY_KEY})
        if count == 1:
            return int(session.execute(text(f"SELECT nextval('{CAMERA_CHANGE_SEQ}')")).scalar_one())
        # setval under the advisory lock: nobody else draws from the sequence meanwhile.
        last = session.execute(
            text(f"SELECT setval('{CAMERA_CHANGE_SEQ}', nextval('{CAMERA_CHANGE_SEQ}') + :n - 1)"),
            {"n": count},
        ).scalar_one()
        return int(last) - count + 1
    last = session.execute(
        text("UPDATE sequence_counters SET value = value + :n WHERE name = :name RETURNING value"),
        {"n": count, "name": CAMERA_CHANGE_SEQ},
    ).scalar_one_or_none()
    if last is None:
        raise RuntimeError(
            f"sequence_counters has no {CAMERA_CHANGE_SEQ!r} row: the database was not "
            "migrated with `rtcc db upgrade`"
        )
    return int(last) - count + 1


def current_change_seq(session: Session) -> int:
    """The highest change number handed out so far (0 when none)."""
    value = session.execute(text("SELECT max(change_seq) FROM cameras")).scalar_one_or_none()
    return int(value or 0)
