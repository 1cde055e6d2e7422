"""Engines and sessions for the two supported back ends.

SQLite is the embedded default: one file, WAL so readers never block the writer,
``synchronous=NORMAL`` (durable across application crashes, the usual WAL trade-off),
foreign keys enforced, and a busy timeout so concurrent writers wait instead of failing.
PostgreSQL is reached through psycopg 3. Nothing here runs at import time: callers (the
server's composition root, the CLI, tests) build engines explicitly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 15_000

#: Key of the PostgreSQL advisory lock that serialises audit and event appends.
JOURNAL_LOCK_KEY = 0x52544343  # "RTCC"

#: Execution options of an engine whose transactions all begin as write transactions.
IMMEDIATE = {"sqlite_begin": "immediate"}


class UnsupportedDatabaseError(ValueError):
    """The URL names a database the store does not support."""


def normalize_url(url: str | URL | None) -> URL:
    """Parse ``url`` (default: the per-user SQLite file) and pin the PostgreSQL driver.

    ``postgresql://`` and ``postgres://`` become ``postgresql+psycopg://`` because psycopg 3
    is the only PostgreSQL driver installed.
    """
    if url is None:
        from rtcc_console.config import default_db_url

        url = default_db_url()
    if isinstance(url, str) and url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.drivername != "postgresql+psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend != "sqlite":
        raise UnsupportedDatabaseError(
            f"unsupported database {backend!r} in {parsed.render_as_string(hide_password=True)}: "
            "use sqlite:///path/file.sqlite or postgresql+psycopg://user@host/db"
        )
    return parsed


def backend_name(url: str | URL) -> str:
    """``"sqlite"`` or ``"postgresql"`` for a URL the store accepts."""
    return normalize_url(url).get_backend_name()


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    try:
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cur.close()


def _sqlite_begin(conn: Any) -> None:
    # A deferred transaction that reads and then writes fails at once with SQLITE_BUSY when
    # another writer committed in between (WAL snapshot rule; busy_timeout cannot help).
    # Write paths ask for BEGIN IMMEDIATE through ``begin_write``; reads stay deferred.
    mode = conn.get_execution_options().get("sqlite_begin", "")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "immediate" else "BEGIN")


def make_engine(url: str | URL | None = None, **kwargs: Any) -> Engine:
    """Build an engine for ``url`` (SQLite file or PostgreSQL), tuned for this system.

    For a SQLite file URL the parent directory is created. In-memory SQLite is allowed
    (tests) but is per-connection unless a StaticPool is passed in ``kwargs``.
    """
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("check_same_thread", False)
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        engine = create_engine(parsed, connect_args=connect_args, **kwargs)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, record: Any) -> None:
            # Let SQLAlchemy emit BEGIN itself, so SAVEPOINTs and isolation behave.
            dbapi_conn.isolation_level = None
            _sqlite_on_connect(dbapi_conn, record)

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            _sqlite_begin(conn)

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (the API serialises them)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def begin_write(session: Session) -> None:
    """Start ``session``'s transaction as a write transaction (call before the first query).

    On SQLite this takes the database write lock up front (BEGIN IMMEDIATE), so a
    read-then-write transaction waits its turn instead of failing with "database is
    locked". On PostgreSQL row locks do the job and this is a no-op. Calling it inside an
    already started transaction does nothing.
    """
    if session.in_transaction():
        return
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        session.connection(execution_options={"sqlite_begin": "immediate"})


def ping(session: Session) -> None:
    """Ask the database for an answer (health checks); raises when it does not answer."""
    session.execute(text("SELECT 1"))


def journal_lock(session: Session) -> None:
    """Serialise audit/event/call appends until this transaction ends.

    The audit chain, the event ids and call intake must be allocated in commit order. On
    PostgreSQL this takes a transaction-scoped advisory lock; on SQLite the database write
    lock already does the job, provided the transaction began as a write transaction
    (:func:`begin_write`, or a session bound to ``engine.execution_options(**IMMEDIATE)``),
    so that a transaction that read first cannot fail with SQLITE_BUSY when it upgrades.
    Re-entrant within a transaction.
    """
    begin_write(session)
    session.connection()  # the transaction has begun (PostgreSQL: begin_write is a no-op)
    transaction = session.get_transaction()
    if session.info.get("journal_locked") is transaction:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": JOURNAL_LOCK_KEY})
    session.info["journal_locked"] = transaction
