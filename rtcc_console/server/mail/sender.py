"""The outbox sender: one background thread per server process that delivers owner e-mail.

It delivers both kinds of outbox rows with the same claim / lease / group-mark machinery:
footage-request mail (built from the request item) and portal mail (``kind="portal"``:
subject and body queued by ``server.portal.mail.send_portal_mail``; a link in it is derived
from the row's nonce and must still be usable when the message goes out, else the row is
cancelled).

Each pass: expire items whose link ran out, queue due reminders, then claim a batch of
outbox rows and send them over one SMTP connection. Each message is marked ``sent`` (with
its audit entry, the item's ``sent`` state and a ``request.updated`` event) in its own
short transaction right after the SMTP server accepted it, so a crash re-sends at most
the one message that was on the wire, with the same Message-ID.

Permanent refusals (5xx, e.g. an unknown mailbox) make the item ``undeliverable`` with the
server's answer; temporary ones (4xx, connection trouble) retry with backoff. The address
is read from the owner record at send time and appears nowhere else: not in events, not
in the audit trail, not in logs.
"""

from __future__ import annotations

import dataclasses
import email.policy
import email.utils
import logging
import re
import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from rtcc_console.config import ServerSettings
from rtcc_console.core.footage_mail import OwnerMail, Sender, build_message, message_id_for
from rtcc_console.core.models import utcnow
from rtcc_console.core.request_items import WAITING, ItemState, TransitionError, link_token
from rtcc_console.server import footage_requests as service
from rtcc_console.server.audit import Actor, AuditEntry, append_audit, append_audit_many
from rtcc_console.server.database import Database
from rtcc_console.server.portal.accounts import digest
from rtcc_console.server.portal.mail import LINK_PLACEHOLDER, link_of
from rtcc_console.store import footage_requests as store
from rtcc_console.store import outbox
from rtcc_console.store.outbox import MailContext, OutboxJob, PortalMailContext

log = logging.getLogger(__name__)
MAILER = Actor(username="mailer", role="service")
MAX_ATTEMPTS = 8
BATCH = 100
WIRE = email.policy.compat32.clone(
    linesep="\r\n"
)  # SMTP line endings (sendmail sends bytes as given)
GROUP = 50  # accepted messages marked "sent" per transaction at most
GROUP_LAG_S = 0.1  # longest an accepted message waits for its mark (bounds re-sends after a crash)
Context = MailContext | PortalMailContext


_SENT_ACTION = {"reminder": "mail.reminder", outbox.PORTAL: "mail.portal_sent"}


def _targets(job: OutboxJob) -> dict[str, object]:
    """An outbox row in the audit trail: the item or the account, never the address."""
    who = {"item": job.item_id} if job.item_id is not None else {"account": job.account_id}
    return {**who, "message_id": job.message_id, "attempt": job.attempts}


class SmtpUnavailable(Exception):
    """The SMTP server could not be reached or dropped us: retry the rest later."""


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    security: str
    user: str | None
    password: str | None
    timeout_s: float

    @classmethod
    def from_settings(cls, settings: ServerSettings) -> SmtpConfig | None:
        if not settings.smtp_host:
            return None
        return cls(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_security,
            settings.smtp_user,
            settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            settings.smtp_timeout_s,
        )


class SmtpLink:
    """One reusable SMTP session (reconnects when the server dropped it)."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        try:
            if c.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    c.host, c.port, timeout=c.timeout_s, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout_s)
                if c.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
            if c.user:
                smtp.login(c.user, c.password or "")
        except (OSError, smtplib.SMTPException) as exc:
            raise SmtpUnavailable(
                f"cannot reach SMTP server {c.host}:{c.port}: {exc.__class__.__name__}"
            ) from None
        return smtp

    def send(self, data: bytes, *, from_addr: str, to_addr: str) -> None:
        for attempt in (1, 2):
            if self._smtp is None:
                self._smtp = self._connect()
            try:
                self._smtp.sendmail(from_addr, [to_addr], data)
                return
            except smtplib.SMTPServerDisconnected:
                self._smtp = None
                if attempt == 2:
                    raise SmtpUnavailable("SMTP server closed the connection") from None
            except (
                smtplib.SMTPRecipientsRefused,
                smtplib.SMTPResponseException,
                smtplib.SMTPSenderRefused,
            ):
                self._reset()
                raise
            except OSError as exc:
                self.close()
                raise SmtpUnavailable(f"SMTP connection failed: {exc.__class__.__name__}") from None

    def _reset(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.rset()
            except (OSError, smtplib.SMTPException):
                self.close()

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._smtp = None


def smtp_answer(exc: BaseException) -> tuple[int | None, str]:
    """(code, text) of an SMTP refusal."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, msg = next(iter(exc.recipients.values()))
        return int(code), msg.decode("utf-8", "replace") if isinstance(msg, bytes) else str(msg)
    if isinstance(exc, smtplib.SMTPResponseException):
        err = exc.smtp_error
        return int(exc.smtp_code), err.decode("utf-8", "replace") if isinstance(
            err, bytes
        ) else str(err)
    return None, str(exc)


_ADDRESS_RE = re.compile(r"[^\s<>()\[\]\"',;:]+@[^\s<>()\[\]\"',;:]+")


def hide_addresses(text: str) -> str:
    """An SMTP answer with every e-mail address replaced: it is shown in the console."""
    return _ADDRESS_RE.sub("(recipient)", text)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 15 * 2 ** max(0, attempts - 1)))


class _Marker:
    """Marks accepted messages ``sent``, a group per transaction (group commit).

    Runs in the sender's own thread: a second thread would hold the interpreter lock while
    the sender's SMTP replies wait for it, which costs more than it overlaps. A group is
    written when it holds ``GROUP`` messages, when its oldest message waited ``GROUP_LAG_S``,
    or at once when the last message took that long to send (a slow relay: then every
    message is marked before the next one goes out).
    """

    def __init__(self, flush: Callable[[list[tuple[OutboxJob, Context]]], None]) -> None:
        self._flush = flush
        self._pending: list[tuple[OutboxJob, Context]] = []
        self._oldest = 0.0

    def put(self, entry: tuple[OutboxJob, Context], *, send_s: float) -> None:
        now = time.monotonic()
        if not self._pending:
            self._oldest = now
        self._pending.append(entry)
        if (
            len(self._pending) >= GROUP
            or now - self._oldest >= GROUP_LAG_S
            or send_s >= GROUP_LAG_S
        ):
            self.drain()

    def drain(self) -> None:
        group, self._pending = self._pending, []
        if not group:
            return
        try:
            self._flush(group)
        except Exception:  # the rows stay "sending" and are re-sent when their claim lapses
            log.exception("marking %d sent message(s) failed", len(group))

    def close(self) -> None:
        self.drain()


class Mailer:
    """Delivers the outbox in a background thread; :meth:`wake` after enqueueing."""

    def __init__(
        self, db: Database, settings: ServerSettings, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.config = SmtpConfig.from_settings(settings)
        self.secret = settings.secret_key.get_secret_value().encode()
        self.sender = Sender(
            from_addr=settings.smtp_from,
            agency_name=settings.agency_name,
            contact_email=settings.agency_contact_email,
            contact_phone=settings.agency_contact_phone,
            time_zone=settings.time_zone,
        )
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._link = SmtpLink(self.config) if self.config else None
        self.sent = 0

    # --- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="rtcc-mailer", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._link is not None:
            self._link.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            busy = False
            try:
                self.housekeeping()
                busy = self.deliver_batch() > 0
            except Exception:  # keep the sender alive; the next pass retries
                log.exception("mail outbox pass failed")
            if not busy:
                if self._link is not None:
                    self._link.close()
                self._wake.wait(self.settings.mail_poll_s)
                self._wake.clear()

    # --- one pass ---------------------------------------------------------------------

    def housekeeping(self) -> None:
        """Expire items past their link's life; queue reminders that are due."""
        now = self.clock()
        offsets = [timedelta(seconds=s) for s in sorted(self.settings.request_reminders_s)]
        with self.db.read() as session:  # most passes find nothing: do not take the write lock then
            if not store.expiry_or_reminder_due(session, now=now, offsets=offsets):
                return
        with self.db.write() as session:
            expired = store.expire_due_items(session, now=now)
            if expired:
                service.items_changed(session, settings=self.settings, item_ids=expired)
            due = store.items_due_reminder(session, now=now, offsets=offsets)
            domain = service.mail_domain(self.settings)
            entries = [
                outbox.OutboxEntry(
                    item_id=i,
                    kind="reminder",
                    idem_key=f"item:{i}:reminder:{n}",
                    message_id=message_id_for(f"item:{i}:reminder:{n}", domain),
                )
                for i, n in due
            ]
            if entries:
                outbox.enqueue(session, entries=entries, now=now)
                for item_id, n in due:
                    store.note_reminder_enqueued(session, item_id=item_id, number=n)

    def deliver_batch(self, limit: int = BATCH) -> int:
        """Claim and send up to ``limit`` messages; returns how many rows were handled.

        Accepted messages are marked ``sent`` in groups (:class:`_Marker`): one transaction
        per at most ``GROUP`` messages or ``GROUP_LAG_S`` of sending. A crash can only re-send
        messages accepted in that last moment and not yet marked (with the same Message-IDs);
        on a slow relay, none but the one on the wire. Returns once every accepted message of
        the batch is marked.
        """
        if self._link is None:
            return 0
        now = self.clock()
        # a claim outlives any one SMTP exchange; after a crash the row is sent again once it lapses
        lease = timedelta(seconds=max(2.0, 4 * self.settings.smtp_timeout_s))
        with self.db.write() as session:
            jobs = outbox.claim(session, limit=limit, lease=lease, now=now)
        if not jobs:
            return 0
        with self.db.read() as session:
            contexts = outbox.mail_contexts(
                session, item_ids=[j.item_id for j in jobs if j.item_id is not None]
            )
            portal = outbox.portal_contexts(
                session, outbox_ids=[j.id for j in jobs if j.item_id is None]
            )
            links = {
                oid: link_of(self.settings, link_nonce=p.link_nonce, link_path=p.link_path)
                for oid, p in portal.items()
                if p.link_nonce is not None and p.link_path is not None
            }
            usable = outbox.usable_links(
                session, token_hashes=[digest(token) for token, _ in links.values()], now=now
            )
        marker = _Marker(self._flush)
        try:
            for index, job in enumerate(jobs):
                started = time.monotonic()
                ctx: Context | None
                try:
                    if job.item_id is not None:
                        ctx = contexts.get(job.item_id)
                        ok = self._deliver(job, ctx)
                    else:
                        ctx = portal.get(job.id)
                        link = links.get(job.id)
                        ok = self._deliver_portal(
                            job,
                            ctx,
                            link=None if link is None else link[1],
                            link_ok=link is None or digest(link[0]) in usable,
                        )
                except SmtpUnavailable as exc:
                    marker.drain()
                    self._retry_rest(jobs[index:], str(exc))
                    log.warning(
                        "SMTP unavailable; %d message(s) will be retried", len(jobs) - index
                    )
                    break
                if ok and ctx is not None:
                    marker.put((job, ctx), send_s=time.monotonic() - started)
        finally:
            marker.close()
        return len(jobs)

    def _deliver(self, job: OutboxJob, ctx: MailContext | None) -> bool:
        """Send one message; True when the SMTP server accepted it (the caller marks it)."""
        assert self._link is not None
        if ctx is None:
            with self.db.write() as session:
                outbox.cancel(session, outbox_id=job.id, reason="item no longer exists")
            return False
        if job.kind == "reminder" and ItemState(ctx.state) not in WAITING:
            with self.db.write() as session:
                outbox.cancel(session, outbox_id=job.id, reason=f"item is {ctx.state}")
            return False
        if ItemState(ctx.state) is ItemState.UNDELIVERABLE:
            with self.db.write() as session:
                outbox.cancel(session, outbox_id=job.id, reason="item is undeliverable")
            return False
        if not ctx.to_addr:
            self._give_up(job, None, "owner has no e-mail address")
            return False
        number = int(job.idem_key.rsplit(":", 1)[1]) if job.kind == "reminder" else 0
        token = link_token(self.secret, ctx.item_id, ctx.link_nonce)
        mail = OwnerMail(
            to_addr=ctx.to_addr,
            owner_name=ctx.owner_name,
            link=f"{self.settings.portal_base_url.rstrip('/')}/portal/requests/{token}",
            window_start=ctx.window_start,
            window_end=ctx.window_end,
            due_at=ctx.due_at,
            cameras=ctx.cameras,
            case_numbers=ctx.case_numbers,
            messages=ctx.messages,
            reminder=number,
        )
        msg = build_message(mail, sender=self.sender, message_id=job.message_id, now=self.clock())
        return self._send_or_settle(job, msg.as_bytes(policy=WIRE), ctx.to_addr)

    def _deliver_portal(
        self, job: OutboxJob, ctx: PortalMailContext | None, *, link: str | None, link_ok: bool
    ) -> bool:
        """Send one portal message; True when the SMTP server accepted it."""
        assert self._link is not None
        if ctx is None:
            with self.db.write() as session:
                outbox.cancel(session, outbox_id=job.id, reason="account no longer exists")
            return False
        if not link_ok:
            with self.db.write() as session:
                outbox.cancel(
                    session, outbox_id=job.id, reason="link expired or used before sending"
                )
            return False
        msg = EmailMessage()
        msg["From"] = email.utils.formataddr((self.settings.agency_name, self.settings.smtp_from))
        msg["To"] = ctx.to_addr
        msg["Subject"] = ctx.subject
        msg["Date"] = email.utils.format_datetime(self.clock())
        msg["Message-ID"] = job.message_id
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(ctx.body.replace(LINK_PLACEHOLDER, link) if link else ctx.body)
        return self._send_or_settle(job, msg.as_bytes(policy=email.policy.SMTP), ctx.to_addr)

    def _send_or_settle(self, job: OutboxJob, data: bytes, to_addr: str) -> bool:
        """Send; on a refusal, retry (4xx) or give up (5xx) and return False."""
        assert self._link is not None
        try:
            self._link.send(data, from_addr=self.settings.smtp_from, to_addr=to_addr)
        except (
            smtplib.SMTPRecipientsRefused,
            smtplib.SMTPResponseException,
            smtplib.SMTPSenderRefused,
        ) as exc:
            code, text = smtp_answer(exc)
            text = hide_addresses(text)
            if code is not None and 400 <= code < 500 and job.attempts < MAX_ATTEMPTS:
                self._retry(job, f"{code} {text}")
            else:
                self._give_up(job, code, text)
            return False
        return True

    def _flush(self, accepted: list[tuple[OutboxJob, Context]]) -> None:
        """One transaction for a group of accepted messages: sent marks, audit, item states, events."""
        if not accepted:
            return
        now = self.clock()
        requests = [(job, ctx) for job, ctx in accepted if isinstance(ctx, MailContext)]
        with self.db.write() as session:
            outbox.mark_sent_many(session, outbox_ids=[job.id for job, _ in accepted], now=now)
            append_audit_many(
                session,
                entries=[
                    AuditEntry(
                        actor=MAILER,
                        action=_SENT_ACTION.get(job.kind, "mail.sent"),
                        targets=_targets(job),
                    )
                    for job, _ in accepted
                ],
                at=now,
            )
            moved = store.mark_items_sent(
                session,
                item_ids=[
                    ctx.item_id for _, ctx in requests if ctx.state == ItemState.QUEUED.value
                ],
                now=now,
            )
            if moved:
                ctx_of = {ctx.item_id: ctx for _, ctx in requests}
                items = [
                    dataclasses.replace(ctx_of[i].item, state=ItemState.SENT.value, sent_at=now)
                    for i in moved
                ]
                service.publish_items(session, settings=self.settings, items=items)
        self.sent += len(accepted)

    def _retry(self, job: OutboxJob, error: str) -> None:
        with self.db.write() as session:
            outbox.mark_failed(
                session,
                outbox_id=job.id,
                error=error,
                retry_at=self.clock() + backoff(job.attempts),
            )
            append_audit(
                session,
                actor=MAILER,
                action="mail.deferred",
                outcome="error",
                targets=_targets(job),
                reason=error[:500],
            )

    def _retry_rest(self, jobs: list[OutboxJob], error: str) -> None:
        with self.db.write() as session:
            for job in jobs:
                outbox.mark_failed(
                    session,
                    outbox_id=job.id,
                    error=error,
                    retry_at=self.clock() + backoff(job.attempts),
                )

    def _give_up(self, job: OutboxJob, code: int | None, text: str) -> None:
        reason = f"{code} {text}".strip() if code is not None else text
        with self.db.write() as session:
            outbox.mark_failed(session, outbox_id=job.id, error=reason, retry_at=None)
            append_audit(
                session,
                actor=MAILER,
                action="mail.failed",
                outcome="error",
                targets=_targets(job),
                reason=reason[:500],
            )
            if job.item_id is None:  # portal mail: no item to mark
                return
            try:
                item = store.set_item_state(
                    session,
                    item_id=job.item_id,
                    state=ItemState.UNDELIVERABLE.value,
                    reason=reason[:500],
                    now=self.clock(),
                )
            except TransitionError:
                return
            service.publish_item(session, settings=self.settings, item=item)
