"""``rtcc bench edge``: what the server's edge checks (server/limits.py) cost per body.

For each body shape the check (size-independent rules: UTF-8, surrogates, NUL, depth) is
timed next to ``json.loads`` of the same bytes, measured in the same run: the route parses
every JSON body anyway, so the ratio says what the edge adds to a request. Shapes: one
simulated EIDO, a 300-call batch (~0.7 MB), and hostile 1 MB bodies built to be the worst
case for a scanner (escaped quotes, backslash runs, escaped emoji pairs, brackets).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import UTC, datetime
from typing import Any

from rtcc_console.bench.common import machine_info, summary_us, time_calls_us


def _bodies() -> dict[str, bytes]:
    from rtcc_console.sim.cad import generate_calls, simple_to_eido

    records = generate_calls(random.Random(1), 300, datetime(2026, 11, 21, tzinfo=UTC))
    mb = 1_000_000
    return {
        "one_eido": json.dumps(simple_to_eido(records[0])).encode(),
        "batch_300_eido": json.dumps({"items": [simple_to_eido(r) for r in records]}).encode(),
        "hostile_escaped_quotes_1mb": b'["' + b'\\"' * (mb // 2) + b'"]',
        "hostile_backslashes_1mb": b'["' + b"\\\\" * (mb // 2) + b'"]',
        "hostile_emoji_pairs_1mb": b'["' + b"\\ud83d\\ude00" * (mb // 12) + b'"]',
        "hostile_brackets_1mb": b"[" * (mb // 2) + b"]" * (mb // 2),
    }


def run(*, rounds: int) -> dict[str, Any]:
    from rtcc_console.server.limits import json_text_problem

    out: dict[str, Any] = {"bench": "edge", "rounds": rounds, "shapes": {}}
    for name, body in _bodies().items():
        n = rounds if len(body) > 100_000 else rounds * 100
        check = summary_us(time_calls_us(json_text_problem, [(body,)] * n))
        try:
            json.loads(body)
            parse: dict[str, Any] = summary_us(time_calls_us(json.loads, [(body,)] * n))
        except RecursionError:
            parse = {"n": 0, "note": "json.loads raises RecursionError on this body"}
        entry: dict[str, Any] = {
            "bytes": len(body),
            "refused": json_text_problem(body),
            "edge_check": check,
            "json_loads_reference": parse,
        }
        if parse.get("p50_us"):
            entry["check_over_parse_p50"] = round(
                float(check["p50_us"]) / float(parse["p50_us"]), 3
            )
        out["shapes"][name] = entry
    out["machine"] = machine_info()
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="rtcc bench edge", description=__doc__.split("\n")[0] if __doc__ else None
    )
    parser.add_argument(
        "--rounds", type=int, default=20, help="timed runs per large body (x100 for small ones)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object (the default output)"
    )
    args = parser.parse_args(argv)
    sys.stdout.write(
        json.dumps(run(rounds=max(1, args.rounds)), indent=None if args.json else 2) + "\n"
    )
    return 0
