"""The SSE replay never sends a stream credential, even from an event stored before the
redaction knew that URL form (a database from an older version)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from rtcc_console.config import ServerSettings
from rtcc_console.server.embedded import EmbeddedServer
from rtcc_console.store import events as store_events
from tests.server.conftest import PASSWORD
from tests.server.sse_client import SseReader


@pytest.fixture
def server(settings: ServerSettings) -> Iterator[EmbeddedServer]:
    srv = EmbeddedServer(settings.model_copy(update={"port": 0}))
    srv.start()
    srv.ensure_user("ana", "analyst", PASSWORD)
    try:
        yield srv
    finally:
        srv.stop()


def test_legacy_camera_event_is_replayed_redacted(server: EmbeddedServer) -> None:
    legacy = {
        "camera": {
            "id": "cam-old",
            "has_stream": True,
            "stream_url": "rtsp://10.0.0.9:554/user=admin&password=S3CRold&channel=1&stream=0.sdp?",
            "substream_url": "http://10.0.0.9/videostream.cgi?loginuse=admin&loginpas=S3CRsub",
        },
        "change": "updated",
    }
    with server.state.db.write() as session:
        store_events.append_event(session, type="camera.changed", payload=legacy)
    tok = httpx.post(
        f"{server.api_url}/auth/login", json={"username": "ana", "password": PASSWORD}
    ).json()["access_token"]
    reader = SseReader(
        f"{server.api_url}/events", headers={"Authorization": f"Bearer {tok}", "Last-Event-ID": "0"}
    )
    try:
        event = reader.get()
    finally:
        reader.close()
    assert event is not None and event.event == "camera.changed"
    assert "cam-old" in event.data and "channel=1" in event.data and "videostream.cgi" in event.data
    assert "S3CR" not in event.data
