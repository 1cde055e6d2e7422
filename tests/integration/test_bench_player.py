"""`rtcc bench player` runs end to end and prints one JSON object (speed is not asserted:
the machine is shared; the figures live in the benchmark's output)."""

from __future__ import annotations

import json
import subprocess
import sys


def test_cli_prints_one_json_object_covering_every_frame() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "rtcc_console.cli",
            "bench",
            "player",
            "--seconds",
            "2",
            "--size",
            "320x180",
            "--gop",
            "15",
            "--out-size",
            "320x180",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["benchmark"] == "player"
    assert result["clip"]["frames"] == 30
    assert result["step_back_ms"]["n"] == 29  # every frame from the last back to the first
    for speed in ("1x", "8x"):
        play = result["playback"][speed]
        assert play["frames_delivered"] >= 1 and play["wall_s"] > 0
    assert set(result["targets"]) == {
        "step_back_p95_ms_max",
        "over_ideal_8x_max",
        "cpu_1x_vs_reference_max",
    }
    assert isinstance(result["targets_met"], bool)
