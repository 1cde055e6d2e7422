"""The owner portal in ``rtcc demo``: a demo school with a portal account (e-mail and
password printed by the demo) whose alarm panel presses the panic button now and then
(signed ``POST /api/v1/panic``, as a real panel would); each emergency times out by itself.
``alarm_panel_key`` and ``press_alarm_panel`` give any business or school site such a panel
(the demo's featured robbery starts with one).
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)
DEMO_SCHOOL_EMAIL = "principal@school.demo"


def alarm_panel_key(server: Any, owner_id: str, label: str = "demo alarm panel") -> tuple[str, str]:
    """A new alarm-panel key for ``owner_id``'s site: (key id, secret), as the portal makes."""
    from rtcc_console.server.portal.accounts import site_key_secret
    from rtcc_console.store import portal as store

    state = server.state
    with state.db.write() as session:
        key = store.create_site_key(session, owner_id=owner_id, label=label)
    return key.id, site_key_secret(state, key_id=key.id, nonce=key.nonce)


def press_alarm_panel(
    base_url: str,
    key_id: str,
    secret: str,
    *,
    level: int,
    location: str,
    description: str,
) -> bool:
    """One signed alarm-panel panic (``POST /api/v1/panic``); True when the server accepted it."""
    import requests

    from rtcc_console.server.portal.panic import signature

    body = json.dumps(
        {"alarm_level": level, "location": location, "description": description}
    ).encode()
    stamp = str(int(time.time()))
    try:
        reply = requests.post(
            f"{base_url}/api/v1/panic",
            data=body,
            timeout=10,
            headers={
                "Content-Type": "application/json",
                "X-RTCC-Key": key_id,
                "X-RTCC-Timestamp": stamp,
                "X-RTCC-Signature": signature(secret, stamp, body),
            },
        )
    except requests.RequestException as exc:
        log.warning("demo alarm panel: panic not sent: %s", exc)
        return False
    if reply.status_code == 201:
        return True
    log.warning("demo alarm panel: panic refused: %s %s", reply.status_code, reply.text[:200])
    return False


@dataclass(eq=False)  # a thread: identity, not value equality
class DemoSchool(threading.Thread):
    """Set up the school (account, cameras, panel key) at once; then press now and then."""

    server: Any
    seed: int = 1
    interval_s: tuple[float, float] = (120.0, 240.0)
    first_after_s: float = 45.0
    panic_duration_s: int = 90
    avoid: tuple[float, float] | None = None  # keep the featured call's live cameras as they are
    password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    presses: int = 0
    _halt: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        threading.Thread.__init__(self, name="demo-school-panic", daemon=True)
        self.rng = random.Random(self.seed)
        self.key_id, self.secret = self._setup()

    @property
    def portal_url(self) -> str:
        return f"{self.server.base_url}/portal/"

    def _setup(self) -> tuple[str, str]:
        from sqlalchemy import select

        from rtcc_console.server import camera_store as cams
        from rtcc_console.server.portal.accounts import PortalSettings, site_key_secret
        from rtcc_console.store import portal as store
        from rtcc_console.store.schema import CameraRow

        state = self.server.state
        state.extras["portal_settings"] = PortalSettings(panic_duration_s=self.panic_duration_s)
        with state.db.write() as session:
            account = store.account_by_email(session, email=DEMO_SCHOOL_EMAIL)
            if account is None:
                account = store.create_account(
                    session,
                    name="Lakewood Elementary School",
                    kind="school",
                    email=DEMO_SCHOOL_EMAIL,
                    password_hash=state.passwords.hash(self.password),
                )
                assert account is not None
                store.mark_verified(session, account_id=account.id)
                rows = list(
                    session.scalars(
                        select(CameraRow)
                        .where(CameraRow.tier == "integrated", CameraRow.deleted.is_(False))
                        .order_by(CameraRow.id)
                    ).all()
                )
                if self.avoid is not None:  # the two farthest from the featured call
                    lat, lon = self.avoid
                    rows.sort(key=lambda r: -((r.lat - lat) ** 2 + (r.lon - lon) ** 2))
                rows = rows[:2]
                for row in rows:  # the school's two cameras: live only in an emergency
                    cams.update_camera(
                        session,
                        row=row,
                        changes={
                            "owner_id": account.owner_id,
                            "kind": "school",
                            "sharing_mode": "live_in_emergency",
                        },
                    )
            key = store.create_site_key(
                session, owner_id=account.owner_id, label="demo alarm panel"
            )
        return key.id, site_key_secret(state, key_id=key.id, nonce=key.nonce)

    def press(self, level: int = 3) -> bool:
        """One signed alarm-panel panic; True when the server accepted it."""
        pressed = press_alarm_panel(
            self.server.base_url,
            self.key_id,
            self.secret,
            level=level,
            location="Main office",
            description="Hold-up button pressed (demo)",
        )
        self.presses += int(pressed)
        return pressed

    def run(self) -> None:
        if self._halt.wait(self.first_after_s):
            return
        while True:
            self.press(self.rng.choice([2, 3, 4]))
            if self._halt.wait(self.panic_duration_s + self.rng.uniform(*self.interval_s)):
                return

    def stop(self) -> None:
        self._halt.set()
