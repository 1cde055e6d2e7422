"""Issue 13, "Done when", end to end with real parts only: the embedded server (SQLite,
seeded registry) with its vault, a real SMTP server (aiosmtpd) receiving the owner's
e-mail, the owner uploading through ``tuspy`` (cut off halfway and resumed by a second
client), the real console offscreen showing the item live from the event stream and
playing it, a case export validated by the ``bagit`` library, and a stored file changed
behind the vault's back shown as an integrity failure."""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import bagit
import pytest
import requests
from tusclient import client as tus_client

from rtcc_console.sim.clip_file import write_mp4

pytestmark = [pytest.mark.gui, pytest.mark.slow]
PASSWORD = "a-password-of-12+chars"
CENTER = (32.7801, -96.8001)


class Stack:
    def __init__(self, tmp: Path) -> None:
        from rtcc_console.config import ServerSettings
        from rtcc_console.server.embedded import EmbeddedServer
        from rtcc_console.sim.seed import generate_registry, seed_database
        from rtcc_console.sim.smtp_sink import SmtpSink

        self.tmp = tmp
        self.smtp = SmtpSink().start()
        db_url = "sqlite:///" + str(tmp / "s.sqlite")
        seed_database(db_url, generate_registry(seed=1, n_registered=300, n_integrated=60))
        self.vault_dir = tmp / "vault"
        settings = ServerSettings(
            dev_mode=True,
            port=0,
            db_url=db_url,
            vault_dir=self.vault_dir,
            argon2_time_cost=1,
            argon2_memory_kib=8,
            argon2_parallelism=1,
            smtp_host=self.smtp.host,
            smtp_port=self.smtp.port,
            smtp_security="none",
        )
        self.server = EmbeddedServer(settings)
        self.base = self.server.start()
        self.server.ensure_user("ana", "analyst", PASSWORD)
        self.api = f"{self.base}/api/v1"

    def token(self, name: str = "ana") -> str:
        r = requests.post(
            f"{self.api}/auth/login", json={"username": name, "password": PASSWORD}, timeout=10
        )
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    def close(self) -> None:
        self.server.stop()
        self.smtp.stop()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    s = Stack(tmp_path)
    try:
        yield s
    finally:
        s.close()


def _link_token(stack: Stack, timeout_s: float = 20.0) -> str:
    """The single-use link in the first footage-request e-mail the owner received."""
    import time

    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        for received in list(stack.smtp.messages):
            body = received.message().get_body(preferencelist=("plain", "html"))
            text = body.get_content() if body is not None else ""
            m = re.search(r"/portal/requests/([A-Za-z0-9_-]{20,})", text)
            if m:
                return m.group(1)
        time.sleep(0.1)
    raise AssertionError("no footage-request e-mail with a link arrived")


def _cut_patch(url: str, link: str, data: bytes, offset: int, length: int) -> None:
    """A PATCH announcing ``length`` bytes whose connection is closed after half of them."""
    import http.client
    import time
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.putrequest("PATCH", parts.path)
    for key, value in {
        "Tus-Resumable": "1.0.0",
        "Upload-Token": link,
        "Upload-Offset": str(offset),
        "Content-Type": "application/offset+octet-stream",
        "Content-Length": str(length),
    }.items():
        conn.putheader(key, value)
    conn.endheaders()
    conn.send(data[offset : offset + length // 2])
    time.sleep(0.3)  # let the server read what arrived
    assert conn.sock is not None
    conn.sock.close()


@pytest.mark.qt_log_ignore("GPUInfo not initialized")  # QtWebEngine (the map) without a GPU
def test_footage_request_to_verified_export_and_tamper(
    qtbot: Any, stack: Stack, tmp_path: Path
) -> None:
    from rtcc_console.client.api import ApiClient
    from rtcc_console.config import ConsoleSettings
    from rtcc_console.ui.app import build_console
    from rtcc_console.ui.evidence.model import COL_HASH
    from rtcc_console.ui.evidence.tab import EvidenceTab, case_for_incident

    staff = {"Authorization": f"Bearer {stack.token()}"}
    now = datetime.now(UTC)
    call = requests.post(
        f"{stack.api}/calls",
        headers=staff,
        timeout=10,
        json={
            "format": "simple",
            "incident_id": "DPD-E2E-0001",
            "type_code": "BURG",
            "type_text": "Burglary",
            "priority": 2,
            "status": "pending",
            "lat": CENTER[0],
            "lon": CENTER[1],
            "address": "1200 Elm St, Dallas, TX",
            "reported_at": now.isoformat(),
            "updated_at": now.isoformat(),
        },
    ).json()["call"]
    case = case_for_incident(call["incident_id"])

    # -- the console, signed in, with the call selected -----------------------------------
    api = ApiClient(stack.base)
    user = api.login("ana", PASSWORD)
    settings = ConsoleSettings(server_url=stack.base, cache_dir=tmp_path / "cache", time_zone="UTC")
    window = build_console(settings, api, user=user, settings_file=tmp_path / "console.ini")
    qtbot.addWidget(window)
    window.show()
    tab = window.evidence_panel
    assert isinstance(tab, EvidenceTab)
    qtbot.waitUntil(lambda: window.call_queue.model.call(call["id"]) is not None, timeout=20_000)
    with qtbot.waitSignal(tab.items_loaded, timeout=10_000):
        window.call_queue.select_call(call["id"])
    assert tab.case_number == case and tab.model.rowCount() == 0

    # -- a footage request: the owners inside get an e-mail with a single-use link ---------
    r = requests.post(
        f"{stack.api}/footage-requests",
        headers=staff,
        timeout=20,
        json={
            "client_key": "e2e-evidence-0001",
            "case_number": case,
            "offence_category": "burglary",
            "call_id": call["id"],
            "area": {
                "kind": "circle",
                "center": {"lat": CENTER[0], "lon": CENTER[1]},
                "radius_m": 400,
            },
            "window_start": (now - timedelta(hours=1)).isoformat(),
            "window_end": now.isoformat(),
            "message": "Please send video of Elm St between these times.",
        },
    )
    assert r.status_code == 201, r.text
    link = _link_token(stack)

    # -- the owner uploads with tuspy; the connection dies halfway; a second client resumes -
    # the camera's clock runs 90 s fast: it stamps the recording's start 90 s late
    true_start = (now - timedelta(minutes=30)).replace(microsecond=0)
    clip = write_mp4(
        tmp_path / "porch.mp4",
        seconds=8.0,
        fps=15,
        size=(640, 360),
        gop=15,
        cache_dir=tmp_path,
        start_time=true_start + timedelta(seconds=90),
    )
    size = clip.stat().st_size
    meta = {"request_token": link, "filename": clip.name, "clock_offset_s": "90"}
    first = tus_client.TusClient(f"{stack.api}/uploads", headers={"Upload-Token": link})
    up = first.uploader(file_path=str(clip), chunk_size=size // 3, metadata=meta, retries=0)
    up.upload(stop_at=size // 3)  # one third, then "the browser closes"
    url = up.url
    assert url and 0 < up.offset < size
    # the next PATCH dies halfway through its body: the connection drops mid-transfer
    _cut_patch(url, link, clip.read_bytes(), up.offset, size // 3)
    second = tus_client.TusClient(f"{stack.api}/uploads", headers={"Upload-Token": link})
    # while the server still finishes the cut request it answers 423 (locked); tuspy
    # retries after a pause, asking the offset again, as a browser client would
    resumed = second.uploader(
        file_path=str(clip),
        url=url,
        chunk_size=size // 3 + 1,
        metadata=meta,
        retries=20,
        retry_delay=0.25,
    )
    assert up.offset <= resumed.offset < size  # HEAD told the second client where to go on
    with qtbot.waitSignal(tab.item_changed, timeout=20_000) as live:  # arrives over SSE
        resumed.upload()
    headers = resumed.request.response_headers
    evidence_id = headers["upload-evidence-id"]
    assert headers["upload-sha256"] == hashlib.sha256(clip.read_bytes()).hexdigest()  # byte-exact
    assert live.args == [evidence_id]

    # -- the Evidence tab shows it: owner kind only, corrected clock, hash state -------------
    item = tab.model.items[tab.model.row_of(evidence_id)]
    assert item.owner_kind in ("residential", "business", "school", "public")
    assert item.clock_offset_s == 90.0 and item.integrity in ("ok", "unverified")
    assert item.media.duration_s == pytest.approx(8.0, abs=0.1)
    assert case in item.case_numbers

    # -- the player opens it ---------------------------------------------------------------
    with qtbot.waitSignal(tab.player.opened, timeout=20_000):
        tab.select_evidence(evidence_id)
    qtbot.waitUntil(lambda: tab.player.shown_index == 0, timeout=10_000)
    tab.player.step(1)
    qtbot.waitUntil(lambda: tab.player.shown_index == 1, timeout=5000)
    assert tab.player.player.info.frame_count == 120
    shown = true_start + timedelta(seconds=1 / 15)  # frame 1, corrected by the stated offset
    assert f"Recorded {shown:%Y-%m-%d %H:%M:%S}.066 UTC" in tab.player.time_label.text()
    assert "camera clock +90 s off, corrected" in tab.player.time_label.text()
    # a snapshot of the shown frame goes into the vault as a new item derived from it
    with qtbot.waitSignal(tab.player.snapshot_taken, timeout=20_000) as snap:
        tab.player.snapshot_button.click()
    assert snap.args[0].kind == "image" and snap.args[0].derived_from == evidence_id

    # -- the wall's "Save last 30 s" clip enters the vault in the call's case --------------
    wall_clip = write_mp4(
        tmp_path / "cam-000031_20261129T180501Z.mp4",
        name="Wall",
        index=31,
        seconds=2.0,
        size=(320, 180),
        cache_dir=tmp_path,
    )
    before = {i.id for i in tab.model.items}
    window.wall.evidence_saved.emit(str(wall_clip), "", "cam-000031")  # as wall_io does
    qtbot.waitUntil(lambda: len(window.evidence.wall_bridge.sent) == 1, timeout=20_000)
    wall_id = window.evidence.wall_bridge.sent[0]
    qtbot.waitUntil(lambda: tab.model.row_of(wall_id) is not None, timeout=20_000)  # live, over SSE
    wall_item = tab.model.items[tab.model.row_of(wall_id)]
    assert wall_id not in before and wall_item.camera_id == "cam-000031"
    assert case in wall_item.case_numbers and wall_item.call_id == call["id"]
    # and so does a wall snapshot (a PNG)
    from PySide6.QtGui import QColor, QImage

    still = QImage(320, 180, QImage.Format.Format_RGB32)
    still.fill(QColor("#336699"))
    png = tmp_path / "cam-000031_20261129T180502_000000Z.png"
    assert still.save(str(png))
    window.wall.evidence_saved.emit(str(png), "", "cam-000031")
    qtbot.waitUntil(lambda: len(window.evidence.wall_bridge.sent) == 2, timeout=20_000)
    still_id = window.evidence.wall_bridge.sent[1]
    qtbot.waitUntil(lambda: tab.model.row_of(still_id) is not None, timeout=20_000)
    assert tab.model.items[tab.model.row_of(still_id)].kind == "image"

    # -- case export, validated by bagit ------------------------------------------------------
    dest = tmp_path / f"case-{case}.zip"
    dialog = tab.export_case(dest)
    with qtbot.waitSignal(dialog.finished_export, timeout=60_000):
        pass
    assert dialog.bar.value() == 1000
    with zipfile.ZipFile(dest) as z:
        z.extractall(tmp_path / "unzipped")
    bag_dir = next(p for p in (tmp_path / "unzipped").iterdir() if (p / "bagit.txt").exists())
    bag = bagit.Bag(str(bag_dir))
    bag.validate()  # raises BagValidationError on any wrong hash or missing file
    assert "sha256" in bag.algorithms and "sha512" in bag.algorithms
    originals = sorted(p for p in bag.payload_files() if p.startswith("data/originals/"))
    payload = {(bag_dir / p).read_bytes() for p in originals}
    assert clip.read_bytes() in payload and wall_clip.read_bytes() in payload
    dialog.close()
    # the chain of custody names what happened to the owner's upload, in order
    tab.select_evidence(evidence_id)
    with qtbot.waitSignal(tab.custody_shown, timeout=10_000) as shown:
        tab.custody_button.click()
    actions = shown.args[0].custody_actions()
    assert actions[0] == "received"
    for later in ("played", "snapshot", "exported"):
        assert later in actions, actions
    assert actions.index("played") < actions.index("exported")
    shown.args[0].close()

    # -- a stored original changed on disk: detected and shown --------------------------------
    stored = [
        p
        for p in stack.vault_dir.rglob("*")
        if p.is_file() and item.sha256 in p.name and not p.name.endswith((".jpg", ".json"))
    ]
    assert stored, "the original is stored under its SHA-256"
    blob = stored[0]
    blob.chmod(0o644)
    raw = bytearray(blob.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    blob.write_bytes(bytes(raw))
    with qtbot.waitSignal(tab.integrity_failed, timeout=20_000) as failed:
        tab.verify_selected()
    assert failed.args == [evidence_id]
    row = tab.model.row_of(evidence_id)
    assert tab.model.display(tab.model.items[row], COL_HASH) == "✖ INTEGRITY FAILURE"
    assert tab.alert.isVisible()
    # and the vault no longer serves it
    r = requests.get(f"{stack.api}/evidence/{evidence_id}/content", headers=staff, timeout=30)
    assert r.status_code == 409
    # sign-out: the tab forgets everything and the local copies are removed
    cache = window.evidence.evidence.cache_dir
    assert cache.exists()
    window.sign_out_requested.emit()
    assert tab.model.rowCount() == 0 and not cache.exists()
    window.close()
