"""CAD drop folder: good, bad and half-written files; the live watcher end to end."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rtcc_console.server.app import create_app
from rtcc_console.server.dropdir import DropFolder
from rtcc_console.store.schema import CallRow
from tests.server.conftest import count_rows, events_of, simple_call


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def folder(app: Any, client: TestClient, tmp_path: Path) -> tuple[DropFolder, Clock]:
    clock = Clock()
    drop = DropFolder(app.state.rtcc, tmp_path / "drop", clock=clock)
    for d in (drop.folder, drop.processed, drop.failed):
        d.mkdir(parents=True, exist_ok=True)
    return drop, clock


def settle(drop: DropFolder, clock: Clock) -> None:
    drop.scan_once()
    clock.t += 5
    drop.scan_once()


def test_good_json_items_and_csv_are_ingested_and_moved(
    folder: tuple[DropFolder, Clock], app: Any
) -> None:
    drop, clock = folder
    (drop.folder / "one.json").write_text(json.dumps(simple_call(incident_id="D-1")))
    (drop.folder / "many.json").write_text(
        json.dumps({"items": [simple_call(incident_id="D-2"), simple_call(incident_id="D-3")]})
    )
    row = simple_call(incident_id="D-4")
    cols = [k for k in row if k != "format"]
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerows([cols, [row[c] for c in cols]])
    (drop.folder / "calls.csv").write_text(buf.getvalue())
    (drop.folder / "notes.txt").write_text("ignored")
    settle(drop, clock)
    assert sorted(p.name for p in drop.processed.iterdir()) == [
        "calls.csv",
        "many.json",
        "one.json",
    ]
    assert (drop.folder / "notes.txt").exists()
    assert count_rows(app, CallRow) == 4
    assert {json.loads(d)["call"]["source"] for _i, _t, d in events_of(app, "call.created")} == {
        "dropdir"
    }


def test_bad_files_go_to_failed_with_reason_nothing_stored(
    folder: tuple[DropFolder, Clock], app: Any
) -> None:
    drop, clock = folder
    (drop.folder / "broken.json").write_text('{"format": "simple", ')
    (drop.folder / "badfield.json").write_text(
        json.dumps(
            {"items": [simple_call(incident_id="X-1"), simple_call(incident_id="X-2", lat=123)]}
        )
    )
    (drop.folder / "bad.csv").write_text("incident_id,type_code\nA,B\n")
    settle(drop, clock)
    failed = sorted(p.name for p in drop.failed.iterdir())
    assert failed == [
        "bad.csv",
        "bad.csv.error.txt",
        "badfield.json",
        "badfield.json.error.txt",
        "broken.json",
        "broken.json.error.txt",
    ]
    assert "items[1].lat" in (drop.failed / "badfield.json.error.txt").read_text()
    assert "not valid JSON" in (drop.failed / "broken.json.error.txt").read_text()
    assert count_rows(app, CallRow) == 0


def test_half_written_file_waits_until_stable(folder: tuple[DropFolder, Clock], app: Any) -> None:
    drop, clock = folder
    text = json.dumps(simple_call(incident_id="P-1"))
    path = drop.folder / "slow.json"
    path.write_text(text[: len(text) // 2])
    assert drop.scan_once() is True  # first sight: settling
    clock.t += 0.5
    assert drop.scan_once() is True  # not yet stable for 1 s
    path.write_text(text)  # the writer finishes; size and mtime change
    clock.t += 0.9
    drop.scan_once()
    assert path.exists() and count_rows(app, CallRow) == 0
    clock.t += 1.5
    drop.scan_once()
    assert not path.exists() and (drop.processed / "slow.json").exists()
    assert count_rows(app, CallRow) == 1


def test_temp_and_dot_files_are_ignored(folder: tuple[DropFolder, Clock]) -> None:
    drop, clock = folder
    for name in (".hidden.json", "x.json.tmp", "y.json.part"):
        (drop.folder / name).write_text("{")
    settle(drop, clock)
    assert sorted(p.name for p in drop.folder.iterdir() if p.is_file()) == [
        ".hidden.json",
        "x.json.tmp",
        "y.json.part",
    ]
    assert not any(drop.failed.iterdir())


def test_same_name_twice_is_kept_not_overwritten(folder: tuple[DropFolder, Clock]) -> None:
    drop, clock = folder
    for i in range(2):
        (drop.folder / "feed.json").write_text(json.dumps(simple_call(incident_id=f"S-{i}")))
        settle(drop, clock)
    assert len(list(drop.processed.iterdir())) == 2


def test_watcher_in_running_app(settings_factory: Any, tmp_path: Path) -> None:
    drop_dir = tmp_path / "cad"
    app = create_app(
        settings_factory(cad_dropdir=drop_dir, cad_dropdir_stable_s=0.2, cad_dropdir_rescan_s=0.5)
    )
    with TestClient(app):
        (drop_dir / "live.json.part").write_text(json.dumps(simple_call(incident_id="LIVE-1")))
        (drop_dir / "live.json.part").rename(drop_dir / "live.json")
        deadline = time.monotonic() + 20
        while not (drop_dir / "processed" / "live.json").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (drop_dir / "processed" / "live.json").exists()
        assert count_rows(app, CallRow) == 1
