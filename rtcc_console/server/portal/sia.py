"""A SIA DC-09 receiver: alarm panels that speak the SIA protocol raise the site's emergency.

The TCP listener, framing, CRC, AES decryption, the DC-09 timestamp window and the ACK/NAK
answers are ``pysiaalarm``'s (its threaded ``SIAClient``). This module maps a DC-09 account
to a portal site key and raises the same emergency as ``POST /api/v1/panic``
(``server.portal.panic.press``).

* **Accounts and keys.** Each site key (``sk-`` + 16 hex digits, created in the portal)
  is also a DC-09 account: the account number is the key id's 16 hex digits, and the AES
  key is derived from the site key (32 characters, HMAC of the server secret; never
  stored). The portal shows both once, with the key's secret.
* **Only encrypted messages with a timestamp count.** An unencrypted message carries no
  proof of the key, so it is acknowledged (the panel stops repeating) and refused, audited.
* **Replay protection.** pysiaalarm refuses (NAK) a timestamp outside the DC-09 window
  (40 s before to 20 s after the receiver's clock); within the window the SHA-256 of the
  whole message is remembered (``panic_seen``), so a replayed message raises nothing.
* **Which events.** ``PA`` panic and ``HA`` hold-up alarms are AVS-01 level 4, ``QA``
  emergency and ``MA`` medical alarms level 3, ``BA`` burglary level 2; every other event
  (openings, tests, restorals) is acknowledged and ignored.
* A revoked key stops working at once (its account is checked in the database for every
  alarm); new keys are picked up within ``refresh_s``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any

from pysiaalarm.account import SIAAccount
from pysiaalarm.event import SIAEvent
from pysiaalarm.sync.client import SIAClient
from pysiaalarm.sync.server import SIATCPServer

from rtcc_console.server.audit import Actor, append_audit
from rtcc_console.server.portal import accounts as acc
from rtcc_console.server.portal import panic as panic_service
from rtcc_console.server.state import AppState
from rtcc_console.store import portal as store

log = logging.getLogger(__name__)
SIA_LEVELS = {"PA": 4, "HA": 4, "QA": 3, "MA": 3, "BA": 2}
TIMEBAND = (40, 20)  # DC-09: seconds before / after the receiver's clock


def sia_account(key_id: str) -> str:
    """The DC-09 account number of a site key (its 16 hex digits, upper case)."""
    return key_id.removeprefix("sk-").upper()


def sia_key(state: AppState, *, key_id: str, nonce: str) -> str:
    """The DC-09 AES key of a site key: 32 characters (AES-256 over their ASCII bytes)."""
    secret = acc.site_key_secret(state, key_id=key_id, nonce=nonce)
    return hmac.new(secret.encode(), b"sia-dc09", hashlib.sha256).hexdigest()[:32].upper()


def sia_context(state: AppState, *, key_id: str, nonce: str) -> dict[str, str]:
    """What the portal shows once for a new key when the receiver is configured."""
    if state.settings.sia_port is None:
        return {}
    return {
        "sia_account": sia_account(key_id),
        "sia_key": sia_key(state, key_id=key_id, nonce=nonce),
    }


class _IdleClosingServer(SIATCPServer):
    """pysiaalarm's TCP server, with connections that fall silent closed after ``idle_s``
    (a panel sends and waits for the answer; a silent socket only holds a thread)."""

    idle_s = 60.0

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        sock.settimeout(self.idle_s)
        return sock, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        kind = sys.exc_info()[0]
        log.info("SIA connection closed: %s", kind.__name__ if kind else "unknown")


class _Client(SIAClient):
    def __init__(
        self,
        host: str,
        port: int,
        accounts: list[SIAAccount],
        function: Callable[[SIAEvent], None],
        *,
        idle_s: float,
    ) -> None:
        self.idle_s = idle_s  # read by get_server, which SIAClient.__init__ calls
        super().__init__(host, port, accounts, function)

    def get_server(self) -> SIATCPServer:
        server = _IdleClosingServer(
            (self._host, self._port), self._accounts, self._func, self._counts
        )
        server.idle_s = self.idle_s
        return server


class SiaReceiver:
    """The DC-09 listener of one server process (``sia_port``); :meth:`start`, :meth:`stop`."""

    def __init__(
        self,
        state: AppState,
        *,
        host: str,
        port: int,
        refresh_s: float = 5.0,
        idle_s: float = 60.0,
    ) -> None:
        self.state = state
        self.host, self.port = host, port
        self.refresh_s = refresh_s
        self.idle_s = idle_s
        self._client: SIAClient | None = None
        self._stop = threading.Event()
        self._refresher: threading.Thread | None = None
        self.raised = 0  # emergencies started or joined (for tests and logs)

    def accounts(self) -> list[SIAAccount]:
        """One DC-09 account per live site key."""
        with self.state.db.read() as session:
            keys = store.live_site_keys(session)
        return [
            SIAAccount(
                account_id=sia_account(k.id),
                key=sia_key(self.state, key_id=k.id, nonce=k.nonce),
                allowed_timeband=TIMEBAND,
            )
            for k in keys
        ]

    def start(self) -> None:
        """Bind and listen (OSError when the port is taken, e.g. by another server process)."""
        self._client = _Client(
            self.host, self.port, self.accounts(), self._on_event, idle_s=self.idle_s
        )
        self._client.start()
        self._refresher = threading.Thread(
            target=self._refresh, name="rtcc-sia-accounts", daemon=True
        )
        self._refresher.start()
        log.info("SIA DC-09 receiver listening on %s:%d", self.host, self.port)

    def refresh(self) -> None:
        if self._client is not None:
            self._client.accounts = self.accounts()

    def _refresh(self) -> None:
        while not self._stop.wait(self.refresh_s):
            try:
                self.refresh()
            except Exception:  # keep refreshing; the next pass retries
                log.exception("SIA account refresh failed")

    def stop(self) -> None:
        self._stop.set()
        if self._client is not None:
            self._client.stop()
            self._client = None
        if self._refresher is not None:
            self._refresher.join(5)
            self._refresher = None

    # --- one acknowledged event -----------------------------------------------------------

    def _on_event(self, event: SIAEvent) -> None:
        """Called by pysiaalarm (handler thread) for an event it acknowledged."""
        level = SIA_LEVELS.get(event.code or "")
        if level is None:
            return
        key_id = "sk-" + (event.account or "").lower()
        refuse = self._refuser(key_id)
        if not event.encrypted:
            return refuse("unencrypted")
        if event.timestamp is None:
            return refuse("no timestamp")
        digest = hashlib.sha256(f"sia:{event.full_message}".encode()).hexdigest()
        # SIA DCS "Nri1/PA501": area (ri) 1, event PA, zone 501 (the text after the code)
        code = event.sia_code
        description = f"{code.type}: {code.description}" if code else f"SIA {event.code}"
        if event.id:
            description += f" (user {event.id})"
        zone = (event.message or "").strip()
        where = [f"zone {zone}" if zone else "", f"area {event.ri}" if event.ri else ""]
        details = panic_service.PanicDetails(
            level=level,
            location=", ".join(w for w in where if w)[:200],
            description=description[:500],
            source="dc09",
        )
        why: str | None = None
        with self.state.db.write() as session:
            key = store.get_site_key(session, key_id=key_id)
            if key is None or key.revoked_at is not None:
                why = "key"
            elif not store.remember_signature(session, signature=digest, key_id=key.id):
                why = "replay"
            else:
                try:
                    record = panic_service.press(
                        session,
                        owner_id=key.owner_id,
                        actor=Actor(username=f"panel:{key.id}", role="alarm_panel"),
                        details=details,
                        duration_s=acc.portal_settings(self.state).panic_duration_s,
                    )
                except panic_service.PanicRefused:
                    why = "site"
            if why is not None:
                session.rollback()
        if why is not None:
            return refuse(why)
        self.raised += 1
        log.info("SIA %s from %s: emergency %s", event.code, key_id, record.id)
        return None

    def _refuser(self, key_id: str) -> Callable[[str], None]:
        def refuse(why: str) -> None:
            with self.state.db.write() as session:
                append_audit(
                    session,
                    actor=Actor(username=None, role="alarm_panel"),
                    action="panic.refused",
                    outcome="denied",
                    targets={"key": key_id[:40], "reason": why, "via": "sia-dc09"},
                )
            log.warning("SIA alarm refused (%s) for %s", why, key_id[:40])

        return refuse
