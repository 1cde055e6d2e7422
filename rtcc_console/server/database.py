"""The server's handle on the database: one engine per process, explicit transactions.

Routes read with :meth:`Database.read` and write with :meth:`Database.write`. A write is
one short transaction; events recorded in it (``eventlog.record_event``) are handed to the
in-process broker only after the commit succeeded, so a client never sees an event whose
data was rolled back.

Write serialisation: the audit chain and the event ids must be allocated in commit order.
On PostgreSQL a transaction-scoped advisory lock (:func:`journal_lock`) is taken before
appending to ``audit_events`` or ``events`` and held to commit. On SQLite the database
write lock does the same, and write transactions start with ``BEGIN IMMEDIATE`` so that a
transaction that read first cannot fail with SQLITE_BUSY when it upgrades to writing. A
process-local lock additionally keeps this process's writers queued in Python rather than
spinning in SQLite's busy handler.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from rtcc_console.server.broker import EventRecord
from rtcc_console.store.db import make_engine, make_session_factory, normalize_url

#: Key of the PostgreSQL advisory lock that serialises audit and event appends.
JOURNAL_LOCK_KEY = 0x52544343  # "RTCC"
_IMMEDIATE = "rtcc_sqlite_immediate"


class Database:
    """Engine + session factories + the after-commit event hook of one server process."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.backend = normalize_url(url).get_backend_name()
        kwargs: dict[str, Any] = {}
        if self.backend == "postgresql":
            kwargs.update(pool_size=pool_size, max_overflow=pool_size)
        self.engine: Engine = make_engine(url, **kwargs)
        self._readers: sessionmaker[Session] = make_session_factory(self.engine)
        if self.backend == "sqlite":
            _install_immediate_begin(self.engine)
            self._writers = make_session_factory(self.engine.execution_options(**{_IMMEDIATE: True}))
        else:
            self._writers = self._readers
        self._local_write_lock = threading.Lock() if self.backend == "sqlite" else None
        self.on_event: Callable[[EventRecord], None] | None = None

    @property
    def is_postgres(self) -> bool:
        return self.backend == "postgresql"

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries; rolled back and closed at the end."""
        session = self._readers()
        try:
            yield session
        finally:
            session.close()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: commit on success, roll back on any exception."""
        lock = self._local_write_lock
        if lock is not None:
            lock.acquire()
        try:
            session = self._writers()
            session.info["events"] = []
            try:
                session.connection()  # begin now: on SQLite this takes the write lock
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()
        finally:
            if lock is not None:
                lock.release()
        hook = self.on_event
        if hook is not None:
            for record in session.info["events"]:
                hook(record)

    def dispose(self) -> None:
        self.engine.dispose()


def journal_lock(session: Session) -> None:
    """Serialise audit/event appends until this transaction ends (PostgreSQL only).

    Re-entrant within a transaction; a no-op on SQLite, where write transactions already
    hold the database write lock from ``BEGIN IMMEDIATE``.
    """
    if session.info.get("journal_locked"):
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": JOURNAL_LOCK_KEY})
    session.info["journal_locked"] = True


def _install_immediate_begin(engine: Engine) -> None:
    """Make write connections (execution option ``rtcc_sqlite_immediate``) BEGIN IMMEDIATE.

    The store's own ``begin`` listener has already emitted a deferred ``BEGIN`` by the
    time this runs; for write connections we immediately take the RESERVED lock by
    touching the write path with a no-op write, which is what BEGIN IMMEDIATE does.
    """

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(_IMMEDIATE):
            # A no-op write acquires SQLite's RESERVED (write) lock now, waiting in the
            # busy handler if another process holds it, before any read of this transaction.
            conn.exec_driver_sql("DELETE FROM sequence_counters WHERE 0")
