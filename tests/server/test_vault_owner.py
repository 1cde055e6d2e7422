"""Owner uploads with a footage request's link token: linked to the request item and its case,
limits per link, refusals an owner understands, no owner names to analysts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rtcc_console.config import ServerSettings
from tests.server.vault_helpers import API, TUS, mp4_bytes, sha256, tus_create, tus_patch

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
CASE = "26-008800"


@pytest.fixture
def settings(settings_factory: Any, tmp_path: Path, db_url: str) -> ServerSettings:
    from rtcc_console.sim.seed import generate_registry, seed_database

    seed_database(db_url, generate_registry(seed=3, n_registered=40, n_integrated=0))
    return settings_factory(vault_dir=tmp_path / "vault", vault_max_link_files=2)


def _owner_link(client: TestClient, app: Any, analyst: dict[str, str]) -> tuple[str, str, str]:
    """(request id, item id, link token) of a new footage request around a registered camera."""
    from sqlalchemy import select

    from rtcc_console.core.request_items import link_token
    from rtcc_console.store.schema import CameraRow, RequestItemRow

    with app.state.rtcc.db.read() as session:
        cam = session.scalars(
            select(CameraRow).where(CameraRow.tier == "registered").limit(1)
        ).one()
        lat, lon = cam.lat, cam.lon
    now = datetime.now(UTC)
    r = client.post(
        f"{API}/footage-requests",
        headers=analyst,
        json={
            "client_key": "vault-owner-test-1",
            "case_number": CASE,
            "offence_category": "burglary",
            "call_id": None,
            "area": {"kind": "circle", "center": {"lat": lat, "lon": lon}, "radius_m": 30},
            "window_start": (now - timedelta(hours=2)).isoformat(),
            "window_end": (now - timedelta(hours=1)).isoformat(),
            "message": "Please send your video.",
        },
    )
    assert r.status_code == 201, r.text
    request = r.json()
    item_id = request["items"][0]["id"]
    with app.state.rtcc.db.read() as session:
        nonce = session.get(RequestItemRow, item_id).link_nonce  # type: ignore[union-attr]
    secret = app.state.rtcc.settings.secret_key.get_secret_value().encode()
    return request["id"], item_id, link_token(secret, item_id, nonce)


def test_owner_upload_is_linked_to_request_item_and_case(
    client: TestClient, app: Any, analyst: dict[str, str]
) -> None:
    request_id, item_id, token = _owner_link(client, app, analyst)
    owner = {"Upload-Token": token}
    data = mp4_bytes(31)
    r = client.post(
        f"{API}/uploads",
        headers={
            **TUS,
            "Upload-Length": str(len(data)),
            "Upload-Metadata": _meta(
                request_token=token, filename="porch.mp4", clock_offset_s="90"
            ),
        },
    )
    assert r.status_code == 201, r.text
    loc = r.headers["Location"]
    assert (
        client.head(loc, headers={**analyst, **TUS}).status_code == 404
    )  # staff cannot touch an owner's upload
    assert (
        client.head(loc, headers={"Upload-Token": "x" * 43, **TUS}).status_code == 404
    )  # forged token
    head = client.head(loc, headers={**owner, **TUS})
    assert (
        "filename" in head.headers["Upload-Metadata"]
        and "request_token" not in head.headers["Upload-Metadata"]
    )
    assert token not in str(head.headers)  # the credential is never echoed
    assert tus_patch(client, loc, owner, 0, data[:3000]).status_code == 204
    done = tus_patch(client, loc, owner, 3000, data[3000:])
    assert done.status_code == 204, done.text
    evidence_id = done.headers["Upload-Evidence-Id"]
    receipt = client.get(f"{loc}/receipt", headers=owner).json()
    assert receipt["sha256"] == sha256(data) and "keep this receipt" in receipt["message"]
    item = client.get(f"{API}/evidence/{evidence_id}", headers=analyst).json()
    assert item["request_id"] == request_id and item["request_item_id"] == item_id
    assert item["case_numbers"] == [CASE] and item["clock_offset_s"] == 90.0
    assert item["owner_kind"] in ("residential", "business", "school", "public")
    assert item["requested_window"] is not None
    with app.state.rtcc.db.read() as session:
        from rtcc_console.store.owners import get_owner
        from rtcc_console.store.schema import RequestItemRow

        owner_row = get_owner(session, owner_id=session.get(RequestItemRow, item_id).owner_id)  # type: ignore[union-attr]
    assert owner_row is not None and owner_row.name not in str(item)  # never the owner's name
    fr = client.get(f"{API}/footage-requests/{request_id}", headers=analyst).json()
    assert fr["items"][0]["state"] == "uploaded"
    custody = client.get(f"{API}/evidence/{evidence_id}/custody", headers=analyst).json()["items"]
    assert (
        custody[0]["actor"].startswith("owner:")
        and custody[0]["details"]["request_item_id"] == item_id
    )


def test_owner_refusals_and_link_limits(
    client: TestClient, app: Any, analyst: dict[str, str]
) -> None:
    _, _, token = _owner_link(client, app, analyst)
    owner = {"Upload-Token": token}
    png = _png_bytes()
    r = client.post(
        f"{API}/uploads",
        headers={
            **TUS,
            "Upload-Length": str(len(png)),
            "Upload-Metadata": _meta(request_token=token, filename="photo.mp4"),
        },
    )
    refused = tus_patch(client, r.headers["Location"], owner, 0, png)
    assert refused.status_code == 422 and "still image" in refused.json()["detail"]
    assert (
        client.post(
            f"{API}/uploads",
            headers={
                **TUS,
                "Upload-Length": "10",
                "Upload-Metadata": _meta(request_token="forged-token-0123456789abc"),
            },
        ).status_code
        == 404
    )
    for seed in (41, 42):
        data = mp4_bytes(seed)
        loc = client.post(
            f"{API}/uploads",
            headers={
                **TUS,
                "Upload-Length": str(len(data)),
                "Upload-Metadata": _meta(request_token=token),
            },
        ).headers["Location"]
        assert tus_patch(client, loc, owner, 0, data).status_code == 204
    third = client.post(
        f"{API}/uploads",
        headers={**TUS, "Upload-Length": "100", "Upload-Metadata": _meta(request_token=token)},
    )
    assert third.status_code == 413 and "files" in third.json()["detail"]
    form = client.post(
        f"{API}/evidence/form-upload",
        data={"request_token": token},
        files={"file": ("c.mp4", mp4_bytes(43), "video/mp4")},
    )
    assert form.status_code == 413
    staff_case = tus_create(client, analyst, 10, case_number="26-1")
    assert staff_case.status_code == 201  # staff uploads are not limited per link


def _meta(**pairs: str) -> str:
    from tests.server.vault_helpers import meta_header

    return meta_header(**pairs)


def _png_bytes() -> bytes:
    import tempfile

    from rtcc_console.server.vault.probe import frame_png
    from rtcc_console.sim.vault_media import make_mp4

    with tempfile.TemporaryDirectory() as d:
        return frame_png(make_mp4(Path(d) / "a.mp4"), 0.5)[0]


def test_owner_plain_form_without_javascript_gets_a_readable_page(
    client: TestClient, app: Any, analyst: dict[str, str]
) -> None:
    _, item_id, token = _owner_link(client, app, analyst)
    data = mp4_bytes(51)
    page = client.post(
        f"{API}/evidence/form-upload",
        headers={"Accept": "text/html"},
        data={"request_token": token},
        files={"file": ("garage.mp4", data, "video/mp4")},
    )
    assert page.status_code == 201 and page.headers["content-type"].startswith("text/html")
    assert sha256(data) in page.text and "received" in page.text
    refused = client.post(
        f"{API}/evidence/form-upload",
        headers={"Accept": "text/html"},
        data={"request_token": token},
        files={"file": ("notes.mp4", b"<script>alert(1)</script> not a video", "video/mp4")},
    )
    assert (
        refused.status_code == 422
        and "not a video" in refused.text
        and "<script>" not in refused.text
    )
    items = client.get(f"{API}/evidence", headers=analyst, params={"case_number": CASE}).json()[
        "items"
    ]
    assert [i["request_item_id"] for i in items] == [item_id]
