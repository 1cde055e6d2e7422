"""`rtcc seed`: a demo camera registry shaped like Connect Dallas.

The public Connect Dallas figures are 2,306 registered and 276 integrated cameras; the
default registry has exactly that split, and ``--cameras N`` scales it proportionally (up
to a million, for benchmarks). Owners are believable: residents own one camera (rarely
two), businesses and schools several around one site, a few city agencies own the public
cameras. Positions lie inside a rough Dallas outline, denser downtown; addresses follow a
street grid of real Dallas street names.

Integrated cameras point at the simulated stream server (``--stream-base`` with
``{index}``, camera *i* of the integrated ones uses stream ``i % --stream-pool``), and about
a fifth carry ``user:password@`` credentials so that credential separation is exercised:
the public record only ever holds the redacted URL.

Generation is vectorised with numpy and deterministic for a given ``--seed``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from typing import Any

import numpy as np

from rtcc_console.sim.dallas import addresses, inside, sample_points
from rtcc_console.sim.seed_registry import Registry, build_registry_columns

DEFAULT_STREAM_BASE = "rtsp://127.0.0.1:8554/cam/{index}"
CONNECT_DALLAS_REGISTERED = 2306
CONNECT_DALLAS_INTEGRATED = 276
MAX_CAMERAS = 1_000_000
BIG_LOAD = 50_000  # from this many cameras, indexes are rebuilt after the load

__all__ = [
    "CONNECT_DALLAS_INTEGRATED",
    "CONNECT_DALLAS_REGISTERED",
    "DEFAULT_STREAM_BASE",
    "Registry",
    "generate_registry",
    "main",
    "seed_database",
    "split_counts",
]


def split_counts(total: int) -> tuple[int, int]:
    """(registered, integrated) for ``total`` cameras, in the Connect Dallas proportion."""
    if total < 0 or total > MAX_CAMERAS:
        raise ValueError(f"camera count must be between 0 and {MAX_CAMERAS:,}, got {total:,}")
    share = CONNECT_DALLAS_INTEGRATED / (CONNECT_DALLAS_REGISTERED + CONNECT_DALLAS_INTEGRATED)
    integrated = int(round(total * share))
    return total - integrated, integrated


def generate_registry(
    *,
    seed: int,
    n_registered: int = CONNECT_DALLAS_REGISTERED,
    n_integrated: int = CONNECT_DALLAS_INTEGRATED,
    stream_base: str = DEFAULT_STREAM_BASE,
    stream_pool: int = 64,
) -> Registry:
    """A deterministic demo registry (no database involved).

    ``registry.cameras`` / ``registry.owners`` are domain objects (built on first access);
    ``registry.secrets`` maps integrated camera ids to their full stream URLs.
    """
    if n_registered < 0 or n_integrated < 0 or n_registered + n_integrated > MAX_CAMERAS:
        raise ValueError(
            f"camera counts must be non-negative and total at most {MAX_CAMERAS:,} "
            f"(got {n_registered:,} registered + {n_integrated:,} integrated)"
        )
    if "{index}" not in stream_base:
        raise ValueError(f"stream_base must contain '{{index}}', got {stream_base!r}")
    try:
        stream_base.format(index=0)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(
            f"stream_base {stream_base!r} is not a valid template with {{index}}: {exc!r}"
        ) from None
    if stream_pool < 1:
        raise ValueError(f"stream_pool must be at least 1, got {stream_pool}")
    rng = np.random.default_rng(seed)
    return build_registry_columns(
        rng,
        n_registered=n_registered,
        n_integrated=n_integrated,
        stream_base=stream_base,
        stream_pool=stream_pool,
        sample_points=sample_points,
        addresses=addresses,
        inside=inside,
    )


def seed_database(url: str | None, registry: Registry, *, replace: bool = False) -> dict[str, Any]:
    """Migrate the database at ``url`` and load ``registry`` into it in one transaction.

    Refuses (ValueError, nothing written) when the database already has cameras, unless
    ``replace`` is set, in which case existing cameras, their secrets and owners go first.
    """
    from sqlalchemy import delete, func, select, text

    from rtcc_console.store import migrate
    from rtcc_console.store.bulk import (
        bulk_insert_camera_rows,
        bulk_insert_owners,
        deferred_indexes,
    )
    from rtcc_console.store.confirmations import seed_stale
    from rtcc_console.store.db import make_engine, make_session_factory
    from rtcc_console.store.schema import CameraRow, CameraSecretRow, OwnerRow

    t0 = time.perf_counter()
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            existing = session.execute(select(func.count()).select_from(CameraRow)).scalar_one()
            if existing and not replace:
                raise ValueError(
                    f"the database already holds {existing:,} cameras; pass --replace to "
                    "delete them (and their owners) before seeding"
                )
            if existing or replace:
                session.execute(delete(CameraSecretRow))
                session.execute(delete(CameraRow))
                session.execute(delete(OwnerRow))
            if session.get_bind().dialect.name == "sqlite":
                # A big page cache keeps random index inserts from spilling to the WAL
                # mid-transaction (the dominant cost of a million-row load).
                session.execute(text("PRAGMA cache_size = -262144"))  # 256 MiB, this connection
            t1 = time.perf_counter()
            n_owners = bulk_insert_owners(session, owners=registry.owner_rows_as_owners())
            secrets = {cid: (url_, None) for cid, url_ in registry.secrets.items()}
            big = len(registry) >= BIG_LOAD
            with deferred_indexes(session) if big else contextlib.nullcontext():
                n_cams = bulk_insert_camera_rows(
                    session, rows=registry.camera_rows(), secrets=secrets
                )
            n_stale = seed_stale(session, camera_ids=registry.stale_ids)
            session.commit()
            t2 = time.perf_counter()
    finally:
        engine.dispose()
    return {
        "owners": n_owners,
        "cameras": n_cams,
        "stale": n_stale,
        "migrate_s": round(t1 - t0, 3),
        "load_s": round(t2 - t1, 3),
    }


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rtcc seed", description="create a demo camera registry")
    p.add_argument(
        "--city", default="dallas", choices=["dallas"], help="city shape and street names"
    )
    p.add_argument(
        "--cameras",
        type=int,
        default=CONNECT_DALLAS_REGISTERED + CONNECT_DALLAS_INTEGRATED,
        help="total cameras, split like Connect Dallas (default 2,582; max 1,000,000)",
    )
    p.add_argument("--seed", type=int, default=1, help="random seed (same seed, same registry)")
    p.add_argument(
        "--db",
        dest="db_url",
        default=None,
        help="SQLAlchemy URL (default: $RTCC_DB_URL or the per-user SQLite file)",
    )
    p.add_argument(
        "--stream-base", default=DEFAULT_STREAM_BASE, help="stream URL template with {index}"
    )
    p.add_argument(
        "--stream-pool", type=int, default=64, help="number of simulated streams to cycle through"
    )
    p.add_argument(
        "--replace", action="store_true", help="replace cameras and owners already in the database"
    )
    p.add_argument(
        "--json", action="store_true", help="print one JSON object with counts and timings"
    )
    return p


def main(argv: list[str]) -> int:
    """Entry point of ``rtcc seed``."""
    import os

    args = _parser().parse_args(argv)
    url = args.db_url or os.environ.get("RTCC_DB_URL")
    try:
        n_reg, n_int = split_counts(args.cameras)
        t0 = time.perf_counter()
        registry = generate_registry(
            seed=args.seed,
            n_registered=n_reg,
            n_integrated=n_int,
            stream_base=args.stream_base,
            stream_pool=args.stream_pool,
        )
        gen_s = time.perf_counter() - t0
        stats = seed_database(url, registry, replace=args.replace)
    except ValueError as exc:
        print(f"rtcc seed: {exc}", file=sys.stderr)
        return 2
    from rtcc_console.store.db import normalize_url

    report = {
        "city": args.city,
        "seed": args.seed,
        "db": normalize_url(url).render_as_string(hide_password=True),
        "registered": n_reg,
        "integrated": n_int,
        "owners": stats["owners"],
        "with_credentials": registry.credentialed_count(),
        "stale": stats["stale"],
        "generate_s": round(gen_s, 3),
        "migrate_s": stats["migrate_s"],
        "load_s": stats["load_s"],
        "total_s": round(time.perf_counter() - t0, 3),
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(
            f"seeded {n_reg + n_int:,} cameras ({n_reg:,} registered, {n_int:,} integrated) and "
            f"{report['owners']:,} owners into {report['db']} in {report['total_s']} s "
            f"(generate {report['generate_s']} s, load {report['load_s']} s)"
        )
    return 0
