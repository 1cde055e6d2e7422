"""A throw-away PostgreSQL cluster for tests, benchmarks and the scale-out demo.

It is deliberately unsafe for real data: trust authentication (on loopback only, and a
unix socket inside the cluster folder), ``fsync=off`` and ``full_page_writes=off``. It
exists so that every test session can exercise the PostgreSQL + PostGIS path against a
real server, started in about a second and removed afterwards.

initdb refuses to run as root, so when we are root the cluster is owned by and run as the
``postgres`` system user (``runuser -u postgres``), in a folder that user can reach.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

log = logging.getLogger(__name__)

DEFAULT_BIN_DIRS = ("/usr/lib/postgresql/15/bin",)
PG_LIB_ROOT = Path("/usr/lib/postgresql")  # Debian: one <version>/bin per installed server
ROLE = "rtcc"
DATABASE = "rtcc"
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes, minus ".s.PGSQL.NNNNN"


class PostgresUnavailableError(RuntimeError):
    """PostgreSQL server binaries are not installed (or could not be started)."""


def find_pg_bin() -> Path:
    """The folder holding initdb/pg_ctl/postgres (``RTCC_PG_BIN`` overrides)."""
    candidates = [os.environ["RTCC_PG_BIN"]] if os.environ.get("RTCC_PG_BIN") else []
    candidates += list(DEFAULT_BIN_DIRS)
    candidates += sorted((str(p) for p in PG_LIB_ROOT.glob("*/bin")), reverse=True)
    for cand in candidates:
        path = Path(cand)
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file():
            return path
    raise PostgresUnavailableError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found in "
        f"{', '.join(dict.fromkeys(candidates))}: run `make test`, which installs "
        "postgresql-15-postgis-3 (scripts/bootstrap-debian.sh), or set RTCC_PG_BIN"
    )


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1 (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _reachable_by_others(path: Path) -> bool:
    """Whether a non-root user can traverse every ancestor of ``path``."""
    for parent in [path, *path.parents]:
        if parent.exists() and not (parent.stat().st_mode & 0o001):
            return False
    return True


class PgCluster:
    """A running throw-away cluster. Use as a context manager or call :meth:`stop`."""

    def __init__(
        self,
        *,
        root: Path,
        data_dir: Path,
        socket_dir: Path,
        port: int,
        bin_dir: Path,
        run_as: str | None,
        owns_root: bool,
    ) -> None:
        self.root = root
        self.data_dir = data_dir
        self.socket_dir = socket_dir
        self.port = port
        self.bin_dir = bin_dir
        self.run_as = run_as
        self._owns_root = owns_root
        self._running = False

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the ``rtcc`` database."""
        return self.database_url(DATABASE)

    def database_url(self, name: str) -> str:
        return f"postgresql+psycopg://{ROLE}@127.0.0.1:{self.port}/{name}"

    def conninfo(self, dbname: str = DATABASE) -> str:
        """libpq connection string (for psycopg without SQLAlchemy)."""
        return f"host=127.0.0.1 port={self.port} user={ROLE} dbname={dbname}"

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create database ``name`` (optionally copied from ``template``); return its URL."""
        import psycopg
        from psycopg import sql

        stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            stmt = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(stmt)
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove a folder we created ourselves."""
        if self._running:
            self._running = False
            cmd = [
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-m",
                "fast",
                "-w",
                "stop",
            ]
            result = subprocess.run(
                _as_user(cmd, self.run_as), capture_output=True, text=True, check=False
            )
            if result.returncode != 0:
                log.warning("pg_ctl stop failed: %s", result.stderr.strip())
        if self._owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PgCluster:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _as_user(cmd: list[str], user: str | None) -> list[str]:
    return ["runuser", "-u", user, "--", *cmd] if user else cmd


def _run(cmd: list[str], user: str | None, what: str) -> None:
    result = subprocess.run(_as_user(cmd, user), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PostgresUnavailableError(
            f"{what} failed ({result.returncode}): {result.stderr.strip() or result.stdout.strip()}"
        )


def start_pg_cluster(base_dir: Path, *, port: int | None = None) -> PgCluster:
    """initdb + start a cluster under ``base_dir``; role and database ``rtcc`` (+ PostGIS).

    Raises :class:`PostgresUnavailableError` with what to do when binaries are missing.
    """
    bin_dir = find_pg_bin()
    run_as = "postgres" if os.geteuid() == 0 else None
    base_dir = Path(base_dir).resolve()
    base_dir.mkdir(parents=True, exist_ok=True)
    owns_root = False
    root = base_dir / "pgcluster"
    if run_as and not _reachable_by_others(base_dir):
        # e.g. pytest's /tmp/pytest-of-root is 0700: the postgres user cannot enter it.
        root = Path(tempfile.mkdtemp(prefix="rtcc-pg-"))
        owns_root = True
    if len(str(root / "s")) > _SOCKET_PATH_MAX:
        root = Path(tempfile.mkdtemp(prefix="rtcc-pg-"))
        owns_root = True
    root.mkdir(parents=True, exist_ok=True)
    data_dir, socket_dir = root / "data", root / "s"
    socket_dir.mkdir(exist_ok=True)
    if run_as:
        shutil.chown(root, run_as, run_as)
        shutil.chown(socket_dir, run_as, run_as)
        os.chmod(root, 0o755)
    _run(
        [
            str(bin_dir / "initdb"),
            "-D",
            str(data_dir),
            "-U",
            ROLE,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        ],
        run_as,
        "initdb",
    )
    settings = {
        "listen_addresses": "'127.0.0.1'",
        "unix_socket_directories": f"'{socket_dir}'",
        "fsync": "off",
        "full_page_writes": "off",
        "synchronous_commit": "off",
        "max_connections": "200",
        "shared_buffers": "64MB",
        "log_min_messages": "warning",
    }
    conf = "".join(f"{k} = {v}\n" for k, v in settings.items())
    # Loopback only, and only for this throw-away cluster.
    hba = "local all all trust\nhost all all 127.0.0.1/32 trust\n"
    for name, text in (("postgresql.auto.conf", conf), ("pg_hba.conf", hba)):
        target = data_dir / name
        if run_as:
            subprocess.run(
                _as_user(["tee", str(target)], run_as),
                input=text,
                text=True,
                capture_output=True,
                check=True,
            )
        else:
            target.write_text(text)
    cluster: PgCluster | None = None
    attempts = 1 if port else 5
    for attempt in range(attempts):
        chosen = port or free_port()
        cmd = [
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data_dir),
            "-l",
            str(root / "server.log"),
            "-o",
            f"-p {chosen}",
            "-w",
            "-t",
            "60",
            "start",
        ]
        result = subprocess.run(_as_user(cmd, run_as), capture_output=True, text=True, check=False)
        if result.returncode == 0:
            cluster = PgCluster(
                root=root,
                data_dir=data_dir,
                socket_dir=socket_dir,
                port=chosen,
                bin_dir=bin_dir,
                run_as=run_as,
                owns_root=owns_root,
            )
            cluster._running = True
            break
        log.warning(
            "postgres start on port %s failed (attempt %d): %s",
            chosen,
            attempt + 1,
            _tail(root / "server.log"),
        )
    if cluster is None:
        raise PostgresUnavailableError(f"could not start postgres: {_tail(root / 'server.log')}")
    atexit.register(cluster.stop)
    try:
        _create_app_database(cluster)
    except Exception:
        cluster.stop()
        raise
    return cluster


def _tail(path: Path, lines: int = 15) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return "(no server log)"


def _create_app_database(cluster: PgCluster) -> None:
    import psycopg

    deadline = time.monotonic() + 30
    while True:
        try:
            conn = psycopg.connect(cluster.conninfo("postgres"), autocommit=True)
            break
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    with conn:
        conn.execute(f"CREATE DATABASE {DATABASE}")
    with psycopg.connect(cluster.conninfo(DATABASE), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").fetchone():
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def postgis_available(url: str) -> bool:
    """Whether the database at ``url`` has PostGIS installed or can install it."""
    from sqlalchemy import text

    from rtcc_console.store.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name != "postgresql":
                return False
            row = conn.execute(
                text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
            ).first()
            return row is not None
    finally:
        engine.dispose()
