"""`rtcc bench vehicles` runs end to end on short clips and prints one JSON object.

Speed is not asserted here (the machine is shared; the figures live in the JSON). What is:
the structure, that decode-only and indexing were both measured on the same clips, that
the gate ran the model less on the still clip, and that it missed nothing the ungated run
found."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_cli_prints_one_json_object(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}  # fresh clips, rendered here
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "rtcc_console.cli",
            "bench",
            "vehicles",
            "--seconds",
            "10",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    assert result["benchmark"] == "vehicles" and set(result["clips"]) == {"busy", "still"}
    for clip in result["clips"].values():
        assert Path(clip["file"]).is_relative_to(tmp_path)
        assert clip["decode_only"]["frames"] == 150  # 10 s at 15 fps
        assert clip["decode_only"]["cpu_s"] > 0 and clip["gated"]["cpu_s"] > 0
        assert clip["gated"]["sampled_frames"] == 20 and clip["gate_missed"] == []
        assert 0 < clip["decode_share"] < 1
    still, busy = result["clips"]["still"], result["clips"]["busy"]
    assert still["gated"]["model_runs"] < still["ungated"]["model_runs"] == 20
    assert busy["ungated"]["ranges_by_label"]  # vehicles were found at all
    assert set(result["targets"]) >= {
        "still_ge_8_video_s_per_cpu_s",
        "busy_ge_4_video_s_per_cpu_s",
        "gate_misses_nothing",
    }
