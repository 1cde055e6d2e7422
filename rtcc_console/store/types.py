"""Portable column types shared by the schema.

SQLite has no time-zone aware timestamp type and silently drops ``tzinfo``; PostgreSQL
``timestamptz`` keeps the instant but hands it back in the session time zone. The
:class:`UTCDateTime` decorator makes both behave the same: aware UTC in, aware UTC out,
and a naive datetime is refused loudly instead of being guessed at.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class NaiveDatetimeError(ValueError):
    """A naive datetime reached the database layer; the domain only uses aware UTC."""


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always returned as an aware UTC datetime."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetimeError(
                f"naive datetime {value.isoformat()} refused: pass an aware datetime "
                "(e.g. datetime.now(UTC)); the store never guesses a time zone"
            )
        aware: datetime = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # Stored as text without offset; every value in the column is UTC.
            return aware.replace(tzinfo=None)
        return aware

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stamp: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        if stamp.tzinfo is None:
            return stamp.replace(tzinfo=UTC)
        return stamp.astimezone(UTC)
