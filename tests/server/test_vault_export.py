"""Case export: a BagIt package validated by the bagit library and by `rtcc evidence verify`."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path
from typing import Any

import bagit
import pytest
from fastapi.testclient import TestClient

from rtcc_console.config import ServerSettings
from tests.server.vault_helpers import API, mp4_bytes, sha256, upload_whole

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
CASE = "26-003131"


@pytest.fixture
def settings(settings_factory: Any, tmp_path: Path) -> ServerSettings:
    return settings_factory(vault_dir=tmp_path / "vault")


def _wait(
    client: TestClient, headers: dict[str, str], export_id: str, case: str = CASE
) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        job: dict[str, Any] = client.get(
            f"{API}/cases/{case}/exports/{export_id}", headers=headers
        ).json()
        if job["status"] in ("done", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def _case_with_items(client: TestClient, analyst: dict[str, str]) -> list[str]:
    ids = []
    for seed in (21, 22):
        r = upload_whole(
            client, analyst, mp4_bytes(seed), case_number=CASE, filename=f"cam {seed}.mp4"
        )
        assert r.status_code == 204
        ids.append(r.headers["Upload-Evidence-Id"])
    client.get(f"{API}/evidence/{ids[0]}/content", headers=analyst)  # a view, in the custody CSV
    return ids


@pytest.mark.parametrize("fmt", ["zip", "tar"])
def test_export_is_a_valid_bag_with_custody_audit_and_report(
    client: TestClient, analyst: dict[str, str], tmp_path: Path, fmt: str
) -> None:
    ids = _case_with_items(client, analyst)
    r = client.post(f"{API}/cases/{CASE}/export", headers=analyst, json={"format": fmt})
    assert r.status_code == 202, r.text
    job = _wait(client, analyst, r.json()["id"])
    assert job["status"] == "done" and job["progress"] == 1.0 and job["download_url"]
    archive = tmp_path / f"case.{fmt}"
    archive.write_bytes(
        client.get(
            job["download_url"].removeprefix("/api/v1").join([API, ""]), headers=analyst
        ).content
    )
    out = tmp_path / "unpacked"
    if fmt == "zip":
        zipfile.ZipFile(archive).extractall(out)
    else:
        tarfile.open(archive).extractall(out, filter="data")
    bag_dir = out / f"case-{CASE}"
    bag = bagit.Bag(str(bag_dir))
    bag.validate(processes=1)  # the real validator: manifests, oxum, tag manifests
    assert set(bag.algorithms) == {"sha256", "sha512"}
    manifest = (bag_dir / "manifest-sha256.txt").read_text()
    for seed in (21, 22):
        assert sha256(mp4_bytes(seed)) in manifest
    originals = sorted((bag_dir / "data" / "originals").iterdir())
    assert sorted(p.read_bytes() for p in originals) == sorted(mp4_bytes(s) for s in (21, 22))
    custody = list(csv.DictReader(io.StringIO((bag_dir / "data" / "custody.csv").read_text())))
    assert {c["evidence_id"] for c in custody} == set(ids)
    assert {"received", "attached", "viewed"} <= {c["action"] for c in custody}
    audit = list(csv.DictReader(io.StringIO((bag_dir / "data" / "audit.csv").read_text())))
    assert any(a["action"] == "evidence.received" for a in audit)
    pdf = (bag_dir / "data" / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and sha256(mp4_bytes(21)).encode() in _pdf_text(pdf)
    report = (bag_dir / "data" / "report.html").read_text()
    assert all(sha256(mp4_bytes(s)) in report for s in (21, 22)) and CASE in report
    # exported entries land in each item's custody afterwards
    actions = [
        e["action"]
        for e in client.get(f"{API}/evidence/{ids[1]}/custody", headers=analyst).json()["items"]
    ]
    assert actions[-1] == "exported"
    # the CLI re-checks the archive; a changed byte makes it fail
    ok = subprocess.run(
        [sys.executable, "-m", "rtcc_console.cli", "evidence", "verify", str(archive)],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    victim = originals[0]
    data = bytearray(victim.read_bytes())
    data[1000] ^= 0x01
    victim.write_bytes(bytes(data))
    bad = subprocess.run(
        [sys.executable, "-m", "rtcc_console.cli", "evidence", "verify", str(bag_dir)],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1 and '"valid": false' in bad.stdout
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(bag_dir)).validate(processes=1)


def test_export_errors_and_cancel(client: TestClient, app: Any, analyst: dict[str, str]) -> None:
    assert client.post(f"{API}/cases/NO-SUCH/export", headers=analyst, json={}).status_code == 404
    assert (
        client.post(
            f"{API}/cases/{CASE}/export", headers=analyst, json={"format": "rar"}
        ).status_code
        == 422
    )
    assert client.post(f"{API}/cases/..%2Fetc/export", headers=analyst, json={}).status_code in (
        404,
        422,
    )
    assert client.post(f"{API}/cases/{CASE}/export", json={}).status_code == 401
    _case_with_items(client, analyst)
    from rtcc_console.server.vault.service import vault_of

    vault = vault_of(app.state.rtcc)
    import threading

    gate = threading.Event()
    vault.exporter.submit(gate.wait, 30)  # hold the export worker so the job stays queued
    job = client.post(f"{API}/cases/{CASE}/export", headers=analyst, json={"format": "zip"}).json()
    assert job["status"] == "queued"
    assert (
        client.get(f"{API}/cases/{CASE}/exports/{job['id']}/download", headers=analyst).status_code
        == 409
    )
    cancelled = client.post(
        f"{API}/cases/{CASE}/exports/{job['id']}/cancel", headers=analyst
    ).json()
    assert cancelled["status"] == "cancelled"
    gate.set()
    assert _wait(client, analyst, job["id"])["status"] == "cancelled"
    assert client.get(f"{API}/cases/OTHER/exports/{job['id']}", headers=analyst).status_code == 404
    assert not list(vault.blobs.exports.iterdir())


class _CancelAfter:
    """A cancel flag that turns on after the export reported progress a few times."""

    def __init__(self, calls: int) -> None:
        self.calls = calls

    def is_set(self) -> bool:
        self.calls -= 1
        return self.calls < 0

    def set(self) -> None:
        self.calls = -1


@pytest.mark.parametrize("fmt", ["zip", "tar"])
def test_cancel_while_running_leaves_nothing(
    client: TestClient, app: Any, analyst: dict[str, str], tmp_path: Path, fmt: str
) -> None:
    from rtcc_console.server.audit import Actor
    from rtcc_console.server.vault.export import run_export
    from rtcc_console.server.vault.service import vault_of
    from rtcc_console.sim.vault_media import make_mp4, pad_to
    from rtcc_console.store import evidence as store

    big = pad_to(make_mp4(tmp_path / "big.mp4", seed=5), 40 * 1024 * 1024).read_bytes()
    assert upload_whole(client, analyst, big, parts=4, case_number=CASE).status_code == 204
    vault = vault_of(app.state.rtcc)
    with app.state.rtcc.db.write() as session:
        store.create_export(
            session,
            export_id="exp-cancel",
            case_number=CASE,
            fmt=fmt,
            created_by="ana",
            bytes_total=len(big),
        )
    run_export(vault, export_id="exp-cancel", actor=Actor("ana", "analyst"), cancel=_CancelAfter(2))  # type: ignore[arg-type]
    job = client.get(f"{API}/cases/{CASE}/exports/exp-cancel", headers=analyst).json()
    assert job["status"] == "cancelled" and job["bytes_done"] < len(big)
    assert not list(vault.blobs.exports.iterdir())


def _pdf_text(pdf: bytes) -> bytes:
    """The text drawn in an fpdf2 PDF (its content streams are zlib-compressed)."""
    import re
    import zlib

    out = b""
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out += zlib.decompress(m.group(1))
        except zlib.error:
            out += m.group(1)
    return out
