"""Helpers for the footage-request console tests: owners with cameras seeded in the real
server's database, a real SMTP server (aiosmtpd) on loopback that keeps what it receives."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.gui.conftest import ConsoleServer

# A quiet corner away from the seeded registry's cameras (which cluster over Dallas).
SPOT = (32.7300, -96.9400)


@dataclass
class SmtpSink:
    """aiosmtpd ``Controller`` on 127.0.0.1 with a handler that stores each message."""

    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0
    controller: Any = None

    def start(self) -> SmtpSink:
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
                assert isinstance(msg, EmailMessage)
                with sink.lock:
                    sink.messages.append(msg)
                return "250 OK"

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()

    def received(self) -> list[EmailMessage]:
        with self.lock:
            return list(self.messages)

    def settings(self) -> dict[str, Any]:
        return {"smtp_host": "127.0.0.1", "smtp_port": self.port, "smtp_security": "none",
                "smtp_from": "requests@rtcc.example.org", "mail_poll_s": 0.2}  # fmt: skip


def text_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def link_token(msg: EmailMessage) -> str:
    m = re.search(r"/portal/requests/([A-Za-z0-9_\-]+)", text_of(msg))
    assert m, text_of(msg)
    return m.group(1)


def seed_owner(
    server: ConsoleServer, owner_id: str, *, kind: str = "residential", email_addr: str | None,
    lat: float, lon: float, accepts: bool = True, cameras: int = 1,
) -> list[str]:
    """One owner (in the store) and its registered cameras (through the admin API)."""
    from rtcc_console.core.models import CameraKind, Owner
    from rtcc_console.store.owners import save_owner

    with server.embedded.state.db.write() as session:
        save_owner(session, owner=Owner(id=owner_id, name=f"Owner {owner_id}", kind=CameraKind(kind),
                                        email=email_addr, accepts_requests=accepts))
    ids = []
    for i in range(cameras):
        cam = server.admin_post("/cameras", {
            "name": f"{owner_id} camera {i + 1}", "tier": "registered", "kind": kind,
            "sharing_mode": "request_only", "lat": lat + i * 0.00005, "lon": lon, "address": f"{i + 1} Test St",
            "owner_id": owner_id,
        })  # fmt: skip
        ids.append(str(cam["id"]))
    return ids
