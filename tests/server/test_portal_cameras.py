"""Owner portal: register, edit, change sharing, revoke, delete; live grants end at once on
a downgrade or revocation (grant.revoked published, audited); access receipts (HTML, paged,
CSV without staff names); another owner's ids answer 404 and change nothing; hostile text
is escaped; stream credentials never shown again."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from rtcc_console.core.models import Role
from rtcc_console.server.app import create_app
from rtcc_console.server.portal.accounts import PortalSettings
from rtcc_console.sim.smtp_sink import SmtpSink
from rtcc_console.store.schema import AuditEventRow, CameraRow, CameraSecretRow
from tests.server.conftest import API, add_user, events_of, login, make_settings
from tests.server.portal_support import Portal, csrf_of, register, sign_up

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
HOSTILE = "<script>alert(1)</script> \"quoted' \u202eRTL\u202c &amp;"


@pytest.fixture
def env(db_url: str) -> Iterator[tuple[Any, SmtpSink, TestClient]]:
    with SmtpSink() as sink:
        app = create_app(
            make_settings(db_url, smtp_host=sink.host, smtp_port=sink.port, smtp_security="none")
        )
        app.state.rtcc.extras["portal_settings"] = PortalSettings(page_size=2)
        with TestClient(app) as api:
            add_user(app, "ana", Role.ANALYST)
            yield app, sink, api


def _camera(app: Any, camera_id: str) -> CameraRow:
    with app.state.rtcc.db.read() as s:
        row = s.get(CameraRow, camera_id)
        assert row is not None
        s.expunge(row)
        return row


def _grant(api: TestClient, camera_id: str, reason: str = "case 26-000123") -> dict[str, Any]:
    r = api.post(
        f"{API}/cameras/{camera_id}/live-grants", headers=login(api, "ana"), json={"reason": reason}
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_register_with_stream_credentials_never_shown_again(env: Any) -> None:
    app, sink, api = env
    p = Portal(app)
    sign_up(p, sink, email="shop@x.example", name="Corner Shop", kind="business")
    cid = register(
        p,
        sharing_mode="live_always",
        kind="business",
        heading_deg="45",
        fov_deg="80",
        stream_url="rtsp://10.0.0.5:554/stream1",
        stream_user="admin",
        stream_password="s3cr3t:/@pw",
    )
    row = _camera(app, cid)
    assert (row.tier, row.sharing_mode, row.owner_id is not None, row.heading_deg, row.fov_deg) == (
        "integrated",
        "live_always",
        True,
        45.0,
        80.0,
    )
    assert "s3cr3t" not in (row.stream_url or "")
    with app.state.rtcc.db.read() as s:
        secret = s.get(CameraSecretRow, cid)
        assert (
            secret is not None
            and secret.stream_url_full == "rtsp://admin:s3cr3t%3A%2F%40pw@10.0.0.5:554/stream1"
        )
    for page in (p.get("/portal/cameras"), p.get(f"/portal/cameras/{cid}/edit")):
        assert page.status_code == 200 and "s3cr3t" not in page.text and "admin" not in page.text
    events = [json.loads(d) for _i, _t, d in events_of(app, "camera.changed")]
    assert any(e["camera"]["id"] == cid and e["change"] == "created" for e in events)


def test_validation_messages_beside_fields_and_nothing_made(env: Any) -> None:
    app, sink, _ = env
    p = Portal(app)
    sign_up(p, sink, email="v@x.example")
    r = p.submit(
        "/portal/cameras/new",
        "/portal/cameras/new",
        {
            "name": "",
            "address": "",
            "lat": "999",
            "lon": "x",
            "kind": "castle",
            "sharing_mode": "live_always",
            "heading_deg": "400",
            "fov_deg": "-1",
            "stream_url": "ftp://x",
            "action": "save",
        },
    )
    assert r.status_code == 422
    for field in ("name", "address", "lat", "kind", "heading_deg", "fov_deg", "stream_url"):
        shown = re.search(rf'id="{field}-error"\s*>([^<]+)</p>', r.text)
        assert shown and shown.group(1).strip(), field
    assert r.text.count('aria-invalid="true"') >= 5
    r = p.submit(
        "/portal/cameras/new",
        "/portal/cameras/new",
        {
            "name": "N",
            "address": "A",
            "lat": "40.7",
            "lon": "-74",
            "kind": "home",
            "sharing_mode": "live_always",
            "action": "save",
        },
    )
    assert r.status_code == 422 and "Live sharing needs the camera" in r.text
    with app.state.rtcc.db.read() as s:
        assert list(s.scalars(select(CameraRow.id))) == []


def test_downgrade_and_revoke_end_live_grants_at_once(env: Any) -> None:
    app, sink, api = env
    p = Portal(app)
    sign_up(p, sink, email="o@x.example", kind="home")
    cid = register(p, sharing_mode="live_always", kind="home", stream_url="rtsp://10.0.0.9/s")
    g = _grant(api, cid)
    r = p.submit(
        "/portal/cameras", f"/portal/cameras/{cid}/sharing", {"sharing_mode": "request_only"}
    )
    assert r.status_code == 303
    revoked = [json.loads(d) for _i, _t, d in events_of(app, "grant.revoked")]
    assert [x["grant_id"] for x in revoked] == [g["id"]]
    assert _camera(app, cid).sharing_mode == "request_only"
    # back to live, a new view, then the owner withdraws everything
    assert (
        p.submit(
            "/portal/cameras", f"/portal/cameras/{cid}/sharing", {"sharing_mode": "live_always"}
        ).status_code
        == 303
    )
    g2 = _grant(api, cid)
    r = p.submit("/portal/cameras", f"/portal/cameras/{cid}/revoke", {"reason": "moving house"})
    assert r.status_code == 303
    revoked = [json.loads(d) for _i, _t, d in events_of(app, "grant.revoked")]
    assert revoked[-1]["grant_id"] == g2["id"] and "moving house" in revoked[-1]["reason"]
    assert _camera(app, cid).revoked
    assert "Withdrawn" in p.get("/portal/cameras").text
    with app.state.rtcc.db.read() as s:
        actions = list(s.scalars(select(AuditEventRow.action)))
    assert "portal.sharing_change" in actions and "registry.revoke" in actions
    assert api.post(
        f"{API}/cameras/{cid}/live-grants", headers=login(api, "ana"), json={"reason": "case 1"}
    ).status_code in (403, 409, 410)
    # delete: gone from the list and from the registry feed
    assert p.submit("/portal/cameras", f"/portal/cameras/{cid}/delete").status_code == 303
    assert _camera(app, cid).deleted and cid not in p.get("/portal/cameras").text


def test_edit_keeps_stream_and_changes_fields(env: Any) -> None:
    app, sink, _ = env
    p = Portal(app)
    sign_up(p, sink, email="e@x.example", kind="home")
    cid = register(p, sharing_mode="live_in_emergency", kind="home", stream_url="rtsp://10.0.0.9/s")
    page = p.get(f"/portal/cameras/{cid}/edit")
    r = p.client.post(
        f"/portal/cameras/{cid}/edit",
        data={
            "csrf_token": csrf_of(page.text),
            "name": "Back yard",
            "address": "2 Elm St",
            "lat": "40.71",
            "lon": "-74.01",
            "kind": "home",
            "sharing_mode": "live_in_emergency",
            "keep_stream": "1",
            "action": "save",
        },
    )
    assert r.status_code == 303, r.text
    row = _camera(app, cid)
    assert (row.name, row.address, row.has_stream) == ("Back yard", "2 Elm St", True)


def test_hostile_names_and_addresses_are_escaped(env: Any) -> None:
    app, sink, _ = env
    p = Portal(app)
    sign_up(p, sink, email="h@x.example", name=HOSTILE, kind="school")
    cid = register(p, name=HOSTILE, address=HOSTILE)
    for path in (
        "/portal/cameras",
        f"/portal/cameras/{cid}/edit",
        "/portal/receipts",
        "/portal/panic",
    ):
        page = p.get(path)
        assert page.status_code == 200
        assert "<script>alert(1)</script>" not in page.text, path
        assert "&lt;script&gt;" in page.text or path in ("/portal/receipts", "/portal/panic")
        assert (
            "Content-Security-Policy" in page.headers
            and "'unsafe-inline'" not in page.headers["content-security-policy"]
        )
    assert "\u202eRTL" in p.get("/portal/cameras").text  # kept as text, escaped markup only
    assert _camera(app, cid).name == HOSTILE


def test_receipts_after_a_live_view_paged_and_csv_without_staff_names(env: Any) -> None:
    app, sink, api = env
    p = Portal(app)
    sign_up(p, sink, email="r@x.example", kind="home")
    cid = register(
        p, name="Porch", sharing_mode="live_always", kind="home", stream_url="rtsp://10.0.0.9/s"
    )
    reasons = ["case 26-000001", "case 26-000002", "case 26-000003"]
    for reason in reasons:
        g = _grant(api, cid, reason)
        assert (
            api.delete(f"{API}/live-grants/{g['id']}", headers=login(api, "ana")).status_code == 204
        )
    first = p.get("/portal/receipts")
    assert (
        first.status_code == 200
        and "case 26-000003" in first.text
        and "case 26-000002" in first.text
    )
    assert (
        "case 26-000001" not in first.text and "Page 1 of 2" in first.text
    )  # newest first, 2 per page
    second = p.get("/portal/receipts?page=2")
    assert "case 26-000001" in second.text
    assert "ana" not in first.text and "ana" not in second.text
    assert p.get("/portal/receipts?page=-1").status_code == 200
    out = p.get("/portal/receipts.csv")
    assert out.status_code == 200 and out.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(out.text)))
    assert [r[4] for r in rows[1:]] == list(reversed(reasons)) and "ana" not in out.text
    with app.state.rtcc.db.read() as s:
        actions = list(s.scalars(select(AuditEventRow.action)))
    assert "portal.receipts_export" in actions and "portal.receipts_view" in actions


def test_csv_formula_injection_neutralised(env: Any) -> None:
    app, sink, api = env
    p = Portal(app)
    sign_up(p, sink, email="f@x.example", kind="home")
    cid = register(p, sharing_mode="live_always", kind="home", stream_url="rtsp://10.0.0.9/s")
    _grant(api, cid, '=HYPERLINK("http://evil")')
    rows = list(csv.reader(io.StringIO(p.get("/portal/receipts.csv").text)))
    assert rows[1][4].startswith("'=")


def test_every_route_refuses_another_owners_camera(env: Any) -> None:
    app, sink, api = env
    alice, mallory = Portal(app), Portal(app)
    sign_up(alice, sink, email="alice@x.example", kind="business", name="Alice Ltd")
    sign_up(mallory, sink, email="mallory@x.example", kind="business", name="Mallory Ltd")
    cid = register(
        alice, sharing_mode="live_always", kind="business", stream_url="rtsp://10.0.0.9/s"
    )
    g = _grant(api, cid)
    before = _camera(app, cid)
    token = csrf_of(mallory.get("/portal/cameras").text)
    assert mallory.get(f"/portal/cameras/{cid}/edit").status_code == 404
    for action, data in (
        (
            f"/portal/cameras/{cid}/edit",
            {
                "name": "pwned",
                "address": "x",
                "lat": "1",
                "lon": "1",
                "kind": "home",
                "sharing_mode": "request_only",
                "action": "save",
            },
        ),
        (f"/portal/cameras/{cid}/edit", {"action": "test", "stream_url": "rtsp://127.0.0.1:1/x"}),
        (f"/portal/cameras/{cid}/sharing", {"sharing_mode": "request_only"}),
        (f"/portal/cameras/{cid}/revoke", {"reason": "pwned"}),
        (f"/portal/cameras/{cid}/delete", {}),
    ):
        r = mallory.client.post(action, data={"csrf_token": token, **data})
        assert r.status_code == 404, (action, r.status_code)
    after = _camera(app, cid)
    assert (after.name, after.sharing_mode, after.revoked, after.deleted, after.version) == (
        before.name,
        before.sharing_mode,
        before.revoked,
        before.deleted,
        before.version,
    )
    assert not events_of(app, "grant.revoked") and g["camera_id"] == cid
    assert cid not in mallory.get("/portal/cameras").text
    assert "case 26-000123" not in mallory.get("/portal/receipts").text
    assert "case 26-000123" not in mallory.get("/portal/receipts.csv").text
    # and nobody signed out can reach any of it
    anon = Portal(app)
    for path in (
        "/portal/cameras",
        f"/portal/cameras/{cid}/edit",
        "/portal/receipts",
        "/portal/receipts.csv",
        "/portal/panic",
        "/portal/cameras/new",
    ):
        assert anon.get(path).status_code == 303


def test_test_connection_shows_a_frame_or_a_clear_error(env: Any, tmp_path: Any) -> None:
    import av
    import numpy as np

    clip = tmp_path / "clip.mp4"
    with av.open(str(clip), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(
                np.full((48, 64, 3), i * 40, dtype=np.uint8), format="rgb24"
            )
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    app, sink, _ = env
    p = Portal(app)
    sign_up(p, sink, email="t@x.example", kind="home")
    import http.server
    import threading
    from functools import partial

    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/clip.mp4"
        r = p.submit(
            "/portal/cameras/new",
            "/portal/cameras/new",
            {
                "action": "test",
                "stream_url": url,
                "name": "N",
                "kind": "home",
                "sharing_mode": "live_always",
            },
        )
        assert (
            r.status_code == 200
            and 'src="data:image/png;base64,' in r.text
            and 'value="N"' in r.text
        )
        r = p.submit(
            "/portal/cameras/new",
            "/portal/cameras/new",
            {
                "action": "test",
                "stream_url": f"http://127.0.0.1:{server.server_address[1]}/missing.mp4",
            },
        )
        assert (
            r.status_code == 200
            and "Connection failed" in r.text
            and "data:image/png" not in r.text
        )
    finally:
        server.shutdown()
