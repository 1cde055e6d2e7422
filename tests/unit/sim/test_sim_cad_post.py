"""`rtcc sim cad` delivery against a tiny local HTTP stub: retries, order, no lost calls.

The stub stands in for the server's POST /api/v1/calls and /auth/login; the real server
is exercised in tests/integration/test_sim_cad.py.
"""

from __future__ import annotations

import io
import json
import random
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from rtcc_console.sim import cad_post
from rtcc_console.sim.cad import generate_calls
from rtcc_console.sim.cad_post import CallPoster, FatalPostError, schedule, to_outgoing

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


class Stub:
    """Scripted server: ``script`` holds actions for the next /calls requests."""

    def __init__(self) -> None:
        self.script: list[str] = []  # "503", "422", "drop", "401"; empty -> normal
        self.bodies: list[bytes] = []  # every /calls body received, in order
        self.accepted: dict[tuple[str, str], bytes] = {}
        self.logins = 0
        self.token = "tok-0"
        self.lock = threading.Lock()


def _handler(stub: Stub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _reply(self, code: int, payload: object, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with stub.lock:
                if self.path == "/api/v1/auth/login":
                    creds = json.loads(body)
                    if creds != {"username": "cad", "password": "s3cret-pw"}:
                        return self._reply(401, {"detail": "bad credentials"})
                    stub.logins += 1
                    stub.token = f"tok-{stub.logins}"
                    return self._reply(200, {"access_token": stub.token, "token_type": "bearer"})
                assert self.path == "/api/v1/calls"
                stub.bodies.append(body)
                action = stub.script.pop(0) if stub.script else ""
                if action == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return None
                if action == "503":
                    return self._reply(503, {"detail": "db busy"}, {"Retry-After": "1"})
                if action == "422":
                    return self._reply(422, {"detail": "priority: must be 1..9"})
                if action == "401" or self.headers.get("Authorization") != f"Bearer {stub.token}":
                    return self._reply(401, {"detail": "bad token"})
                doc = json.loads(body)
                key = _key(doc)
                if key in stub.accepted:
                    assert stub.accepted[key] == body, (
                        "same call posted twice with different content"
                    )
                    return self._reply(200, {"created": False, "updated": False})
                stub.accepted[key] = body
                return self._reply(201, {"created": True})

    return Handler


def _key(doc: dict[str, Any]) -> tuple[str, str]:
    if "incident_id" in doc:
        return doc["incident_id"], doc["updated_at"]
    return doc["$id"], doc["incidentComponent"]["lastUpdateTimeStamp"]


@pytest.fixture
def stub() -> Iterator[tuple[Stub, str]]:
    state = Stub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def _calls(n: int, fmt: str = "simple") -> list[cad_post.OutgoingCall]:
    return [to_outgoing(r, fmt) for r in generate_calls(random.Random(5), n, NOW)]


def _poster(url: str, fake: FakeTime, **kw: Any) -> CallPoster:
    kw.setdefault("token", "tok-0")
    return CallPoster(
        url, sleep=fake.sleep, clock=fake.clock, rng=random.Random(0), timeout_s=5, **kw
    )


def test_outages_are_retried_with_the_same_bytes_and_nothing_is_lost(
    stub: tuple[Stub, str],
) -> None:
    state, url = stub
    state.script = ["", "503", "drop", "503", "", "drop"]
    calls = _calls(8, "eido")
    fake = FakeTime()
    tally = _poster(url, fake).run(iter(calls), total=len(calls))
    assert tally.created == 8 and tally.rejected == 0 and tally.unsent == 0
    assert tally.retries == 4 and len(fake.sleeps) == 4
    assert fake.sleeps[0] == 1.0  # Retry-After honoured
    assert list(state.accepted.values()) == [c.body for c in calls]  # in order, each once
    assert set(state.bodies) == {c.body for c in calls}  # retries resent identical bytes


def test_server_that_is_not_up_yet_is_waited_for(stub: tuple[Stub, str]) -> None:
    state, url = stub
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    fake = FakeTime()
    poster = _poster(f"http://127.0.0.1:{dead_port}", fake)
    real_sleep = fake.sleep

    def sleep_then_fix_the_server(seconds: float) -> None:
        real_sleep(seconds)
        if len(fake.sleeps) == 3:  # the server "comes back" at a new address
            poster.base = cad_post.api_base(url)

    poster.sleep = sleep_then_fix_the_server
    tally = poster.run(iter(_calls(3)), total=3)
    assert (tally.created, tally.retries, tally.unsent) == (3, 3, 0)
    assert fake.sleeps == sorted(fake.sleeps[:3]) + fake.sleeps[3:]  # backoff grows


def test_rejected_call_is_counted_and_the_feed_goes_on(stub: tuple[Stub, str]) -> None:
    state, url = stub
    state.script = ["", "422"]
    tally = _poster(url, FakeTime()).run(iter(_calls(4)), total=4)
    assert (tally.created, tally.rejected, tally.unsent) == (3, 1, 0)
    assert "422" in tally.rejections[0] and "priority" in tally.rejections[0]


def test_resent_call_is_a_duplicate_not_a_new_call(stub: tuple[Stub, str]) -> None:
    state, url = stub
    calls = _calls(2)
    poster = _poster(url, FakeTime())
    poster.run(iter(calls + calls[:1]))
    assert (poster.tally.created, poster.tally.duplicate) == (2, 1)


def test_expired_token_signs_in_again_with_credentials(stub: tuple[Stub, str]) -> None:
    state, url = stub
    poster = _poster(url, FakeTime(), token=None, username="cad", password="s3cret-pw")
    poster.run(iter(_calls(2)))
    state.script = ["401"]
    poster.run(iter(_calls(4)[2:]))
    assert state.logins == 2 and poster.tally.created == 4


def test_refused_token_stops_and_counts_unsent(stub: tuple[Stub, str]) -> None:
    state, url = stub
    poster = _poster(url, FakeTime(), token="wrong")
    with pytest.raises(FatalPostError, match="401"):
        poster.run(iter(_calls(3)), total=3)
    assert poster.tally.unsent == 3 and state.accepted == {}


def test_give_up_after_leaves_the_rest_unsent(stub: tuple[Stub, str]) -> None:
    state, url = stub
    state.script = ["", "503"] + ["503"] * 50
    tally = _poster(url, FakeTime(), give_up_after_s=20).run(iter(_calls(5)), total=5)
    assert (tally.created, tally.unsent) == (1, 4)


def test_live_schedule_spaces_calls_at_the_rate() -> None:
    calls = list(
        schedule(
            rng=random.Random(1),
            count=250,
            rate_per_min=60,
            fmt="simple",
            now=NOW,
            start_mono=100.0,
        )
    )
    assert len(calls) == 250
    dues = [c.due for c in calls]
    assert dues == sorted(dues)
    assert dues[0] == pytest.approx(101.0) and dues[-1] == pytest.approx(350.0)
    assert len({(c.incident_id, c.updated_at) for c in calls}) == 250


def test_cli_posts_and_prints_a_summary(
    stub: tuple[Stub, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state, url = stub
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-pw\n"))
    code = cad_post.main(
        [
            "--server",
            url,
            "--username",
            "cad",
            "--password-stdin",
            "--rate",
            "0",
            "--count",
            "6",
            "--seed",
            "3",
            "--format",
            "eido",
        ]
    )
    out = capsys.readouterr()
    assert code == 0
    assert "delivered 6 (created" in out.out and "unsent 0" in out.out
    assert len(state.accepted) == 6
    assert "s3cret-pw" not in out.err


def test_cli_takes_the_token_from_the_environment(
    stub: tuple[Stub, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state, url = stub
    monkeypatch.setenv("RTCC_CAD_TOKEN", "tok-0")
    assert (
        cad_post.main(["--server", url, "--rate", "0", "--count", "2", "--format", "simple"]) == 0
    )
    assert len(state.accepted) == 2
    monkeypatch.delenv("RTCC_CAD_TOKEN")
    assert cad_post.main(["--server", url, "--rate", "0", "--count", "2"]) == 2
    assert "RTCC_CAD_TOKEN" in capsys.readouterr().err


def test_cli_refuses_inconsistent_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert cad_post.main(["--server", "http://x", "--token", "t", "--rate", "0"]) == 2
    assert "--rate 0 needs --count" in capsys.readouterr().err
    assert cad_post.main(["--server", "http://x", "--username", "u"]) == 2
