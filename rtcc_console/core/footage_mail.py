"""The e-mail an owner receives: plain text and HTML, one owner, one link.

Pure (standard library ``email`` only). The message names only this owner's cameras and
the case numbers the item serves; nothing about other owners. HTML is built with every
value escaped.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from typing import cast
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class OwnerMail:
    to_addr: str
    owner_name: str
    link: str
    window_start: datetime
    window_end: datetime
    due_at: datetime
    cameras: Sequence[tuple[str, str]]
    case_numbers: Sequence[str]
    messages: Sequence[str]
    reminder: int = 0  # 0 = first message, n = n-th reminder


@dataclass(frozen=True, slots=True)
class Sender:
    from_addr: str
    agency_name: str
    contact_email: str
    contact_phone: str
    time_zone: str


def _when(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%a %d %b %Y %H:%M %Z")


def build_message(
    mail: OwnerMail, *, sender: Sender, message_id: str, now: datetime
) -> MIMEMultipart:
    """The MIME message (multipart/alternative: text/plain + text/html)."""
    tz = ZoneInfo(sender.time_zone)
    start, end, due = (
        _when(mail.window_start, tz),
        _when(mail.window_end, tz),
        _when(mail.due_at, tz),
    )
    cases = ", ".join(mail.case_numbers) or "—"
    subject = f"{sender.agency_name}: can you check your camera footage? (case {cases})"
    if mail.reminder:
        subject = f"Reminder: {subject}"
    greeting = f"Hello {mail.owner_name}," if mail.owner_name else "Hello,"
    cams = [f"{name} ({addr})" if addr else name for name, addr in mail.cameras]
    contact = sender.contact_email + (f", {sender.contact_phone}" if sender.contact_phone else "")
    lines = [
        greeting,
        "",
        f"{sender.agency_name} is asking owners of registered cameras near an incident to check their recordings.",
        "",
        f"Time window: {start} to {end}",
        f"Case: {cases}",
    ]
    if cams:
        lines += ["Your cameras in the area:"] + [f"  - {c}" for c in cams]
    for text in mail.messages:
        lines += ["", text]
    lines += [
        "",
        "If you have footage from that time, please send it through this link (or tell us you have none):",
        mail.link,
        "",
        f"The link works until {due}. Sharing is voluntary.",
        f"Questions: {contact}",
        "",
        "To stop reminders about this request, use the link and choose 'No more reminders'.",
    ]
    plain = "\n".join(lines) + "\n"
    e = html.escape
    cam_html = "".join(f"<li>{e(c)}</li>" for c in cams)
    msg_html = "".join(f"<p>{e(t)}</p>" for t in mail.messages)
    body_html = (
        "<!DOCTYPE html><html><body>"
        f"<p>{e(greeting)}</p>"
        f"<p>{e(sender.agency_name)} is asking owners of registered cameras near an incident to check their "
        "recordings.</p>"
        f"<p><b>Time window:</b> {e(start)} to {e(end)}<br><b>Case:</b> {e(cases)}</p>"
        + (f"<p>Your cameras in the area:</p><ul>{cam_html}</ul>" if cams else "")
        + msg_html
        + f'<p><a href="{e(mail.link, quote=True)}">Send footage or answer the request</a></p>'
        f"<p>The link works until {e(due)}. Sharing is voluntary.</p>"
        f"<p>Questions: {e(contact)}</p></body></html>"
    )
    # compat32 MIME classes: a quarter of the cost of EmailMessage's header registry, the
    # same bytes on the wire (UTF-8, base64 bodies, RFC 2047 headers where needed)
    msg = MIMEMultipart("alternative")
    msg["Subject"] = _header(subject)
    msg["From"] = formataddr((sender.agency_name, sender.from_addr), charset="utf-8")
    msg["To"] = mail.to_addr
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg.attach(MIMEText(plain, "plain", "utf-8"))
    msg.attach(MIMEText(body_html, "html", "utf-8"))
    return msg


def _header(text: str) -> str:
    """The header value; not plain ASCII: a ``Header`` that compat32 RFC 2047-encodes."""
    return text if text.isascii() else cast(str, Header(text, "utf-8"))


def message_id_for(idem_key: str, domain: str) -> str:
    """A stable Message-ID for an outbox key (the same after any re-send)."""
    local = idem_key.replace(":", ".")
    return f"<{local}@{domain}>"
