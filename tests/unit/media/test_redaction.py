"""No stream password reaches a log line or ``stats().error``, whatever fails."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator

import pytest

from rtcc_console.media.feed import FeedOptions, FeedState, FeedWorker
from rtcc_console.media.sources import redact, redact_text

SECRET = "s3cretPW"
FAST = FeedOptions(
    open_timeout_s=2.0,
    read_timeout_s=1.0,
    backoff_initial_s=0.05,
    backoff_max_s=0.2,
    max_attempts=2,
)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def refusing_http() -> Iterator[int]:
    """An HTTP server that answers 401 quoting the request line (and so the URL path)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(0.2)
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(4096)
                    conn.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield int(srv.getsockname()[1])
    done.set()
    t.join(2)
    srv.close()


def test_redact_helpers() -> None:
    assert SECRET not in redact(f"rtsp://admin:{SECRET}@10.0.0.1/stream")
    assert "10.0.0.1" in redact(f"rtsp://admin:{SECRET}@10.0.0.1/stream")
    msg = f"Connection to tcp://admin:{SECRET}@10.0.0.1:554 refused"
    assert SECRET not in redact_text(msg, f"rtsp://admin:{SECRET}@10.0.0.1/x")


def _run_until_failed(url: str) -> tuple[FeedWorker, list[str]]:
    seen: list[str] = []
    done = threading.Event()

    def on_state(stats: object) -> None:
        seen.append(repr(stats))
        if getattr(stats, "state", None) is FeedState.FAILED:
            done.set()

    w = FeedWorker(url, name="cam", out_size=(64, 36), options=FAST, on_state=on_state)
    assert SECRET not in w.redacted_url
    w.start()
    assert done.wait(30), "the worker never gave up"
    w.stop()
    return w, seen


@pytest.mark.parametrize("scheme", ["rtsp", "http"])
def test_failing_worker_never_reveals_the_password(
    scheme: str, refusing_http: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    port = _closed_port() if scheme == "rtsp" else refusing_http
    url = f"{scheme}://user:{SECRET}@127.0.0.1:{port}/x"
    w, seen = _run_until_failed(url)
    stats = w.stats()
    assert stats.error, "a failure must say why"
    assert SECRET not in stats.error
    assert all(SECRET not in s for s in seen)
    lines = [r.getMessage() for r in caplog.records]
    assert any("127.0.0.1" in line for line in lines)  # it did log about this camera
    assert all(SECRET not in line for line in lines)
    assert SECRET not in caplog.text
