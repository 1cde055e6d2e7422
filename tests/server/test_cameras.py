"""Camera registry routes: CRUD, filters, sync feed, nearest, credentials never shown."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rtcc_console.store.schema import CameraRow, CameraSecretRow
from tests.server.conftest import API, camera_body, count_rows, events_of


def create(client: TestClient, admin: dict[str, str], **kw: Any) -> dict[str, Any]:
    r = client.post(f"{API}/cameras", headers=admin, json=camera_body(**kw))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_create_stores_credentials_apart_and_never_returns_them(
    client: TestClient, app: Any, admin: dict[str, str], analyst: dict[str, str]
) -> None:
    cam = create(client, admin, id="cam-1")
    assert (
        cam["stream_url"] == "rtsp://10.0.0.5:554/live?token=***"
        or "s3cret" not in cam["stream_url"]
    )
    assert cam["has_stream"] is True and cam["version"] == 1
    for path in (
        "/cameras",
        "/cameras/cam-1",
        "/cameras?since=0",
        "/cameras/nearest?lat=32.78&lon=-96.8",
    ):
        text = client.get(API + path, headers=analyst).text
        assert "s3cret" not in text and "abc123" not in text, path
    with app.state.rtcc.db.read() as s:
        assert "s3cret-pw" in (s.get(CameraSecretRow, "cam-1").stream_url_full or "")
        assert "s3cret" not in (s.get(CameraRow, "cam-1").stream_url or "")
    assert events_of(app, "camera.changed")


def test_create_validation_names_the_field_and_stores_nothing(
    client: TestClient, app: Any, admin: dict[str, str]
) -> None:
    cases = {
        "lat": camera_body(lat=123.0),
        "tier": camera_body(tier="gold"),
        "sharing_mode": camera_body(sharing_mode="sometimes"),
        "kind": camera_body(kind="castle"),
        "stream_url": camera_body(stream_url="not a url"),
        "heading_deg": camera_body(heading_deg=400),
        "extra": {**camera_body(), "extra": 1},
    }
    for field, body in cases.items():
        r = client.post(f"{API}/cameras", headers=admin, json=body)
        assert r.status_code == 422, field
        assert field in json.dumps(r.json()["detail"]), (field, r.json())
    r = client.post(f"{API}/cameras", headers=admin, json=camera_body(lat=0.0, lon=0.0))
    assert r.status_code == 422 and "0,0" in r.text
    r = client.post(f"{API}/cameras", headers=admin, json=camera_body(owner_id="own-missing"))
    assert r.status_code == 422 and "owner_id" in r.text
    assert count_rows(app, CameraRow) == 0
    create(client, admin, id="cam-dup")
    assert (
        client.post(f"{API}/cameras", headers=admin, json=camera_body(id="cam-dup")).status_code
        == 409
    )


def test_list_filters_and_paging(
    client: TestClient, admin: dict[str, str], analyst: dict[str, str]
) -> None:
    create(
        client, admin, id="cam-a", tier="registered", sharing_mode="request_only", stream_url=None
    )
    create(client, admin, id="cam-b", kind="school", lat=32.79)
    create(client, admin, id="cam-c", sharing_mode="live_in_emergency", lat=32.90, lon=-96.70)

    def ids(query: str) -> list[str]:
        r = client.get(f"{API}/cameras{query}", headers=analyst)
        assert r.status_code == 200, r.text
        return [c["id"] for c in r.json()["items"]]

    assert ids("") == ["cam-a", "cam-b", "cam-c"]
    assert ids("?tier=registered") == ["cam-a"]
    assert ids("?kind=school") == ["cam-b"]
    assert ids("?sharing_mode=live_in_emergency") == ["cam-c"]
    assert ids("?bbox=-96.81,32.77,-96.79,32.785") == ["cam-a"]
    page = client.get(f"{API}/cameras?limit=2&offset=1", headers=analyst).json()
    assert page["total"] == 3 and [c["id"] for c in page["items"]] == ["cam-b", "cam-c"]
    for bad in ("?bbox=1,2,3", "?bbox=a,b,c,d", "?tier=gold", "?limit=0", "?limit=5001"):
        assert client.get(f"{API}/cameras{bad}", headers=analyst).status_code == 422, bad


def test_sync_feed_reports_changes_revocations_and_deletions(
    client: TestClient, admin: dict[str, str], analyst: dict[str, str]
) -> None:
    create(client, admin, id="cam-1")
    create(client, admin, id="cam-2")
    first = client.get(f"{API}/cameras?since=0", headers=analyst).json()
    assert [c["id"] for c in first["items"]] == ["cam-1", "cam-2"] and first["deleted"] == []
    cursor = first["cursor"]
    assert client.get(f"{API}/cameras?since={cursor}", headers=analyst).json()["items"] == []
    assert (
        client.post(
            f"{API}/cameras/cam-1/revoke", headers=admin, json={"reason": "owner withdrew"}
        ).status_code
        == 200
    )
    assert client.delete(f"{API}/cameras/cam-2", headers=admin).status_code == 204
    feed = client.get(f"{API}/cameras?since={cursor}", headers=analyst).json()
    assert [(c["id"], c["revoked"]) for c in feed["items"]] == [("cam-1", True)]
    assert feed["deleted"] == ["cam-2"]
    assert int(feed["cursor"]) > int(cursor)
    paged = client.get(f"{API}/cameras?since=0&limit=1", headers=analyst).json()
    assert paged["has_more"] is True
    assert client.get(f"{API}/cameras?since=abc", headers=analyst).status_code == 422
    assert client.get(f"{API}/cameras/cam-2", headers=analyst).status_code == 404


def test_patch_updates_and_bumps_version(
    client: TestClient, app: Any, admin: dict[str, str], analyst: dict[str, str]
) -> None:
    create(client, admin, id="cam-1")
    r = client.patch(
        f"{API}/cameras/cam-1",
        headers=admin,
        json={"name": "Renamed", "stream_url": "rtsp://u:newpw@10.0.0.6/x"},
    )
    assert r.status_code == 200 and r.json()["name"] == "Renamed" and r.json()["version"] == 2
    assert "newpw" not in r.text
    assert (
        client.patch(f"{API}/cameras/cam-1", headers=admin, json={"tier": None}).status_code == 422
    )
    assert client.patch(f"{API}/cameras/cam-1", headers=admin, json={"lat": 95}).status_code == 422
    assert client.patch(f"{API}/cameras/nope", headers=admin, json={"name": "x"}).status_code == 404
    assert (
        client.patch(f"{API}/cameras/cam-1", headers=analyst, json={"name": "x"}).status_code == 403
    )
    assert client.delete(f"{API}/cameras/cam-1", headers=analyst).status_code == 403
    changes = [json.loads(d)["change"] for _i, _t, d in events_of(app, "camera.changed")]
    assert changes == ["created", "updated"]


def test_nearest_ranks_with_explanations_and_skips_revoked(
    client: TestClient, admin: dict[str, str], analyst: dict[str, str]
) -> None:
    create(client, admin, id="cam-near", lat=32.7801, lon=-96.8000)
    create(
        client,
        admin,
        id="cam-far",
        lat=32.7850,
        lon=-96.8000,
        tier="registered",
        sharing_mode="request_only",
        stream_url=None,
    )
    create(client, admin, id="cam-away", lat=32.9, lon=-96.6)
    r = client.get(f"{API}/cameras/nearest?lat=32.78&lon=-96.80&k=5&radius_m=2000", headers=analyst)
    assert r.status_code == 200
    items = r.json()["items"]
    assert [i["camera"]["id"] for i in items] == ["cam-near", "cam-far"]
    assert items[0]["distance_m"] < items[1]["distance_m"]
    assert items[0]["explanation"] and isinstance(items[0]["score"], float)
    only_registered = client.get(
        f"{API}/cameras/nearest?lat=32.78&lon=-96.80&tier=registered", headers=analyst
    ).json()
    assert [i["camera"]["id"] for i in only_registered["items"]] == ["cam-far"]
    client.post(f"{API}/cameras/cam-near/revoke", headers=admin, json={"reason": "x"})
    items = client.get(f"{API}/cameras/nearest?lat=32.78&lon=-96.80", headers=analyst).json()[
        "items"
    ]
    assert [i["camera"]["id"] for i in items] == ["cam-far"]
    for bad in ("lat=91&lon=0", "lat=32&lon=-200", "lat=x&lon=1", "lat=32&lon=-96&k=0", "lon=-96"):
        assert client.get(f"{API}/cameras/nearest?{bad}", headers=analyst).status_code == 422, bad


@pytest.mark.parametrize("reason", ["", "   "])
def test_revoke_requires_reason(client: TestClient, admin: dict[str, str], reason: str) -> None:
    create(client, admin, id="cam-1")
    r = client.post(f"{API}/cameras/cam-1/revoke", headers=admin, json={"reason": reason})
    assert r.status_code == 422 and "reason" in r.text


def test_nearest_marks_emergency_cameras_live_now(
    client: TestClient, admin: dict[str, str], supervisor: dict[str, str], analyst: dict[str, str]
) -> None:
    create(client, admin, id="cam-emg", sharing_mode="live_in_emergency")
    create(client, admin, id="cam-always", lat=32.7802)

    def live() -> dict[str, bool]:
        items = client.get(f"{API}/cameras/nearest?lat=32.78&lon=-96.80", headers=analyst).json()[
            "items"
        ]
        return {i["camera"]["id"]: i["live_now"] for i in items}

    assert live() == {"cam-emg": False, "cam-always": True}
    client.post(
        f"{API}/emergencies",
        headers=supervisor,
        json={"camera_ids": ["cam-emg"], "reason": "panic", "duration_s": 60},
    )
    assert live() == {"cam-emg": True, "cam-always": True}
