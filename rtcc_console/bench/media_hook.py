"""``rtcc bench media-hook``: what the media relay's auth hook costs, and how fast a
sign-out closes the relay.

Real HTTP against an embedded server (SQLite, loopback, one keep-alive connection):

* ``hook_allowed``: ``POST /media/auth`` with a valid grant secret: grant lookup plus the
  check that the grant's session is still open;
* ``health_reference``: ``GET /health`` on the same server and connection, measured in
  the same run: the cost of the HTTP round trip itself, so the ratio is what the hook's
  checks add;
* ``sign_out_to_refused``: from sending ``POST /auth/logout`` to the relay's first refused
  hook call (a fresh session and grant each round).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from rtcc_console.bench.common import machine_info, summary_us

_PASSWORD = "bench-password-0123456789"


def run(*, calls: int, signouts: int) -> dict[str, Any]:
    import httpx

    from rtcc_console.config import ServerSettings
    from rtcc_console.server.embedded import EmbeddedServer

    with tempfile.TemporaryDirectory() as tmp:
        settings = ServerSettings(
            dev_mode=True,
            port=0,
            db_url=f"sqlite:///{Path(tmp) / 'bench.sqlite'}",
            argon2_time_cost=1,
            argon2_memory_kib=8,
            argon2_parallelism=1,
            mfa_required_roles=[],
            login_ip_max_failures=0,
        )
        server = EmbeddedServer(settings)
        server.start()
        try:
            server.ensure_user("bench-analyst", "analyst", _PASSWORD)
            server.ensure_user("bench-admin", "admin", _PASSWORD)
            with httpx.Client(base_url=server.api_url, timeout=10) as http:

                def sign_in(name: str) -> dict[str, str]:
                    r = http.post("/auth/login", json={"username": name, "password": _PASSWORD})
                    r.raise_for_status()
                    return {"Authorization": f"Bearer {r.json()['access_token']}"}

                admin = sign_in("bench-admin")
                http.post(
                    "/cameras",
                    headers=admin,
                    json={
                        "id": "cam-bench",
                        "name": "bench",
                        "tier": "integrated",
                        "kind": "business",
                        "sharing_mode": "live_always",
                        "lat": 32.78,
                        "lon": -96.8,
                        "stream_url": "rtsp://10.0.0.5/live",
                    },
                ).raise_for_status()

                def grant(headers: dict[str, str]) -> dict[str, Any]:
                    r = http.post(
                        "/cameras/cam-bench/live-grants", headers=headers, json={"reason": "bench"}
                    )
                    r.raise_for_status()
                    return {
                        "password": r.json()["token"],
                        "action": "read",
                        "path": "cam/cam-bench",
                    }

                hook_body = grant(sign_in("bench-analyst"))
                hook, health = np.empty(calls), np.empty(calls)
                for i in range(calls):  # interleaved: both see the same machine load
                    t0 = time.perf_counter_ns()
                    ok = http.post("/media/auth", json=hook_body).status_code
                    t1 = time.perf_counter_ns()
                    http.get("/health")
                    t2 = time.perf_counter_ns()
                    assert ok == 200, ok
                    hook[i], health[i] = (t1 - t0) / 1000, (t2 - t1) / 1000
                closing = np.empty(signouts)
                for i in range(signouts):
                    headers = sign_in("bench-analyst")
                    body = grant(headers)
                    t0 = time.perf_counter_ns()
                    http.post("/auth/logout", headers=headers).raise_for_status()
                    refused = http.post("/media/auth", json=body).status_code
                    closing[i] = (time.perf_counter_ns() - t0) / 1000
                    assert refused == 401, refused
        finally:
            server.stop()
    hook_s, health_s = summary_us(hook), summary_us(health)
    return {
        "bench": "media-hook",
        "hook_allowed": hook_s,
        "health_reference": health_s,
        "hook_over_health_p50": round(float(hook_s["p50_us"]) / float(health_s["p50_us"]), 2),
        "sign_out_to_refused": summary_us(closing),
        "machine": machine_info(),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="rtcc bench media-hook", description=__doc__.split("\n")[0] if __doc__ else None
    )
    parser.add_argument(
        "--calls", type=int, default=1000, help="hook calls (and as many /health references)"
    )
    parser.add_argument("--signouts", type=int, default=30, help="sign-out -> refused rounds")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object (the default output)"
    )
    args = parser.parse_args(argv)
    result = run(calls=max(10, args.calls), signouts=max(1, args.signouts))
    sys.stdout.write(json.dumps(result, indent=None if args.json else 2) + "\n")
    return 0
