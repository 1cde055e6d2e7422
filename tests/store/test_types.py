"""UTC timestamps: aware UTC out on both back ends, naive input refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from rtcc_console.store.schema import EventRow
from rtcc_console.store.types import NaiveDatetimeError


def test_aware_datetime_round_trips_as_utc(db_session: Session) -> None:
    chicago = timezone(timedelta(hours=-6))
    at = datetime(2026, 11, 21, 5, 30, 15, 123456, tzinfo=chicago)
    db_session.add(EventRow(at=at, type="t", payload={"k": 1}))
    db_session.commit()
    db_session.expire_all()
    got = db_session.execute(select(EventRow.at)).scalar_one()
    assert got.tzinfo is not None and got.utcoffset() == timedelta(0)
    assert got == at
    assert got.hour == 11  # 05:30 at UTC-6 is 11:30 UTC


def test_naive_datetime_is_refused_and_nothing_is_written(db_session: Session) -> None:
    db_session.add(EventRow(at=datetime(2026, 1, 1, 12, 0), type="t", payload={}))
    with pytest.raises(StatementError) as info:
        db_session.commit()
    assert isinstance(info.value.orig, NaiveDatetimeError)
    assert "naive datetime" in str(info.value)
    db_session.rollback()
    assert db_session.execute(select(EventRow)).first() is None


def test_utc_ordering_is_by_instant(db_session: Session) -> None:
    base = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    plus_two = timezone(timedelta(hours=2))
    db_session.add_all(
        [
            EventRow(at=base, type="a", payload={}),
            EventRow(at=(base - timedelta(minutes=1)).astimezone(plus_two), type="b", payload={}),
        ]
    )
    db_session.commit()
    types = db_session.execute(select(EventRow.type).order_by(EventRow.at)).scalars().all()
    assert types == ["b", "a"]
