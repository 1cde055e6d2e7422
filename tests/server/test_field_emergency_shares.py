"""An emergency with no call (a school's or business's panic) sent to the field (issue 16):
``POST /emergencies/{id}/field-shares`` with the site's cameras live in the emergency plus
the nearest integrated ones; the officer's page shows the site in place of the call; the
share ends when the emergency ends (owner, supervisor, its window), published and audited,
and the video stops at once; another officer, an ended emergency and hostile input are
refused. SQLite and PostgreSQL (``db_url``), the video on SQLite with the simulator."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError

from rtcc_console.core.models import Role, utcnow
from rtcc_console.server.audit import Actor
from rtcc_console.server.emergencies import start_emergency
from rtcc_console.store.schema import AuditEventRow, EmergencyRow, FieldShareRow
from tests.server.conftest import API, add_user, camera_body, count_rows, events_of, login
from tests.server.test_field_auth import Device

PANIC = {
    "site_name": "Lakewood Elementary",
    "site_kind": "school",
    "alarm_level": 4,
    "location": "east wing, gym",
    "description": "intruder with a weapon reported by the front office",
    "source": "portal",
    "lat": 32.7801,
    "lon": -96.8000,
}


def audit(app: Any, action: str) -> list[tuple[str | None, str, str | None, str]]:
    with app.state.rtcc.db.read() as s:
        rows = (
            s.query(AuditEventRow)
            .filter(AuditEventRow.action == action)
            .order_by(AuditEventRow.id)
            .all()
        )
        return [(r.username, r.outcome, r.reason, json.dumps(r.targets)) for r in rows]


def panic(app: Any, camera_ids: list[str], *, duration_s: int | None = 3600) -> str:
    """A panic-button emergency as the portal/alarm receiver start it (structured fields)."""
    with app.state.rtcc.db.write() as s:
        record = start_emergency(
            s,
            actor=Actor(username="portal", role=None),
            owner_id=None,
            camera_ids=camera_ids,
            reason="panic: Lakewood Elementary",
            duration_s=duration_s,
            panic=PANIC,
        )
        return record.id


def send(client: TestClient, headers: dict[str, str], emergency_id: str, **body: Any) -> Any:
    return client.post(f"{API}/emergencies/{emergency_id}/field-shares", headers=headers, json=body)


def open_link(app: Any, link: str) -> tuple[TestClient, str]:
    m = re.search(r"/field/[^/]+$", link)
    assert m, link
    device = TestClient(app)
    r = device.get(m.group(0), follow_redirects=False)
    assert r.status_code == 303, r.text
    return device, r.headers["location"]


@pytest.fixture
def site(client: TestClient, app: Any, admin: dict[str, str]) -> dict[str, Any]:
    add_user(app, "ofc.kim", Role.OFFICER)
    add_user(app, "ofc.lee", Role.OFFICER)
    cameras = (
        ("cam-gym", 32.7801, "live_in_emergency"),  # the school's own, live only in an emergency
        ("cam-hall", 32.7802, "live_in_emergency"),
        ("cam-corner", 32.7804, "live_always"),  # an integrated camera across the street
        ("cam-far", 32.9000, "live_always"),  # another part of town
    )
    for cid, lat, mode in cameras:
        r = client.post(
            f"{API}/cameras",
            headers=admin,
            json=camera_body(id=cid, name=f"Cam {cid}", lat=lat, sharing_mode=mode),
        )
        assert r.status_code == 201, r.text
    return {"emergency": panic(app, ["cam-gym", "cam-hall"])}


def test_an_emergency_is_sent_to_the_field_and_shown_in_place_of_a_call(
    client: TestClient, app: Any, analyst: dict[str, str], site: dict[str, Any]
) -> None:
    emergency = site["emergency"]
    r = send(client, analyst, emergency, officers=["ofc.kim"])
    assert r.status_code == 201, r.text
    [made] = r.json()
    assert made["emergency_id"] == emergency and made["call_id"] is None
    # default: the site's cameras live in the emergency, then the nearest integrated one
    assert made["camera_ids"] == ["cam-gym", "cam-hall", "cam-corner"]
    device, page = open_link(app, made["link"])
    assert device.get(page).status_code == 200
    st = device.get(page + "/state")
    assert st.status_code == 200, st.text
    body = st.json()
    assert body["call"] is None
    e = body["emergency"]
    assert (e["site_name"], e["site_kind"], e["alarm_level"], e["location"]) == (
        "Lakewood Elementary",
        "school",
        4,
        "east wing, gym",
    )
    assert e["description"].startswith("intruder") and e["lat"] == pytest.approx(32.7801)
    assert [c["live"] for c in body["cameras"]] == [True, True, True]
    assert "s3cret" not in st.text and "rtsp" not in st.text
    listed = client.get(f"{API}/emergencies/{emergency}/field-shares", headers=analyst)
    assert listed.status_code == 200
    assert [(s["officer"], s["link_used"]) for s in listed.json()["items"]] == [("ofc.kim", True)]
    created = [json.loads(d)["share"] for _i, _t, d in events_of(app, "field_share.created")]
    assert [s["emergency_id"] for s in created] == [emergency] and "link" not in created[0]
    shared = audit(app, "field.share")
    assert shared[-1][1] == "ok" and emergency in shared[-1][3]
    # the officer signed in with the account sees it listed as an emergency too
    phone = Device(app)
    assert phone.sign_in("ofc.kim").status_code == 303
    mine = phone.http.get("/field/account/shares")
    assert made["id"] in mine.text and "EMERGENCY" in mine.text
    assert "Lakewood Elementary" in mine.text and "east wing, gym" in mine.text
    # another officer: neither the link's page nor the account list lets them in
    lee = Device(app)
    assert lee.sign_in("ofc.lee").status_code == 303
    assert made["id"] not in lee.http.get("/field/account/shares").text
    assert lee.http.get(f"/field/account/shares/{made['id']}").status_code == 404
    assert lee.http.get(page + "/state").status_code == 403
    # the analyst ends it through the emergency's route
    end = client.delete(f"{API}/emergencies/{emergency}/field-shares/{made['id']}", headers=analyst)
    assert end.status_code == 200 and "ana" in end.json()["end_reason"]
    assert device.get(page + "/state").status_code == 410


def test_the_share_ends_with_the_emergency_published_and_audited(
    client: TestClient,
    app: Any,
    analyst: dict[str, str],
    supervisor: dict[str, str],
    site: dict[str, Any],
) -> None:
    emergency = site["emergency"]
    made = send(client, analyst, emergency, officers=["ofc.kim", "ofc.lee"]).json()
    device, page = open_link(app, made[0]["link"])
    assert device.get(page + "/state").status_code == 200
    r = client.post(
        f"{API}/emergencies/{emergency}/end", headers=supervisor, json={"reason": "all clear"}
    )
    assert r.status_code == 200, r.text
    gone = device.get(page + "/state")
    assert gone.status_code == 410 and "emergency ended" in gone.json()["reason"]
    ended = [json.loads(d)["share"] for _i, _t, d in events_of(app, "field_share.ended")]
    assert sorted(s["id"] for s in ended) == sorted(m["id"] for m in made)
    assert {s["end_reason"] for s in ended} == {"emergency ended"}
    ends = audit(app, "field.end")
    assert len(ends) == 2
    assert all(
        reason == "emergency ended" and emergency in targets for _u, _o, reason, targets in ends
    )
    # an emergency already ended cannot be sent (a live camera named or the default ones)
    again = send(client, analyst, emergency, officers=["ofc.kim"], camera_ids=["cam-corner"])
    assert again.status_code == 409 and "ended" in again.json()["detail"]
    assert send(client, analyst, emergency, officers=["ofc.kim"]).status_code == 409
    assert [a[2] for a in audit(app, "field.share")][-2:] == ["the emergency has ended"] * 2


def test_housekeeping_ends_the_share_when_the_emergency_window_runs_out(
    client: TestClient, app: Any, analyst: dict[str, str], site: dict[str, Any]
) -> None:
    from rtcc_console.server.background import housekeeping_pass

    emergency = site["emergency"]
    [made] = send(client, analyst, emergency, officers=["ofc.kim"]).json()
    housekeeping_pass(app.state.rtcc, prune=False)
    with app.state.rtcc.db.read() as s:
        assert s.get(FieldShareRow, made["id"]).ended_at is None
    with app.state.rtcc.db.write() as s:
        s.get(EmergencyRow, emergency).ends_at = utcnow() - timedelta(seconds=1)
    housekeeping_pass(app.state.rtcc, prune=False)
    with app.state.rtcc.db.read() as s:
        row = s.get(FieldShareRow, made["id"])
        assert row.ended_at is not None and row.end_reason == "emergency ended"
        assert s.get(EmergencyRow, emergency).ended_at is not None
    assert [a[2] for a in audit(app, "field.end")] == ["emergency ended"]
    assert len(events_of(app, "field_share.ended")) == 1


def test_bad_emergency_share_requests(
    client: TestClient,
    app: Any,
    admin: dict[str, str],
    analyst: dict[str, str],
    site: dict[str, Any],
) -> None:
    emergency = site["emergency"]
    bad: list[tuple[str, Any, int]] = [
        ("emg-nope", {"officers": ["ofc.kim"], "camera_ids": ["cam-gym"]}, 404),
        ("x" * 5000, {"officers": ["ofc.kim"], "camera_ids": ["cam-gym"]}, 404),
        (emergency, {"officers": ["analyst.ana"], "camera_ids": ["cam-gym"]}, 422),
        (emergency, {"officers": ["ofc.kim"], "camera_ids": ["cam-nope"]}, 403),
        (emergency, {"officers": ["ofc.kim"], "camera_ids": ["cam-gym"], "x": 1}, 422),
        (emergency, {"officers": [], "units": []}, 422),
        (emergency, {"officers": ["ofc.kim"], "duration_s": 10**12}, 422),
    ]
    for eid, body, status in bad:
        r = client.post(f"{API}/emergencies/{eid}/field-shares", headers=analyst, json=body)
        assert r.status_code == status, (eid[:20], body, r.status_code, r.text)
    lone = client.post(  # a lone surrogate, escaped as JSON allows
        f"{API}/emergencies/{emergency}/field-shares",
        headers={**analyst, "content-type": "application/json"},
        content='{"officers": ["ofc.\\ud800"], "camera_ids": ["cam-gym"]}',
    )
    assert lone.status_code == 422, lone.text
    deep = "[" * 5000 + '"ofc.kim"' + "]" * 5000
    r = client.post(
        f"{API}/emergencies/{emergency}/field-shares",
        headers={**analyst, "content-type": "application/json"},
        content='{"officers": ["ofc.kim"], "camera_ids": ["cam-gym"], "deep": ' + deep + "}",
    )
    assert 400 <= r.status_code < 500
    assert count_rows(app, FieldShareRow) == 0  # nothing half-made
    assert sum(a[1] == "denied" for a in audit(app, "field.share")) >= 3
    officer = login(client, "ofc.kim")
    assert send(client, officer, emergency, officers=["ofc.kim"]).status_code == 403
    assert (
        client.get(f"{API}/emergencies/{emergency}/field-shares", headers=officer).status_code
        == 403
    )
    assert (
        client.delete(
            f"{API}/emergencies/{emergency}/field-shares/fs-nope", headers=analyst
        ).status_code
        == 404
    )
    # a share may belong to a call or an emergency, never both or neither (CHECK)
    now = utcnow()
    with pytest.raises(IntegrityError), app.state.rtcc.db.write() as s:
        s.add(
            FieldShareRow(
                id="fs-bad",
                call_id=None,
                emergency_id=None,
                officer="ofc.kim",
                camera_ids=[],
                created_by="ana",
                created_at=now,
                expires_at=now,
                link_hash="x",
            )
        )
        s.flush()
    assert count_rows(app, FieldShareRow) == 0


@pytest.fixture(scope="module")
def sim() -> Any:
    from rtcc_console.sim.cameras import SimCameraServer

    server = SimCameraServer(2, fps=15, size=(640, 360))
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_video_flows_and_stops_within_a_second_when_the_emergency_ends(
    client: TestClient,
    app: Any,
    admin: dict[str, str],
    analyst: dict[str, str],
    supervisor: dict[str, str],
    sim: Any,
) -> None:
    add_user(app, "ofc.kim", Role.OFFICER)
    for cid, index in (("cam-v", 0), ("cam-w", 1)):
        body = camera_body(
            id=cid, stream_url=sim.url(index, "ts"), sharing_mode="live_in_emergency"
        )
        assert client.post(f"{API}/cameras", headers=admin, json=body).status_code == 201
    first = panic(app, ["cam-v"])
    [made] = send(client, analyst, first, officers=["ofc.kim"]).json()
    assert made["camera_ids"] == ["cam-v"]
    device, page = open_link(app, made["link"])
    deadline = time.monotonic() + 20
    while True:
        pl = device.get(f"{page}/cameras/cam-v/index.m3u8")
        if pl.status_code == 200 and "seg-" in pl.text and "#EXT-X-PART:" in pl.text:
            break
        assert pl.status_code in (200, 503) and time.monotonic() < deadline, pl.text
        time.sleep(0.2)  # the repackager's first segment is being cut
    seg = [ln for ln in pl.text.splitlines() if ln.startswith("seg-")][-1]
    part = re.findall(r'URI="(part-[0-9]+\.[0-9]+\.ts)"', pl.text)[-1]
    assert device.get(f"{page}/cameras/cam-v/{seg}").content[:1] == b"G"
    assert device.get(f"{page}/cameras/cam-v/{part}").status_code == 200
    # a URL guessed for a camera outside the share: refused
    assert device.get(f"{page}/cameras/cam-w/{seg}").status_code == 404
    # the supervisor ends it: the very next part is refused, the share ended
    r = client.post(f"{API}/emergencies/{first}/end", headers=supervisor, json={"reason": "done"})
    assert r.status_code == 200
    t0 = time.monotonic()
    assert device.get(f"{page}/cameras/cam-v/{part}").status_code == 410
    assert time.monotonic() - t0 < 1.0
    # a window running out announces nothing here: refused within a second all the same
    second = panic(app, ["cam-v"])
    [again] = send(client, analyst, second, officers=["ofc.kim"]).json()
    device2, page2 = open_link(app, again["link"])
    assert device2.get(f"{page2}/cameras/cam-v/index.m3u8").status_code == 200
    with app.state.rtcc.db.write() as s:
        s.get(EmergencyRow, second).ends_at = utcnow()
    t0 = time.monotonic()
    while device2.get(f"{page2}/cameras/cam-v/{seg}").status_code != 410:
        assert time.monotonic() - t0 < 1.0, "still served after the emergency ended"
        time.sleep(0.05)
    assert any(a[2] == "emergency ended" for a in audit(app, "field.end"))
    app.state.rtcc.extras["field_hls"].stop_all()
