"""`rtcc bench intake` runs end to end on a small load and accounts for every event."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_bench_intake_small_run_json() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "rtcc_console.cli",
            "bench",
            "intake",
            "--calls",
            "60",
            "--concurrency",
            "4",
            "--cameras",
            "300",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout)
    assert result["calls"] == 60 and result["cameras"] == 300
    assert set(result["http_statuses"]) <= {"200", "201"}
    assert result["events_missing"] == 0 and result["events_expected"] > 0
    assert (
        result["calls_per_s"] > 0
        and result["event_latency_after_answer"]["n"] == result["events_expected"]
    )
