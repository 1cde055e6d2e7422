"""``rtcc sim cad``: post simulated dispatch calls to ``POST /api/v1/calls``.

Delivery rules, because a CAD feed that drops or garbles calls is worse than none:

* Each call's body is serialised once; every retry sends the same bytes, so the server's
  idempotency (incident id + update time) sees a repeat, never a conflicting version.
* Calls go out in order. While the server is away (connection refused, timeouts, 5xx,
  429) the current call is retried with capped exponential backoff and jitter, honouring
  ``Retry-After``; later calls wait behind it in memory, none is dropped.
* A 4xx rejection (422 names the field) is logged and counted; retrying would not help.
* 401 with ``--username`` re-logs in once; with ``--token`` (or a second 401) it stops.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from rtcc_console.core.redact import RedactingFilter, redact_stream_url
from rtcc_console.sim.cad import generate_calls, simple_to_eido

log = logging.getLogger("rtcc.sim.cad")
CHUNK = 100  # calls generated at a time when running without --count
RETRY_STATUSES = {408, 425, 429, 500, 502, 503, 504}


class FatalPostError(RuntimeError):
    """The server refuses us in a way retrying cannot fix (bad token, wrong role)."""


@dataclass(frozen=True, slots=True)
class OutgoingCall:
    """One call ready to send: frozen bytes, when it is due (monotonic seconds)."""

    incident_id: str
    updated_at: str
    body: bytes
    content_type: str
    due: float = 0.0


@dataclass(slots=True)
class Tally:
    """What happened to the calls; printed as the summary."""

    created: int = 0
    updated: int = 0
    duplicate: int = 0
    rejected: int = 0
    retries: int = 0
    unsent: int = 0
    rejections: list[str] = field(default_factory=list)

    @property
    def delivered(self) -> int:
        return self.created + self.updated + self.duplicate

    def summary(self) -> str:
        return (
            f"delivered {self.delivered} (created {self.created}, updated {self.updated}, "
            f"duplicates {self.duplicate}); rejected {self.rejected}; retries {self.retries}; "
            f"unsent {self.unsent}"
        )


def api_base(server: str) -> str:
    """``http://host:8750`` or ``http://host:8750/api/v1`` -> the ``/api/v1`` base URL."""
    base = server.rstrip("/")
    return base if base.endswith("/api/v1") else base + "/api/v1"


def to_outgoing(record: dict[str, Any], fmt: str, due: float = 0.0) -> OutgoingCall:
    """Serialise a generated record once, as EIDO or the simple form."""
    if fmt == "eido":
        body, ctype = simple_to_eido(record), "application/emergency.eido+json"
    else:
        body, ctype = record, "application/json"
    data = json.dumps(body, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return OutgoingCall(record["incident_id"], record["updated_at"], data, ctype, due)


class CallPoster:
    """Delivers :class:`OutgoingCall` objects to one server, retrying until it answers."""

    def __init__(
        self,
        server: str,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        session: requests.Session | None = None,
        timeout_s: float = 10.0,
        max_backoff_s: float = 30.0,
        give_up_after_s: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        if token is None and (username is None or password is None):
            raise ValueError("give a token, or a username and password")
        self.base = api_base(server)
        self.token, self.username, self.password = token, username, password
        self.session = session or requests.Session()
        self.timeout_s, self.max_backoff_s = timeout_s, max_backoff_s
        self.give_up_after_s = give_up_after_s
        self.sleep, self.clock = sleep, clock
        self.rng = rng or random.Random()
        self.tally = Tally()

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        if retry_after and retry_after.strip().isdigit():
            return min(float(retry_after), self.max_backoff_s)
        return min(self.max_backoff_s, 0.25 * 2.0**attempt) * (0.5 + self.rng.random() / 2)

    def _waited_too_long(self, started: float) -> bool:
        return self.give_up_after_s is not None and self.clock() - started > self.give_up_after_s

    def login(self) -> None:
        """Exchange the username and password for a bearer token, retrying while unreachable."""
        started, attempt = self.clock(), 0
        while True:
            try:
                reply = self.session.post(
                    f"{self.base}/auth/login",
                    json={"username": self.username, "password": self.password},
                    timeout=self.timeout_s,
                )
            except requests.RequestException as exc:
                log.warning("login: server unreachable (%s); retrying", exc)
            else:
                if reply.status_code == 200:
                    self.token = str(reply.json()["access_token"])
                    return
                if reply.status_code not in RETRY_STATUSES:
                    raise FatalPostError(f"login refused ({reply.status_code}): {_detail(reply)}")
                log.warning("login: server answered %s; retrying", reply.status_code)
            if self._waited_too_long(started):
                raise FatalPostError("login: gave up waiting for the server")
            self.sleep(self._backoff(attempt, None))
            attempt += 1

    def deliver(self, call: OutgoingCall) -> bool:
        """Send one call until the server accepts or rejects it. False if we gave up."""
        if self.token is None:
            self.login()
        started, attempt, relogged = self.clock(), 0, False
        while True:
            retry_after: str | None = None
            try:
                reply = self.session.post(
                    f"{self.base}/calls",
                    data=call.body,
                    headers={
                        "Content-Type": call.content_type,
                        "Authorization": f"Bearer {self.token}",
                    },
                    timeout=self.timeout_s,
                )
            except requests.RequestException as exc:
                log.warning(
                    "%s: server unreachable (%s); will retry", call.incident_id, type(exc).__name__
                )
            else:
                if reply.status_code in (200, 201):
                    self._count_success(call, reply)
                    return True
                if reply.status_code == 401 and self.username and not relogged:
                    log.info("token expired or revoked; signing in again")
                    relogged = True
                    self.login()
                    continue
                if reply.status_code in (401, 403):
                    raise FatalPostError(
                        f"server refused us ({reply.status_code}): {_detail(reply)}"
                    )
                if reply.status_code not in RETRY_STATUSES:
                    self.tally.rejected += 1
                    message = f"{call.incident_id} @ {call.updated_at}: {reply.status_code} {_detail(reply)}"
                    self.tally.rejections.append(message)
                    log.error("rejected %s", message)
                    return True
                retry_after = reply.headers.get("Retry-After")
                log.warning(
                    "%s: server answered %s; will retry", call.incident_id, reply.status_code
                )
            if self._waited_too_long(started):
                return False
            self.tally.retries += 1
            self.sleep(self._backoff(attempt, retry_after))
            attempt += 1

    def _count_success(self, call: OutgoingCall, reply: requests.Response) -> None:
        try:
            payload = reply.json()
        except ValueError:
            payload = {}
        if not isinstance(payload, dict):
            payload = {}
        if payload.get("created") or (reply.status_code == 201 and "created" not in payload):
            self.tally.created += 1
        elif payload.get("updated"):
            self.tally.updated += 1
        else:
            self.tally.duplicate += 1
        log.debug("%s @ %s delivered (%s)", call.incident_id, call.updated_at, reply.status_code)

    def run(self, calls: Iterator[OutgoingCall], *, total: int | None = None) -> Tally:
        """Deliver ``calls`` in order, each no earlier than its ``due`` time."""
        sent = 0
        try:
            for call in calls:
                wait = call.due - self.clock()
                if wait > 0:
                    self.sleep(wait)
                if not self.deliver(call):
                    log.error(
                        "gave up on %s after %.0f s", call.incident_id, self.give_up_after_s or 0
                    )
                    break
                sent += 1
        finally:
            if total is not None:
                self.tally.unsent = total - sent
        return self.tally


def _detail(reply: requests.Response) -> str:
    try:
        payload = reply.json()
    except ValueError:
        return reply.text[:300]
    detail = payload.get("detail", payload) if isinstance(payload, dict) else payload
    return json.dumps(detail)[:300] if not isinstance(detail, str) else detail[:300]


def schedule(
    *,
    rng: random.Random,
    count: int | None,
    rate_per_min: float,
    fmt: str,
    now: datetime,
    start_mono: float,
) -> Iterator[OutgoingCall]:
    """Calls timed as a live feed: call i falls due when its update time arrives.

    With ``rate_per_min`` 0 the calls describe the hour before ``now`` and are all due at
    once (a backlog replay). Without ``count`` the feed runs until interrupted.
    """
    prefix = f"SIM-{now:%y%m%d%H%M%S}"
    if rate_per_min <= 0:
        for record in generate_calls(rng, count or 0, now, id_prefix=prefix):
            yield to_outgoing(record, fmt, start_mono)
        return
    chunk_index, remaining = 0, count
    while remaining is None or remaining > 0:
        size = CHUNK if remaining is None else min(CHUNK, remaining)
        span = timedelta(minutes=size / rate_per_min)
        chunk_end = now + timedelta(minutes=CHUNK * chunk_index / rate_per_min) + span
        records = generate_calls(
            rng, size, chunk_end, span=span, id_prefix=f"{prefix}-{chunk_index:03d}"
        )
        for record in records:
            offset = (datetime.fromisoformat(record["updated_at"]) - now).total_seconds()
            yield to_outgoing(record, fmt, start_mono + offset)
        chunk_index += 1
        if remaining is not None:
            remaining -= size


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rtcc sim cad", description="Post simulated dispatch calls."
    )
    parser.add_argument(
        "--server", required=True, help="server base URL, e.g. http://127.0.0.1:8750"
    )
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument(
        "--token",
        default=os.environ.get("RTCC_CAD_TOKEN"),
        help="bearer token of an analyst (CAD service) account; default $RTCC_CAD_TOKEN",
    )
    auth.add_argument("--username", help="sign in as this user; password read from stdin")
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    parser.add_argument(
        "--rate", type=float, default=6.0, help="calls per minute (0 = all at once)"
    )
    parser.add_argument(
        "--count",
        type=int,
        default=None,
        help="number of call records (default: run until stopped)",
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed for a repeatable feed")
    parser.add_argument("--format", choices=("eido", "simple"), default="eido")
    parser.add_argument(
        "--give-up-after",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop retrying one call after this long (default: never)",
    )
    parser.add_argument("--max-backoff", type=float, default=30.0, metavar="SECONDS")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser


def main(argv: list[str]) -> int:
    """Entry point of ``rtcc sim cad``; returns the process exit code."""
    args = _parser().parse_args(argv)
    if args.username:
        args.token = None  # an explicit sign-in wins over $RTCC_CAD_TOKEN
    elif not args.token:
        print(
            "rtcc sim cad: give --token (or $RTCC_CAD_TOKEN) or --username with --password-stdin",
            file=sys.stderr,
        )
        return 2
    if args.username and not args.password_stdin:
        print("rtcc sim cad: --username needs --password-stdin", file=sys.stderr)
        return 2
    if args.rate <= 0 and not args.count:
        print("rtcc sim cad: --rate 0 needs --count", file=sys.stderr)
        return 2
    if args.count is not None and args.count < 0:
        print("rtcc sim cad: --count must be >= 0", file=sys.stderr)
        return 2
    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[handler],
    )
    password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else None
    poster = CallPoster(
        args.server,
        token=args.token,
        username=args.username,
        password=password,
        max_backoff_s=args.max_backoff,
        give_up_after_s=args.give_up_after,
    )
    rng = random.Random(args.seed)
    calls = schedule(
        rng=rng,
        count=args.count,
        rate_per_min=args.rate,
        fmt=args.format,
        now=datetime.now(UTC),
        start_mono=time.monotonic(),
    )
    log.info(
        "posting %s calls to %s (%s, %.1f/min)",
        args.count or "endless",
        redact_stream_url(poster.base),
        args.format,
        args.rate,
    )
    code = 0
    try:
        poster.run(calls, total=args.count)
    except FatalPostError as exc:
        log.error("%s", exc)
        code = 2
    except KeyboardInterrupt:
        code = 130
    print(poster.tally.summary())
    return code
