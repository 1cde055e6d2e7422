"""Field shares (issue 16): an analyst shares a call's cameras with officers; each officer
opens a single-use link that becomes a session cookie for that share only. Lifecycle,
consent (revocation), call closing, expiry, and hostile input: refused and audited."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rtcc_console.core.models import Role
from rtcc_console.store.schema import AuditEventRow, FieldShareRow
from tests.server.conftest import API, add_user, camera_body, count_rows, login, simple_call


def audit(app: Any, action: str) -> list[AuditEventRow]:
    with app.state.rtcc.db.read() as s:
        rows = (
            s.query(AuditEventRow)
            .filter(AuditEventRow.action == action)
            .order_by(AuditEventRow.id)
            .all()
        )
        s.expunge_all()
        return rows


@pytest.fixture
def scene(
    client: TestClient, app: Any, admin: dict[str, str], analyst: dict[str, str]
) -> dict[str, Any]:
    add_user(app, "ofc.kim", Role.OFFICER)
    add_user(app, "ofc.lee", Role.OFFICER)
    for cid, lat in (("cam-a", 32.7800), ("cam-b", 32.7803)):
        r = client.post(
            f"{API}/cameras", headers=admin, json=camera_body(id=cid, name=f"Elm {cid}", lat=lat)
        )
        assert r.status_code == 201, r.text
    call = client.post(f"{API}/calls", headers=analyst, json=simple_call())
    assert call.status_code == 201, call.text
    return {"call": call.json()["call"]["id"]}


def share(client: TestClient, analyst: dict[str, str], call_id: str, **body: Any) -> Any:
    return client.post(f"{API}/calls/{call_id}/field-shares", headers=analyst, json=body)


def link_path(link: str) -> str:
    m = re.search(r"/field/[^/]+$", link)
    assert m, link
    return m.group(0)


def open_page(app: Any, link: str) -> tuple[TestClient, str]:
    """A fresh device (own cookie jar) opens the link; returns it and the page path."""
    device = TestClient(app)
    r = device.get(link_path(link), follow_redirects=False)
    assert r.status_code == 303, r.text
    assert (
        "httponly" in r.headers["set-cookie"].lower()
        and "samesite=strict" in r.headers["set-cookie"].lower()
    )
    return device, r.headers["location"]


def test_share_open_state_and_end(
    client: TestClient, app: Any, analyst: dict[str, str], scene: dict[str, Any]
) -> None:
    r = share(client, analyst, scene["call"], officers=["ofc.kim"], camera_ids=["cam-a", "cam-b"])
    assert r.status_code == 201, r.text
    [made] = r.json()
    assert (
        made["officer"] == "ofc.kim"
        and made["camera_ids"] == ["cam-a", "cam-b"]
        and made["ended_at"] is None
    )
    assert made["expires_at"] > made["created_at"] and not made["link_used"]
    device, page = open_page(app, made["link"])
    assert page == f"/field/s/{made['id']}"
    html = device.get(page)
    assert html.status_code == 200 and "field.js" in html.text
    st = device.get(page + "/state")
    assert st.status_code == 200, st.text
    body = st.json()
    assert body["call"]["type"] == "Burglary in progress" and body["call"]["priority"] == 1
    assert body["call"]["address"] == "1200 Elm St, Dallas, TX"
    assert [c["id"] for c in body["cameras"]] == ["cam-a", "cam-b"] and all(
        c["live"] for c in body["cameras"]
    )
    assert (
        "s3cret" not in st.text and "rtsp" not in st.text
    )  # camera credentials never reach the page
    listed = client.get(f"{API}/calls/{scene['call']}/field-shares", headers=analyst).json()[
        "items"
    ]
    assert [(s["officer"], s["link_used"]) for s in listed] == [("ofc.kim", True)]
    end = client.delete(f"{API}/calls/{scene['call']}/field-shares/{made['id']}", headers=analyst)
    assert end.status_code == 200 and end.json()["ended_at"] and "ana" in end.json()["end_reason"]
    gone = device.get(page + "/state")
    assert gone.status_code == 410 and gone.json()["ended"] is True
    assert device.get(page).status_code == 410
    actions = [
        (a.action, a.outcome)
        for n in ("field.share", "field.open", "field.end", "field.view")
        for a in audit(app, n)
    ]
    assert (
        ("field.share", "ok") in actions
        and ("field.open", "ok") in actions
        and ("field.end", "ok") in actions
    )
    assert ("field.view", "denied") in actions


def test_default_cameras_are_the_calls_top_live_ones(
    client: TestClient, analyst: dict[str, str], scene: dict[str, Any]
) -> None:
    r = share(client, analyst, scene["call"], officers=["ofc.kim", "ofc.lee"])
    assert r.status_code == 201, r.text
    shares = r.json()
    assert [s["officer"] for s in shares] == ["ofc.kim", "ofc.lee"]
    assert set(shares[0]["camera_ids"]) == {"cam-a", "cam-b"}
    assert shares[0]["link"] != shares[1]["link"]


def test_reused_link_and_foreign_cookie_are_refused_and_audited(
    client: TestClient, app: Any, analyst: dict[str, str], scene: dict[str, Any]
) -> None:
    kim, lee = share(
        client, analyst, scene["call"], officers=["ofc.kim", "ofc.lee"], camera_ids=["cam-a"]
    ).json()
    device, page = open_page(app, kim["link"])
    again = TestClient(app).get(link_path(kim["link"]), follow_redirects=False)
    assert again.status_code == 410 and "already used" in again.text
    # Lee's device holds Lee's cookie: it opens nothing of Kim's share.
    lee_device, lee_page = open_page(app, lee["link"])
    lee_device.cookies.set("rtcc_field", device.cookies.get("rtcc_field") or "", path=lee_page)
    assert lee_device.get(page + "/state").status_code == 403
    assert TestClient(app).get(page).status_code == 403  # no cookie at all
    forger = TestClient(app)
    forger.cookies.set("rtcc_field", "x" * 43, path=page)
    assert forger.get(f"{page}/state").status_code == 403
    assert TestClient(app).get("/field/fld_" + "A" * 43, follow_redirects=False).status_code == 404
    denied = [a.reason for a in audit(app, "field.open") if a.outcome == "denied"]
    assert "link already used" in denied and "unknown link" in denied
    assert sum(a.outcome == "denied" for a in audit(app, "field.view")) >= 3


def test_expired_link_and_expired_share(
    client: TestClient, app: Any, analyst: dict[str, str], scene: dict[str, Any]
) -> None:
    a, b = share(
        client, analyst, scene["call"], officers=["ofc.kim", "ofc.lee"], camera_ids=["cam-a"]
    ).json()
    with app.state.rtcc.db.write() as s:
        row = s.get(FieldShareRow, a["id"])
        row.created_at -= timedelta(seconds=app.state.rtcc.settings.field_link_ttl_s + 1)
    r = TestClient(app).get(link_path(a["link"]), follow_redirects=False)
    assert r.status_code == 410 and "link expired" in r.text
    device, page = open_page(app, b["link"])
    assert device.get(page + "/state").status_code == 200
    with app.state.rtcc.db.write() as s:
        s.get(FieldShareRow, b["id"]).expires_at -= timedelta(
            seconds=app.state.rtcc.settings.field_share_ttl_s + 1
        )
    r = device.get(page + "/state")
    assert r.status_code == 410 and "expired" in r.json()["reason"]
    ends = [x.reason for x in audit(app, "field.end")]
    assert "share expired" in ends


def test_call_closing_ends_the_share(
    client: TestClient, app: Any, analyst: dict[str, str], scene: dict[str, Any]
) -> None:
    [made] = share(
        client, analyst, scene["call"], officers=["ofc.kim"], camera_ids=["cam-a"]
    ).json()
    device, page = open_page(app, made["link"])
    closed = client.post(
        f"{API}/calls",
        headers=analyst,
        json=simple_call(status="closed", updated_at="2026-11-21T06:00:00+00:00"),
    )
    assert closed.status_code == 200 and closed.json()["call"]["status"] == "closed"
    r = device.get(page + "/state")
    assert r.status_code == 410 and "call closed" in r.json()["reason"]
    listed = client.get(f"{API}/calls/{scene['call']}/field-shares", headers=analyst).json()[
        "items"
    ]
    assert listed[0]["end_reason"] == "call closed"
    # and a closed call cannot be shared
    again = share(client, analyst, scene["call"], officers=["ofc.kim"], camera_ids=["cam-a"])
    assert again.status_code == 409


def test_revoked_camera_goes_dark_on_the_page(
    client: TestClient,
    app: Any,
    admin: dict[str, str],
    analyst: dict[str, str],
    scene: dict[str, Any],
) -> None:
    [made] = share(
        client, analyst, scene["call"], officers=["ofc.kim"], camera_ids=["cam-a", "cam-b"]
    ).json()
    device, page = open_page(app, made["link"])
    assert (
        client.post(
            f"{API}/cameras/cam-a/revoke", headers=admin, json={"reason": "owner"}
        ).status_code
        == 200
    )
    cams = {c["id"]: c for c in device.get(page + "/state").json()["cameras"]}
    assert cams["cam-a"]["live"] is False and "revoked" in cams["cam-a"]["reason"].lower()
    assert cams["cam-b"]["live"] is True


def test_bad_share_requests(
    client: TestClient,
    app: Any,
    analyst: dict[str, str],
    admin: dict[str, str],
    scene: dict[str, Any],
) -> None:
    call = scene["call"]
    cases: list[tuple[Any, int]] = [
        ({"officers": ["ana"], "camera_ids": ["cam-a"]}, 422),  # not an officer account
        ({"officers": ["nobody"], "camera_ids": ["cam-a"]}, 422),
        ({"officers": [], "camera_ids": ["cam-a"]}, 422),
        ({"officers": ["ofc.kim"], "camera_ids": ["cam-zzz"]}, 403),
        ({"officers": ["ofc.kim"], "camera_ids": ["cam-a"], "extra": 1}, 422),
        ({"officers": ["ofc.kim"] * 50}, 422),
        ({"officers": "ofc.kim"}, 422),
    ]
    for body, want in cases:
        r = share(client, analyst, call, **body)
        assert r.status_code == want, (body, r.status_code, r.text)
    surrogate = client.post(
        f"{API}/calls/{call}/field-shares",
        headers={**analyst, "Content-Type": "application/json"},
        content=b'{"officers": ["ofc.kim\\ud800"], "camera_ids": ["cam-a"]}',
    )
    assert surrogate.status_code == 422, surrogate.text
    assert (
        share(client, analyst, "call-nope", officers=["ofc.kim"], camera_ids=["cam-a"]).status_code
        == 404
    )
    r = client.post(
        f"{API}/calls/{call}/field-shares",
        headers={**analyst, "Content-Type": "application/json"},
        content=b'{"officers": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    )
    assert 400 <= r.status_code < 500
    assert count_rows(app, FieldShareRow) == 0  # nothing half-made
    assert sum(a.outcome == "denied" for a in audit(app, "field.share")) >= 4
    # officers may use no staff route
    officer = login(client, "ofc.kim")
    assert client.get(f"{API}/calls/{call}/field-shares", headers=officer).status_code == 403
    assert client.get(f"{API}/cameras", headers=officer).status_code == 403
    assert (
        client.delete(f"{API}/calls/{call}/field-shares/fs-x", headers=analyst).status_code == 404
    )


@pytest.fixture(scope="module")
def sim() -> Any:
    """The camera simulator: pre-encoded H.264 loops served live over HTTP MPEG-TS."""
    from rtcc_console.sim.cameras import SimCameraServer

    server = SimCameraServer(2, fps=15, size=(640, 360))
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_hls_is_repackaged_per_camera_and_checked_on_every_request(
    client: TestClient, app: Any, admin: dict[str, str], analyst: dict[str, str], sim: Any
) -> None:
    import av

    add_user(app, "ofc.kim", Role.OFFICER)
    url = sim.url(0, "ts").replace("http://", "http://viewer:S3cretPW42@")
    for cid, u in (("cam-v", url), ("cam-w", sim.url(1, "ts"))):
        assert (
            client.post(
                f"{API}/cameras", headers=admin, json=camera_body(id=cid, stream_url=u)
            ).status_code
            == 201
        )
    call = client.post(f"{API}/calls", headers=analyst, json=simple_call()).json()["call"]["id"]
    [made] = share(client, analyst, call, officers=["ofc.kim"], camera_ids=["cam-v"]).json()
    device, page = open_page(app, made["link"])
    pl = device.get(f"{page}/cameras/cam-v/index.m3u8")
    assert pl.status_code == 200, pl.text
    assert pl.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    assert "S3cret" not in pl.text and "#EXTINF" in pl.text
    seg = [ln for ln in pl.text.splitlines() if ln.startswith("seg-")][-1]
    data = device.get(f"{page}/cameras/cam-v/{seg}")
    assert data.status_code == 200 and data.content[:1] == b"G"
    import io

    with av.open(io.BytesIO(data.content)) as ts:
        assert (
            ts.streams.video[0].codec_context.name == "h264"
        )  # the camera's own codec: not re-encoded
        assert sum(1 for _ in ts.demux(video=0)) > 5
    # a second viewer of the same camera uses the same repackager
    assert device.get(f"{page}/cameras/cam-v/index.m3u8").status_code == 200
    assert app.state.rtcc.extras["field_hls"].started == 1
    # a segment or playlist URL guessed for another camera: refused and audited
    assert device.get(f"{page}/cameras/cam-w/{seg}").status_code == 404
    assert device.get(f"{page}/cameras/cam-w/index.m3u8").status_code == 404
    assert TestClient(app).get(f"{page}/cameras/cam-v/{seg}").status_code == 403  # no cookie
    video = [(a.outcome, a.reason) for a in audit(app, "field.video")]
    assert ("ok", None) in video and ("denied", "camera not in this share") in video
    # revocation stops it at the next request
    assert (
        client.post(
            f"{API}/cameras/cam-v/revoke", headers=admin, json={"reason": "owner"}
        ).status_code
        == 200
    )
    assert device.get(f"{page}/cameras/cam-v/{seg}").status_code == 403
    assert device.get(f"{page}/cameras/cam-v/index.m3u8").status_code == 403
    app.state.rtcc.extras["field_hls"].stop_all()


def test_housekeeping_ends_shares_whose_call_closed_or_time_ran_out(
    client: TestClient, app: Any, analyst: dict[str, str], scene: dict[str, Any]
) -> None:
    from rtcc_console.server.background import housekeeping_pass

    a, b = share(
        client, analyst, scene["call"], officers=["ofc.kim", "ofc.lee"], camera_ids=["cam-a"]
    ).json()
    housekeeping_pass(app.state.rtcc, prune=False)
    with app.state.rtcc.db.read() as s:
        assert s.get(FieldShareRow, a["id"]).ended_at is None  # nothing over yet
    with app.state.rtcc.db.write() as s:
        s.get(FieldShareRow, a["id"]).expires_at -= timedelta(days=1)
    housekeeping_pass(app.state.rtcc, prune=False)
    with app.state.rtcc.db.read() as s:
        assert s.get(FieldShareRow, a["id"]).end_reason == "share expired"
        assert s.get(FieldShareRow, b["id"]).ended_at is None
    client.post(
        f"{API}/calls",
        headers=analyst,
        json=simple_call(status="closed", updated_at="2026-11-21T06:00:00+00:00"),
    )
    housekeeping_pass(app.state.rtcc, prune=False)
    with app.state.rtcc.db.read() as s:
        assert s.get(FieldShareRow, b["id"]).end_reason == "call closed"
    assert {x.reason for x in audit(app, "field.end")} == {"share expired", "call closed"}


def test_ended_emergency_stops_an_emergency_only_camera(
    client: TestClient,
    app: Any,
    admin: dict[str, str],
    analyst: dict[str, str],
    supervisor: dict[str, str],
    scene: dict[str, Any],
) -> None:
    r = client.post(
        f"{API}/cameras",
        headers=admin,
        json=camera_body(id="cam-e", sharing_mode="live_in_emergency"),
    )
    assert r.status_code == 201
    refused = share(client, analyst, scene["call"], officers=["ofc.kim"], camera_ids=["cam-e"])
    assert refused.status_code == 403 and "emergency" in refused.json()["detail"].lower()
    emg = client.post(
        f"{API}/emergencies",
        headers=supervisor,
        json={
            "camera_ids": ["cam-e"],
            "duration_s": 3600,
            "reason": "armed robbery, officers responding",
        },
    )
    assert emg.status_code == 201, emg.text
    [made] = share(
        client, analyst, scene["call"], officers=["ofc.kim"], camera_ids=["cam-e"]
    ).json()
    device, page = open_page(app, made["link"])
    assert device.get(page + "/state").json()["cameras"][0]["live"] is True
    end = client.post(
        f"{API}/emergencies/{emg.json()['id']}/end",
        headers=supervisor,
        json={"reason": "scene secure"},
    )
    assert end.status_code == 200, end.text
    cam = device.get(page + "/state").json()["cameras"][0]
    assert cam["live"] is False and "emergency" in cam["reason"].lower()
    assert device.get(page + "/cameras/cam-e/index.m3u8").status_code == 403


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_officer_token_is_refused_by_every_staff_route(client: TestClient, app: Any) -> None:
    """Walks every /api/v1 route of the app (as tests/server/test_route_guard.py does)."""
    from tests.server.test_route_guard import PUBLIC, _concrete, _routes

    add_user(app, "ofc.kim", Role.OFFICER)
    officer = login(client, "ofc.kim")
    checked = forbidden = 0
    for method, path in _routes(app):
        if (method, path) in PUBLIC or path == "/api/v1/auth/login":
            continue
        r = client.request(method, _concrete(path), headers=officer, json={})
        # 401 only where a bearer token is not the credential at all (alarm panels' /panic)
        assert r.status_code == 403 or (path == "/api/v1/panic" and r.status_code == 401), (
            method,
            path,
            r.status_code,
        )
        checked += 1
        forbidden += r.status_code == 403
    assert checked > 30
    assert sum(a.username == "ofc.kim" for a in audit(app, "access.denied")) == forbidden
