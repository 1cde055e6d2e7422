"""EvidenceApi against the real embedded server and vault: a staff upload through tus
(tuspy) with progress, a cancelled one that leaves nothing behind, a form upload, the
list/attach/verify/custody calls, and a download that refuses a tampered original."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from rtcc_console.client.api import ApiClient
from rtcc_console.client.evidence_api import EvidenceApi, IntegrityFailure, TransferCancelled
from rtcc_console.sim.clip_file import write_mp4

PASSWORD = "a-password-of-12+chars"


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[tuple[EvidenceApi, Path]]:
    from rtcc_console.config import ServerSettings
    from rtcc_console.server.embedded import EmbeddedServer

    settings = ServerSettings(
        dev_mode=True,
        port=0,
        db_url="sqlite:///" + str(tmp_path / "s.sqlite"),
        vault_dir=tmp_path / "vault",
        argon2_time_cost=1,
        argon2_memory_kib=8,
        argon2_parallelism=1,
    )
    server = EmbeddedServer(settings)
    base = server.start()
    server.ensure_user("ana", "analyst", PASSWORD)
    api = ApiClient(base)
    api.login("ana", PASSWORD)
    try:
        yield EvidenceApi(api, tmp_path / "cache"), tmp_path / "vault"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("clientclip")
    return write_mp4(tmp / "front.mp4", seconds=6.0, fps=15, size=(640, 360), gop=15, cache_dir=tmp)


def test_tus_upload_with_progress_then_read_back(
    vault: tuple[EvidenceApi, Path], clip: Path
) -> None:
    ev, _ = vault
    seen: list[int] = []
    evidence_id, sha = ev.tus_upload(
        clip,
        case_number="26-100",
        camera_id="cam-000001",
        clock_offset_s=-12.5,
        chunk_size=256 * 1024,
        progress=lambda done, total: seen.append(done),
    )
    data = clip.read_bytes()
    assert sha == hashlib.sha256(data).hexdigest()
    assert seen[-1] == len(data) and len(seen) >= 3 and seen == sorted(seen)
    [item] = ev.list_items(case_number="26-100")
    assert (
        item.id == evidence_id and item.clock_offset_s == -12.5 and item.camera_id == "cam-000001"
    )
    assert item.media.duration_s == pytest.approx(6.0, abs=0.1)
    path = ev.fetch_content(item)
    assert path.read_bytes() == data
    attached = ev.attach(evidence_id, "26-200")
    assert set(attached.case_numbers) == {"26-100", "26-200"}
    assert ev.verify(evidence_id)["integrity"] == "ok"
    actions = [e["action"] for e in ev.custody(evidence_id)]
    assert actions[0] == "received" and "played" in actions and "attached" in actions


def test_cancelled_tus_upload_is_terminated(vault: tuple[EvidenceApi, Path], clip: Path) -> None:
    ev, _ = vault
    chunks = iter(range(100))
    with pytest.raises(TransferCancelled):
        ev.tus_upload(
            clip, case_number="26-100", chunk_size=128 * 1024, cancelled=lambda: next(chunks) >= 1
        )
    assert ev.list_items(case_number="26-100") == []


def test_form_upload_and_a_tampered_original_is_refused(
    vault: tuple[EvidenceApi, Path], clip: Path
) -> None:
    ev, vault_dir = vault
    receipt = ev.form_upload(clip, case_number="26-300", call_id=None, camera_id="cam-000002")
    item = ev.get(receipt["evidence_id"])
    assert item.sha256 == hashlib.sha256(clip.read_bytes()).hexdigest()
    blob = next(
        p
        for p in vault_dir.rglob(f"*{item.sha256}*")
        if p.is_file() and p.suffix not in (".jpg", ".json")
    )
    blob.chmod(0o644)
    raw = bytearray(blob.read_bytes())
    raw[100] ^= 0x01
    blob.write_bytes(bytes(raw))
    with pytest.raises(IntegrityFailure):
        ev.fetch_content(item)
    assert not ev.cached_path(item).exists()
    assert ev.get(item.id).integrity == "failed"


def test_another_analyst_cannot_reach_without_a_token(
    vault: tuple[EvidenceApi, Path], clip: Path
) -> None:
    ev, _ = vault
    evidence_id, _ = ev.tus_upload(clip, case_number="26-400")
    r = requests.get(ev.api.url(f"/evidence/{evidence_id}/content"), timeout=10)
    assert r.status_code == 401
