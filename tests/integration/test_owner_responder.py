"""The demo's simulated owners against the real thing: an embedded server whose e-mail goes
to a real SMTP server (aiosmtpd), a footage request to three owners, and each owner following
the link over HTTP and answering: one uploads a clip made from real photographs with the real
tus client (in the vault with the SHA-256 of its bytes, and the vehicle sort finds a vehicle
in it), one has no footage, one declines; each link is then spent."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from rtcc_console.demo_env import free_port
from rtcc_console.sim.owner_responder import ClipShelf, OwnerResponder, links_in
from rtcc_console.sim.smtp_sink import SmtpSink
from tests.gui.conftest import ConsoleServer
from tests.gui.requests_support import SPOT, seed_owner, smtp_settings, text_of

pytestmark = pytest.mark.slow
OWNERS = ("own-a", "own-b", "own-c")


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as s:
        yield s


@pytest.fixture
def server(tmp_path: Path, sink: SmtpSink) -> Iterator[ConsoleServer]:
    port = free_port()  # the e-mails' links must point at this server
    extra = {
        **smtp_settings(sink),
        "portal_base_url": f"http://127.0.0.1:{port}",
        # the vehicle sort runs in this process below: the server's SCHED_IDLE worker gets no
        # CPU at all on a busy test machine
        "vehicle_index": False,
    }
    srv = ConsoleServer(tmp_path, n_registered=20, n_integrated=5, port=port, settings_extra=extra)
    for i, owner in enumerate(OWNERS):
        seed_owner(
            srv,
            owner,
            email_addr=f"{owner}@owners.example",
            lat=SPOT[0] + 0.0003 * (i - 1),
            lon=SPOT[1],
        )
    yield srv
    srv.stop()


def _get(server: ConsoleServer, path: str) -> Any:
    r = requests.get(
        f"{server.base}/api/v1{path}",
        headers={"Authorization": f"Bearer {server.token('ana')}"},
        timeout=15,
    )
    assert r.status_code == 200, r.text
    return r.json()


def _send_request(server: ConsoleServer, key: str = "owner-responder-test") -> str:
    end = datetime.now(UTC) - timedelta(minutes=5)
    r = requests.post(
        f"{server.base}/api/v1/footage-requests",
        headers={"Authorization": f"Bearer {server.token('ana')}"},
        json={
            "client_key": key,
            "case_number": "26-000777",
            "area": {"kind": "circle", "center": {"lat": SPOT[0], "lon": SPOT[1]}, "radius_m": 120},
            "window_start": (end - timedelta(hours=1)).isoformat(),
            "window_end": end.isoformat(),
            "message": "Please share footage",
        },
        timeout=15,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_each_owner_answers_by_the_link_and_the_upload_is_in_the_vault(
    server: ConsoleServer, sink: SmtpSink, tmp_path: Path
) -> None:
    shelf = ClipShelf(tmp_path / "clips").start()
    owners = OwnerResponder(
        sink,
        shelf,
        tmp_path / "owners",
        plan=("upload", "no_footage", "declined"),
        pause_s=(0.1, 0.3),
    )
    owners.start()
    try:
        request_id = _send_request(server)
        assert owners.wait_for(3, timeout=120), (owners.answers, owners.failures)
    finally:
        owners.stop()
        owners.join(timeout=15)
    assert owners.failures == []
    assert sorted(a.kind for a in owners.answers) == ["declined", "no_footage", "upload"]

    # the server saw each answer: one item of each state, the upload with its one file
    request = _get(server, f"/footage-requests/{request_id}")
    by_item = {i["id"]: i for i in request["items"]}
    assert sorted(i["owner_ref"] for i in by_item.values()) == list(OWNERS)
    for answer in owners.answers:
        expected = "uploaded" if answer.kind == "upload" else answer.kind
        assert by_item[answer.item_id]["state"] == expected == answer.state
    upload = next(a for a in owners.answers if a.kind == "upload")
    assert by_item[upload.item_id]["files"] == 1

    # the clip is in the vault with the SHA-256 of the bytes the owner sent
    assert upload.evidence_id and upload.filename and upload.sha256
    sent = (tmp_path / "owners" / upload.item_id / upload.filename).read_bytes()
    assert hashlib.sha256(sent).hexdigest() == upload.sha256
    item = _get(server, f"/evidence/{upload.evidence_id}")
    assert item["sha256"] == upload.sha256 and "26-000777" in item["case_numbers"]
    # recorded inside the requested window (the owner's copy carries its creation time)
    window = item["requested_window"]
    recorded = datetime.fromisoformat(item["media"]["start_time"])
    assert (
        datetime.fromisoformat(window["start"]) <= recorded <= datetime.fromisoformat(window["end"])
    )
    content = requests.get(
        f"{server.base}/api/v1/evidence/{upload.evidence_id}/content",
        headers={"Authorization": f"Bearer {server.token('ana')}"},
        timeout=30,
    )
    assert (
        content.status_code == 200 and hashlib.sha256(content.content).hexdigest() == upload.sha256
    )
    assert content.content != shelf.clips[0].read_bytes()  # the owner's own copy, not the shelf's

    # each link was spent by its answer: "no footage" and "declined" links are gone (410),
    # the upload's link refuses an answer now (409) but may still take more files
    tokens = [t for m in sink.messages for _o, t in links_in(text_of(m.message()))]
    assert len(tokens) == 3
    spent = [
        requests.post(
            f"{server.base}/api/v1/portal/requests/{t}/answer",
            json={"answer": "declined"},
            timeout=15,
        ).status_code
        for t in tokens
    ]
    assert sorted(spent) == [409, 410, 410]

    # the vehicle sort (the server's indexer, run here) finds a vehicle in the street clip
    from rtcc_console.server.vehicle_index import Worker, WorkerConfig

    worker = Worker(WorkerConfig(db_url=server.db_url, vault_dir=str(tmp_path / "vault")))
    try:
        while worker.run_once():
            pass
    finally:
        worker.engine.dispose()
    index = _get(server, f"/evidence/{upload.evidence_id}/vehicles")
    assert index["status"] == "done", index
    assert {"car", "truck"} & {d["label"] for d in index["detections"]}


def test_a_forged_link_is_refused_and_the_owner_goes_on(
    server: ConsoleServer, sink: SmtpSink, tmp_path: Path
) -> None:
    import smtplib
    from email.message import EmailMessage

    forged = "A" * 43
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "x@example.org", "own-a@owners.example", "Footage"
    msg.set_content(
        f"Please answer: {server.base}/portal/requests/{forged}\n"
        f"Not a request link: {server.base}/portal/cameras\n"
    )
    shelf = ClipShelf(tmp_path / "clips")  # never started: no upload may wait on it
    owners = OwnerResponder(sink, shelf, tmp_path / "owners", pause_s=(0.0, 0.0))
    owners.start()
    try:
        with smtplib.SMTP(sink.host, sink.port, timeout=10) as smtp:
            smtp.send_message(msg)
        with owners.answered:
            assert owners.answered.wait_for(lambda: bool(owners.failures), timeout=30)
    finally:
        owners.stop()
        owners.join(timeout=15)
    assert owners.answers == []
    assert len(owners.failures) == 1 and "404" in owners.failures[0]
    assert links_in(text_of(msg)) == [(server.base, forged)]


def test_without_the_real_clips_in_time_owners_upload_colour_bars(
    server: ConsoleServer, sink: SmtpSink, tmp_path: Path
) -> None:
    shelf = ClipShelf(tmp_path / "clips")  # never started: the photographs never come
    owners = OwnerResponder(
        sink, shelf, tmp_path / "owners", plan=("upload",), pause_s=(0.0, 0.1), clip_wait_s=0.2
    )
    owners.start()
    try:
        _send_request(server)
        assert owners.wait_for(3, timeout=60), owners.failures
    finally:
        owners.stop()
        owners.join(timeout=15)
    assert [a.kind for a in owners.answers] == ["upload"] * 3 and owners.failures == []
    assert all(a.filename and a.filename.startswith("bars-") for a in owners.answers)
    assert len({a.sha256 for a in owners.answers}) == 3  # each owner's own bytes
    for answer in owners.answers:
        assert _get(server, f"/evidence/{answer.evidence_id}")["sha256"] == answer.sha256
