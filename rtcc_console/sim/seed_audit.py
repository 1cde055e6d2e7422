"""``rtcc seed audit --entries N``: a large, realistic, *valid* audit trail, fast.

The rows continue the existing chain (same canonical JSON and HMAC as
:func:`rtcc_console.server.audit.append_audit`, the keyring the settings name), computed
in Python and written with multi-row INSERTs in one transaction under the journal lock.
Live views also get their ``live_grants`` rows when the registry has cameras, so that the
transparency report has something to count. Timestamps rise evenly from ``--start`` to
``--end`` (default: the past 365 days).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, insert, select

from rtcc_console.config import ServerSettings
from rtcc_console.core.models import utcnow
from rtcc_console.server.audit import GENESIS_HASH, compute_hash
from rtcc_console.server.audit_checkpoints import install_audit_keys
from rtcc_console.server.database import Database
from rtcc_console.store import migrate
from rtcc_console.store.db import journal_lock
from rtcc_console.store.schema import AuditEventRow, CameraRow, LiveGrantRow

ANALYSTS = [f"analyst{i:02d}" for i in range(1, 31)]
SUPERVISORS = [f"supervisor{i}" for i in range(1, 6)]
# (action, weight): roughly what a real-time crime center writes
ACTIONS = [
    ("live.renew", 30),
    ("live.grant", 22),
    ("live.end", 15),
    ("call.acknowledged", 10),
    ("auth.login", 5),
    ("auth.logout", 5),
    ("evidence.played", 5),
    ("footage_request.created", 3),
    ("audit.view", 2),
    ("evidence.export_started", 1),
    ("registry.export", 1),
    ("emergency.start", 1),
]
BATCH = 5000
_AUDIT = cast(Table, AuditEventRow.__table__)  # Core inserts: plain executemany, no ORM bookkeeping
_GRANTS = cast(Table, LiveGrantRow.__table__)


def _entry(
    rng: random.Random, cameras: list[str], n_calls: int
) -> tuple[str, str, str, dict[str, str], str | None]:
    action = rng.choices([a for a, _ in ACTIONS], weights=[w for _, w in ACTIONS])[0]
    sup = action in ("audit.view", "registry.export", "emergency.start")
    user = rng.choice(SUPERVISORS if sup else ANALYSTS)
    targets: dict[str, str] = {}
    reason: str | None = None
    case = f"26-{rng.randrange(1, 400_000):06d}"
    if action.startswith("live."):
        targets["camera"] = rng.choice(cameras)
        targets["grant"] = f"grant-{rng.getrandbits(48):012x}"
        if action == "live.grant":
            reason = f"case {case}"
            if rng.random() < 0.5:
                targets["call"] = f"call-{rng.randrange(n_calls):07d}"
    elif action == "call.acknowledged":
        targets["call"] = f"call-{rng.randrange(n_calls):07d}"
    elif action in ("footage_request.created", "evidence.played", "evidence.export_started"):
        targets["case"] = case
        if action == "evidence.export_started":
            targets["items"] = str(rng.randint(1, 12))
    elif action == "audit.view":
        reason = "{}"
    elif action == "emergency.start":
        targets["emergency"] = f"emg-{rng.getrandbits(32):08x}"
        reason = "declared by supervisor"
    return user, "supervisor" if sup else "analyst", action, targets, reason


def seed_audit(
    settings: ServerSettings,
    *,
    entries: int,
    seed: int = 1,
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[str, Any]:
    """Append ``entries`` chained rows (and live grants for live views); returns counts and timings."""
    t0 = time.perf_counter()
    migrate.upgrade(settings.db_url)
    db = Database(settings.db_url)
    try:
        ring = install_audit_keys(
            secret=settings.secret_key.get_secret_value(),
            key_file=settings.audit_key_file,
            engine=db.engine,
        )
        key_id = ring.current_hmac
        end = end or utcnow()
        start = start or end - timedelta(days=365)
        step = (end - start) / max(1, entries)
        rng = random.Random(seed)
        hashing_s = 0.0
        grants = 0
        with db.write() as session:
            journal_lock(session)
            cameras = list(
                session.scalars(
                    select(CameraRow.id).where(CameraRow.tier == "integrated").limit(5000)
                )
            )
            real_cameras = bool(cameras)
            if not cameras:
                cameras = [f"cam-{i:06d}" for i in range(1, 30_001)]
            last = session.execute(
                select(AuditEventRow.id, AuditEventRow.hash)
                .order_by(AuditEventRow.id.desc())
                .limit(1)
            ).first()
            next_id = (last.id + 1) if last else 1
            prev = last.hash if last else GENESIS_HASH
            rows: list[dict[str, Any]] = []
            grant_rows: list[dict[str, Any]] = []
            for n in range(entries):
                user, role, action, targets, reason = _entry(rng, cameras, 50_000)
                at = start + step * n
                h0 = time.perf_counter()
                digest = compute_hash(
                    id=next_id,
                    at=at,
                    username=user,
                    role=role,
                    action=action,
                    targets=targets,
                    reason=reason,
                    outcome="ok",
                    client_addr="10.20.0.7",
                    prev_hash=prev,
                    key_id=key_id,
                    keyring=ring,
                )
                hashing_s += time.perf_counter() - h0
                rows.append(
                    {
                        "id": next_id,
                        "at": at,
                        "username": user,
                        "role": role,
                        "action": action,
                        "targets": targets,
                        "reason": reason,
                        "outcome": "ok",
                        "client_addr": "10.20.0.7",
                        "prev_hash": prev,
                        "key_id": key_id,
                        "hash": digest,
                    }
                )
                if action == "live.grant" and real_cameras:
                    minutes = rng.choice((2, 5, 10, 20, 45))
                    grant_rows.append(
                        {
                            "id": targets["grant"],
                            "camera_id": targets["camera"],
                            "username": user,
                            "reason": reason or "",
                            "issued_at": at,
                            "expires_at": at + timedelta(minutes=minutes),
                            "ended_at": at + timedelta(minutes=minutes),
                            "end_reason": "closed",
                        }
                    )
                prev, next_id = digest, next_id + 1
                if len(rows) >= BATCH:
                    session.execute(insert(_AUDIT), rows)  # Core executemany: no ORM round trips
                    rows.clear()
                if len(grant_rows) >= BATCH:
                    session.execute(insert(_GRANTS), grant_rows)
                    grants += len(grant_rows)
                    grant_rows.clear()
            if rows:
                session.execute(insert(_AUDIT), rows)  # Core executemany: no ORM round trips
            if grant_rows:
                session.execute(insert(_GRANTS), grant_rows)
                grants += len(grant_rows)
        return {
            "entries": entries,
            "live_grants": grants,
            "head_id": next_id - 1,
            "hashing_s": round(hashing_s, 2),
            "total_s": round(time.perf_counter() - t0, 2),
            "rate_per_s": round(entries / (time.perf_counter() - t0)),
        }
    finally:
        db.dispose()


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="rtcc seed audit", description=__doc__)
    p.add_argument(
        "--entries", type=int, required=True, help="audit entries to append (1 - 20,000,000)"
    )
    p.add_argument("--seed", type=int, default=1, help="random seed")
    p.add_argument(
        "--db",
        dest="db_url",
        default=None,
        help="database URL (default RTCC_DB_URL / the local SQLite file)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    if not 1 <= args.entries <= 20_000_000:
        p.error("--entries must be between 1 and 20,000,000")
    overrides: dict[str, Any] = {"dev_mode": True, "migrate_on_start": False}
    if args.db_url:
        overrides["db_url"] = args.db_url
    result = seed_audit(ServerSettings(**overrides), entries=args.entries, seed=args.seed)
    if args.json:
        sys.stdout.write(json.dumps(result) + "\n")
    else:
        sys.stdout.write(
            f"appended {result['entries']:,} audit entries ({result['live_grants']:,} live grants) "
            f"in {result['total_s']} s; head id {result['head_id']}\n"
        )
    return 0
