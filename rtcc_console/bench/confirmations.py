"""``rtcc bench confirmations --json``: the yearly "still there?" sweep over a large registry.

Measured in one run on one database (``--cameras`` registered cameras, 1 % of them not
confirmed for more than a year), each against a reference on the same database:

* **idle check** (``store.confirmations.any_due``: what every server process runs each
  sweep when nothing is due) against a plain indexed one-row lookup (``change_seq``);
* **claim** of one sweep's batch (200 cameras asked, the conditional UPDATE) and **mark
  stale** of 200 unanswered cameras (a registry change each: version and change number)
  against a plain ``UPDATE cameras SET version = version WHERE id IN (200 ids)``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text, update
from sqlalchemy.orm import Session

from rtcc_console.bench.common import emit, machine_info
from rtcc_console.core.models import (
    Camera,
    CameraKind,
    GeoPoint,
    Owner,
    SharingMode,
    Tier,
    utcnow,
)

YEAR, GRACE, BATCH = timedelta(days=365), timedelta(days=30), 200


def _median_ms(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 3)


def _seed(session: Session, n: int) -> None:
    from rtcc_console.store import bulk

    bulk.bulk_insert_owners(
        session,
        owners=(
            Owner(id=f"own-{i}", name="owner", kind=CameraKind.RESIDENTIAL)
            for i in range(n // 2 + 1)
        ),
    )
    bulk.bulk_insert_cameras(
        session,
        cameras=(
            Camera(
                id=f"cam-{i:07d}",
                name="camera",
                tier=Tier.REGISTERED,
                location=GeoPoint(32.7 + (i % 1000) * 1e-4, -96.8 - (i // 1000) * 1e-4),
                kind=CameraKind.RESIDENTIAL,
                sharing_mode=SharingMode.REQUEST_ONLY,
                owner_id=f"own-{i // 2}",
            )
            for i in range(n)
        ),
    )
    session.commit()


def run(db_url: str, *, cameras: int, repeat: int) -> dict[str, Any]:
    from rtcc_console.store import confirmations, migrate
    from rtcc_console.store.db import make_engine, make_session_factory
    from rtcc_console.store.schema import CameraRow

    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    now = utcnow()
    result: dict[str, Any] = {
        "bench": "confirmations",
        "backend": engine.dialect.name,
        "cameras": cameras,
        "machine": machine_info(),
    }
    try:
        with factory() as s:
            _seed(s, cameras)
            result["idle_check_ms"] = _median_ms(
                lambda: confirmations.any_due(s, now=now, interval=YEAR, grace=GRACE), repeat
            )
            result["reference_indexed_lookup_ms"] = _median_ms(
                lambda: s.execute(
                    text(
                        "SELECT id FROM cameras WHERE change_seq > :c ORDER BY change_seq LIMIT 1"
                    ),
                    {"c": cameras // 2},
                ).all(),
                repeat,
            )
            s.rollback()
            old = [f"cam-{i:07d}" for i in range(0, cameras, 100)]  # 1 % not confirmed for a year
            s.execute(
                update(CameraRow)
                .where(CameraRow.id.in_(old))
                .values(confirmed_at=now - timedelta(days=400))
            )
            s.commit()
            if engine.dialect.name == "postgresql":
                s.execute(text("ANALYZE cameras"))
                s.commit()
            started = time.perf_counter()
            s.execute(
                update(CameraRow)
                .where(CameraRow.id.in_(old[:BATCH]))
                .values(version=CameraRow.version)
            )
            s.commit()
            result["reference_update_200_ms"] = round((time.perf_counter() - started) * 1000, 2)
            started = time.perf_counter()
            claimed = confirmations.claim_due(s, interval=YEAR, limit=BATCH, now=now)
            s.commit()
            result["claim_200_ms"] = round((time.perf_counter() - started) * 1000, 2)
            started = time.perf_counter()
            marked = confirmations.mark_stale_due(
                s, grace=GRACE, limit=BATCH, now=now + GRACE + timedelta(hours=1)
            )
            s.commit()
            result["mark_stale_200_ms"] = round((time.perf_counter() - started) * 1000, 2)
            result["claimed"], result["marked"] = len(claimed), len(marked)
    finally:
        engine.dispose()
    result["idle_check_vs_lookup"] = round(
        result["idle_check_ms"] / max(result["reference_indexed_lookup_ms"], 1e-6), 1
    )
    result["mark_stale_vs_update"] = round(
        result["mark_stale_200_ms"] / max(result["reference_update_200_ms"], 1e-6), 1
    )
    return result


def _human(r: dict[str, Any]) -> str:
    return (
        f"{r['cameras']} cameras on {r['backend']}: idle check {r['idle_check_ms']} ms "
        f"(indexed lookup {r['reference_indexed_lookup_ms']} ms); claim 200 {r['claim_200_ms']} ms, "
        f"mark stale 200 {r['mark_stale_200_ms']} ms (plain UPDATE of 200 "
        f"{r['reference_update_200_ms']} ms)"
    )


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="rtcc bench confirmations",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--db", default=None, help="database URL (default: a new SQLite file)")
    p.add_argument("--cameras", type=int, default=100_000, help="registered cameras to seed")
    p.add_argument("--repeat", type=int, default=21, help="timed idle checks")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rtcc-bench-confirm-") as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'confirm.sqlite'}"
        result = run(url, cameras=max(1000, args.cameras), repeat=max(3, args.repeat))
    emit(result, as_json=args.json, human=_human)
    return 0
