"""Live grants: policy denials and allowances, renewal, revocation, emergencies, media auth."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from rtcc_console.core.models import utcnow
from rtcc_console.server.background import housekeeping_pass
from rtcc_console.store.schema import AuditEventRow, EmergencyRow, LiveGrantRow
from tests.server.conftest import API, camera_body, events_of


def cam(client: TestClient, admin: dict[str, str], cid: str, **kw: Any) -> None:
    r = client.post(f"{API}/cameras", headers=admin, json=camera_body(id=cid, **kw))
    assert r.status_code == 201, r.text


def grant(
    client: TestClient, headers: dict[str, str], cid: str, reason: str = "case 26-001234"
) -> Any:
    return client.post(f"{API}/cameras/{cid}/live-grants", headers=headers, json={"reason": reason})


def audit_actions(app: Any) -> list[tuple[str, str]]:
    with app.state.rtcc.db.read() as s:
        return [(r.action, r.outcome) for r in s.query(AuditEventRow).order_by(AuditEventRow.id)]


def test_live_always_grant_carries_stream_and_is_audited(
    client: TestClient, app: Any, admin: dict[str, str], analyst: dict[str, str]
) -> None:
    cam(client, admin, "cam-1")
    r = grant(client, analyst, "cam-1")
    assert r.status_code == 201, r.text
    body = r.json()
    assert (
        body["stream_url"] == "rtsp://admin:s3cret-pw@10.0.0.5:554/live?token=abc123"
    )  # only to the holder
    assert 0 < body["ttl_s"] <= 60 and body["camera_id"] == "cam-1"
    assert ("live.grant", "ok") in audit_actions(app)


def test_denials_carry_policy_reason_and_are_audited(
    client: TestClient, app: Any, admin: dict[str, str], analyst: dict[str, str]
) -> None:
    cam(client, admin, "cam-req", tier="registered", sharing_mode="request_only", stream_url=None)
    cam(client, admin, "cam-emg", sharing_mode="live_in_emergency")
    cam(client, admin, "cam-rev")
    client.post(f"{API}/cameras/cam-rev/revoke", headers=admin, json={"reason": "owner"})
    reasons = {}
    for cid in ("cam-req", "cam-emg", "cam-rev"):
        r = grant(client, analyst, cid)
        assert r.status_code == 403, (cid, r.text)
        reasons[cid] = r.json()["detail"]
    assert "request" in reasons["cam-req"].lower()
    assert "emergency" in reasons["cam-emg"].lower()
    assert "revoked" in reasons["cam-rev"].lower()
    assert audit_actions(app).count(("live.grant", "denied")) == 3
    assert grant(client, analyst, "cam-nope").status_code == 404
    for bad in ("", "   "):
        assert grant(client, analyst, "cam-emg", reason=bad).status_code == 422
    assert (
        client.post(f"{API}/cameras/cam-emg/live-grants", headers=analyst, json={}).status_code
        == 422
    )


def test_emergency_opens_camera_and_caps_grant(
    client: TestClient, admin: dict[str, str], supervisor: dict[str, str], analyst: dict[str, str]
) -> None:
    cam(client, admin, "cam-emg", sharing_mode="live_in_emergency")
    r = client.post(
        f"{API}/emergencies",
        headers=supervisor,
        json={"camera_ids": ["cam-emg"], "reason": "panic button", "duration_s": 30},
    )
    assert r.status_code == 201, r.text
    emergency = r.json()
    g = grant(client, analyst, "cam-emg")
    assert g.status_code == 201
    assert g.json()["emergency_id"] == emergency["id"]
    assert g.json()["expires_at"] <= emergency["ends_at"]
    active = client.get(f"{API}/emergencies?active=true", headers=analyst).json()["items"]
    assert [e["id"] for e in active] == [emergency["id"]]
    assert (
        client.post(f"{API}/emergencies", headers=supervisor, json={"reason": "x"}).status_code
        == 422
    )
    assert (
        client.post(
            f"{API}/emergencies",
            headers=supervisor,
            json={"camera_ids": ["cam-unknown"], "reason": "x"},
        ).status_code
        == 422
    )


def test_renew_extends_then_fails_when_consent_gone(
    client: TestClient,
    app: Any,
    admin: dict[str, str],
    analyst: dict[str, str],
    supervisor: dict[str, str],
) -> None:
    cam(client, admin, "cam-1")
    g = grant(client, analyst, "cam-1").json()
    r = client.post(f"{API}/live-grants/{g['id']}/renew", headers=analyst)
    assert r.status_code == 200 and r.json()["expires_at"] >= g["expires_at"]
    other = client.post(f"{API}/live-grants/{g['id']}/renew", headers=supervisor)
    assert other.status_code == 403
    client.patch(f"{API}/cameras/cam-1", headers=admin, json={"sharing_mode": "request_only"})
    r = client.post(f"{API}/live-grants/{g['id']}/renew", headers=analyst)
    assert r.status_code in (403, 410) and "request" in r.json()["detail"].lower()
    assert client.post(f"{API}/live-grants/nope/renew", headers=analyst).status_code == 404


def test_revocation_ends_grants_with_event(
    client: TestClient, app: Any, admin: dict[str, str], analyst: dict[str, str]
) -> None:
    cam(client, admin, "cam-1")
    g = grant(client, analyst, "cam-1").json()
    client.post(
        f"{API}/cameras/cam-1/revoke", headers=admin, json={"reason": "owner withdrew consent"}
    )
    revoked = [json.loads(d) for _i, _t, d in events_of(app, "grant.revoked")]
    assert (
        revoked
        and revoked[0]["grant_id"] == g["id"]
        and "owner withdrew consent" in revoked[0]["reason"]
    )
    r = client.post(f"{API}/live-grants/{g['id']}/renew", headers=analyst)
    assert r.status_code == 410 and "revoked" in r.json()["detail"].lower()
    assert (
        client.post(
            f"{API}/media/auth",
            json={"password": g["token"], "action": "read", "path": "cam/cam-1"},
        ).status_code
        == 401
    )


def test_emergency_end_and_expiry_end_dependent_grants(
    client: TestClient,
    app: Any,
    admin: dict[str, str],
    supervisor: dict[str, str],
    analyst: dict[str, str],
) -> None:
    cam(client, admin, "cam-a", sharing_mode="live_in_emergency")
    cam(client, admin, "cam-b", sharing_mode="live_in_emergency", lat=32.781)
    e1 = client.post(
        f"{API}/emergencies",
        headers=supervisor,
        json={"camera_ids": ["cam-a"], "reason": "one", "duration_s": 600},
    ).json()
    e2 = client.post(
        f"{API}/emergencies",
        headers=supervisor,
        json={"camera_ids": ["cam-b"], "reason": "two", "duration_s": 600},
    ).json()
    ga = grant(client, analyst, "cam-a").json()
    gb = grant(client, analyst, "cam-b").json()
    # explicit end
    assert client.post(f"{API}/emergencies/{e1['id']}/end", headers=supervisor).status_code == 200
    assert client.post(f"{API}/emergencies/{e1['id']}/end", headers=supervisor).status_code == 409
    ended = {json.loads(d)["grant_id"] for _i, _t, d in events_of(app, "grant.revoked")}
    assert ended == {ga["id"]}
    # expiry: move e2's window into the past, run one housekeeping pass
    with app.state.rtcc.db.write() as s:
        row = s.get(EmergencyRow, e2["id"])
        row.started_at = utcnow() - timedelta(minutes=20)
        row.ends_at = utcnow() - timedelta(seconds=1)
    housekeeping_pass(app.state.rtcc, prune=False)  # the app's own 0.2 s loop may win the race
    ended = {json.loads(d)["grant_id"] for _i, _t, d in events_of(app, "grant.revoked")}
    assert ended == {ga["id"], gb["id"]}
    assert [t for _i, t, _d in events_of(app) if t.startswith("emergency.")] == [
        "emergency.started",
        "emergency.started",
        "emergency.ended",
        "emergency.ended",
    ]
    with app.state.rtcc.db.read() as s:
        assert s.get(LiveGrantRow, gb["id"]).ended_at is not None


def test_delete_grant_ends_it(
    client: TestClient, app: Any, admin: dict[str, str], analyst: dict[str, str]
) -> None:
    cam(client, admin, "cam-1")
    g = grant(client, analyst, "cam-1").json()
    assert client.delete(f"{API}/live-grants/{g['id']}", headers=analyst).status_code == 204
    assert client.post(f"{API}/live-grants/{g['id']}/renew", headers=analyst).status_code == 410
    assert ("live.end", "ok") in audit_actions(app)


def test_media_auth_shape(
    client: TestClient, app: Any, admin: dict[str, str], analyst: dict[str, str]
) -> None:
    cam(client, admin, "cam-1")
    cam(client, admin, "cam-2", lat=32.79)
    g = grant(client, analyst, "cam-1").json()
    base = {
        "user": "grant",
        "password": "",
        "token": "",
        "ip": "10.1.1.1",
        "action": "read",
        "path": "cam/cam-1",
        "protocol": "rtsp",
        "id": "abc",
        "query": "",
    }
    ok = [
        {**base, "password": g["token"]},
        {**base, "token": g["token"], "protocol": "webrtc"},
        {**base, "query": f"token={g['token']}", "protocol": "hls"},
    ]
    for body in ok:
        assert client.post(f"{API}/media/auth", json=body).status_code == 200, body
    bad = [
        base,
        {**base, "password": "guess"},
        {**base, "password": g["token"], "path": "cam/cam-2"},
        {**base, "password": g["token"], "action": "publish"},
        {**base, "password": g["token"], "path": "other/cam-1"},
    ]
    for body in bad:
        assert client.post(f"{API}/media/auth", json=body).status_code == 401, body
    with app.state.rtcc.db.write() as s:
        s.get(LiveGrantRow, g["id"]).expires_at = utcnow() - timedelta(seconds=1)
    assert client.post(f"{API}/media/auth", json=ok[0]).status_code == 401
    assert audit_actions(app).count(("media.auth", "denied")) == len(bad) + 1


def test_snapshot_is_audited_only_for_own_grant(
    client: TestClient,
    app: Any,
    admin: dict[str, str],
    analyst: dict[str, str],
    supervisor: dict[str, str],
) -> None:
    cam(client, admin, "cam-1")
    g = grant(client, analyst, "cam-1").json()
    body = {
        "grant_id": g["id"],
        "taken_at": utcnow().isoformat(),
        "sha256": "a" * 64,
        "reason": "case 1",
    }
    assert (
        client.post(f"{API}/cameras/cam-1/snapshots", headers=analyst, json=body).status_code == 201
    )
    assert (
        client.post(f"{API}/cameras/cam-1/snapshots", headers=supervisor, json=body).status_code
        == 403
    )
    assert (
        client.post(
            f"{API}/cameras/cam-1/snapshots", headers=analyst, json={**body, "sha256": "z" * 64}
        ).status_code
        == 422
    )
    assert ("live.snapshot", "ok") in audit_actions(app)


def test_background_task_expires_emergencies_by_itself(
    client: TestClient,
    app: Any,
    admin: dict[str, str],
    supervisor: dict[str, str],
    analyst: dict[str, str],
) -> None:
    import time

    cam(client, admin, "cam-a", sharing_mode="live_in_emergency")
    e = client.post(
        f"{API}/emergencies",
        headers=supervisor,
        json={"camera_ids": ["cam-a"], "reason": "r", "duration_s": 600},
    ).json()
    g = grant(client, analyst, "cam-a").json()
    with app.state.rtcc.db.write() as s:
        s.get(EmergencyRow, e["id"]).ends_at = utcnow() - timedelta(seconds=1)
    deadline = time.monotonic() + 10
    while not events_of(app, "grant.revoked") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [json.loads(d)["grant_id"] for _i, _t, d in events_of(app, "grant.revoked")] == [g["id"]]


def test_relay_mode_grant_points_at_relay_path(settings_factory: Any) -> None:
    from rtcc_console.core.models import Role
    from rtcc_console.server.app import create_app
    from tests.server.conftest import add_user, login

    app = create_app(settings_factory(media_relay_url="rtsp://relay.local:8554"))
    with TestClient(app) as client:
        add_user(app, "ana", Role.ANALYST)
        add_user(app, "adam", Role.ADMIN)
        admin, analyst = login(client, "adam"), login(client, "ana")
        cam(client, admin, "cam-1")
        g = grant(client, analyst, "cam-1").json()
        assert g["stream_url"] == f"rtsp://grant:{g['token']}@relay.local:8554/cam/cam-1"
        assert "s3cret" not in json.dumps(g)  # the camera's own credentials stay on the server
        renewed = client.post(f"{API}/live-grants/{g['id']}/renew", headers=analyst).json()
        assert renewed["stream_url"] is None and renewed["token"] is None
        body = {"user": "grant", "password": g["token"], "action": "read", "path": "cam/cam-1"}
        assert client.post(f"{API}/media/auth", json=body).status_code == 200


def test_open_grants_listing_for_oversight(
    client: TestClient, admin: dict[str, str], analyst: dict[str, str], supervisor: dict[str, str]
) -> None:
    cam(client, admin, "cam-1")
    g = grant(client, analyst, "cam-1").json()
    grant(client, supervisor, "cam-1")
    mine = client.get(f"{API}/live-grants", headers=analyst).json()["items"]
    assert [i["id"] for i in mine] == [g["id"]]
    everyone = client.get(f"{API}/live-grants", headers=supervisor).json()["items"]
    assert {i["username"] for i in everyone} == {"ana", "sue"}
    assert "s3cret" not in json.dumps(everyone) and all("token" not in i for i in everyone)
    client.delete(f"{API}/live-grants/{g['id']}", headers=analyst)
    assert client.get(f"{API}/live-grants", headers=analyst).json()["items"] == []
