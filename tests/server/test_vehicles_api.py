"""Vehicle sort of evidence over the API, with the real worker process indexing real clips."""

from __future__ import annotations

import hashlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rtcc_console.config import ServerSettings
from rtcc_console.core.models import Role
from rtcc_console.server.app import create_app
from rtcc_console.sim.vehicle_clips import Segment, read_photo, write_clip
from rtcc_console.store import evidence as evidence_store
from rtcc_console.store.schema import AuditEventRow
from tests.server.conftest import add_user, login
from tests.vision.darknet_photos import photos_dir

API = "/api/v1"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = photos_dir()
    dog, giraffe, horses = (
        read_photo(folder / n) for n in ("dog.jpg", "giraffe.jpg", "horses.jpg")
    )
    out = tmp_path_factory.mktemp("vehicle-clips")
    with_vehicles = write_clip(
        out / "street.mp4",
        [
            Segment(giraffe, 2, (0, 0, 0.9, 0.9), (0.05, 0.05, 0.9, 0.9)),
            Segment(dog, 4, (0, 0, 0.95, 0.95), (0.05, 0.05, 0.95, 0.95)),
        ],
        size=(640, 360),
    )
    without = write_clip(
        out / "field.mp4",
        [Segment(horses, 3, (0, 0, 0.9, 0.9), (0.1, 0, 0.9, 0.9))],
        size=(640, 360),
    )
    return {"street": with_vehicles.read_bytes(), "field": without.read_bytes()}


@pytest.fixture
def vsettings(db_url: str, tmp_path: Path) -> ServerSettings:
    return ServerSettings(
        db_url=db_url,
        dev_mode=True,
        argon2_time_cost=1,
        argon2_memory_kib=8,
        argon2_parallelism=1,
        migrate_on_start=False,
        housekeeping_s=0.2,
        vault_dir=tmp_path / "vault",
        vehicle_index=True,
    )


@pytest.fixture
def vclient(vsettings: ServerSettings) -> Iterator[tuple[TestClient, Any]]:
    app = create_app(vsettings)
    with TestClient(app) as c:
        add_user(app, "ana", Role.ANALYST)
        yield c, app


def _upload(
    client: TestClient, headers: dict[str, str], data: bytes, name: str, case: str, call: str
) -> str:
    r = client.post(
        f"{API}/evidence/form-upload",
        headers=headers,
        files={"file": (name, data, "video/mp4")},
        data={"case_number": case, "call_id": call, "camera_id": "cam-000001"},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["evidence_id"])


def _wait(check: Callable[[], bool], timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


def _status(client: TestClient, headers: dict[str, str], evidence_id: str) -> dict[str, Any]:
    r = client.get(f"{API}/evidence/{evidence_id}/vehicles", headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_uploaded_clips_are_indexed_in_the_background_and_searchable(
    vclient: tuple[TestClient, Any], clips: dict[str, bytes]
) -> None:
    client, app = vclient
    ana = login(client, "ana")
    street = _upload(client, ana, clips["street"], "street.mp4", "26-000017", "call-17")
    field = _upload(client, ana, clips["field"], "field.mp4", "26-000017", "call-17")
    first = _status(client, ana, street)
    assert first["status"] in ("pending", "running", "done") and "verify" in first["notice"]

    _wait(lambda: all(_status(client, ana, e)["status"] == "done" for e in (street, field)))
    supervisor = app.state.rtcc.extras["vehicle_indexer"]
    assert supervisor.starts >= 1

    done = _status(client, ana, street)
    labels = {d["label"] for d in done["detections"]}
    assert {"truck", "bicycle"} <= labels <= {"bicycle", "car", "motorcycle", "bus", "truck"}
    assert (
        done["progress"] == 1.0
        and done["sampled"] == 12
        and done["model"].startswith("yolov3-tiny")
    )
    for d in done["detections"]:
        assert 2.0 <= d["start_s"] <= d["best_time_s"] <= d["end_s"] < 6.0  # the dog photo is 2-6 s
    assert _status(client, ana, field)["detections"] == []

    r = client.get(
        f"{API}/evidence/vehicles/search",
        headers=ana,
        params={"case_number": "26-000017", "vehicle": "truck", "color": "white"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["summary"]["clips"] == 2 and body["summary"]["with_match"] == 1
    assert body["summary"]["text"] == "2 clips, 1 with a white truck candidate (verify)"
    assert [c["evidence_id"] for c in body["items"]] == [street]
    moment = body["items"][0]["moments"][0]
    assert moment["label"] == "truck" and moment["colour"] == "white" and len(moment["box"]) == 4

    thumb = client.get(moment["thumbnail_url"], headers=ana)
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert thumb.content[:2] == b"\xff\xd8"

    by_call = client.get(
        f"{API}/evidence/vehicles/search", headers=ana, params={"call_id": "call-17"}
    ).json()
    assert [c["evidence_id"] for c in by_call["items"]] == [street]  # any vehicle
    scores = [m["best_score"] for m in by_call["items"][0]["moments"]]
    assert scores == sorted(scores, reverse=True)

    with app.state.rtcc.db.read() as session:
        audits = (
            session.query(AuditEventRow)
            .filter(AuditEventRow.action == "evidence.vehicles.search")
            .order_by(AuditEventRow.id)
            .all()
        )
    assert len(audits) == 2
    assert audits[0].username == "ana" and audits[0].targets["case_number"] == "26-000017"
    assert '"vehicle": "truck"' in (audits[0].reason or "") and '"color": "white"' in (
        audits[0].reason or ""
    )

    queue = client.get(f"{API}/evidence/vehicles/queue", headers=ana).json()
    assert queue["done"] >= 2 and queue["pending"] == 0 and queue["running"] == 0


def _register_raw(app: Any, vault: Path, name: str, data: bytes, case: str) -> str:
    """An item whose bytes are in the vault but are not a video (the vault's probe would have
    refused such an upload: this is the 'one clip breaks the decoder' case)."""
    digest = hashlib.sha256(data).hexdigest()
    rel = f"objects/raw/{digest}"
    (vault / "objects" / "raw").mkdir(parents=True, exist_ok=True)
    (vault / rel).write_bytes(data)
    with app.state.rtcc.db.write() as session:
        evidence_store.insert_item(
            session,
            item=evidence_store.NewEvidence(
                id=f"ev-{name}",
                sha256=digest,
                sha512=hashlib.sha512(data).hexdigest(),
                size_bytes=len(data),
                media_type="video/mp4",
                filename=f"{name}.mp4",
                stored_path=rel,
                call_id="call-x",
                received_at=datetime(2026, 11, 29, tzinfo=UTC),
            ),
        )
        evidence_store.attach_case(session, evidence_id=f"ev-{name}", case_number=case, by="test")
    return f"ev-{name}"


def test_a_broken_clip_is_marked_and_the_next_one_is_indexed(
    vclient: tuple[TestClient, Any], vsettings: ServerSettings, clips: dict[str, bytes]
) -> None:
    client, app = vclient
    ana = login(client, "ana")
    broken = _register_raw(
        app, vsettings.vault_dir, "broken", b"\x00\x00\x00\x18ftypmp42" + os.urandom(5000), "26-9"
    )
    tampered = _register_raw(app, vsettings.vault_dir, "tampered", clips["field"], "26-9")
    (vsettings.vault_dir / f"objects/raw/{hashlib.sha256(clips['field']).hexdigest()}").write_bytes(
        b"changed"
    )
    good = _upload(client, ana, clips["field"], "field.mp4", "26-9", "call-x")
    _wait(
        lambda: all(
            _status(client, ana, e)["status"] in ("done", "failed")
            for e in (broken, tampered, good)
        )
    )
    b, t, g = (_status(client, ana, e) for e in (broken, tampered, good))
    assert b["status"] == "failed" and "decod" in (b["error"] or "")
    assert t["status"] == "failed" and "SHA-256" in (t["error"] or "")
    assert g["status"] == "done"
    summary = client.get(
        f"{API}/evidence/vehicles/search", headers=ana, params={"case_number": "26-9"}
    ).json()["summary"]
    assert (summary["clips"], summary["failed"], summary["indexed"]) == (3, 2, 1)
    # case and call together: the call's clips plus the case's (what the Evidence tab lists)
    both = client.get(
        f"{API}/evidence/vehicles/search",
        headers=ana,
        params={"case_number": "26-OTHER", "call_id": "call-x"},
    )
    assert both.json()["summary"]["clips"] == 3


def test_a_killed_worker_is_replaced_and_its_clip_finished(
    vclient: tuple[TestClient, Any], clips: dict[str, bytes], tmp_path: Path
) -> None:
    client, app = vclient
    ana = login(client, "ana")
    folder = photos_dir()
    long_clip = write_clip(
        tmp_path / "long.mp4",
        [Segment(read_photo(folder / "dog.jpg"), 20, (0, 0, 0.9, 0.9), (0.1, 0.1, 0.9, 0.9))],
        size=(640, 360),
    )
    ev = _upload(client, ana, long_clip.read_bytes(), "long.mp4", "26-10", "call-y")
    supervisor = app.state.rtcc.extras["vehicle_indexer"]
    _wait(
        lambda: (
            _status(client, ana, ev)["status"] == "running"
            and _status(client, ana, ev)["progress"] > 0
        )
    )
    pid = supervisor.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    # the lease runs out, the supervisor starts a second worker, which finishes the clip
    _wait(lambda: _status(client, ana, ev)["status"] == "done", timeout_s=120)
    assert supervisor.starts >= 2
    assert {d["label"] for d in _status(client, ana, ev)["detections"]} & {
        "truck",
        "car",
        "bicycle",
    }


def test_bad_input_answers_4xx(vclient: tuple[TestClient, Any]) -> None:
    client, _app = vclient
    ana = login(client, "ana")
    search = f"{API}/evidence/vehicles/search"
    assert client.get(search, params={"case_number": "1"}).status_code == 401
    assert (
        client.get(
            search, headers={"Authorization": "Bearer forged"}, params={"case_number": "1"}
        ).status_code
        == 401
    )
    cases: list[dict[str, Any]] = [
        {},
        {"case_number": "26-1", "vehicle": "person"},
        {"case_number": "26-1", "vehicle": "face"},
        {"case_number": "26-1", "color": "mauve"},
        {"case_number": "x" * 65},
        {"case_number": "../etc"},
        {"case_number": "26-1", "min_score": "2"},
        {"case_number": "26-1", "limit": "0"},
        {"case_number": "26-1", "offset": "-1"},
    ]
    for params in cases:
        r = client.get(search, headers=ana, params=params)
        assert r.status_code == 422, (params, r.status_code, r.text)
    # lone surrogates (UTF-8-encoded halves) in the query
    for raw in (
        "case_number=26-1%ED%A0%80",
        "call_id=call%ED%A0%80",
        "case_number=26-1&vehicle=tr%ED%A0%80uck",
    ):
        r = client.get(f"{search}?{raw}", headers=ana)
        assert r.status_code == 422, (raw, r.status_code, r.text)
    assert client.get(f"{API}/evidence/ev-nope/vehicles", headers=ana).status_code == 404
    assert client.get(f"{API}/evidence/ev%20x%2F/vehicles", headers=ana).status_code in (404, 422)
    assert client.get(f"{API}/evidence/{'e' * 49}/vehicles", headers=ana).status_code == 422
    assert (
        client.get(f"{API}/evidence/ev-1/vehicles/{2**70}/thumbnail", headers=ana).status_code
        == 422
    )
    assert client.get(f"{API}/evidence/ev-1/vehicles/abc/thumbnail", headers=ana).status_code == 422
    assert client.get(f"{API}/evidence/ev-1/vehicles/5/thumbnail", headers=ana).status_code == 404
    empty = client.get(search, headers=ana, params={"case_number": "26-NONE"})
    assert (
        empty.status_code == 200
        and empty.json()["summary"]["text"] == "0 clips, 0 with a vehicle candidate (verify)"
    )


def test_indexing_can_be_switched_off(db_url: str, tmp_path: Path) -> None:
    settings = ServerSettings(
        db_url=db_url,
        dev_mode=True,
        migrate_on_start=False,
        vault_dir=tmp_path / "v",
        vehicle_index=False,
    )
    app = create_app(settings)
    with TestClient(app):
        assert "vehicle_indexer" not in app.state.rtcc.extras


def test_stopping_the_server_mid_clip_hands_the_clip_back(
    vsettings: ServerSettings, tmp_path: Path
) -> None:
    folder = photos_dir()
    long_clip = write_clip(
        tmp_path / "long.mp4",
        [Segment(read_photo(folder / "dog.jpg"), 30, (0, 0, 0.9, 0.9), (0.1, 0.1, 0.9, 0.9))],
        size=(640, 360),
    )
    app = create_app(vsettings)
    with TestClient(app) as client:
        add_user(app, "ana", Role.ANALYST)
        ana = login(client, "ana")
        ev = _upload(client, ana, long_clip.read_bytes(), "long.mp4", "26-11", "call-z")
        _wait(lambda: _status(client, ana, ev)["progress"] > 0)
        supervisor = app.state.rtcc.extras["vehicle_indexer"]
        proc = supervisor._proc
        started = time.monotonic()
    assert time.monotonic() - started < 5.0  # the worker stopped at once, it was not killed
    assert proc is not None and proc.exitcode == 0
    with app.state.rtcc.db.read() as session:
        from rtcc_console.store import vehicles

        job = vehicles.get_job(session, evidence_id=ev)
        assert job is not None and (job.status, job.attempts) == ("pending", 0)
