"""The server's handle on the database: one engine per process, explicit transactions.

Routes read with :meth:`Database.read` and write with :meth:`Database.write`. A write is
one short transaction; events recorded in it (``eventlog.record_event``) are handed to the
in-process broker only after the commit succeeded, so a client never sees an event whose
data was rolled back.

Write serialisation: write transactions begin as write transactions (``BEGIN IMMEDIATE``
on SQLite, through ``store.db``'s begin hook), and appends to the audit chain, the event
log and call intake take ``store.db.journal_lock``, so ids are allocated in commit order.
A process-local lock additionally keeps this process's SQLite writers queued in Python
rather than spinning in SQLite's busy handler.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from rtcc_console.server.broker import EventRecord
from rtcc_console.store.db import IMMEDIATE, make_engine, make_session_factory, normalize_url


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
            self._writers = make_session_factory(self.engine.execution_options(**IMMEDIATE))
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
