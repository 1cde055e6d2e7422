"""Helpers shared by the ``rtcc bench ...`` benchmarks: timing loops, percentiles, and the
machine description every JSON result carries (the machine is shared and noisy, so a
figure without its context is not worth much)."""

from __future__ import annotations

import gc
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def time_calls_us(fn: Callable[..., object], args: Sequence[tuple[Any, ...]]) -> np.ndarray:
    """Call ``fn(*a)`` for each ``a`` and return each call's wall time in microseconds.

    A full garbage collection runs first so that earlier allocations (e.g. building a
    1,000,000-point index) do not land a collection pause inside the measured calls.
    """
    gc.collect()
    out = np.empty(len(args))
    clock = time.perf_counter_ns
    for i, a in enumerate(args):
        t0 = clock()
        fn(*a)
        out[i] = clock() - t0
    return out / 1000.0


def summary_us(samples_us: np.ndarray) -> dict[str, float | int]:
    """p50/p90/p99/max/mean of a sample of microsecond timings, rounded for JSON."""
    if len(samples_us) == 0:
        return {"n": 0}
    p50, p90, p99 = np.percentile(samples_us, [50, 90, 99])
    return {
        "n": len(samples_us),
        "p50_us": round(float(p50), 1),
        "p90_us": round(float(p90), 1),
        "p99_us": round(float(p99), 1),
        "max_us": round(float(samples_us.max()), 1),
        "mean_us": round(float(samples_us.mean()), 1),
    }


def machine_info() -> dict[str, Any]:
    """What the figures were measured on (CPU count and load matter on a shared box)."""
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = []
    return {
        "cpus": os.cpu_count(),
        "load_avg_1_5_15": load,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def emit(result: dict[str, Any], *, as_json: bool, human: Callable[[dict[str, Any]], str]) -> None:
    """Print exactly one JSON object (``--json``) or a human summary."""
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2, sort_keys=False) + "\n")
    else:
        sys.stdout.write(human(result) + "\n")
    sys.stdout.flush()


def time_rounds_us(
    cases: dict[str, tuple[Callable[..., object], Sequence[tuple[Any, ...]]]], rounds: int
) -> dict[str, list[np.ndarray]]:
    """Time every case ``rounds`` times, interleaving the cases round by round so that a
    noisy spell on the shared machine lands on all of them alike rather than on one."""
    out: dict[str, list[np.ndarray]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, (fn, args) in cases.items():
            out[name].append(time_calls_us(fn, args))
    return out


def summary_rounds_us(samples: list[np.ndarray]) -> dict[str, Any]:
    """:func:`summary_us` over all rounds pooled, plus each round's p99 (how noisy it was)."""
    pooled: dict[str, Any] = dict(summary_us(np.concatenate(samples)))
    pooled["rounds"] = len(samples)
    pooled["p99_by_round_us"] = [round(float(np.percentile(s, 99)), 1) for s in samples]
    return pooled
