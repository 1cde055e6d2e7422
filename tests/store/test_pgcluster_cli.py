"""The throw-away PostgreSQL cluster helper and the `rtcc db` command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from rtcc_console.store import pgcluster
from rtcc_console.store.cli import main as db_main
from rtcc_console.store.db import UnsupportedDatabaseError, backend_name, make_engine, normalize_url


def test_missing_binaries_give_an_actionable_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("RTCC_PG_BIN", raising=False)
    monkeypatch.setattr(pgcluster, "DEFAULT_BIN_DIRS", (str(tmp_path / "none"),))
    monkeypatch.setattr(pgcluster, "PG_LIB_ROOT", tmp_path)
    with pytest.raises(pgcluster.PostgresUnavailableError, match="make test"):
        pgcluster.start_pg_cluster(tmp_path / "c")


@pytest.mark.postgres
def test_session_cluster_is_loopback_with_postgis_and_fast_settings(
    pg_cluster: Any, pg_url: str
) -> None:
    assert pg_url == f"postgresql+psycopg://rtcc@127.0.0.1:{pg_cluster.port}/rtcc"
    assert pgcluster.postgis_available(pg_url)
    with psycopg.connect(pg_cluster.conninfo(), autocommit=True) as conn:
        settings = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'full_page_writes', 'listen_addresses')"
            ).fetchall()
        )
        assert settings == {
            "fsync": "off",
            "full_page_writes": "off",
            "listen_addresses": "127.0.0.1",
        }
        assert conn.execute("SELECT extname FROM pg_extension WHERE extname = 'postgis'").fetchone()
    assert not pgcluster.postgis_available("sqlite://")


def test_url_normalisation() -> None:
    assert str(normalize_url("postgres://u@h/db")) == "postgresql+psycopg://u@h/db"
    assert str(normalize_url("postgresql://u@h:5/db")) == "postgresql+psycopg://u@h:5/db"
    assert backend_name("sqlite:///x.sqlite") == "sqlite"
    with pytest.raises(UnsupportedDatabaseError, match="mysql"):
        normalize_url("mysql://u:secret@h/db")
    try:
        normalize_url("mysql://u:secret@h/db")
    except UnsupportedDatabaseError as exc:
        assert "secret" not in str(exc)


def test_sqlite_engine_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'deep' / 'dir' / 'x.sqlite'}")
    try:
        with engine.connect() as conn:
            values = [
                conn.exec_driver_sql(f"PRAGMA {p}").scalar()
                for p in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            ]
        assert values == ["wal", 1, 1, 15000]
    finally:
        engine.dispose()


def test_db_cli_upgrade_current_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert db_main(["current", "--db", url]) == 0
    assert "(not migrated)" in capsys.readouterr().out
    assert db_main(["check", "--db", url]) == 1
    capsys.readouterr()
    assert db_main(["upgrade", "--db", url]) == 0
    assert db_main(["check", "--db", url]) == 0
    assert "schema matches" in capsys.readouterr().out
    assert db_main(["upgrade", "--db", "mysql://h/db"]) == 2
    assert "unsupported database" in capsys.readouterr().err
