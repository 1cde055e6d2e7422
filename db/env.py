"""Alembic environment: runs migrations against the metadata of rtcc_console.store.schema.

The database comes, in order, from: a connection handed over by
``rtcc_console.store.migrate`` (``config.attributes["connection"]``), the ``sqlalchemy.url``
option it sets, ``-x db_url=...`` on the alembic command line, ``RTCC_DB_URL``, and
finally the per-user SQLite default. Engines are built with ``store.db.make_engine`` so
migrations see the same PRAGMAs and driver as the application.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy.engine import Connection

from rtcc_console.store.db import make_engine
from rtcc_console.store.migrate import include_object
from rtcc_console.store.schema import metadata

config = context.config
target_metadata = metadata


def _url() -> str | None:
    return (
        config.get_main_option("sqlalchemy.url")
        or context.get_x_argument(as_dictionary=True).get("db_url")
        or os.environ.get("RTCC_DB_URL")
    )


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        compare_type=True,
        compare_server_default=False,
    )


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        include_object=include_object,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
