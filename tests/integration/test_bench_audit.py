"""`rtcc seed audit` appends a valid chain; `rtcc bench audit` runs end to end and prints one
JSON object. Speed is not asserted (the machine is shared; figures live in the JSON)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rtcc_console.config import ServerSettings
from rtcc_console.server.audit import keyring_of, row_bytes
from rtcc_console.server.audit_checkpoints import install_audit_keys
from rtcc_console.server.cli import audit_main
from rtcc_console.server.database import Database
from rtcc_console.sim.seed_audit import seed_audit
from rtcc_console.store import audit_log

pytestmark = [pytest.mark.slow]


def test_seeded_trail_continues_the_chain_and_verifies(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.sqlite'}"
    settings = ServerSettings(db_url=url, dev_mode=True, migrate_on_start=False)
    first = seed_audit(settings, entries=1500, seed=3)
    second = seed_audit(settings, entries=700, seed=4)  # continues the chain
    assert first["head_id"] == 1500 and second["head_id"] == 2200
    assert audit_main(["verify", "--db", url]) == 0
    db = Database(url)
    try:
        ring = install_audit_keys(
            secret=settings.secret_key.get_secret_value(), key_file=None, engine=db.engine
        )
        with db.read() as s:
            assert keyring_of(s) is ring
            rows, _ = audit_log.page(s, query=audit_log.AuditQuery(), limit=50)
            assert {r.action for r in rows} > {"live.grant"} and all(r.username for r in rows)
            assert all(ring.mac(r.key_id, row_bytes(r)) == r.hash for r in rows if r.key_id)
    finally:
        db.dispose()


def test_bench_prints_one_json_object(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "rtcc_console.cli",
            "bench",
            "audit",
            "--entries",
            "3000",
            "--repeat",
            "3",
            "--db",
            f"sqlite:///{tmp_path / 'b.sqlite'}",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout)
    assert result["bench"] == "audit" and result["entries"] >= 3000
    assert (
        result["verify"]["intact"]
        and result["verify"]["entries"] >= 3000
        and result["verify_job_api"]["status"] == "intact"
    )
    pages = result["first_page"]
    assert len(pages) == 5 and pages["user=analyst07"]["rows"] > 0
    assert all(
        p["api"]["median_ms"] > 0 and p["plain_select"]["median_ms"] > 0 for p in pages.values()
    )
    assert (
        result["transparency_year"]["live_views_counted"] > 0
        and result["transparency_year"]["pdf_s"] > 0
    )
