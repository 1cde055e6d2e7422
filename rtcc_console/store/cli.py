"""`rtcc db ...`: migrate and inspect the database.

    rtcc db upgrade [--db URL] [--revision REV]   bring the schema up to date (default head)
    rtcc db current [--db URL]                    print the database's revision
    rtcc db check   [--db URL]                    exit 1 if the schema differs from the code

The URL defaults to ``RTCC_DB_URL`` and then to the per-user SQLite file.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rtcc db", description="database tools")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("upgrade", "apply migrations (default: up to head)"),
        ("current", "show the current revision"),
        ("check", "compare the live schema with the code; exit 1 on differences"),
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument(
            "--db",
            dest="db_url",
            default=os.environ.get("RTCC_DB_URL"),
            help="SQLAlchemy URL (default: $RTCC_DB_URL or the per-user SQLite file)",
        )
        if name == "upgrade":
            p.add_argument("--revision", default="head", help="target revision (default: head)")
    return parser


def _shown(url: str | None) -> str:
    from rtcc_console.store.db import normalize_url

    return normalize_url(url).render_as_string(hide_password=True)


def main(argv: list[str]) -> int:
    """Entry point of ``rtcc db``; returns the process exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    from rtcc_console.store import migrate
    from rtcc_console.store.db import UnsupportedDatabaseError

    try:
        if args.command == "upgrade":
            migrate.upgrade(args.db_url, args.revision)
            sys.stdout.write(
                f"{_shown(args.db_url)} is at revision {migrate.current(args.db_url)}\n"
            )
            return 0
        if args.command == "current":
            sys.stdout.write(f"{migrate.current(args.db_url) or '(not migrated)'}\n")
            return 0
        diff = migrate.schema_diff(args.db_url)
        for item in diff:
            sys.stdout.write(f"{item}\n")
        sys.stdout.write("schema matches\n" if not diff else f"{len(diff)} difference(s)\n")
        return 0 if not diff else 1
    except (UnsupportedDatabaseError, migrate.MigrationsNotFoundError) as exc:
        sys.stderr.write(f"rtcc db: {exc}\n")
        return 2
