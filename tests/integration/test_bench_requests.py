"""`rtcc bench requests` runs end to end and prints one JSON object.

Speed is not asserted (the machine is shared; figures live in the benchmark's JSON). What is
asserted: every owner in the area got an item and a queued e-mail, and the delivery rounds
really delivered (the bench checks the SMTP server's own count and exits non-zero if not).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.slow]


def test_cli_prints_one_json_object_with_both_rates() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "rtcc_console.cli",
            "bench",
            "requests",
            "--owners",
            "300",
            "--messages",
            "40",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["bench"] == "requests" and len(result["runs"]) == 1
    run = result["runs"][0]
    assert (
        run["backend"] == "sqlite"
        and run["owners"] == run["items"] == run["emails_enqueued"] == 300
    )
    assert run["create_s"] > 0 and len(run["create_s_runs"]) == 3
    d = run["delivery"]
    assert d["messages_per_round"] == 40 and d["rounds"] == 5
    assert len(d["outbox_msgs_per_s"]) == len(d["bare_smtplib_msgs_per_s"]) == 5
    assert all(r > 0 for r in d["outbox_msgs_per_s"] + d["bare_smtplib_msgs_per_s"])
    assert d["delivery_ratio"] > 0 and d["message_bytes"] > 1000
