"""The yearly "still there?" e-mail against a real SMTP server (aiosmtpd): an owner with due
cameras gets exactly one e-mail per sweep listing them all (also with sweeps racing each
other), its one link confirms the listed cameras once (reuse, forgery, another owner's camera
and an unlisted camera of theirs refused, nothing changed), an unanswered camera turns stale
(event published, audited, marked in the registry API), and "Still there" on My cameras, an
edit or a sharing change on the portal clears it (a revocation does not). Another owner's ids
answer 404."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from rtcc_console.core.models import Role, utcnow
from rtcc_console.server.app import create_app
from rtcc_console.server.camera_confirm import sweep_pass
from rtcc_console.sim.smtp_sink import Received, SmtpSink
from rtcc_console.store import confirmations
from rtcc_console.store.schema import AuditEventRow, CameraRow
from tests.server.conftest import API, add_user, events_of, login, make_settings
from tests.server.portal_support import Portal, csrf_of, register, sign_up

_LINK = re.compile(r"https?://\S+(/portal/confirm\?token=([\w\-]+))")
SUBJECT = "still there?"


def _link(mail: Received) -> tuple[str, str, str]:
    """(text, path, token) of a confirmation e-mail."""
    text = mail.message().get_body(preferencelist=("plain",)).get_content()
    found = _LINK.search(text)
    assert found, text
    return text, found.group(1), found.group(2)


@pytest.fixture
def env(db_url: str) -> Iterator[tuple[Any, SmtpSink, TestClient]]:
    with SmtpSink() as sink:
        app = create_app(
            make_settings(
                db_url,
                smtp_host=sink.host,
                smtp_port=sink.port,
                smtp_security="none",
                camera_confirm_sweep_s=0.2,
            )
        )
        with TestClient(app) as api:
            add_user(app, "ana", Role.ANALYST)
            yield app, sink, api


def _owner(app: Any, sink: SmtpSink, email: str, n: int = 1) -> tuple[Portal, str]:
    p = Portal(app)
    sign_up(p, sink, email=email, name=f"Owner {email}", kind="business", n=n)
    return p, register(p, kind="business", name=f"Door of {email}")


def _set_cycle(app: Any, camera_id: str, *, confirmed_days: int, asked_days: int | None) -> None:
    now = utcnow()
    with app.state.rtcc.db.write() as s:
        confirmations.set_cycle(
            s,
            camera_id=camera_id,
            confirmed_at=now - timedelta(days=confirmed_days),
            confirm_asked_at=None if asked_days is None else now - timedelta(days=asked_days),
        )


def _camera(app: Any, camera_id: str) -> CameraRow:
    with app.state.rtcc.db.read() as s:
        row = s.get(CameraRow, camera_id)
        assert row is not None
        s.expunge(row)
        return row


def _questions(sink: SmtpSink, to: str) -> list[Received]:
    return [
        m
        for m in list(sink.messages)
        if to in m.rcpt_tos and SUBJECT in str(m.message()["Subject"])
    ]


def _wait(what: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out")


def _audits(app: Any, action: str) -> list[AuditEventRow]:
    with app.state.rtcc.db.read() as s:
        rows = list(s.scalars(select(AuditEventRow).where(AuditEventRow.action == action)))
        s.expunge_all()
        return rows


def test_a_due_camera_gets_one_email_whose_link_confirms_once(env: Any) -> None:
    app, sink, api = env
    _, cid = _owner(app, sink, "a@x.example")
    _, other = _owner(app, sink, "b@x.example", n=1)
    _set_cycle(app, cid, confirmed_days=366, asked_days=None)
    mail = _wait(lambda: _questions(sink, "a@x.example"))[0]  # the server's own sweep
    for _ in range(3):  # later sweeps do not ask again
        sweep_pass(app.state.rtcc)
    assert len(_questions(sink, "a@x.example")) == 1
    assert _questions(sink, "b@x.example") == []
    text, path, token = _link(mail)
    assert "Door of a@x.example" in text and _camera(app, cid).confirm_asked_at is not None

    browser = Portal(app)  # not signed in: the link is enough
    page = browser.get(path)
    assert page.status_code == 200 and "Still there" in page.text, page.text
    assert f'value="{cid}" checked' in page.text
    assert _camera(app, cid).confirm_asked_at is not None  # opening the page changes nothing
    csrf = csrf_of(page.text)
    # the token on another owner's camera, or forged: refused, and the link still works
    for ticked in ([other], [cid, other], ["c" * 5000], ["<script>"], [cid, ""]):
        r = browser.client.post(
            "/portal/confirm", data={"csrf_token": csrf, "token": token, "camera": ticked}
        )
        assert r.status_code == 404, ticked
    r = browser.client.post(
        f"/portal/cameras/{other}/confirm", data={"csrf_token": csrf, "token": token}
    )
    assert r.status_code == 404
    for bad in ("x" * 43, "a<b>\u202e", "é" * 10):
        r = browser.client.post(
            "/portal/confirm", data={"csrf_token": csrf, "token": bad, "camera": cid}
        )
        assert r.status_code == 410, bad
    assert (
        browser.client.post("/portal/confirm", data={"token": token, "camera": cid}).status_code
        == 403
    )
    # nothing ticked: said beside the list, the link not used
    r = browser.client.post("/portal/confirm", data={"csrf_token": csrf, "token": token})
    assert r.status_code == 422 and "Tick the cameras" in r.text
    assert _camera(app, cid).confirm_asked_at is not None
    r = browser.client.post(
        "/portal/confirm", data={"csrf_token": csrf, "token": token, "camera": cid}
    )
    assert r.status_code == 200 and "Thank you" in r.text, r.text
    row = _camera(app, cid)
    assert row.confirm_asked_at is None and utcnow() - row.confirmed_at < timedelta(minutes=1)
    # used once: the page and a second press are refused, nothing changes
    assert browser.get(path).status_code == 410
    r = browser.client.post(
        "/portal/confirm", data={"csrf_token": csrf, "token": token, "camera": cid}
    )
    assert r.status_code == 410
    assert _camera(app, cid).version == row.version
    confirmed = [json.loads(d) for _i, _t, d in events_of(app, "camera.confirmed")]
    assert [(e["camera_id"], e["was_stale"]) for e in confirmed] == [(cid, False)]
    [entry] = _audits(app, "registry.camera_confirmed")
    assert entry.targets == {"camera": cid, "by": "owner", "via": "link"}
    [asked] = [a for a in _audits(app, "registry.confirm_asked") if a.targets["camera"] == cid]
    assert asked.outcome == "ok" and "x.example" not in json.dumps(asked.targets)


def test_racing_sweeps_ask_once(env: Any) -> None:
    app, sink, _api = env
    owner, cid = _owner(app, sink, "r@x.example")
    more = [register(owner, kind="business", name=f"Yard {i}") for i in range(2)]
    for camera_id in (cid, *more):
        _set_cycle(app, camera_id, confirmed_days=400, asked_days=None)
    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda: results.append(sweep_pass(app.state.rtcc)))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    mail = _wait(lambda: _questions(sink, "r@x.example"))[0]
    assert sum(len(r.asked) for r in results) <= 3 and sum(r.emails for r in results) <= 1
    for _ in range(2):
        sweep_pass(app.state.rtcc)
    assert len(_questions(sink, "r@x.example")) == 1
    text, _path, _token = _link(mail)  # the one e-mail lists all three
    assert all(name in text for name in ("Door of r@x.example", "Yard 0", "Yard 1")), text
    asked = [a.targets["camera"] for a in _audits(app, "registry.confirm_asked")]
    assert sorted(asked) == sorted([cid, *more])


def test_one_email_per_owner_lists_the_due_cameras_and_its_link_confirms_only_those(
    env: Any,
) -> None:
    app, sink, _api = env
    owner, first = _owner(app, sink, "m@x.example")
    second, not_due = (register(owner, kind="business", name=n) for n in ("Gate", "Roof"))
    _set_cycle(app, first, confirmed_days=400, asked_days=None)
    _set_cycle(app, second, confirmed_days=370, asked_days=None)
    result = sweep_pass(app.state.rtcc)
    assert sorted(result.asked) == sorted([first, second]) and result.emails == 1
    [mail] = _wait(lambda: _questions(sink, "m@x.example"))
    assert "Are your 2 cameras still there?" in str(mail.message()["Subject"])
    text, path, token = _link(mail)
    assert "Door of m@x.example" in text and "Gate" in text and "Roof" not in text
    browser = Portal(app)
    page = browser.get(path)
    assert page.status_code == 200
    assert f'value="{first}" checked' in page.text and f'value="{second}" checked' in page.text
    assert not_due not in page.text
    csrf = csrf_of(page.text)
    # the owner's own camera the e-mail did not ask about: refused, nothing written
    for ticked in ([not_due], [first, not_due]):
        r = browser.client.post(
            "/portal/confirm", data={"csrf_token": csrf, "token": token, "camera": ticked}
        )
        assert r.status_code == 404
        r = browser.client.post(
            f"/portal/cameras/{not_due}/confirm", data={"csrf_token": csrf, "token": token}
        )
        assert r.status_code == 404
    assert events_of(app, "camera.confirmed") == []
    # "Gate" confirmed on My cameras meanwhile: it drops out of the link's list
    assert owner.submit("/portal/cameras", f"/portal/cameras/{second}/confirm").status_code == 303
    page = browser.get(path)
    assert f'value="{first}" checked' in page.text and f'value="{second}"' not in page.text
    r = browser.client.post(
        "/portal/confirm", data={"csrf_token": csrf, "token": token, "camera": [first, second]}
    )
    assert r.status_code == 404  # no longer listed
    r = browser.client.post(
        "/portal/confirm", data={"csrf_token": csrf, "token": token, "camera": [first, first]}
    )
    assert r.status_code == 200 and "confirmed for another year" in r.text
    confirmed = [json.loads(d)["camera_id"] for _i, _t, d in events_of(app, "camera.confirmed")]
    assert confirmed == [second, first]
    vias = sorted(a.targets["via"] for a in _audits(app, "registry.camera_confirmed"))
    assert vias == ["link", "portal"]
    assert _camera(app, not_due).confirm_asked_at is None
    # a later sweep asks nothing more: no second e-mail
    assert sweep_pass(app.state.rtcc).emails == 0
    assert len(_questions(sink, "m@x.example")) == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_editing_or_changing_sharing_on_the_portal_confirms_but_revoking_does_not(
    env: Any,
) -> None:
    app, sink, _api = env
    owner, cid = _owner(app, sink, "e@x.example")
    edited = register(owner, kind="business", name="Side door")
    revoked = register(owner, kind="business", name="Back door")
    for camera_id in (cid, edited, revoked):
        _set_cycle(app, camera_id, confirmed_days=400, asked_days=31)
    stale = sweep_pass(app.state.rtcc).stale
    assert sorted(stale) == sorted([cid, edited, revoked])
    # a sharing change
    r = owner.submit(
        "/portal/cameras", f"/portal/cameras/{cid}/sharing", {"sharing_mode": "request_only"}
    )
    assert r.status_code == 303, r.text
    # an edit
    page = owner.get(f"/portal/cameras/{edited}/edit")
    form = {
        "csrf_token": csrf_of(page.text),
        "name": "Side door, east",
        "address": "3 Oak St",
        "lat": "40.71",
        "lon": "-74.01",
        "kind": "business",
        "sharing_mode": "request_only",
        "action": "save",
    }
    assert owner.client.post(f"/portal/cameras/{edited}/edit", data=form).status_code == 303
    # an invalid edit changes nothing
    bad = {
        **form,
        "lat": "north",
        "csrf_token": csrf_of(owner.get(f"/portal/cameras/{revoked}/edit").text),
    }
    assert owner.client.post(f"/portal/cameras/{revoked}/edit", data=bad).status_code == 422
    # a revocation does not confirm
    r = owner.submit(
        "/portal/cameras", f"/portal/cameras/{revoked}/revoke", {"reason": "withdrawn"}
    )
    assert r.status_code == 303
    for camera_id in (cid, edited):
        row = _camera(app, camera_id)
        assert row.stale_since is None and row.confirm_asked_at is None
        assert utcnow() - row.confirmed_at < timedelta(minutes=1)
    row = _camera(app, revoked)
    assert row.stale_since is not None and utcnow() - row.confirmed_at > timedelta(days=399)
    confirmed = [json.loads(d) for _i, _t, d in events_of(app, "camera.confirmed")]
    assert [(e["camera_id"], e["was_stale"]) for e in confirmed] == [(cid, True), (edited, True)]
    changed = [json.loads(d) for _i, _t, d in events_of(app, "camera.changed")]
    last = {c["camera"]["id"]: c["camera"]["stale"] for c in changed}
    assert last[cid] is False and last[edited] is False and last[revoked] is True
    vias = {
        a.targets["camera"]: a.targets["via"] for a in _audits(app, "registry.camera_confirmed")
    }
    assert vias == {cid: "sharing", edited: "edit"}
    # the next sweeps neither ask nor mark them again
    later = sweep_pass(app.state.rtcc)
    assert cid not in later.asked + later.stale and edited not in later.asked + later.stale


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_unanswered_camera_turns_stale_and_still_there_clears_it(env: Any) -> None:
    app, sink, api = env
    owner, cid = _owner(app, sink, "s@x.example")
    stranger, theirs = _owner(app, sink, "t@x.example")
    _set_cycle(app, cid, confirmed_days=400, asked_days=31)  # asked a month ago, no answer
    stale = _wait(lambda: events_of(app, "camera.stale"))
    assert [json.loads(d)["camera_id"] for _i, _t, d in stale] == [cid]
    changed = [json.loads(d) for _i, _t, d in events_of(app, "camera.changed")]
    assert [(c["change"], c["camera"]["stale"]) for c in changed if c["change"] == "stale"] == [
        ("stale", True)
    ]
    [entry] = _audits(app, "registry.camera_stale")
    assert entry.targets["camera"] == cid and entry.reason.startswith("not confirmed since ")
    # the registry carries it (and stays listing it)
    h = login(api, "ana")
    cam = api.get(f"{API}/cameras/{cid}", headers=h).json()
    assert cam["stale"] is True and cam["confirmed_at"] and cam["stale_since"]
    near = api.get(
        f"{API}/cameras/nearest", headers=h, params={"lat": cam["lat"], "lon": cam["lon"], "k": 5}
    ).json()["items"]
    assert {i["camera"]["id"]: i["camera"]["stale"] for i in near}[cid] is True
    assert api.get(f"{API}/cameras/{theirs}", headers=h).json()["stale"] is False
    # My cameras shows it; another owner cannot see or confirm it
    page = owner.get("/portal/cameras")
    assert f'id="stale-{cid}"' in page.text and "Last confirmed" in page.text
    assert f'id="stale-{theirs}"' not in stranger.get("/portal/cameras").text
    assert stranger.get(f"/portal/cameras/{cid}/confirm").status_code == 404
    r = stranger.submit("/portal/cameras", f"/portal/cameras/{cid}/confirm")
    assert r.status_code == 404
    assert _camera(app, cid).stale_since is not None
    # "Still there" on My cameras
    r = owner.submit("/portal/cameras", f"/portal/cameras/{cid}/confirm")
    assert r.status_code == 303 and r.headers["location"] == f"/portal/cameras?confirmed={cid}"
    assert "confirmed for another year" in owner.follow(r).text
    assert api.get(f"{API}/cameras/{cid}", headers=h).json()["stale"] is False
    confirmed = [json.loads(d) for _i, _t, d in events_of(app, "camera.confirmed")]
    assert [(e["camera_id"], e["was_stale"]) for e in confirmed] == [(cid, True)]
    assert _audits(app, "registry.camera_confirmed")[0].targets["via"] == "portal"
    assert f'id="stale-{cid}"' not in owner.get("/portal/cameras").text
    # signed out, no token: the sign-in page
    assert Portal(app).get(f"/portal/cameras/{cid}/confirm").status_code == 303


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_hostile_confirm_requests_get_a_clear_4xx_and_change_nothing(env: Any) -> None:
    app, sink, _api = env
    owner, cid = _owner(app, sink, "h@x.example")
    version = _camera(app, cid).version
    anon = Portal(app)
    page = anon.get("/portal/sign-in")
    csrf = csrf_of(page.text)
    for path, status in (
        (f"/portal/cameras/{cid}/confirm?token=%ED%A0%80", 410),  # a lone surrogate, encoded
        (f"/portal/cameras/{cid}/confirm?token=" + "A" * 5000, 410),
        (f"/portal/cameras/{cid}/confirm?token=<script>", 410),
        ("/portal/cameras/" + "c" * 5000 + "/confirm", 303),  # signed out: sign in first
    ):
        assert anon.get(path).status_code == status, path
    for token in ("A" * 5000, "%ED%A0%80", "..%2F..%2Fetc", "x" * 43):  # raw form bodies
        r = anon.client.post(
            f"/portal/cameras/{cid}/confirm",
            content=f"csrf_token={csrf}&token={token}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code in (303, 410), (token[:10], r.status_code)
    for path in (
        "/portal/confirm",
        "/portal/confirm?token=%ED%A0%80",
        "/portal/confirm?token=" + "A" * 5000,
        "/portal/confirm?token=<script>",
        "/portal/confirm?token=" + "x" * 43,
    ):
        assert anon.get(path).status_code == 410, path
    for body in (
        f"csrf_token={csrf}&token={'A' * 5000}&camera={cid}",
        f"csrf_token={csrf}&token=%ED%A0%80&camera={cid}",
        f"csrf_token={csrf}&token={'x' * 43}&camera={'c' * 5000}",
        f"csrf_token={csrf}&token={'x' * 43}&camera=%ED%A0%80",
        f"csrf_token={csrf}&token={'x' * 43}" + f"&camera={cid}" * 60,  # too many fields
        f"csrf_token={csrf}",
    ):
        r = anon.client.post(
            "/portal/confirm",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code in (400, 410), (body[:40], r.status_code)
    assert owner.get("/portal/cameras/" + "c" * 5000 + "/confirm").status_code == 404
    r = owner.submit("/portal/cameras", "/portal/cameras/cam-000000000000/confirm")
    assert r.status_code == 404
    assert _camera(app, cid).version == version and events_of(app, "camera.confirmed") == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_owner_without_a_portal_account_is_not_emailed_but_the_camera_goes_stale(
    env: Any,
) -> None:
    from rtcc_console.core.models import CameraKind, Owner
    from rtcc_console.server import camera_store
    from rtcc_console.store import owners

    app, sink, _api = env
    state = app.state.rtcc
    with state.db.write() as s:
        owners.save_owner(
            s,
            owner=Owner(
                id="own-paper", name="Paper form", kind=CameraKind.RESIDENTIAL, email="p@x.example"
            ),
        )
        row = camera_store.create_camera(
            s,
            fields={
                "name": "Porch",
                "tier": "registered",
                "kind": "residential",
                "sharing_mode": "request_only",
                "lat": 32.78,
                "lon": -96.8,
                "owner_id": "own-paper",
            },
        )
    cid = row.id
    asked_at = utcnow() + timedelta(days=400)
    result = sweep_pass(state, now=asked_at)
    assert cid in result.unreachable and cid not in result.asked
    [entry] = [a for a in _audits(app, "registry.confirm_asked") if a.targets["camera"] == cid]
    assert entry.outcome == "no_account"
    assert sweep_pass(state, now=asked_at + timedelta(days=29)).stale == []
    assert sweep_pass(state, now=asked_at + timedelta(days=31)).stale == [cid]
    assert not [m for m in sink.messages if "p@x.example" in m.rcpt_tos]
