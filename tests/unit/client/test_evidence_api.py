"""EvidenceApi against a stand-in vault over real loopback HTTP."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rtcc_console.client.api import ApiClient
from rtcc_console.client.evidence_api import EvidenceApi, IntegrityFailure, TransferCancelled
from rtcc_console.client.evidence_models import evidence_from_json
from tests.unit.client.fake_vault import FakeVault

DATA = bytes(range(256)) * 20_000  # 5 MB: several 1 MiB pieces


@pytest.fixture
def vault() -> Iterator[FakeVault]:
    v = FakeVault()
    yield v
    v.close()


@pytest.fixture
def ev(vault: FakeVault, tmp_path: Path) -> EvidenceApi:
    api = ApiClient(vault.base)
    api._token = "t"  # signed in (the stand-in checks only that a bearer is sent)
    return EvidenceApi(api, tmp_path / "cache")


def test_parsing_keeps_no_owner_identity_and_corrects_the_clock() -> None:
    raw = {
        "id": "ev-1",
        "sha256": "ab" * 32,
        "size": 10,
        "filename": "a.mp4",
        "integrity": "weird",
        "owner_kind": "business",
        "owner_name": "Jane Roe",
        "clock_offset_s": 90.0,
        "media": {"start_time": "2026-11-29T03:00:00Z", "duration_s": 30},
    }
    item = evidence_from_json(raw)
    assert item.integrity == "unverified"  # unknown states never pass for "ok"
    assert "Jane" not in repr(item)
    assert item.owner_kind == "business"
    # camera clock 90 s fast: the picture stamped 03:00:00 was taken at 02:58:30 true time
    assert item.true_start == datetime(2026, 11, 29, 2, 58, 30, tzinfo=UTC)
    assert item.recorded_at(2.5) == datetime(2026, 11, 29, 2, 58, 32, 500000, tzinfo=UTC)


def test_list_filters_by_call_and_case(vault: FakeVault, ev: EvidenceApi) -> None:
    vault.add("ev-1", b"x", call_id="call-1")
    vault.add("ev-2", b"y", call_id="call-2", case_numbers=["26-9"])
    assert [i.id for i in ev.list_items(call_id="call-2")] == ["ev-2"]
    assert [i.id for i in ev.list_items(case_number="26-9")] == ["ev-2"]
    assert ev.thumbnail("ev-1") is None  # 404 -> no thumbnail


def test_download_streams_verifies_and_caches(vault: FakeVault, ev: EvidenceApi) -> None:
    item = evidence_from_json(vault.add("ev-1", DATA))
    seen: list[int] = []
    path = ev.fetch_content(item, progress=lambda done, total: seen.append(done))
    assert path.read_bytes() == DATA
    assert seen[-1] == len(DATA) and len(seen) >= 4 and seen == sorted(seen)
    before = len(vault.requests)
    assert ev.fetch_content(item) == path
    # a cached open still asks the vault for the first byte: audited and re-verified there
    method, route, headers = vault.requests[before]
    assert route.endswith("/evidence/ev-1/content") and headers.get("Range") == "bytes=0-0"


def test_download_resumes_a_partial_file(vault: FakeVault, ev: EvidenceApi) -> None:
    item = evidence_from_json(vault.add("ev-1", DATA))
    dest = ev.cached_path(item)
    dest.parent.mkdir(parents=True)
    dest.with_name(dest.name + ".part").write_bytes(DATA[:1_000_000])
    path = ev.fetch_content(item)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == item.sha256
    assert vault.requests[-1][2].get("Range") == "bytes=1000000-"


def test_bytes_that_do_not_match_the_hash_are_never_kept(vault: FakeVault, ev: EvidenceApi) -> None:
    item = evidence_from_json(vault.add("ev-1", DATA))
    vault.blobs["ev-1"] = DATA[:-1] + b"\x00"  # changed on the way
    with pytest.raises(IntegrityFailure):
        ev.fetch_content(item)
    assert not ev.cached_path(item).exists()
    assert not list(ev.cache_dir.rglob("*.part"))


def test_vault_integrity_failure_is_its_own_error(vault: FakeVault, ev: EvidenceApi) -> None:
    item = evidence_from_json(vault.add("ev-1", DATA))
    vault.failed.add("ev-1")
    with pytest.raises(IntegrityFailure, match="integrity failure"):
        ev.fetch_content(item)


def test_download_cancel_leaves_a_resumable_part(vault: FakeVault, ev: EvidenceApi) -> None:
    item = evidence_from_json(vault.add("ev-1", DATA))
    calls = iter(range(100))
    with pytest.raises(TransferCancelled):
        ev.fetch_content(item, cancelled=lambda: next(calls) >= 2)
    assert not ev.cached_path(item).exists()


def test_export_progress_download_and_cancel(
    vault: FakeVault, ev: EvidenceApi, tmp_path: Path
) -> None:
    vault.export_blob = b"PK" + DATA
    vault.export_steps = [0.25, 0.5, 1.0]
    job = ev.start_export("26-000001")
    updates: list[float] = []
    job = ev.wait_export(job, on_update=lambda j: updates.append(j.progress), poll_s=0.01)
    assert job.status == "done" and updates == [0.25, 0.5, 1.0]
    got: list[tuple[int, int]] = []
    out = ev.download_export(job, tmp_path / "case.zip", progress=lambda d, t: got.append((d, t)))
    assert out.read_bytes() == vault.export_blob
    assert got[-1] == (len(vault.export_blob), len(vault.export_blob))

    vault.export_steps = [0.1, 0.2]
    job = ev.start_export("26-000001")
    polls = iter(range(100))
    with pytest.raises(TransferCancelled):
        ev.wait_export(job, cancelled=lambda: next(polls) >= 1, poll_s=0.01)
    assert vault.export is not None and vault.export["status"] == "cancelled"
    assert any(r[1].endswith("/exports/exp-1/cancel") for r in vault.requests)


def test_export_download_with_wrong_hash_is_discarded(
    vault: FakeVault, ev: EvidenceApi, tmp_path: Path
) -> None:
    vault.export_blob = b"PK-package"
    vault.export_steps = [1.0]
    job = ev.wait_export(ev.start_export("26-000001"), poll_s=0.01)
    vault.export_blob = b"PK-other"
    with pytest.raises(IntegrityFailure):
        ev.download_export(job, tmp_path / "case.zip")
    assert not (tmp_path / "case.zip").exists() and not (tmp_path / "case.zip.part").exists()


def test_snapshot_asks_the_vault(vault: FakeVault, ev: EvidenceApi) -> None:
    vault.add("ev-1", DATA)
    snap = ev.snapshot("ev-1", 1.4, "26-000001")
    assert snap.kind == "image" and snap.derived_from == "ev-1"
    assert vault.snapshots == [{"evidence_id": "ev-1", "at_s": 1.4, "case_number": "26-000001"}]


def test_export_download_cancelled_leaves_nothing(
    vault: FakeVault, ev: EvidenceApi, tmp_path: Path
) -> None:
    vault.export_blob = b"PK" + DATA
    vault.export_steps = [1.0]
    job = ev.wait_export(ev.start_export("26-000001"), poll_s=0.01)
    blocks = iter(range(100))
    with pytest.raises(TransferCancelled):
        ev.download_export(job, tmp_path / "case.zip", cancelled=lambda: next(blocks) >= 2)
    assert not (tmp_path / "case.zip").exists() and not (tmp_path / "case.zip.part").exists()
