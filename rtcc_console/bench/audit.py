"""``rtcc bench audit --json``: the audit viewer and the transparency report at scale.

Measured in one run on one database (seeded to ``--entries`` with ``rtcc seed audit`` when
it holds fewer):

* **first filtered page at the API** (``GET /api/v1/audit?<filter>&limit=100`` over real
  HTTP to an embedded server: sign-in check, the viewing's own audit row, the keyset query,
  JSON) against a **plain indexed** ``SELECT * ... WHERE <filter> ORDER BY id DESC LIMIT
  100`` on the same database; target <= 300 ms at 1,000,000 entries;
* **full chain verification** (the verifier of ``rtcc audit verify`` and of the
  ``POST /audit/verify`` job) in entries per second, against hashing the same canonical
  bytes with ``hashlib.sha256`` alone;
* **transparency report for a year** (figures + charts + HTML + PDF); target <= 10 s.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests

from rtcc_console.bench.common import emit, machine_info
from rtcc_console.config import ServerSettings
from rtcc_console.core.models import utcnow

PASSWORD = "bench supervisor password"
FILTERS: list[tuple[str, str]] = [
    ("user", "analyst07"),
    ("action", "footage_request.created"),
    ("camera", ""),
    ("call", ""),
    ("case", ""),
]


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 2),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 2),
        "max_ms": round(ordered[-1], 2),
        "n": len(ordered),
    }


def run(db_url: str, *, entries: int, repeat: int, report_pdf: bool) -> dict[str, Any]:
    from rtcc_console.server import transparency
    from rtcc_console.server.audit import keyring_of, row_bytes, walk_chain
    from rtcc_console.server.database import Database
    from rtcc_console.server.embedded import EmbeddedServer
    from rtcc_console.sim.seed import generate_registry, seed_database, split_counts
    from rtcc_console.sim.seed_audit import seed_audit
    from rtcc_console.store import audit_log, migrate

    settings = ServerSettings(
        db_url=db_url,
        dev_mode=True,
        port=0,
        mfa_required_roles=[],
        vehicle_index=False,
        audit_checkpoint_s=86400,
    )
    out: dict[str, Any] = {"bench": "audit", "machine": machine_info(), "db": db_url.split(":")[0]}
    seeded: dict[str, Any] = {}
    migrate.upgrade(
        db_url
    )  # seed before the server starts: one long write transaction would stall its housekeeping
    probe = Database(db_url)
    try:
        with probe.read() as s:
            have = audit_log.head_id(s)
            cameras = audit_log.camera_positions(s, ids=["cam-000001"])
    finally:
        probe.dispose()
    if not cameras:
        reg, integ = split_counts(2582)
        seeded["registry"] = seed_database(
            db_url, generate_registry(seed=1, n_registered=reg, n_integrated=integ)
        )
    if have < entries:
        seeded["audit"] = seed_audit(settings, entries=entries - have)
    out["seeded"] = seeded
    with EmbeddedServer(settings) as server:
        state = server.state
        with state.db.read() as s:
            out["entries"] = audit_log.head_id(s)
            sample = audit_log.page(s, query=audit_log.AuditQuery(action="live.grant"), limit=1)[0]
            case_row = audit_log.page(
                s, query=audit_log.AuditQuery(action="footage_request.created"), limit=1
            )[0]
            call_row = audit_log.page(
                s, query=audit_log.AuditQuery(action="call.acknowledged"), limit=1
            )[0]
        picked = {
            "camera": sample[0].targets.get("camera", ""),
            "case": case_row[0].targets.get("case", ""),
            "call": call_row[0].targets.get("call", ""),
        }
        filters = [(k, v or picked[k]) for k, v in FILTERS]
        server.ensure_user("benchsup", "supervisor", PASSWORD)
        http = requests.Session()
        token = http.post(
            f"{server.api_url}/auth/login",
            json={"username": "benchsup", "password": PASSWORD},
            timeout=30,
        ).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        pages: dict[str, Any] = {}
        for key, value in filters:
            api, plain, rows = [], [], 0
            for _ in range(repeat):  # interleaved: a noisy moment lands on both alike
                t0 = time.perf_counter()
                r = http.get(
                    f"{server.api_url}/audit", params={key: value, "limit": 100}, timeout=60
                )
                api.append((time.perf_counter() - t0) * 1000)
                r.raise_for_status()
                rows = len(r.json()["items"])
                t0 = time.perf_counter()
                with state.db.read() as s:
                    audit_log.reference_page(s, field=key, value=value, limit=100)
                plain.append((time.perf_counter() - t0) * 1000)
            pages[f"{key}={value}"] = {
                "rows": rows,
                "api": _ms(api),
                "plain_select": _ms(plain),
                "ratio_median": round(
                    statistics.median(api) / max(1e-6, statistics.median(plain)), 1
                ),
            }
        # a deep page: the 5,000th page of one user's entries costs what the first does
        r = http.get(
            f"{server.api_url}/audit",
            params={"user": "analyst07", "limit": 100, "before_id": out["entries"] // 2},
            timeout=60,
        )
        t0 = time.perf_counter()
        http.get(
            f"{server.api_url}/audit",
            params={"user": "analyst07", "limit": 100, "before_id": out["entries"] // 2},
            timeout=60,
        )
        out["deep_page_ms"] = round((time.perf_counter() - t0) * 1000, 2)
        out["first_page"] = pages
        worst = max(p["api"]["median_ms"] for p in pages.values())
        out["first_page_worst_median_ms"] = worst
        out["first_page_target_ms"] = 300

        # chain verification vs hashlib over the same bytes
        with state.db.read() as s:
            t0 = time.perf_counter()
            report = walk_chain(s, keyring=keyring_of(s), batch=5000)
            verify_s = time.perf_counter() - t0
        hash_s, hashed = 0.0, 0
        with state.db.read() as s:
            for rows_batch in audit_log.canonical_batches(s):
                blobs = [row_bytes(row) for row in rows_batch]
                t0 = time.perf_counter()
                for blob in blobs:
                    hashlib.sha256(blob).hexdigest()
                hash_s += time.perf_counter() - t0
                hashed += len(blobs)
        out["verify"] = {
            "entries": report.count,
            "intact": report.broken_id is None,
            "seconds": round(verify_s, 2),
            "rate_per_s": round(report.count / verify_s),
            "hashlib_only_rate_per_s": round(hashed / hash_s),
            "ratio": round((hashed / hash_s) / (report.count / verify_s), 1),
        }
        t0 = time.perf_counter()
        job = http.post(f"{server.api_url}/audit/verify", timeout=60).json()
        while job["status"] == "running":
            time.sleep(0.2)  # polling the job as the console does
            job = http.get(f"{server.api_url}/audit/verify/{job['id']}", timeout=60).json()
        out["verify_job_api"] = {
            "status": job["status"],
            "checked": job["checked"],
            "seconds": round(time.perf_counter() - t0, 2),
        }

        # transparency report for the past year
        end = utcnow()
        start = end - timedelta(days=365)
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            figures = transparency.collect(state.db, settings, start=start, end=end)
            t1 = time.perf_counter()
            drawn = transparency.charts(figures)
            html = transparency.render_html(figures, drawn)
            (Path(tmp) / "report.html").write_text(html, encoding="utf-8")
            t2 = time.perf_counter()
            if report_pdf:
                transparency.render_pdf(figures, drawn, Path(tmp) / "report.pdf")
            t3 = time.perf_counter()
        out["transparency_year"] = {
            "figures_s": round(t1 - t0, 2),
            "charts_html_s": round(t2 - t1, 2),
            "pdf_s": round(t3 - t2, 2),
            "total_s": round(t3 - t0, 2),
            "target_s": 10,
            "live_views_counted": sum(m["live_views"] for m in figures["months"]),
        }
    return out


def _human(r: dict[str, Any]) -> str:
    lines = [f"audit bench: {r['entries']:,} entries ({r['db']})"]
    for name, p in r["first_page"].items():
        lines.append(
            f"  first page {name:<40} API {p['api']['median_ms']:8.1f} ms   plain SELECT "
            f"{p['plain_select']['median_ms']:7.2f} ms   rows {p['rows']}"
        )
    v = r["verify"]
    lines.append(
        f"  verify: {v['rate_per_s']:,}/s (hashlib alone {v['hashlib_only_rate_per_s']:,}/s); "
        f"API job {r['verify_job_api']['seconds']} s"
    )
    lines.append(f"  transparency report for a year: {r['transparency_year']['total_s']} s")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="rtcc bench audit",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--db", default=None, help="database URL (default: a new SQLite file in a temporary folder)"
    )
    p.add_argument(
        "--entries", type=int, default=100_000, help="seed the trail up to this many entries"
    )
    p.add_argument("--repeat", type=int, default=15, help="timed first pages per filter")
    p.add_argument("--no-pdf", action="store_true", help="skip the PDF in the report timing")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rtcc-bench-audit-") as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'audit.sqlite'}"
        result = run(
            url, entries=args.entries, repeat=max(3, args.repeat), report_pdf=not args.no_pdf
        )
    emit(result, as_json=args.json, human=_human)
    return 0
