"""Helpers for the footage-request console tests: owners with cameras seeded in the real
server's database; settings for the real SMTP server (``sim.smtp_sink``, aiosmtpd) on loopback."""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from rtcc_console.sim.smtp_sink import SmtpSink

if TYPE_CHECKING:
    from tests.gui.conftest import ConsoleServer

# A quiet corner away from the seeded registry's cameras (which cluster over Dallas).
SPOT = (32.7300, -96.9400)


def smtp_settings(sink: SmtpSink) -> dict[str, Any]:
    """Server settings that send owner e-mail to ``sink`` (plain SMTP on loopback)."""
    return {
        "smtp_host": sink.host,
        "smtp_port": sink.port,
        "smtp_security": "none",
        "smtp_from": "requests@rtcc.example.org",
        "mail_poll_s": 0.2,
    }


def text_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def link_token(msg: EmailMessage) -> str:
    m = re.search(r"/portal/requests/([A-Za-z0-9_\-]+)", text_of(msg))
    assert m, text_of(msg)
    return m.group(1)


def seed_owner(
    server: ConsoleServer,
    owner_id: str,
    *,
    kind: str = "residential",
    email_addr: str | None,
    lat: float,
    lon: float,
    accepts: bool = True,
    cameras: int = 1,
) -> list[str]:
    """One owner and its registered cameras, written through the store's repositories."""
    from rtcc_console.core.models import Camera, CameraKind, GeoPoint, Owner, SharingMode, Tier
    from rtcc_console.store.cameras import save_camera
    from rtcc_console.store.owners import save_owner

    ids = [f"cam-{owner_id}-{i + 1}" for i in range(cameras)]
    with server.embedded.state.db.write() as session:
        save_owner(
            session,
            owner=Owner(
                id=owner_id,
                name=f"Owner {owner_id}",
                kind=CameraKind(kind),
                email=email_addr,
                accepts_requests=accepts,
            ),
        )
        for i, cam_id in enumerate(ids):
            save_camera(
                session,
                camera=Camera(
                    id=cam_id,
                    name=f"{owner_id} camera {i + 1}",
                    tier=Tier.REGISTERED,
                    location=GeoPoint(lat + i * 0.00005, lon),
                    kind=CameraKind(kind),
                    sharing_mode=SharingMode.REQUEST_ONLY,
                    address=f"{i + 1} Test St",
                    owner_id=owner_id,
                ),
            )
    return ids
