"""Root test configuration. Sub-folders add their own fixtures in their conftest.py."""

from __future__ import annotations

import itertools
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Tests never need a display; QtWebEngine needs --no-sandbox when run as root.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault(
    "QTWEBENGINE_CHROMIUM_FLAGS",
    "--no-sandbox --disable-gpu --disable-background-networking --disable-component-update",
)
os.environ.setdefault("RTCC_DEV_MODE", "1")
# Tests that are not about multi-factor sign-in sign supervisors and admins in with a
# password alone; the production default (supervisor, admin) stays strict, and the MFA
# tests (tests/server/test_mfa.py, tests/gui/test_console_mfa.py) set the policy themselves.
os.environ.setdefault("RTCC_MFA_REQUIRED_ROLES", "[]")
# The vehicle index worker (issue 17) is a process of its own per server; tests that are not
# about it keep it off (tests/server/test_vehicles_api.py turns it on explicitly).
os.environ.setdefault("RTCC_VEHICLE_INDEX", "false")


# --- database fixtures (store) ----------------------------------------------------------
# One throw-away PostgreSQL cluster per test session (started only when a test asks for
# it); every test gets a fresh, migrated database: a copy of a migrated SQLite file, or a
# PostgreSQL database cloned from a migrated template (CREATE DATABASE ... TEMPLATE).

_PG_TEMPLATE = "rtcc_template"
_db_counter = itertools.count(1)


@pytest.fixture(scope="session")
def pg_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The session's throw-away PostgreSQL cluster (``.url``, ``.create_database``...)."""
    if os.environ.get("RTCC_SKIP_POSTGRES") == "1":
        pytest.skip("RTCC_SKIP_POSTGRES=1: PostgreSQL tests skipped on request")
    from rtcc_console.store.pgcluster import PostgresUnavailableError, start_pg_cluster

    try:
        cluster = start_pg_cluster(tmp_path_factory.mktemp("pg"))
    except PostgresUnavailableError as exc:
        pytest.fail(
            f"{exc}\n(set RTCC_SKIP_POSTGRES=1 to skip PostgreSQL tests explicitly)", pytrace=False
        )
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_url(pg_cluster: Any) -> str:
    """URL of the cluster's ``rtcc`` database (PostGIS installed, NOT migrated)."""
    return str(pg_cluster.url)


@pytest.fixture(scope="session")
def _pg_template(pg_cluster: Any) -> str:
    from rtcc_console.store import migrate

    # From template1, not from the "rtcc" database: other tests may hold connections to
    # that one, and CREATE DATABASE ... TEMPLATE needs its source to be idle.
    url = pg_cluster.create_database(_PG_TEMPLATE)
    migrate.upgrade(url)  # migration 0002 creates the postgis extension
    from sqlalchemy import text

    from rtcc_console.store.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:  # fail here, clearly, rather than in every test
            conn.execute(text("SELECT postgis_version()")).scalar_one()
    finally:
        engine.dispose()
    return _PG_TEMPLATE


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from rtcc_console.store import migrate

    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite"
    migrate.upgrade(f"sqlite:///{path}")  # engine disposed: WAL checkpointed into the file
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database migrated to head, once per back end (SQLite, PostgreSQL)."""
    if request.param == "sqlite":
        target = tmp_path / "rtcc.sqlite"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    cluster = request.getfixturevalue("pg_cluster")
    template = request.getfixturevalue("_pg_template")
    name = f"rtcc_test_{os.getpid()}_{next(_db_counter)}"
    url = cluster.create_database(name, template=template)
    try:
        yield url
    finally:
        cluster.drop_database(name)


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Any]:
    """An engine on :func:`db_url`, disposed after the test."""
    from rtcc_console.store.db import make_engine

    engine = make_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def db_session(db_engine: Any) -> Iterator[Any]:
    """A session on a fresh migrated database; whatever the test left open is rolled back."""
    from rtcc_console.store.db import make_session_factory

    session = make_session_factory(db_engine)()
    try:
        yield session
    finally:
        session.close()


@pytest.fixture(autouse=True)
def _qt_garbage_on_the_gui_thread(request: pytest.FixtureRequest) -> Iterator[None]:
    """Collect garbage and run deferred deletes on the GUI thread after each Qt test.

    Otherwise Python's collector may run on a worker thread (a server or HTTP thread of the
    test) while it holds the last reference to a closed window; shiboken then deletes the
    widget tree from inside an unrelated event filter on the GUI thread, and Qt can deadlock
    or crash (seen: a hang in QObject::~QObject, a segfault while "Garbage-collecting").
    """
    yield
    if "PySide6.QtCore" not in sys.modules:
        return
    import gc

    from PySide6.QtCore import QCoreApplication, QEvent, QThread

    app = QCoreApplication.instance()
    if app is None or QThread.currentThread() is not app.thread():
        return
    if "qtbot" not in request.fixturenames:
        # The console's GUI-thread collector (ui.gc_guard) turned automatic collection off:
        # collect what the thresholds ask for, as it would, without a full pass per test.
        if not gc.isenabled():
            counts, limits = gc.get_count(), gc.get_threshold()
            due = [g for g in range(3) if counts[g] > limits[g]]
            if due:
                gc.collect(max(due))
        return
    for _ in range(2):
        gc.collect()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        app.processEvents()


@pytest.fixture(scope="session", autouse=True)
def _qt_deferred_deletes_run_before_exit() -> Iterator[None]:
    """Run the deferred deletes of closed windows before Python exits (any test folder).

    pytest-qt closes test widgets with ``deleteLater``; without an event-loop pass at the
    end, a QWebEnginePage outlives its profile and the interpreter segfaults on exit
    (exit code 139 after every test passed). Does nothing when no test loaded Qt.
    """
    yield
    if "PySide6.QtCore" not in sys.modules:
        return
    from PySide6.QtCore import QCoreApplication, QEvent

    app = QCoreApplication.instance()
    if app is None:
        return
    for _ in range(3):
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        app.processEvents()
