"""The SIA DC-09 receiver over real TCP, with messages framed and AES-encrypted by
pysiaalarm's own code (CRC, encryption) in the format of the DC-09 sample
``"SIA-DCS"0002R1L0#AAA[#AAA|Nri1/BA01]_14:12:04,09-25-2019``: a school's panel raises the
same emergency as POST /api/v1/panic; a replayed, stale, unencrypted, wrongly keyed or
revoked-key message raises nothing; other events are acknowledged and ignored.
SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pysiaalarm.account import SIAAccount
from pysiaalarm.event import SIAEvent
from sqlalchemy import select

from rtcc_console.server.app import create_app
from rtcc_console.server.audit import Actor
from rtcc_console.server.portal.accounts import PortalSettings
from rtcc_console.server.portal.panic import active_for_owner, end_for_owner
from rtcc_console.server.portal.sia import SiaReceiver
from rtcc_console.sim.smtp_sink import SmtpSink
from rtcc_console.store import portal as portal_store
from rtcc_console.store.pgcluster import free_port
from rtcc_console.store.schema import AuditEventRow
from tests.server.conftest import events_of, make_settings
from tests.server.portal_support import Portal, csrf_of, register, sign_up

_ACCOUNT = re.compile(r'id="new-key-sia-account" class="secret">([0-9A-F]+)<')
_KEY = re.compile(r'id="new-key-sia-key" class="secret">([0-9A-F]+)<')
_KEY_ID = re.compile(r'id="new-key-id">(sk-[0-9a-f]+)<')


@pytest.fixture
def env(db_url: str) -> Iterator[tuple[Any, SmtpSink, int]]:
    port = free_port()
    with SmtpSink() as sink:
        app = create_app(
            make_settings(
                db_url,
                smtp_host=sink.host,
                smtp_port=sink.port,
                smtp_security="none",
                sia_port=port,
            )
        )
        app.state.rtcc.extras["portal_settings"] = PortalSettings(panic_duration_s=600)
        with TestClient(app):
            yield app, sink, port


def _panel(app: Any, sink: SmtpSink) -> tuple[str, str, str, str]:
    """A school with a camera and an alarm panel key: (owner id, key id, account, AES key),
    the DC-09 account and key read from the portal page that shows them once."""
    p = Portal(app)
    sign_up(p, sink, email="head@school.example", name="Lincoln Elementary", kind="school")
    register(p, name="Gym", sharing_mode="live_in_emergency", stream_url="rtsp://10.1.1.1/gym")
    page = p.get("/portal/panic")
    r = p.client.post("/portal/keys", data={"csrf_token": csrf_of(page.text), "label": "panel"})
    assert r.status_code == 200, r.text[:500]
    account, key, key_id = (
        _ACCOUNT.search(r.text),
        _KEY.search(r.text),
        _KEY_ID.search(r.text),
    )
    assert account and key and key_id, "the page shows the DC-09 account and key once"
    assert p.get("/portal/panic").text.count(key.group(1)) == 0, "shown only once"
    with app.state.rtcc.db.read() as session:
        owner_id = portal_store.get_site_key(session, key_id=key_id.group(1)).owner_id  # type: ignore[union-attr]
    app.state.rtcc.extras["sia"].refresh()  # pick up the new key now (else within refresh_s)
    return owner_id, key_id.group(1), account.group(1), key.group(1)


def frame(
    account: str,
    key: str | None,
    code: str,
    *,
    seq: str = "0001",
    when: datetime | None = None,
    zone: str = "501",
    area: str = "1",
) -> bytes:
    """One DC-09 message: <LF><CRC><length>"[*]SIA-DCS"<seq>R0L0#<acct>[<data>]_<time><CR>.
    The data block is encrypted with pysiaalarm's own AES code when ``key`` is given."""
    stamp = (when or datetime.now(UTC)).strftime("_%H:%M:%S,%m-%d-%Y")
    data = f"|Nri{area}/{code}{zone}]{stamp}"
    if key is None:
        body = f'"SIA-DCS"{seq}R0L0#{account}[#{account}{data}'
    else:
        crypt = SIAEvent(sia_account=SIAAccount(account_id=account, key=key))
        body = f'"*SIA-DCS"{seq}R0L0#{account}[{crypt.encrypt_content(data)}'
    crc = SIAEvent._crc_calc(body)
    return f"\n{crc}{len(body):04X}{body}\r".encode("ascii")


def send(port: int, message: bytes) -> bytes:
    """Send over a fresh TCP connection, as a panel does, and read the receiver's answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(message)
        answer = b""
        while not answer.endswith(b"\r"):
            chunk = s.recv(1024)
            if not chunk:
                break
            answer += chunk
    return answer


def _refusals(app: Any) -> list[str]:
    with app.state.rtcc.db.read() as session:
        rows = session.scalars(
            select(AuditEventRow)
            .where(AuditEventRow.action == "panic.refused")
            .order_by(AuditEventRow.id)
        ).all()
        return [str((r.targets or {}).get("reason")) for r in rows]


def _wait(pred: Any, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _active(app: Any, owner_id: str) -> list[Any]:
    with app.state.rtcc.db.read() as session:
        return active_for_owner(session, owner_id=owner_id)


def test_a_panic_alarm_raises_the_site_emergency_once(env: Any) -> None:
    app, sink, port = env
    owner_id, key_id, account, key = _panel(app, sink)
    alarm = frame(account, key, "PA")
    answer = send(port, alarm)
    assert b'"*ACK"' in answer, answer  # encrypted acknowledgement
    _wait(lambda: _active(app, owner_id), "no emergency after the panic alarm")
    [panic] = [json.loads(d) for _i, _t, d in events_of(app, "emergency.panic")]
    assert panic["alarm_level"] == 4 and panic["source"] == "dc09"  # the DC-09 receiver
    assert panic["site"]["owner_id"] == owner_id and panic["location"] == "zone 501, area 1"
    assert "Panic" in panic["description"]
    [started] = [json.loads(d)["emergency"] for _i, _t, d in events_of(app, "emergency.started")]
    assert started["id"] == panic["emergency"]["id"] and len(started["camera_ids"]) == 1
    # the same fields are kept on the emergency (emergency.started, GET /emergencies)
    assert started["panic"]["source"] == "dc09" and started["panic"]["alarm_level"] == 4
    assert started["panic"]["location"] == "zone 501, area 1"

    # the site ends it; the same message sent again (a replay inside the DC-09 window)
    with app.state.rtcc.db.write() as session:
        assert end_for_owner(
            session,
            owner_id=owner_id,
            emergency_id=panic["emergency"]["id"],
            actor=Actor(username="owner", role="owner"),
        )
    assert b'"*ACK"' in send(port, alarm)  # acknowledged so the panel stops repeating ...
    _wait(lambda: _refusals(app) == ["replay"], "the replay was not refused")
    assert _active(app, owner_id) == []  # ... but it raised nothing
    assert len(events_of(app, "emergency.panic")) == 1


def test_messages_that_must_raise_nothing(env: Any) -> None:
    app, sink, port = env
    owner_id, key_id, account, key = _panel(app, sink)
    stale = frame(account, key, "PA", seq="0002", when=datetime.now(UTC) - timedelta(minutes=5))
    assert b'"NAK"' in send(port, stale)  # outside the DC-09 window: refused by pysiaalarm
    wrong = frame(account, "0123456789ABCDEF0123456789ABCDEF", "PA", seq="0003")
    assert b"ACK" not in send(port, wrong)  # another key: garbage after decryption
    unknown = frame("ABCDEF0123456789", key, "PA", seq="0004")
    assert b"ACK" not in send(port, unknown)
    opening = frame(account, key, "OP", seq="0005")  # an opening report, not an alarm
    assert b'"*ACK"' in send(port, opening)
    plain = frame(account, None, "PA", seq="0006")  # no proof of the key
    assert b'"ACK"' in send(port, plain)
    _wait(lambda: _refusals(app) == ["unencrypted"], "the unencrypted alarm was not refused")

    with app.state.rtcc.db.write() as session:
        assert portal_store.revoke_site_key(session, owner_id=owner_id, key_id=key_id)
    revoked = frame(account, key, "HA", seq="0007")  # before the account list is refreshed
    send(port, revoked)
    _wait(lambda: _refusals(app) == ["unencrypted", "key"], "the revoked key was not refused")
    receiver: SiaReceiver = app.state.rtcc.extras["sia"]
    receiver.refresh()
    assert b"ACK" not in send(port, frame(account, key, "HA", seq="0008"))
    assert _active(app, owner_id) == [] and events_of(app, "emergency.panic") == []
    assert receiver.raised == 0


def test_the_receiver_is_off_unless_configured(db_url: str) -> None:
    app = create_app(make_settings(db_url))
    with TestClient(app):
        assert "sia" not in app.state.rtcc.extras


def test_junk_on_the_port_is_refused_and_the_receiver_keeps_working(env: Any) -> None:
    app, sink, port = env
    owner_id, _key_id, account, key = _panel(app, sink)
    for junk in (
        b"\x00\xff" * 50_000 + b"\r",  # 100 KB of binary
        b"\n" + b"A" * 5000 + b"\r",  # one long line
        b'\nFFFF0010"*SIA-DCS"0001R0L0#' + account.encode() + b"[ZZZZ\r",  # bad CRC, not hex
        "\n\u202e\U0001f600\r".encode(),  # RTL mark and an emoji (not ASCII)
    ):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(junk)
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):
                pass
    assert _active(app, owner_id) == []
    assert b'"*ACK"' in send(port, frame(account, key, "PA", seq="0009"))
    _wait(lambda: _active(app, owner_id), "the receiver stopped working after the junk")


def test_a_silent_connection_is_closed_after_the_idle_time(env: Any) -> None:
    app, sink, _port = env
    owner_id, _key_id, account, key = _panel(app, sink)
    receiver = SiaReceiver(app.state.rtcc, host="127.0.0.1", port=free_port(), idle_s=0.5)
    receiver.start()
    try:
        with socket.create_connection(("127.0.0.1", receiver.port), timeout=10) as s:
            started = time.monotonic()
            assert s.recv(1024) == b"", "the receiver closes a silent connection"
            assert time.monotonic() - started < 5
        assert b'"*ACK"' in send(receiver.port, frame(account, key, "PA", seq="0010"))
        _wait(lambda: _active(app, owner_id), "no emergency through the second receiver")
    finally:
        receiver.stop()
