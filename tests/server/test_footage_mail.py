"""The outbox sender against a real SMTP server: refusals, reminders, expiry, uploads.

The sender runs with a settable clock (the reminders are 24 h and 72 h apart); the SMTP
server is aiosmtpd on loopback, refusing one mailbox with a permanent 550.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from rtcc_console.core.models import Role, utcnow
from rtcc_console.server import footage_requests as service
from rtcc_console.server.audit import walk_chain
from rtcc_console.server.mail.sender import Mailer
from rtcc_console.sim.smtp_sink import SmtpSink
from rtcc_console.store.schema import AuditEventRow, MailOutboxRow
from tests.server.conftest import API, add_user, events_of, login, make_settings
from tests.server.footage_support import EMAILS, body, seed_registry

LINK_RE = re.compile(r"/portal/requests/([A-Za-z0-9_-]{20,})")


class Clock:
    """Real time plus a shift the test advances."""

    def __init__(self) -> None:
        self.shift = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() + self.shift


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink(refuse={EMAILS["own-b"]}) as s:
        yield s


@pytest.fixture
def setup(db_url: str, sink: SmtpSink) -> Iterator[tuple[TestClient, Any, Mailer, Clock]]:
    from rtcc_console.server.app import create_app

    app = create_app(make_settings(db_url))  # no SMTP host: the app's own sender stays idle
    clock = Clock()
    mail_settings = make_settings(
        db_url, smtp_host=sink.host, smtp_port=sink.port, smtp_security="none"
    )
    with TestClient(app) as client:
        add_user(app, "ana", Role.ANALYST)
        seed_registry(app)
        mailer = Mailer(app.state.rtcc.db, mail_settings, clock=clock)
        try:
            yield client, app, mailer, clock
        finally:
            mailer.stop()


def _audit(app: Any, action: str) -> list[AuditEventRow]:
    with app.state.rtcc.db.read() as s:
        return list(s.scalars(select(AuditEventRow).where(AuditEventRow.action == action)))


def _states(
    client: TestClient, headers: dict[str, str], rid: str
) -> dict[str, tuple[str, str | None]]:
    items = client.get(f"{API}/footage-requests/{rid}", headers=headers).json()["items"]
    return {i["owner_ref"]: (i["state"], i["state_reason"]) for i in items}


def test_refusal_reminders_opt_out_answer_and_expiry(setup: Any, sink: SmtpSink) -> None:
    client, app, mailer, clock = setup
    ana = login(client, "ana")
    req = client.post(f"{API}/footage-requests", json=body(), headers=ana).json()
    assert mailer.deliver_batch() == 3
    assert sink.count == 2
    states = _states(client, ana, req["id"])
    assert states["own-a"][0] == "sent" and states["own-c"][0] == "sent"
    assert states["own-b"][0] == "undeliverable" and "550" in (states["own-b"][1] or "")
    assert "User unknown" in (states["own-b"][1] or "")
    assert len(_audit(app, "mail.failed")) == 1 and len(_audit(app, "mail.sent")) == 2
    assert EMAILS["own-b"] not in json.dumps(events_of(app)) + json.dumps(
        [a.targets for a in _audit(app, "mail.failed")]
    )

    tokens = {}
    for rec in sink.messages:
        tokens[rec.rcpt_tos[0]] = LINK_RE.search(
            rec.message().get_body(("plain",)).get_content()
        ).group(1)  # type: ignore[union-attr]
    opt = client.post(
        f"{API}/portal/requests/{tokens[EMAILS['own-c']]}/reminders", json={"opt_out": True}
    )
    assert opt.status_code == 200

    clock.shift += timedelta(hours=23)
    mailer.housekeeping()
    assert mailer.deliver_batch() == 0
    clock.shift += timedelta(hours=2)  # 25 h after the first e-mail
    mailer.housekeeping()
    assert mailer.deliver_batch() == 1
    assert sink.wait_for(3)
    reminder = sink.messages[-1]
    msg = reminder.message()
    assert reminder.rcpt_tos == [EMAILS["own-a"]] and msg["Subject"].startswith("Reminder:")
    assert (
        LINK_RE.search(msg.get_body(("plain",)).get_content()).group(1) == tokens[EMAILS["own-a"]]
    )  # type: ignore[union-attr]
    assert len(_audit(app, "mail.reminder")) == 1
    mailer.housekeeping()
    assert mailer.deliver_batch() == 0  # the first reminder is not sent twice

    # owner A answers; the 72 h reminder is then not sent to anyone (C opted out)
    assert (
        client.post(
            f"{API}/portal/requests/{tokens[EMAILS['own-a']]}/answer",
            json={"answer": "no_footage", "note": "camera was off"},
        ).status_code
        == 200
    )
    clock.shift += timedelta(hours=50)
    mailer.housekeeping()
    assert mailer.deliver_batch() == 0 and sink.count == 3

    # C never answers: its link expires after 10 days
    clock.shift += timedelta(days=10)
    mailer.housekeeping()
    states = _states(client, ana, req["id"])
    assert states["own-c"][0] == "expired" and states["own-a"][0] == "no_footage"
    assert client.get(f"{API}/portal/requests/{tokens[EMAILS['own-c']]}").status_code == 410
    updates = [
        it
        for _, _, d in events_of(app, "request.updated")
        for it in (json.loads(d).get("items") or [json.loads(d)["item"]])
    ]
    assert ("own-c", "expired") in {(u["owner_ref"], u["state"]) for u in updates}
    with app.state.rtcc.db.read() as s:
        assert sorted(s.scalars(select(MailOutboxRow.state))) == ["failed", "sent", "sent", "sent"]
        # the sender's grouped audit rows are links of the same verified chain
        report = walk_chain(s, keyring=app.state.rtcc.extras["audit_keyring"])
        assert report.broken_id is None and report.count >= 6, report


def test_uploads_through_the_vault_hook_move_the_item_and_publish(
    setup: Any, sink: SmtpSink
) -> None:
    client, app, mailer, _ = setup
    ana = login(client, "ana")
    req = client.post(f"{API}/footage-requests", json=body(), headers=ana).json()
    mailer.deliver_batch()
    item_id = next(i["id"] for i in req["items"] if i["owner_ref"] == "own-a")
    for n in (1, 2):
        with app.state.rtcc.db.write() as session:
            item = service.record_upload(session, item_id=item_id, evidence_id=f"ev-{n}")
        assert item.state == "uploaded" and item.files == n
    got = {
        i["owner_ref"]: i
        for i in client.get(f"{API}/footage-requests/{req['id']}", headers=ana).json()["items"]
    }
    assert (
        got["own-a"]["state"] == "uploaded"
        and got["own-a"]["files"] == 2
        and got["own-a"]["answered_at"]
    )
    last = json.loads(events_of(app, "request.updated")[-1][2])
    assert last["item"]["files"] == 2 and last["request"]["counts"]["uploaded"] == 1
    assert len(_audit(app, "footage_request.uploaded")) == 2
    token = LINK_RE.search(
        next(r for r in sink.messages if r.rcpt_tos == [EMAILS["own-a"]])
        .message()
        .get_body(("plain",))
        .get_content()
    ).group(1)  # type: ignore[union-attr]
    page = client.get(f"{API}/portal/requests/{token}").json()
    assert page["can_upload"] and not page["can_answer"] and page["state"] == "uploaded"
    assert (
        client.post(
            f"{API}/portal/requests/{token}/answer", json={"answer": "declined"}
        ).status_code
        == 409
    )
