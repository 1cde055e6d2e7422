"""`rtcc bench nearest` runs end to end, prints one JSON object and is exact.

Speed is not asserted here (the machine is shared); the benchmark's JSON is where figures
live. Exactness is: the index must return the brute-force set for every checked query.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rtcc_console.bench import nearest as bench

SUMMARY_KEYS = {"n", "p50_us", "p90_us", "p99_us", "max_us", "mean_us"}


def test_cli_prints_one_exact_json_object() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "rtcc_console.cli",
            "bench",
            "nearest",
            "--cameras",
            "20000",
            "--queries",
            "200",
            "--seed",
            "5",
            "--rounds",
            "2",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)  # exactly one JSON document, nothing else on stdout
    assert result["benchmark"] == "nearest"
    assert (result["cameras"], result["queries"], result["seed"]) == (20000, 200, 5)
    assert (result["k"], result["radius_m"]) == (10, 300.0)
    for key in ("knn", "radius"):
        for path in ("fast_path", "public"):
            s = result["index"][key][path]
            assert set(s) == SUMMARY_KEYS | {"rounds", "p99_by_round_us"}
            assert s["n"] == 200 * 2 and len(s["p99_by_round_us"]) == s["rounds"] == 2
            assert 0 < s["p50_us"] <= s["p99_us"] <= s["max_us"]
        assert set(result["reference"][key]) == SUMMARY_KEYS
    assert result["reference"]["queries"] == result["exactness"]["checked_queries"] == 200
    assert result["exactness"]["knn"] == 1.0
    assert result["exactness"]["knn_public"] == 1.0
    assert result["exactness"]["radius"] == 1.0
    assert result["index"]["radius"]["mean_hits"] > 0  # the radius query finds something
    assert result["index"]["build_s"] >= 0 and result["postgis"] is None


def test_bad_arguments_fail_clearly() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "rtcc_console.cli", "bench", "nearest", "--cameras", "5"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 2
    assert "--cameras must be at least 11" in out.stderr
    with pytest.raises(ValueError, match="--queries"):
        bench.run_benchmark(cameras=100, queries=0)


def test_exactness_detects_a_wrong_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guard against an exactness figure that cannot fail: drop one result per query."""
    original = bench.CameraIndex.nearest_ids

    def off_by_one(self, lat, lon, k, **kw):  # type: ignore[no-untyped-def]
        ids, dist = original(self, lat, lon, k + 1, **kw)
        return ids[1:], dist[1:]

    monkeypatch.setattr(bench.CameraIndex, "nearest_ids", off_by_one)
    result = bench.run_benchmark(cameras=2000, queries=20, seed=3)
    assert result["exactness"]["knn"] == 0.0
    assert result["exactness"]["radius"] == 1.0


@pytest.mark.postgres
def test_postgis_comparison_is_exact(pg_url: str) -> None:
    result = bench.run_benchmark(cameras=20000, queries=100, seed=9, postgis_url=pg_url)
    pg = result["postgis"]
    assert pg["exactness"]["checked_queries"] == 100
    assert pg["exactness"]["knn"] == 1.0
    assert pg["exactness"]["radius"] == 1.0  # spherical ST_DWithin agrees with haversine
    assert pg["knn"]["n"] == pg["radius"]["n"] == 100 * 3  # three rounds by default
    assert set(pg["speedup_vs_index_public"]) == {"knn_p50", "knn_p99", "radius_p50", "radius_p99"}
    assert result["exactness"]["knn"] == 1.0


def test_unreachable_postgis_is_a_clear_error_without_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = "postgresql://rtcc:hunter2secret@127.0.0.1:1/rtcc"  # port 1: refused on loopback
    rc = bench.main(["--cameras", "1000", "--queries", "10", "--postgis", url, "--json"])
    out = capsys.readouterr()
    assert rc == 2
    assert "cannot use PostGIS at postgresql://127.0.0.1:1/rtcc" in out.err
    assert "hunter2secret" not in out.err + out.out
    assert out.out == ""  # no half-written JSON
