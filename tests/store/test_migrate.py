"""Migrations: head on both back ends, and the migrated schema equals the metadata."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from rtcc_console.store import migrate
from rtcc_console.store.db import make_engine
from rtcc_console.store.schema import metadata


def test_migrated_database_is_at_head_and_matches_metadata(db_url: str) -> None:
    assert migrate.current(db_url) == migrate.head()
    assert migrate.schema_diff(db_url) == []
    engine = make_engine(db_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert set(metadata.tables) <= tables


def test_upgrade_from_empty_sqlite_then_downgrade_to_base(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sub' / 'fresh.sqlite'}"  # parent dir is created
    assert migrate.current(url) is None
    migrate.upgrade(url)
    assert migrate.current(url) == migrate.head()
    assert migrate.schema_diff(url) == []
    migrate.upgrade(url)  # idempotent
    migrate.downgrade(url, "base")
    engine = make_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()


def test_unmigrated_database_shows_a_diff(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    assert migrate.schema_diff(url), "an empty database must differ from the metadata"


@pytest.mark.postgres
def test_postgis_column_trigger_and_sequence_on_postgresql(
    pg_cluster: Any, _pg_template: str
) -> None:
    url = pg_cluster.create_database("rtcc_postgis_check", template=_pg_template)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            udt = conn.execute(
                text(
                    "SELECT udt_name FROM information_schema.columns "
                    "WHERE table_name = 'cameras' AND column_name = 'geog'"
                )
            ).scalar_one()
            assert udt == "geography"
            conn.execute(
                text(
                    "INSERT INTO cameras (id, name, tier, kind, sharing_mode, lat, lon, address, "
                    "version, created_at, updated_at, change_seq) VALUES ('cam-1', 'n', 'registered', "
                    "'residential', 'request_only', 32.78, -96.80, '', 1, now(), now(), 1)"
                )
            )
            lat, lon = conn.execute(
                text("SELECT ST_Y(geog::geometry), ST_X(geog::geometry) FROM cameras")
            ).one()
            assert (lat, lon) == pytest.approx((32.78, -96.80))
            conn.execute(text("UPDATE cameras SET lat = 32.9 WHERE id = 'cam-1'"))
            assert conn.execute(
                text("SELECT ST_Y(geog::geometry) FROM cameras")
            ).scalar() == pytest.approx(32.9)
            assert conn.execute(text("SELECT nextval('camera_change_seq')")).scalar() == 1
    finally:
        engine.dispose()
        pg_cluster.drop_database("rtcc_postgis_check")


def test_missing_migrations_folder_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RTCC_MIGRATIONS_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setattr(migrate, "__file__", str(tmp_path / "a" / "b" / "c" / "migrate.py"))
    with pytest.raises(migrate.MigrationsNotFoundError, match="RTCC_MIGRATIONS_DIR"):
        migrate.migrations_dir()
