"""Portal e-mail through the durable outbox, with a real SMTP server (aiosmtpd) on loopback,
on SQLite and PostgreSQL: the sign-up link arrives and works once; the outbox never holds the
token or the address and forgets the body once sent; a link that expired before sending
cancels its message; refusals retry (4xx, connection trouble) or give up (5xx); idempotent
keys; ``send_portal_mail`` with a link of the caller's own purpose and path."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from rtcc_console.config import ServerSettings
from rtcc_console.core.models import utcnow
from rtcc_console.server.app import create_app
from rtcc_console.server.mail.sender import Mailer
from rtcc_console.server.portal.accounts import PortalSettings, digest
from rtcc_console.server.portal.mail import send_portal_mail
from rtcc_console.server.state import AppState
from rtcc_console.sim.smtp_sink import SmtpSink
from rtcc_console.store import portal as portal_store
from rtcc_console.store.outbox import counts
from rtcc_console.store.pgcluster import free_port
from rtcc_console.store.schema import AuditEventRow, EventRow, MailOutboxRow, PortalLinkRow
from tests.server.conftest import make_settings
from tests.server.portal_support import Portal, sign_up, wait_link

ADDRESS = "head@lincoln.example"
_URL = re.compile(r"https?://\S+")


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as s:
        yield s


def _smtp(sink: SmtpSink) -> dict[str, Any]:
    return {"smtp_host": sink.host, "smtp_port": sink.port, "smtp_security": "none"}


@pytest.fixture
def app(db_url: str, sink: SmtpSink) -> Iterator[Any]:
    """A server whose mailer sends to the sink. It polls the outbox only every 5 minutes:
    a mail that arrives in seconds was sent because the commit woke the mailer."""
    app = create_app(
        make_settings(db_url, login_ip_max_failures=100, mail_poll_s=300, **_smtp(sink))
    )
    app.state.rtcc.extras["portal_settings"] = PortalSettings(link_ttl_s=600)
    with TestClient(app):
        yield app


@pytest.fixture
def quiet(db_url: str) -> Iterator[AppState]:
    """A server without SMTP: its outbox fills; tests drive a :class:`Mailer` themselves."""
    app = create_app(make_settings(db_url, login_ip_max_failures=100))
    app.state.rtcc.extras["portal_settings"] = PortalSettings(link_ttl_s=600)
    with TestClient(app):
        yield app.state.rtcc


def _account(state: AppState, email: str = ADDRESS) -> str:
    with state.db.write() as session:
        account = portal_store.create_account(
            session, name="Lincoln School", kind="school", email=email, password_hash=None
        )
        assert account is not None
        return account.id


def _rows(state: AppState) -> list[MailOutboxRow]:
    with state.db.read() as session:
        return list(session.scalars(select(MailOutboxRow).order_by(MailOutboxRow.id)))


def _every_text(state: AppState) -> str:
    """Everything the outbox, the audit trail and the event log hold, as one string."""
    with state.db.read() as session:
        parts = [
            repr([(c.name, getattr(r, c.name)) for c in MailOutboxRow.__table__.columns])
            for r in session.scalars(select(MailOutboxRow))
        ]
        parts += [
            repr((r.action, r.targets, r.reason)) for r in session.scalars(select(AuditEventRow))
        ]
        parts += [repr(r.payload) for r in session.scalars(select(EventRow))]
    return "\n".join(parts)


def _mailer(state: AppState, sink: SmtpSink | None, **kw: Any) -> Mailer:
    settings: ServerSettings = state.settings.model_copy(
        update=_smtp(sink) if sink else {"smtp_host": "127.0.0.1", "smtp_port": free_port()}
    )
    return Mailer(state.db, settings, **kw)


def test_sign_up_link_goes_through_the_outbox_and_works_once(app: Any, sink: SmtpSink) -> None:
    state: AppState = app.state.rtcc
    p = Portal(app)
    sign_up(p, sink, email="Head@Lincoln.example")  # the e-mailed link signed us in
    assert p.get("/portal/cameras").status_code == 200
    [mail] = sink.messages
    msg = mail.message()
    assert mail.rcpt_tos == [ADDRESS] and "Confirm your e-mail" in str(msg["Subject"])
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    token = _URL.findall(body.get_content())[0].rsplit("/", 1)[1]

    [row] = _rows(state)
    assert (row.kind, row.state, row.item_id, row.attempts) == ("portal", "sent", None, 1)
    assert row.message_id == msg["Message-ID"]
    assert row.body is None and row.link_nonce is None, "a sent row forgets its body and nonce"
    assert row.account_id is not None and row.subject == str(msg["Subject"])
    # the token was never stored (only its SHA-256, in portal_links); the address never left
    # the account: not in the outbox, the audit trail or the events
    text = _every_text(state)
    assert token not in text and ADDRESS not in text.lower()
    assert "mail.portal_sent" in text
    with state.db.read() as session:
        link = session.get(PortalLinkRow, digest(token))
        assert link is not None and link.used_at is not None and link.purpose == "verify"

    again = Portal(app)  # a second click (another browser) cannot use the link
    r = again.submit(f"/portal/link/{token}", f"/portal/link/{token}")
    assert r.status_code == 410


def test_e_mailed_sign_in_link_for_a_known_address(app: Any, sink: SmtpSink) -> None:
    p = Portal(app)
    sign_up(p, sink, email=ADDRESS)
    other = Portal(app)
    r = other.submit("/portal/sign-in", "/portal/sign-in/link", {"email": ADDRESS})
    assert r.status_code == 200 and "Check your e-mail" in r.text
    link = wait_link(sink, ADDRESS, n=2)
    r = other.submit(link, link)
    assert r.status_code == 303 and r.headers["location"] == "/portal/cameras"
    assert "sign-in link" in str(sink.messages[-1].message()["Subject"])


def test_nothing_is_queued_when_the_transaction_rolls_back(quiet: AppState) -> None:
    account_id = _account(quiet)
    with pytest.raises(RuntimeError), quiet.db.write() as session:
        send_portal_mail(
            session, quiet, account_id=account_id, subject="s", body="{link}", link_purpose="signin"
        )
        raise RuntimeError("the caller's change failed")
    assert _rows(quiet) == []
    with quiet.db.read() as session:
        assert session.scalars(select(PortalLinkRow)).all() == []


def test_a_link_that_expired_before_sending_cancels_its_message(
    quiet: AppState, sink: SmtpSink
) -> None:
    account_id = _account(quiet)
    with quiet.db.write() as session:
        assert send_portal_mail(
            session,
            quiet,
            account_id=account_id,
            subject="Your sign-in link",
            body="Open {link}",
            link_purpose="signin",
            link_ttl_s=60,
        )
    [row] = _rows(quiet)
    assert row.state == "pending" and row.link_nonce and "{link}" in (row.body or "")
    later = utcnow() + timedelta(minutes=5)
    mailer = _mailer(quiet, sink, clock=lambda: later)
    try:
        assert mailer.deliver_batch() == 1
    finally:
        mailer.stop()
    [row] = _rows(quiet)
    assert row.state == "cancelled" and "expired or used" in (row.last_error or "")
    assert row.body is None and row.link_nonce is None
    assert sink.messages == []


def test_connection_trouble_and_greylisting_retry_with_backoff_then_send(
    quiet: AppState, sink: SmtpSink
) -> None:
    account_id = _account(quiet)
    with quiet.db.write() as session:
        send_portal_mail(session, quiet, account_id=account_id, subject="Hello", body="Hi there")
    down = _mailer(quiet, None)  # nothing listens on that port
    try:
        t0 = utcnow()
        assert down.deliver_batch() == 1
    finally:
        down.stop()
    [row] = _rows(quiet)
    assert row.state == "pending" and row.attempts == 1
    assert row.next_attempt_at >= t0 + timedelta(seconds=14), "backoff before the next try"

    sink.handler.defer.add(ADDRESS)  # 450: temporary
    later = row.next_attempt_at + timedelta(seconds=1)
    grey = _mailer(quiet, sink, clock=lambda: later)
    try:
        assert grey.deliver_batch() == 1
        [row] = _rows(quiet)
        assert row.state == "pending" and row.attempts == 2 and (row.last_error or "")[:3] == "450"
        assert row.next_attempt_at >= later + timedelta(seconds=29), "the backoff doubled"
        assert grey.deliver_batch() == 0, "not due yet"
    finally:
        grey.stop()
    sink.handler.defer.clear()
    latest = row.next_attempt_at + timedelta(seconds=1)
    ok = _mailer(quiet, sink, clock=lambda: latest)
    try:
        assert ok.deliver_batch() == 1
    finally:
        ok.stop()
    assert [m.rcpt_tos for m in sink.messages] == [[ADDRESS]]
    assert counts_of(quiet) == {"sent": 1}
    assert ADDRESS not in _every_text(quiet).lower(), "the 450 text names no address"


def counts_of(state: AppState) -> dict[str, int]:
    with state.db.read() as session:
        return counts(session)


def test_a_permanent_refusal_fails_the_message_without_naming_the_address(
    quiet: AppState, sink: SmtpSink
) -> None:
    account_id = _account(quiet)
    with quiet.db.write() as session:
        send_portal_mail(
            session,
            quiet,
            account_id=account_id,
            subject="Your sign-in link",
            body="Open {link}",
            link_purpose="signin",
        )
    sink.handler.refuse.add(ADDRESS)
    mailer = _mailer(quiet, sink)
    try:
        assert mailer.deliver_batch() == 1
    finally:
        mailer.stop()
    [row] = _rows(quiet)
    assert row.state == "failed" and (row.last_error or "").startswith("550")
    assert row.body is None and row.link_nonce is None
    text = _every_text(quiet)
    assert "mail.failed" in text and account_id in text and ADDRESS not in text.lower()
    assert sink.messages == []


def test_own_purpose_and_path_idempotent_key_and_bad_arguments(
    quiet: AppState, sink: SmtpSink
) -> None:
    """What a caller such as the yearly 'still there?' e-mail uses."""
    account_id = _account(quiet)
    with quiet.db.write() as session:
        first = send_portal_mail(
            session,
            quiet,
            account_id=account_id,
            subject="Is your camera still there?",
            body="Please confirm: {link}\n",
            link_purpose="confirm",
            link_path="/portal/confirm/{token}",
            link_ttl_s=3600,
            idem_key="confirm:cam-1:2027",
        )
        second = send_portal_mail(
            session,
            quiet,
            account_id=account_id,
            subject="Is your camera still there?",
            body="Please confirm: {link}\n",
            link_purpose="confirm",
            link_path="/portal/confirm/{token}",
            idem_key="confirm:cam-1:2027",
        )
    assert (first, second) == (True, False)
    with quiet.db.read() as session:
        assert len(session.scalars(select(PortalLinkRow)).all()) == 1, "one link for one mail"
    for bad in (
        {"subject": "two\nlines", "body": "x"},
        {"subject": "", "body": "x"},
        {"subject": "ok", "body": "no placeholder", "link_purpose": "confirm"},
        {"subject": "ok", "body": "{link}", "link_purpose": "confirm", "link_path": "/no-token"},
        {"subject": "ok", "body": "x", "idem_key": "k" * 101},
    ):
        with pytest.raises(ValueError), quiet.db.write() as session:
            send_portal_mail(session, quiet, account_id=account_id, **bad)
    assert len(_rows(quiet)) == 1, "refused arguments queue nothing"

    mailer = _mailer(quiet, sink)
    try:
        assert mailer.deliver_batch() == 1
    finally:
        mailer.stop()
    [mail] = sink.messages
    body = mail.message().get_body(preferencelist=("plain",))
    assert body is not None
    url = _URL.findall(body.get_content())[0]
    assert url.startswith(quiet.settings.portal_base_url.rstrip("/") + "/portal/confirm/")
    token = url.rsplit("/", 1)[1]
    with quiet.db.write() as session:
        assert (
            portal_store.consume_link(session, token_hash=digest(token), purpose="confirm")
            == account_id
        )
        assert (
            portal_store.consume_link(session, token_hash=digest(token), purpose="confirm") is None
        )
    assert token not in _every_text(quiet)
