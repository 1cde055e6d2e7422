"""Schema migrations, run programmatically (``rtcc db upgrade``, the server, tests).

The Alembic environment lives in ``db/`` at the repository root. The package is installed
in editable mode, so the folder is found relative to this file; ``RTCC_MIGRATIONS_DIR``
overrides it for unusual layouts (a frozen build ships the folder next to the binary).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

# Objects that exist in a migrated PostgreSQL database but not in the portable metadata:
# PostGIS's own catalogue table and our geography column with its index.
_FOREIGN_TABLES = frozenset({"spatial_ref_sys", "alembic_version"})
_FOREIGN_COLUMNS = frozenset({("cameras", "geog")})
# expression indexes of audit_events (0106): alembic cannot compare them with the metadata
_FOREIGN_INDEXES = frozenset(
    {
        "ix_cameras_geog",
        "ix_audit_events_camera_id",
        "ix_audit_events_call_id",
        "ix_audit_events_case_id",
    }
)


class MigrationsNotFoundError(RuntimeError):
    """The Alembic folder (db/) could not be located."""


def migrations_dir() -> Path:
    """The Alembic script folder (``db/`` at the repository root)."""
    override = os.environ.get("RTCC_MIGRATIONS_DIR")
    candidates = [Path(override)] if override else []
    candidates.append(Path(__file__).resolve().parents[2] / "db")
    for path in candidates:
        if (path / "env.py").is_file() and (path / "versions").is_dir():
            return path
    tried = ", ".join(str(p) for p in candidates)
    raise MigrationsNotFoundError(
        f"Alembic migrations folder not found (tried {tried}); install the project in "
        "editable mode from its repository (pip install -e .) or set RTCC_MIGRATIONS_DIR"
    )


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic filter: ignore the PostgreSQL-only objects added by the PostGIS migration."""
    if type_ == "table" and reflected and compare_to is None and name in _FOREIGN_TABLES:
        return False
    if type_ == "column" and reflected and compare_to is None:
        if (obj.table.name, name) in _FOREIGN_COLUMNS:
            return False
    if type_ == "index" and name in _FOREIGN_INDEXES:
        return False
    return True


def _config(url: str | URL | None) -> Any:
    from alembic.config import Config

    from rtcc_console.store.db import normalize_url

    location = migrations_dir()
    cfg = (
        Config(str(location / "alembic.ini")) if (location / "alembic.ini").is_file() else Config()
    )
    cfg.set_main_option("script_location", str(location))
    rendered = normalize_url(url).render_as_string(hide_password=False)
    cfg.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return cfg


def upgrade(url: str | URL | None, revision: str = "head") -> None:
    """Bring the database at ``url`` (default: the per-user SQLite file) up to ``revision``."""
    _run("upgrade", url, revision)


def downgrade(url: str | URL | None, revision: str) -> None:
    """Step the database back to ``revision`` (``"base"`` empties it)."""
    _run("downgrade", url, revision)


def _run(direction: str, url: str | URL | None, revision: str) -> None:
    """Run Alembic's ``upgrade``/``downgrade`` on one connection of our own engine."""
    from alembic import command

    from rtcc_console.store.db import make_engine

    cfg = _config(url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            getattr(command, direction)(cfg, revision)
    finally:
        engine.dispose()


def current(url: str | URL | None) -> str | None:
    """The revision the database is at, or None for an unmigrated database."""
    from alembic.runtime.migration import MigrationContext

    from rtcc_console.store.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head() -> str:
    """The newest revision shipped with this version of the code."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(migrations_dir()))
    rev = script.get_current_head()
    if rev is None:
        raise MigrationsNotFoundError(f"no revisions in {migrations_dir() / 'versions'}")
    return rev


def schema_diff(url: str | URL | None) -> list[Any]:
    """Differences between the live database and the metadata (empty when in sync)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from rtcc_console.store.db import make_engine
    from rtcc_console.store.schema import metadata

    engine = make_engine(url)
    try:
        with engine.connect() as conn, warnings.catch_warnings():
            # Reflection does not know PostGIS's geography type; the column is filtered out.
            warnings.filterwarnings("ignore", message=".*Did not recognize type 'geography'")
            warnings.filterwarnings(
                "ignore", message=".*expression-based index ix_audit_events_"
            )  # 0106
            ctx = MigrationContext.configure(
                conn, opts={"include_object": include_object, "compare_type": True}
            )
            return list(compare_metadata(ctx, metadata))
    finally:
        engine.dispose()
