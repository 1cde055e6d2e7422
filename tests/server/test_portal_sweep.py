"""The portal sweep deletes sessions that expired or ended and links that expired or were
used, keeps the live ones, runs in the server's housekeeping, and is safe when several
server processes sweep at once (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from rtcc_console.core.models import utcnow
from rtcc_console.server.app import create_app
from rtcc_console.server.background import housekeeping_pass
from rtcc_console.server.database import Database
from rtcc_console.server.portal.sweep import sweep_portal
from rtcc_console.server.state import AppState
from rtcc_console.store import portal as store
from rtcc_console.store import portal_sweep
from rtcc_console.store.schema import PortalLinkRow, PortalSessionRow
from tests.server.conftest import make_settings


@pytest.fixture
def state(db_url: str) -> Iterator[AppState]:
    """The server's state without its lifespan: the running housekeeping loop's first pass
    sweeps the portal too, and raced the tests' own passes (seen once on PostgreSQL)."""
    app = create_app(make_settings(db_url))
    yield app.state.rtcc
    app.state.rtcc.db.dispose()


def _seed(state: AppState, now: datetime, tag: str = "") -> str:
    """One account with a live, an expired and an ended session, and a live, an expired
    and a used link. Returns the account id."""
    with state.db.write() as session:
        account = store.create_account(
            session,
            name="Corner Shop",
            kind="business",
            email=f"shop{tag}@example.org",
            password_hash=None,
        )
        assert account is not None
        hour_ago = now - timedelta(hours=1)
        store.create_session(
            session, account_id=account.id, token_hash=f"live{tag}", ttl_s=60, now=now
        )
        store.create_session(
            session, account_id=account.id, token_hash=f"old{tag}", ttl_s=60, now=hour_ago
        )
        store.create_session(
            session, account_id=account.id, token_hash=f"out{tag}", ttl_s=3600, now=now
        )
        store.end_session(session, token_hash=f"out{tag}", now=now)
        store.create_link(
            session,
            account_id=account.id,
            purpose="signin",
            token_hash=f"l-live{tag}",
            ttl_s=60,
            now=now,
        )
        store.create_link(
            session,
            account_id=account.id,
            purpose="signin",
            token_hash=f"l-old{tag}",
            ttl_s=60,
            now=hour_ago,
        )
        store.create_link(
            session,
            account_id=account.id,
            purpose="verify",
            token_hash=f"l-used{tag}",
            ttl_s=600,
            now=now,
        )
        assert store.consume_link(session, token_hash=f"l-used{tag}", purpose="verify", now=now)
        return account.id


def _left(state: AppState) -> tuple[set[str], set[str]]:
    with state.db.read() as session:
        return (
            set(session.scalars(select(PortalSessionRow.token_hash))),
            set(session.scalars(select(PortalLinkRow.token_hash))),
        )


def test_sweep_removes_what_is_over_and_keeps_what_is_live(state: AppState) -> None:
    now = utcnow()
    account_id = _seed(state, now)
    with state.db.read() as session:
        assert portal_sweep.sweep_due(session, now=now)
    swept = sweep_portal(state, now=now)
    assert (swept.sessions, swept.links) == (2, 2)
    assert _left(state) == ({"live"}, {"l-live"})
    with state.db.read() as session:
        live = store.session_account(session, token_hash="live", now=now)
        assert live is not None and live.id == account_id, "a live session still signs in"
        assert not portal_sweep.sweep_due(session, now=now)
    assert sweep_portal(state, now=now) == portal_sweep.Swept(sessions=0, links=0)
    # a minute later the live ones are over too
    later = now + timedelta(seconds=61)
    assert sweep_portal(state, now=later) == portal_sweep.Swept(sessions=1, links=1)
    assert _left(state) == (set(), set())


def test_the_server_housekeeping_runs_the_sweep(state: AppState) -> None:
    _seed(state, utcnow())
    housekeeping_pass(state, prune=False)
    assert len(_left(state)[0]) == 3, "only the every-minute pass sweeps"
    housekeeping_pass(state, prune=True)
    assert _left(state) == ({"live"}, {"l-live"})


def test_several_processes_sweeping_at_once_delete_each_row_once(db_url: str) -> None:
    """Four sweepers, each with its own engine (as separate server processes have),
    start together; together they delete exactly what is over, and none fails."""
    app = create_app(make_settings(db_url))
    state: AppState = app.state.rtcc
    now = utcnow()
    for i in range(20):
        _seed(state, now, tag=str(i))
    dbs = [Database(db_url) for _ in range(4)]
    start = threading.Barrier(len(dbs))
    results: list[portal_sweep.Swept] = []
    errors: list[BaseException] = []

    def run(db: Database) -> None:
        try:
            start.wait()
            with db.write() as session:
                results.append(portal_sweep.sweep(session, now=now))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(db,)) for db in dbs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for db in dbs:
        db.dispose()
    assert errors == []
    assert sum(r.sessions for r in results) == 40 and sum(r.links for r in results) == 40
    with state.db.read() as session:
        assert session.scalar(select(func.count()).select_from(PortalSessionRow)) == 20
        assert session.scalar(select(func.count()).select_from(PortalLinkRow)) == 20
    state.db.dispose()
