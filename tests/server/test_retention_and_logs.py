"""Event retention (pruning, truncated replay), credential-free logs, registry convergence."""

from __future__ import annotations

import io
import logging
import time
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from rtcc_console.core.models import utcnow
from rtcc_console.server.app import create_app, install_log_redaction
from rtcc_console.server.background import housekeeping_pass
from rtcc_console.store.events import last_event_id, oldest_event_id
from rtcc_console.store.schema import EventRow
from tests.server.conftest import API, camera_body, login, simple_call


def test_pruning_keeps_newest_and_replay_reports_truncation(
    client: TestClient, app: Any, analyst: dict[str, str]
) -> None:
    for i in range(5):
        client.post(f"{API}/calls", headers=analyst, json=simple_call(incident_id=f"P-{i}"))
    state = app.state.rtcc
    with state.db.write() as s:  # age every event beyond retention
        s.execute(
            update(EventRow).values(
                at=utcnow() - timedelta(seconds=state.settings.event_retention_s + 60)
            )
        )
    housekeeping_pass(state, prune=True)
    with state.db.read() as s:
        assert (
            oldest_event_id(s) == last_event_id(s) == 5
        )  # the newest row is kept: ids never restart
    client.post(f"{API}/calls", headers=analyst, json=simple_call(incident_id="P-new"))
    with state.db.read() as s:
        assert last_event_id(s) == 6


def test_server_logs_never_carry_stream_credentials(
    client: TestClient, admin: dict[str, str]
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        install_log_redaction()
        logging.getLogger("rtcc_console.server.test").warning(
            "opening rtsp://admin:hunter2pw@10.0.0.5/live failed"
        )
        logging.getLogger("uvicorn.access").info(
            'GET /api/v1/events?access_token=rtcc_SECRETTOKENVALUE HTTP/1.1" 200'
        )
        client.post(
            f"{API}/cameras",
            headers=admin,
            json=camera_body(stream_url="rtsp://admin:hunter2pw@10.0.0.9/x"),
        )
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    text = stream.getvalue()
    assert "10.0.0.5" in text  # the line was logged...
    assert "hunter2pw" not in text and "SECRETTOKENVALUE" not in text  # ...without the secrets


def test_registry_of_another_process_converges(
    settings: Any, client: TestClient, admin: dict[str, str]
) -> None:
    """A second app on the same database (another process in production) sees new cameras
    in its nearest-camera index without any event from the first."""
    other = create_app(settings)
    with TestClient(other) as second:
        token = login(second, "ana")
        assert (
            second.get(f"{API}/cameras/nearest?lat=32.78&lon=-96.8", headers=token).json()["items"]
            == []
        )
        client.post(f"{API}/cameras", headers=admin, json=camera_body(id="cam-new"))
        deadline = time.monotonic() + 10
        items: list[Any] = []
        while time.monotonic() < deadline and not items:
            items = second.get(f"{API}/cameras/nearest?lat=32.78&lon=-96.8", headers=token).json()[
                "items"
            ]
            if not items:
                time.sleep(0.1)
        assert [i["camera"]["id"] for i in items] == ["cam-new"]
