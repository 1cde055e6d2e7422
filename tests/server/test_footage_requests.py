"""Footage requests end to end through the HTTP API, a real SMTP server and the portal routes.

Runs on SQLite and PostgreSQL (``db_url``). E-mail goes to an aiosmtpd server on loopback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from rtcc_console.core.models import Role, utcnow
from rtcc_console.sim.smtp_sink import SmtpSink
from rtcc_console.store.schema import (
    AuditEventRow,
    FootageRequestRow,
    MailOutboxRow,
    RequestItemLinkRow,
    RequestItemRow,
)
from tests.server.conftest import API, add_user, count_rows, events_of, login, make_settings
from tests.server.footage_support import EMAILS, INCLUDED, REGISTRY, body, seed_registry, wait_until

LINK_RE = re.compile(r"/portal/requests/([A-Za-z0-9_-]{20,})")


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as s:
        yield s


@pytest.fixture
def fr_app(db_url: str, sink: SmtpSink) -> Any:
    from rtcc_console.server.app import create_app

    return create_app(
        make_settings(
            db_url,
            smtp_host=sink.host,
            smtp_port=sink.port,
            smtp_security="none",
            mail_poll_s=0.2,
            agency_name="Dallas RTCC",
        )
    )


@pytest.fixture
def fr(fr_app: Any) -> Iterator[TestClient]:
    with TestClient(fr_app) as c:
        add_user(fr_app, "ana", Role.ANALYST)
        add_user(fr_app, "ann", Role.ANALYST)
        add_user(fr_app, "sue", Role.SUPERVISOR)
        seed_registry(fr_app)
        yield c


def _links(sink: SmtpSink) -> dict[str, str]:
    """recipient -> link token, from the delivered plain-text parts."""
    out = {}
    for rec in sink.messages:
        msg = rec.message()
        plain = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        match = LINK_RE.search(plain)
        assert match, plain
        out[rec.rcpt_tos[0]] = match.group(1)
    return out


def test_request_reaches_each_included_owner_once_with_a_working_single_use_link(
    fr: TestClient, fr_app: Any, sink: SmtpSink
) -> None:
    ana = login(fr, "ana")
    r = fr.post(f"{API}/footage-requests/preview", json=body(), headers=ana)
    assert r.status_code == 200, r.text
    pv = r.json()
    assert pv["cameras_inside"] == 8 and pv["owners_inside"] == 6 and pv["owners_included"] == 3
    assert pv["excluded"] == {"opted_out": 1, "revoked": 1, "no_contact": 1}
    assert pv["warnings"] == [] and 0.02 < pv["area_sq_mi"] < 0.03
    assert count_rows(fr_app, FootageRequestRow) == 0  # preview stores nothing

    b = body()
    r = fr.post(f"{API}/footage-requests", json=b, headers=ana)
    assert r.status_code == 201, r.text
    req = r.json()
    assert {i["owner_ref"] for i in req["items"]} == INCLUDED
    assert {i["state"] for i in req["items"]} <= {"queued", "sent"}
    by_owner = {i["owner_ref"]: i for i in req["items"]}
    assert by_owner["own-a"]["camera_ids"] == ["cam-a1", "cam-a2"]
    assert by_owner["own-c"]["camera_ids"] == ["cam-c1"]  # integrated, owner accepts requests
    again = fr.post(f"{API}/footage-requests", json=b, headers=ana)
    assert again.status_code == 200 and again.json()["id"] == req["id"]
    assert count_rows(fr_app, FootageRequestRow) == 1 and count_rows(fr_app, RequestItemRow) == 3

    assert sink.wait_for(3), "three e-mails expected"
    wait_until(
        lambda: all(
            i["state"] == "sent"
            for i in fr.get(f"{API}/footage-requests/{req['id']}", headers=ana).json()["items"]
        ),
        what="sent",
    )
    msgs = sink.messages
    assert sorted(m.rcpt_tos[0] for m in msgs) == sorted(EMAILS[o] for o in INCLUDED)
    assert len({m.message()["Message-ID"] for m in msgs}) == 3
    for rec in msgs:
        msg = rec.message()
        assert msg.get_content_type() == "multipart/alternative"
        plain = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert "26-001234" in plain and "check your cameras" in plain and LINK_RE.search(html)
        others = [e for e in EMAILS.values() if e != rec.rcpt_tos[0]]
        raw = "".join(f"{k}: {v}\n" for k, v in msg.items()) + plain + html  # decoded, not base64
        assert not any(o in raw for o in others), "another owner's address leaked"
        owner = next(k for k, v in EMAILS.items() if v == rec.rcpt_tos[0])
        foreign = [c[0] for oid, spec in REGISTRY.items() if oid != owner for c in spec[3]]
        assert not any(c in raw for c in foreign), "another owner's camera leaked"
        assert all(c in raw for c in by_owner[owner]["camera_ids"])
    # the console and the event stream never see an address
    listing = fr.get(f"{API}/footage-requests?scope=mine", headers=ana).text
    all_events = json.dumps(events_of(fr_app))
    for addr in EMAILS.values():
        assert addr not in listing and addr not in all_events

    links = _links(sink)
    token_a = links[EMAILS["own-a"]]
    page = fr.get(f"{API}/portal/requests/{token_a}")
    assert page.status_code == 200, page.text
    pj = page.json()
    assert pj["case_numbers"] == ["26-001234"] and [c["id"] for c in pj["cameras"]] == [
        "cam-a1",
        "cam-a2",
    ]
    assert "bob" not in page.text and "own-b" not in page.text and pj["can_answer"]
    assert (
        fr.post(
            f"{API}/portal/requests/{token_a}/answer", json={"answer": "no_footage"}
        ).status_code
        == 200
    )
    used = fr.post(f"{API}/portal/requests/{token_a}/answer", json={"answer": "declined"})
    assert used.status_code == 410 and "already answered" in used.json()["detail"]
    assert fr.get(f"{API}/portal/requests/{token_a}").status_code == 410

    token_b = links[EMAILS["own-b"]]
    assert (
        fr.post(f"{API}/portal/requests/{token_b}/answer", json={"answer": "declined"}).status_code
        == 200
    )
    got = fr.get(f"{API}/footage-requests/{req['id']}", headers=ana).json()
    states = {i["owner_ref"]: i["state"] for i in got["items"]}
    assert states == {"own-a": "no_footage", "own-b": "declined", "own-c": "sent"}
    assert (
        got["counts"]["no_footage"] == 1
        and got["counts"]["declined"] == 1
        and got["counts"]["sent"] == 1
    )
    updates = [json.loads(d) for _, _, d in events_of(fr_app, "request.updated")]
    changed = [
        it for u in updates for it in (u.get("items") or [u["item"]])
    ]  # grouped sends carry "items"
    assert all(u["item"] == (u.get("items") or [u["item"]])[0] for u in updates)
    assert {(it["owner_ref"], it["state"]) for it in changed} >= {
        ("own-a", "sent"),
        ("own-a", "no_footage"),
        ("own-b", "declined"),
        ("own-c", "sent"),
    }
    with fr_app.state.rtcc.db.read() as s:
        actions = [a for a in s.scalars(select(AuditEventRow.action))]
    assert actions.count("mail.sent") == 3 and "footage_request.created" in actions
    assert (
        actions.count("footage_request.answered") == 2
        and actions.count("portal.token_refused") == 2
    )


def test_expired_forged_and_other_owners_tokens(
    fr: TestClient, fr_app: Any, sink: SmtpSink
) -> None:
    ana = login(fr, "ana")
    req = fr.post(f"{API}/footage-requests", json=body(), headers=ana).json()
    assert sink.wait_for(3)
    links = _links(sink)
    token_b, token_c = links[EMAILS["own-b"]], links[EMAILS["own-c"]]
    forged = token_b[:-4] + ("AAAA" if not token_b.endswith("AAAA") else "BBBB")
    assert fr.get(f"{API}/portal/requests/{forged}").status_code == 404
    assert (
        fr.post(f"{API}/portal/requests/{forged}/answer", json={"answer": "declined"}).status_code
        == 404
    )
    assert fr.get(f"{API}/portal/requests/x").status_code == 404
    assert fr.get(f"{API}/portal/requests/{'A' * 5000}").status_code == 404
    # owner B's token answers only owner B's item: C is untouched
    assert (
        fr.post(
            f"{API}/portal/requests/{token_b}/answer", json={"answer": "no_footage"}
        ).status_code
        == 200
    )
    states = {
        i["owner_ref"]: i["state"]
        for i in fr.get(f"{API}/footage-requests/{req['id']}", headers=ana).json()["items"]
    }
    assert states["own-b"] == "no_footage" and states["own-c"] in {"sent", "queued"}
    # expire C's link
    with fr_app.state.rtcc.db.write() as s:
        s.execute(
            update(RequestItemRow)
            .where(RequestItemRow.owner_id == "own-c")
            .values(due_at=utcnow().replace(year=2020))
        )
    r = fr.get(f"{API}/portal/requests/{token_c}")
    assert r.status_code == 410 and "expired" in r.json()["detail"]
    assert (
        fr.post(
            f"{API}/portal/requests/{token_c}/answer", json={"answer": "no_footage"}
        ).status_code
        == 410
    )
    bad = fr.post(f"{API}/portal/requests/{token_b}/answer", json={"answer": "maybe"})
    assert bad.status_code == 422
    with fr_app.state.rtcc.db.read() as s:
        refused = s.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "portal.token_refused")
        ).all()
    reasons = sorted(r.targets["reason"] for r in refused)
    assert reasons.count("unknown") == 4 and reasons.count("expired") == 2
    assert all(
        token_b not in json.dumps(r.targets) and forged not in json.dumps(r.targets)
        for r in refused
    )


def _square(n: int, size_deg: float = 0.002) -> list[dict[str, float]]:
    import math

    return [
        {
            "lat": 32.78 + size_deg * math.sin(2 * math.pi * i / n),
            "lon": -96.80 + size_deg * math.cos(2 * math.pi * i / n),
        }
        for i in range(n)
    ]


BAD_BODIES: list[tuple[str, dict[str, Any], int, str]] = [
    (
        "self-crossing polygon",
        {
            "area": {
                "kind": "polygon",
                "points": [
                    {"lat": 32.780, "lon": -96.800},
                    {"lat": 32.781, "lon": -96.799},
                    {"lat": 32.781, "lon": -96.800},
                    {"lat": 32.780, "lon": -96.799},
                ],
            }
        },
        422,
        "crosses itself",
    ),
    (
        "zero area (collinear)",
        {
            "area": {
                "kind": "polygon",
                "points": [
                    {"lat": 32.780, "lon": -96.800},
                    {"lat": 32.781, "lon": -96.800},
                    {"lat": 32.782, "lon": -96.800},
                ],
            }
        },
        422,
        "area",
    ),
    (
        "zero radius",
        {"area": {"kind": "circle", "center": {"lat": 32.78, "lon": -96.8}, "radius_m": 0}},
        422,
        "radius_m",
    ),
    ("unknown kind", {"area": {"kind": "blob"}}, 422, "kind"),
    (
        "10,000-vertex polygon",
        {"area": {"kind": "polygon", "points": _square(10_000)}},
        422,
        "too many points",
    ),
    (
        "reversed window",
        {"window_start": "2026-11-21T05:00:00+00:00", "window_end": "2026-11-21T04:00:00+00:00"},
        422,
        "window",
    ),
    ("naive time", {"window_start": "2026-11-21T05:00:00"}, 422, "timezone"),
    ("missing case number", {"case_number": None}, 422, "case_number"),
    ("blank case number", {"case_number": "   "}, 422, "case number"),
    ("unknown camera", {"camera_ids": ["cam-nope"]}, 422, "unknown camera"),
    ("camera outside", {"camera_ids": ["cam-g1"]}, 422, "outside the area"),
    ("unknown call", {"call_id": "call-nope"}, 422, "unknown call"),
    ("lone surrogate", {"message": "\ud800 hi"}, 422, "surrogate"),
    ("extra field", {"owner_emails": ["x@example.org"]}, 422, "owner_emails"),
    (
        "future window",
        {"window_start": "2099-01-01T00:00:00+00:00", "window_end": "2099-01-01T01:00:00+00:00"},
        422,
        "window_in_future",
    ),
    (
        "too long window",
        {"window_start": "2026-01-01T00:00:00+00:00", "window_end": "2026-01-01T13:00:00+00:00"},
        422,
        "max_window",
    ),
    (
        "too large area",
        {"area": {"kind": "circle", "center": {"lat": 32.78, "lon": -96.8}, "radius_m": 1000}},
        422,
        "max_area",
    ),
    ("analyst override", {"override_reason": "because I say so, really"}, 403, "supervisor"),
    ("nested area", {"area": json.loads('{"a":' * 50 + "1" + "}" * 50)}, 422, "kind"),
    (
        "points not objects",
        {"area": {"kind": "polygon", "points": [[32.78, -96.8]] * 4}},
        422,
        "lat and lon",
    ),
    ("huge message", {"message": "x" * 2001}, 422, "message"),
    ("client key with spaces", {"client_key": "a b c d e f g h"}, 422, "client_key"),
]


@pytest.mark.parametrize(
    ("what", "change", "status", "needle"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES]
)
def test_bad_input_is_a_clear_4xx_and_leaves_nothing(
    fr: TestClient, fr_app: Any, what: str, change: dict[str, Any], status: int, needle: str
) -> None:
    ana = login(fr, "ana")
    b = body()
    for key, value in change.items():
        if value is None:
            b.pop(key)
        else:
            b[key] = value
    if what == "analyst override":  # an override only matters when a limit is breached
        b["window_start"], b["window_end"] = (
            "2026-01-01T00:00:00+00:00",
            "2026-01-01T13:00:00+00:00",
        )
    raw = json.dumps(b, ensure_ascii=True)
    r = fr.post(
        f"{API}/footage-requests", content=raw, headers={**ana, "Content-Type": "application/json"}
    )
    assert r.status_code == status, (what, r.text)
    assert needle.lower() in r.text.lower(), (what, r.text)
    for table in (FootageRequestRow, RequestItemRow, RequestItemLinkRow, MailOutboxRow):
        assert count_rows(fr_app, table) == 0, (what, table)


def test_limits_per_case_and_supervisor_override(fr: TestClient, fr_app: Any) -> None:
    ana, sue = login(fr, "ana"), login(fr, "sue")
    for _ in range(2):
        assert fr.post(f"{API}/footage-requests", json=body(), headers=ana).status_code == 201
    third = fr.post(f"{API}/footage-requests", json=body(), headers=ana)
    assert third.status_code == 422
    assert (
        third.json()["detail"]["limit"] == "max_per_case" and third.json()["detail"]["overridable"]
    )
    warn = fr.post(f"{API}/footage-requests/preview", json=body(), headers=ana).json()["warnings"]
    assert [w["limit"] for w in warn] == ["max_per_case"]
    short = fr.post(f"{API}/footage-requests", json=body(override_reason="short"), headers=sue)
    assert short.status_code == 422 and "override_reason" in short.text
    ok = fr.post(
        f"{API}/footage-requests",
        json=body(override_reason="Serial burglary pattern, lieutenant approved"),
        headers=sue,
    )
    assert ok.status_code == 201 and ok.json()["override_reason"].startswith("Serial")
    with fr_app.state.rtcc.db.read() as s:
        row = s.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "footage_request.override")
        ).one()
    assert row.username == "sue" and row.targets["limits"] == "max_per_case"
    future = fr.post(
        f"{API}/footage-requests",
        headers=sue,
        json=body(
            case_number="26-9",
            window_start="2099-01-01T00:00:00+00:00",
            window_end="2099-01-01T01:00:00+00:00",
            override_reason="Serial burglary pattern, lieutenant approved",
        ),
    )
    assert future.status_code == 422 and future.json()["detail"]["limit"] == "window_in_future"


def test_overlapping_requests_share_one_item_per_owner(
    fr: TestClient, fr_app: Any, sink: SmtpSink
) -> None:
    ana, ann, sue = login(fr, "ana"), login(fr, "ann"), login(fr, "sue")
    first = fr.post(f"{API}/footage-requests", json=body(case_number="26-1"), headers=ana).json()
    assert sink.wait_for(3)
    b2 = body(case_number="26-2")
    from datetime import datetime, timedelta

    b2["window_start"] = (
        datetime.fromisoformat(b2["window_start"]) + timedelta(minutes=30)
    ).isoformat()
    b2["window_end"] = (
        datetime.fromisoformat(b2["window_end"]) + timedelta(minutes=30)
    ).isoformat()
    second = fr.post(f"{API}/footage-requests", json=b2, headers=ann).json()
    assert {i["id"] for i in first["items"]} == {i["id"] for i in second["items"]}
    assert all(i["shared_with"] == [first["id"]] for i in second["items"])
    assert count_rows(fr_app, RequestItemRow) == 3 and count_rows(fr_app, MailOutboxRow) == 3
    again = fr.get(f"{API}/footage-requests/{first['id']}", headers=ana).json()
    assert all(i["shared_with"] == [second["id"]] for i in again["items"])
    assert all(i["window_end"] == second["items"][0]["window_end"] for i in again["items"])  # union
    token = _links(sink)[EMAILS["own-a"]]
    assert sorted(fr.get(f"{API}/portal/requests/{token}").json()["case_numbers"]) == [
        "26-1",
        "26-2",
    ]
    # roles: each analyst sees only their own; a supervisor sees both
    assert fr.get(f"{API}/footage-requests/{first['id']}", headers=ann).status_code == 404
    assert [x["id"] for x in fr.get(f"{API}/footage-requests", headers=ann).json()["items"]] == [
        second["id"]
    ]
    assert fr.get(f"{API}/footage-requests?scope=all", headers=ana).status_code == 403
    assert fr.get(f"{API}/footage-requests?scope=all", headers=sue).json()["total"] == 2
    assert (
        fr.get(f"{API}/footage-requests?scope=all&case_number=26-2", headers=sue).json()["total"]
        == 1
    )
    assert (
        fr.get(f"{API}/footage-requests?scope=all&state=declined", headers=sue).json()["total"] == 0
    )
    assert fr.get(f"{API}/footage-requests?state=bogus", headers=sue).status_code == 422
    assert fr.get(f"{API}/footage-requests", headers={}).status_code == 401
