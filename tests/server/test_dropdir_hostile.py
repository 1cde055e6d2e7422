"""Hostile JSON files in the CAD drop folder go to failed/ with a reason (as over HTTP),
instead of failing in the database and being retried on every pass."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rtcc_console.server.dropdir import DropFolder
from rtcc_console.store.schema import CallRow, CallUpdateRow
from tests.server.conftest import count_rows, simple_call
from tests.server.test_dropdir import Clock, settle


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (
            json.dumps(simple_call(incident_id="S-1", type_text="Burglary \ud800")).encode(),
            "lone surrogate",
        ),
        (json.dumps(simple_call(incident_id="N-1", address="1 Elm\x00St")).encode(), "NUL"),
        (b"[" * 5000 + b"]" * 5000, "nested 5000 levels"),
    ],
)
def test_hostile_json_file_fails_with_a_reason(
    app: Any, client: TestClient, tmp_path: Path, content: bytes, reason: str
) -> None:
    clock = Clock()
    drop = DropFolder(app.state.rtcc, tmp_path / "drop", clock=clock)
    for d in (drop.folder, drop.processed, drop.failed):
        d.mkdir(parents=True, exist_ok=True)
    (drop.folder / "bad.json").write_bytes(content)
    settle(drop, clock)
    assert (drop.failed / "bad.json").exists()
    assert reason in (drop.failed / "bad.json.error.txt").read_text()
    assert count_rows(app, CallRow) == 0 and count_rows(app, CallUpdateRow) == 0
