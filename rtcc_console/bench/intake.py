"""``rtcc bench intake``: sustained call intake (calls/s) and event delivery latency.

Setup: a database (a temporary SQLite file unless ``--db``) seeded with the Connect
Dallas-shaped registry (2,582 cameras, ``sim.seed``), one analyst account, and an
``rtcc server`` subprocess on a loopback port (``--embedded`` runs it in this process
instead; then the load generator and the server share one GIL). The load: ``--calls``
EIDO documents from the CAD simulator (``sim.cad``: new incidents plus later status
updates), posted over real HTTP by ``--concurrency`` keep-alive clients, while one SSE
client listens on ``/events``.

Figures: calls/s over the whole run (first POST sent to last answer received); event
delivery latency per call = SSE arrival of the matching ``call.created``/``call.updated``
minus the moment its POST answer arrived (p50/p95/p99; negative values, events that beat
the HTTP answer, count as 0 and are reported), and the same measured from the POST's
start. Every call's event must arrive, otherwise the run reports what is missing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rtcc_console.bench.common import machine_info

PASSWORD = "bench password 0123"
FAST_HASH = {
    "RTCC_ARGON2_TIME_COST": "1",
    "RTCC_ARGON2_MEMORY_KIB": "1024",
    "RTCC_ARGON2_PARALLELISM": "1",
}


def _percentiles_ms(values: list[float]) -> dict[str, float | int]:
    if not values:
        return {"n": 0}
    arr = np.array(values) * 1000.0
    p50, p95, p99 = np.percentile(arr, [50, 95, 99])
    return {
        "n": len(values),
        "p50_ms": round(float(p50), 2),
        "p95_ms": round(float(p95), 2),
        "p99_ms": round(float(p99), 2),
        "max_ms": round(float(arr.max()), 2),
    }


def _prepare_db(url: str, cameras: int, seed: int) -> dict[str, Any]:
    from rtcc_console.sim.seed import generate_registry, seed_database, split_counts

    reg, integ = split_counts(cameras)
    info = seed_database(
        url, generate_registry(seed=seed, n_registered=reg, n_integrated=integ), replace=True
    )
    env = {**os.environ, **FAST_HASH}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "rtcc_console.cli",
            "user",
            "add",
            f"bench{seed}",
            "--role",
            "analyst",
            "--password-stdin",
            "--db",
            url,
        ],
        input=PASSWORD + "\n",
        text=True,
        capture_output=True,
        env=env,
        check=False,
        timeout=120,
    )
    return info


def _http_impl() -> str:
    from rtcc_console.server.embedded import _http_impl as impl

    return impl()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Server:
    """The server under test: a subprocess (default) or an EmbeddedServer."""

    def __init__(self, url: str, *, embedded: bool) -> None:
        self.url = url
        self.embedded = None
        self.proc: subprocess.Popen[bytes] | None = None
        if embedded:
            from rtcc_console.config import ServerSettings
            from rtcc_console.server.embedded import EmbeddedServer

            self.embedded = EmbeddedServer(ServerSettings(db_url=url, dev_mode=True, port=0))
            self.base = self.embedded.start()
            return
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("RTCC_")}
        env.update(FAST_HASH)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rtcc_console.cli",
                "server",
                "--dev",
                "--db",
                url,
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.base = f"http://127.0.0.1:{port}"
        import httpx

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    "server exited: "
                    + (self.proc.stderr.read().decode()[-2000:] if self.proc.stderr else "")
                )
            try:
                if httpx.get(self.base + "/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise TimeoutError("server did not become healthy")

    def cpu_s(self) -> float | None:
        """CPU seconds (user + system) the server process used so far (Linux /proc)."""
        pid = self.proc.pid if self.proc is not None else os.getpid()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _listen(
    base: str,
    token: str,
    arrivals: dict[tuple[str, str], float],
    ready: threading.Event,
    stop: threading.Event,
) -> None:
    import httpx

    try:
        with (
            httpx.Client(timeout=httpx.Timeout(10.0, read=None)) as client,
            client.stream(
                "GET", base + "/api/v1/events", headers={"Authorization": f"Bearer {token}"}
            ) as resp,
        ):
            ready.set()
            event = None
            for line in resp.iter_lines():
                now = time.perf_counter()
                if stop.is_set():
                    return
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event in ("call.created", "call.updated"):
                    call = json.loads(line[5:])["call"]
                    arrivals.setdefault((call["incident_id"], call["updated_at"]), now)
    except httpx.HTTPError:
        if not stop.is_set():
            raise


def _key(record: dict[str, Any]) -> tuple[str, str]:
    return record["incident_id"], datetime.fromisoformat(record["updated_at"]).astimezone(
        UTC
    ).isoformat()


def run(
    *, calls: int, db: str | None, concurrency: int, cameras: int, seed: int, embedded: bool
) -> dict[str, Any]:
    import httpx

    from rtcc_console.sim.cad import generate_calls, simple_to_eido

    tmp = None
    if db is None:
        tmp = tempfile.TemporaryDirectory(prefix="rtcc-bench-")
        db = f"sqlite:///{Path(tmp.name) / 'bench.sqlite'}"
    seed_info = _prepare_db(db, cameras, seed)
    records = generate_calls(random.Random(seed), calls, datetime.now(UTC))
    bodies = [(json.dumps(simple_to_eido(r)).encode(), _key(r)) for r in records]
    server = _Server(db, embedded=embedded)
    try:
        token = httpx.post(
            server.base + "/api/v1/auth/login",
            json={"username": f"bench{seed}", "password": PASSWORD},
        ).json()["access_token"]
        arrivals: dict[tuple[str, str], float] = {}
        ready, stop = threading.Event(), threading.Event()
        listener = threading.Thread(
            target=_listen, args=(server.base, token, arrivals, ready, stop), daemon=True
        )
        listener.start()
        ready.wait(30)
        answered: dict[tuple[str, str], tuple[float, float]] = {}
        statuses: dict[int, int] = {}
        local = threading.local()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/eido+json"}

        host, port = server.base.removeprefix("http://").rsplit(":", 1)

        def post(item: tuple[bytes, tuple[str, str]]) -> None:
            # http.client: the leanest keep-alive client, so the load generator leaves
            # the CPU to the server under test.
            conn = getattr(local, "conn", None)
            if conn is None:
                conn = local.conn = http.client.HTTPConnection(host, int(port), timeout=30)
            t0 = time.perf_counter()
            conn.request("POST", "/api/v1/calls", body=item[0], headers=headers)
            resp = conn.getresponse()
            payload = resp.read()
            t1 = time.perf_counter()
            statuses[resp.status] = statuses.get(resp.status, 0) + 1
            if resp.status in (200, 201):
                answer = json.loads(payload)
                if answer["created"] or answer["updated"]:
                    answered[item[1]] = (t0, t1)

        cpu0 = server.cpu_s()
        t_start = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(post, bodies))
        t_end = time.perf_counter()
        cpu1 = server.cpu_s()
        deadline = time.monotonic() + 10
        while len(arrivals) < len(answered) and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        from_answer, from_start, early = [], [], 0
        for key, (t0, t1) in answered.items():
            arrived = arrivals.get(key)
            if arrived is None:
                continue
            if arrived < t1:
                early += 1
            from_answer.append(max(0.0, arrived - t1))
            from_start.append(arrived - t0)
        duration = t_end - t_start
        return {
            "bench": "intake",
            "db": db.split(":", 1)[0],
            "server": "embedded" if embedded else "subprocess",
            "cameras": seed_info.get("cameras"),
            "calls": calls,
            "concurrency": concurrency,
            "http_statuses": {str(k): v for k, v in sorted(statuses.items())},
            "duration_s": round(duration, 3),
            "calls_per_s": round(calls / duration, 1),
            "server_cpu_ms_per_call": round((cpu1 - cpu0) * 1000 / calls, 3)
            if cpu0 is not None and cpu1 is not None
            else None,
            "events_received": len(arrivals),
            "http_impl": _http_impl(),
            "events_expected": len(answered),
            "events_missing": len(answered) - sum(1 for k in answered if k in arrivals),
            "events_before_http_answer": early,
            "event_latency_after_answer": _percentiles_ms(from_answer),
            "event_latency_from_request_start": _percentiles_ms(from_start),
            "machine": machine_info(),
        }
    finally:
        server.stop()
        if tmp is not None:
            tmp.cleanup()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="rtcc bench intake", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--calls", type=int, default=2000, help="EIDO calls to post (default 2000)")
    parser.add_argument(
        "--db", default=None, help="database URL (default: a temporary SQLite file)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=8, help="parallel HTTP clients (default 8)"
    )
    parser.add_argument(
        "--cameras", type=int, default=2582, help="registry size (default 2,582 = Connect Dallas)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--embedded", action="store_true", help="run the server in this process (shares the GIL)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.calls < 1 or args.concurrency < 1:
        parser.error("--calls and --concurrency must be positive")
    result = run(
        calls=args.calls,
        db=args.db,
        concurrency=args.concurrency,
        cameras=args.cameras,
        seed=args.seed,
        embedded=args.embedded,
    )
    if args.json:
        print(json.dumps(result))
    else:
        lat = result["event_latency_after_answer"]
        print(
            f"{result['calls_per_s']} calls/s ({result['calls']} calls, {result['concurrency']} clients, {result['db']}); "
            f"event p95 {lat.get('p95_ms')} ms after the HTTP answer; missing {result['events_missing']}"
        )
    return 0
