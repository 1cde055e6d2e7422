"""A camera password never leaves the server except towards the media layer.

Cameras are created through the real API (``POST /cameras``, CSV and GeoJSON import, and
a PATCH) with the stream URL shapes of real vendors (tests/data/stream_urls), then every
place an analyst or an export can read a camera is fetched: the list, one camera, the
sync feed, nearest answers, the ``camera.changed`` events and both exports. No secret
marker may appear in any of them, ``has_stream`` must still say there is a stream, and
the full URL must still be there for the media layer (``camera_secrets``).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.server.conftest import API, camera_body, events_of

CORPUS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parents[1] / "data" / "stream_urls" / "vendor_urls.json").read_text()
)["urls"]
MARKER = "S3CR"


def _everything_an_analyst_or_export_sees(
    client: TestClient, app: Any, analyst: dict[str, str], admin: dict[str, str], ids: list[str]
) -> list[str]:
    texts = [
        client.get(f"{API}/cameras", headers=analyst, params={"limit": 5000}).text,
        client.get(f"{API}/cameras", headers=analyst, params={"since": "0", "limit": 5000}).text,
        client.get(
            f"{API}/cameras/nearest",
            headers=analyst,
            params={"lat": 32.78, "lon": -96.80, "k": 200, "radius_m": 50_000},
        ).text,
        client.get(f"{API}/cameras/export.csv", headers=admin).text,
        client.get(f"{API}/cameras/export.geojson", headers=admin).text,
        *(client.get(f"{API}/cameras/{cid}", headers=analyst).text for cid in ids),
        *(data for _, _, data in events_of(app, "camera.changed")),
    ]
    return texts


def test_vendor_urls_never_reach_analysts_events_or_exports(
    client: TestClient, app: Any, analyst: dict[str, str], admin: dict[str, str]
) -> None:
    from rtcc_console.store.cameras import stream_secret

    half = len(CORPUS) // 2
    ids: list[str] = []
    for i, entry in enumerate(CORPUS[:half]):  # one by one through POST /cameras
        body = camera_body(
            name=f"cam {i}",
            lat=32.78 + i * 1e-4,
            stream_url=entry["url"],
            substream_url=entry["url"] if i % 2 else None,
        )
        r = client.post(f"{API}/cameras", json=body, headers=admin)
        assert r.status_code == 201, (entry["vendor"], r.text)
        assert MARKER not in r.text and r.json()["has_stream"] is True
        ids.append(r.json()["id"])
    # The other half through the CSV import ...
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["name", "tier", "kind", "sharing_mode", "lat", "lon", "address", "stream_url"])
    csv_part = CORPUS[half : half + (len(CORPUS) - half) // 2]
    for i, entry in enumerate(csv_part):
        writer.writerow(
            [
                f"csv {i}",
                "integrated",
                "business",
                "live_always",
                32.79 + i * 1e-4,
                -96.8,
                "1 Elm",
                entry["url"],
            ]
        )
    r = client.post(
        f"{API}/cameras/import",
        content=buf.getvalue(),
        headers={**admin, "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    assert MARKER not in r.text
    # ... and the rest through GeoJSON.
    geo_part = CORPUS[half + len(csv_part) :]
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-96.8, 32.77 - i * 1e-4]},
            "properties": {
                "name": f"geo {i}",
                "tier": "integrated",
                "kind": "business",
                "sharing_mode": "live_always",
                "address": "2 Elm",
                "stream_url": entry["url"],
            },
        }
        for i, entry in enumerate(geo_part)
    ]
    r = client.post(
        f"{API}/cameras/import",
        content=json.dumps({"type": "FeatureCollection", "features": features}),
        headers={**admin, "Content-Type": "application/geo+json"},
    )
    assert r.status_code == 200, r.text
    # A PATCH that sets a new URL with a password in the path.
    r = client.patch(
        f"{API}/cameras/{ids[0]}",
        headers=admin,
        json={
            "stream_url": "rtsp://10.9.9.9:554/user=admin&password=S3CRpatch&channel=1&stream=0.sdp?"
        },
    )
    assert r.status_code == 200, r.text

    listing = client.get(f"{API}/cameras", headers=analyst, params={"limit": 5000}).json()["items"]
    assert len(listing) == len(CORPUS)
    assert all(item["has_stream"] for item in listing)
    texts = _everything_an_analyst_or_export_sees(
        client, app, analyst, admin, [c["id"] for c in listing]
    )
    assert all(t for t in texts)
    for text in texts:
        assert MARKER not in text
        assert "S3CR%26" not in text
    nearest = json.loads(texts[2])["items"]
    assert len(nearest) == len(CORPUS)

    # The cameras table itself holds only the redacted form.
    from sqlalchemy import select

    from rtcc_console.store.schema import CameraRow

    with app.state.rtcc.db.read() as session:
        stored_public = [
            u
            for row in session.execute(select(CameraRow.stream_url, CameraRow.substream_url))
            for u in row
            if u
        ]
    assert len(stored_public) >= len(CORPUS) and not any(MARKER in u for u in stored_public)

    # The media layer still has every full URL.
    with app.state.rtcc.db.read() as session:
        fulls = [stream_secret(session, camera_id=c["id"]) for c in listing]
    stored = {s.stream_url for s in fulls if s is not None}
    assert {e["url"] for e in CORPUS[1:]} <= stored
    assert "rtsp://10.9.9.9:554/user=admin&password=S3CRpatch&channel=1&stream=0.sdp?" in stored


def test_rows_stored_by_the_old_redaction_are_redacted_again_on_output(
    client: TestClient, app: Any, analyst: dict[str, str], admin: dict[str, str]
) -> None:
    """A database written before the query/path forms were masked still holds them in
    ``cameras.stream_url``: every output redacts again, so they never reach anyone."""
    from sqlalchemy import update

    from rtcc_console.store.schema import CameraRow

    r = client.post(
        f"{API}/cameras", json=camera_body(stream_url="rtsp://10.0.0.7/live"), headers=admin
    )
    cam = r.json()["id"]
    legacy = "http://10.0.0.7/videostream.cgi?loginuse=admin&loginpas=S3CRlegacy"
    with app.state.rtcc.db.write() as session:
        session.execute(update(CameraRow).where(CameraRow.id == cam).values(stream_url=legacy))
    app.state.rtcc.registry.refresh(force=True)
    texts = _everything_an_analyst_or_export_sees(client, app, analyst, admin, [cam])
    assert "videostream.cgi" in texts[0]
    assert not any(MARKER in t for t in texts)
