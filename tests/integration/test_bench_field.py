"""``rtcc bench field`` runs end to end (two viewers, short windows; no speed asserted:
the targets are the bench's business, this checks the shape and that the figures are sane)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    not (shutil.which("chromium") and shutil.which("chromedriver")),
    reason="needs Debian chromium and chromium-driver (scripts/debian-packages.txt)",
)


def test_bench_field_prints_first_frame_delay_cpu_and_targets() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rtcc_console.cli", "bench", "field"]
        + ["--viewers", "2", "--seconds", "2", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1  # --json: one object on one line
    out = json.loads(lines[0])
    assert out["bench"] == "field" and out["viewers"] == 2
    # keyframe-cut segments of a 2 s GOP camera
    assert 1.0 <= out["segment_s"] <= 4.0
    # the browser showed a picture, after the share was made and within the bench's 30 s
    assert 0.2 < out["first_frame_s"] < 30
    delay = out["delay"]
    assert delay["n"] >= 10, "frames presented with a capture stamp"
    assert 0.0 < delay["min_s"] <= delay["p50_s"] <= delay["p95_s"] <= delay["max_s"] < 30
    cpu = out["cpu_pct_of_one_core"]
    assert cpu["decode_reference"] > 0  # the same stream decoded in the same run
    for key in ("server_idle", "server_with_the_browser", "server_one_viewer"):
        assert 0 <= cpu[key] < 200, key
    for key in ("server_all_viewers", "per_extra_viewer", "per_extra_viewer_whole_segments"):
        assert cpu[key] is not None, key
    viewers = out["extra_viewers"]
    assert viewers["parts_fetched"] >= 1 and viewers["segments_fetched"] >= 1
    assert viewers["errors"] == 0
    assert out["delay_without_parts"]["n"] >= 10
    targets = out["targets"]
    assert set(targets) == {"first_frame_s", "delay_p95_s", "cpu_per_extra_viewer_pct"}
    for t in targets.values():
        assert isinstance(t["pass"], bool) and t["limit"] > 0 and t["value"] is not None
    assert targets["delay_p95_s"]["limit"] == pytest.approx(2 * out["segment_s"] + 1.0, abs=0.01)
    assert out["machine"]["cpus"] >= 1
