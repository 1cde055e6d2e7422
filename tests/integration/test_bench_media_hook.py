"""``rtcc bench media-hook`` runs end to end (tiny sizes; no timing asserted)."""

from __future__ import annotations

from rtcc_console.bench.media_hook import run


def test_bench_media_hook_reports_hook_reference_and_sign_out() -> None:
    out = run(calls=20, signouts=2)  # the bench itself asserts 200 before and 401 after sign-out
    assert out["hook_allowed"]["n"] == 20 and out["health_reference"]["n"] == 20
    assert out["sign_out_to_refused"]["n"] == 2 and out["hook_over_health_p50"] > 0
    assert out["machine"]["cpus"] >= 1
