"""A real SMTP server on loopback that keeps what it receives (aiosmtpd).

Used by the tests and ``rtcc bench requests`` in place of an agency's mail relay: it speaks
real SMTP (EHLO, MAIL, RCPT, DATA) on a real socket, so the outbox sender is exercised
exactly as in production. ``refuse`` makes chosen recipients fail with a permanent 550,
like a mailbox that does not exist; ``defer`` makes them fail with a temporary 450, like a
greylisting relay.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    def message(self) -> EmailMessage:
        msg = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class _Handler:
    refuse: set[str] = field(default_factory=set)
    defer: set[str] = field(default_factory=set)
    keep: bool = True
    delay_s: float = 0.0
    messages: list[Received] = field(default_factory=list)
    count: int = 0
    started: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.arrived = threading.Condition(self.lock)

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address.lower() in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if address.lower() in self.defer:
            return f"450 4.2.0 <{address}>: Recipient address rejected: Greylisted, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        with self.arrived:
            self.started += 1
            self.arrived.notify_all()
        if self.delay_s > 0:
            await asyncio.sleep(self.delay_s)
            transport = server.transport
            if transport is None or transport.is_closing():
                # the client vanished before we could confirm: not accepted (it will retry)
                return "451 4.3.0 connection lost before the message was accepted"
        with self.arrived:
            self.count += 1
            if self.keep:
                self.messages.append(
                    Received(str(envelope.mail_from), list(envelope.rcpt_tos), bytes(content))
                )
            self.arrived.notify_all()
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpSink:
    """Start with :meth:`start` (or as a context manager); read :attr:`messages`."""

    def __init__(
        self,
        *,
        refuse: set[str] | None = None,
        defer: set[str] | None = None,
        keep: bool = True,
        port: int = 0,
        delay_s: float = 0.0,
    ) -> None:
        self.handler = _Handler(
            refuse={a.lower() for a in (refuse or set())},
            defer={a.lower() for a in (defer or set())},
            keep=keep,
            delay_s=delay_s,
        )
        self.port = port or _free_port()
        self.host = "127.0.0.1"
        self._controller = Controller(
            self.handler, hostname=self.host, port=self.port, data_size_limit=10 * 1024 * 1024
        )

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def messages(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.messages)

    @property
    def count(self) -> int:
        with self.handler.lock:
            return self.handler.count

    @property
    def started(self) -> int:
        """DATA transactions begun (a message that is on the wire counts here first)."""
        with self.handler.lock:
            return self.handler.started

    def wait_for_started(self, n: int, timeout: float = 20.0) -> bool:
        with self.handler.arrived:
            return self.handler.arrived.wait_for(lambda: self.handler.started >= n, timeout)

    def wait_for(self, n: int, timeout: float = 20.0) -> bool:
        """Block until at least ``n`` messages arrived (False on timeout)."""
        with self.handler.arrived:
            return self.handler.arrived.wait_for(lambda: self.handler.count >= n, timeout)


class SinkProcess:
    """The same sink in its own process (own GIL), driven over stdin/stdout.

    Benchmarks use it so that the SMTP server does not compete with the sender for one
    interpreter lock, as a real mail relay would not.
    """

    def __init__(self, *, delay_s: float = 0.0) -> None:
        import subprocess
        import sys

        self.host = "127.0.0.1"
        self.port = _free_port()
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rtcc_console.sim.smtp_sink",
                "--port",
                str(self.port),
                "--delay",
                str(delay_s),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"SMTP sink did not start: {line!r}")

    def _ask(self, command: str) -> str:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(command + "\n")
        self._proc.stdin.flush()
        return self._proc.stdout.readline().strip()

    @property
    def count(self) -> int:
        return int(self._ask("count"))

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._ask("quit")
            self._proc.wait(10)

    def __enter__(self) -> SinkProcess:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """``python -m rtcc_console.sim.smtp_sink --port N``: serve until 'quit' on stdin."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="loopback SMTP sink (counts messages)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args(argv)
    with SmtpSink(port=args.port, keep=False, delay_s=args.delay) as sink:
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        for line in sys.stdin:
            command = line.strip()
            if command == "count":
                sys.stdout.write(f"{sink.count}\n")
            elif command == "quit":
                sys.stdout.write("bye\n")
                sys.stdout.flush()
                break
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
