"""Evidence reads (verified, ranged, audited), tamper detection, custody, attach, snapshots,
form uploads, disk full, retention."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rtcc_console.config import ServerSettings
from rtcc_console.store.schema import AuditEventRow, EvidenceItemRow
from tests.server.conftest import count_rows, events_of
from tests.server.vault_helpers import (
    API,
    TUS,
    mp4_bytes,
    sha256,
    tus_create,
    tus_patch,
    upload_whole,
)


@pytest.fixture
def settings(settings_factory: Any, tmp_path: Path) -> ServerSettings:
    return settings_factory(
        vault_dir=tmp_path / "vault", vault_max_file_bytes=8_000_000, vault_form_max_bytes=1_000_000
    )


def _upload(
    client: TestClient, headers: dict[str, str], seed: int, case: str = "26-000500", **meta: Any
) -> str:
    r = upload_whole(client, headers, mp4_bytes(seed), case_number=case, **meta)
    assert r.status_code == 204, r.text
    return str(r.headers["Upload-Evidence-Id"])


def _stored(app: Any, digest: str) -> Path:
    return Path(app.state.rtcc.settings.vault_dir) / "objects" / digest[:2] / digest[2:4] / digest


def test_content_is_verified_ranged_and_audited(
    client: TestClient, app: Any, analyst: dict[str, str]
) -> None:
    evidence_id = _upload(client, analyst, 5, call_id="call-1")
    data = mp4_bytes(5)
    full = client.get(
        f"{API}/evidence/{evidence_id}/content", headers=analyst, params={"purpose": "play"}
    )
    assert (
        full.status_code == 200
        and full.content == data
        and full.headers["etag"] == f'"{sha256(data)}"'
    )
    part = client.get(
        f"{API}/evidence/{evidence_id}/content", headers={**analyst, "Range": "bytes=100-199"}
    )
    assert part.status_code == 206 and part.content == data[100:200]
    bad = client.get(
        f"{API}/evidence/{evidence_id}/content",
        headers={**analyst, "Range": f"bytes={len(data) + 10}-"},
    )
    assert bad.status_code == 416
    actions = [
        e["action"]
        for e in client.get(f"{API}/evidence/{evidence_id}/custody", headers=analyst).json()[
            "items"
        ]
    ]
    assert actions == [
        "received",
        "attached",
        "played",
    ]  # the follow-on range read is not re-audited
    body = client.get(f"{API}/evidence/{evidence_id}/custody", headers=analyst).json()
    assert body["chain_ok"] is True and body["items"][2]["case_number"] == "26-000500"
    thumb = client.get(f"{API}/evidence/{evidence_id}/thumbnail", headers=analyst)
    assert thumb.status_code == 200 and thumb.content[:3] == b"\xff\xd8\xff"
    assert client.get(f"{API}/evidence/{evidence_id}/content", headers={}).status_code == 401
    assert client.get(f"{API}/evidence/ev-nope/content", headers=analyst).status_code == 404
    listing = client.get(f"{API}/evidence", headers=analyst, params={"call_id": "call-1"}).json()
    assert listing["total"] == 1 and listing["items"][0]["id"] == evidence_id


def test_tampered_original_is_never_served(
    client: TestClient, app: Any, analyst: dict[str, str]
) -> None:
    evidence_id = _upload(client, analyst, 6)
    data = mp4_bytes(6)
    assert client.get(f"{API}/evidence/{evidence_id}/content", headers=analyst).status_code == 200
    stored = _stored(app, sha256(data))
    st = stored.stat()
    os.chmod(stored, 0o644)
    with stored.open("r+b") as f:  # one byte changed, size and mtime put back
        f.seek(500)
        byte = f.read(1)
        f.seek(500)
        f.write(bytes([byte[0] ^ 0xFF]))
    os.utime(stored, ns=(st.st_atime_ns, st.st_mtime_ns))
    # even a follow-on range read (inside the verification cache window) is re-checked
    r = client.get(
        f"{API}/evidence/{evidence_id}/content", headers={**analyst, "Range": "bytes=1000-"}
    )
    assert r.status_code == 409 and "integrity" in r.json()["detail"]
    assert client.get(f"{API}/evidence/{evidence_id}/content", headers=analyst).status_code == 409
    item = client.get(f"{API}/evidence/{evidence_id}", headers=analyst).json()
    assert item["integrity"] == "failed"
    verify = client.post(f"{API}/evidence/{evidence_id}/verify", headers=analyst).json()
    assert verify["integrity"] == "failed" and verify["sha256_actual"] != verify["sha256_expected"]
    custody = [
        e["action"]
        for e in client.get(f"{API}/evidence/{evidence_id}/custody", headers=analyst).json()[
            "items"
        ]
    ]
    assert "integrity_failed" in custody
    assert events_of(app, "evidence.integrity_failed")
    with app.state.rtcc.db.read() as session:
        from sqlalchemy import select

        actions = session.scalars(select(AuditEventRow.action)).all()
    assert "evidence.integrity_failed" in actions
    export = client.post(
        f"{API}/cases/26-000500/export", headers=analyst, json={"format": "zip"}
    ).json()
    job = _wait_export(client, analyst, "26-000500", export["id"])
    assert job["status"] == "failed" and "integrity" in job["error"]


def _wait_export(
    client: TestClient, headers: dict[str, str], case: str, export_id: str
) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + 60
    while True:
        job: dict[str, Any] = client.get(
            f"{API}/cases/{case}/exports/{export_id}", headers=headers
        ).json()
        if job["status"] in ("done", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def test_attach_and_snapshot_are_audited(
    client: TestClient, app: Any, analyst: dict[str, str]
) -> None:
    evidence_id = _upload(client, analyst, 7)
    r = client.post(
        f"{API}/evidence/{evidence_id}/attach", headers=analyst, json={"case_number": "26-777"}
    )
    assert r.status_code == 200 and r.json()["case_numbers"] == ["26-000500", "26-777"]
    for bad in (
        {"case_number": "../x"},
        {"case_number": ""},
        {"case_number": "a" * 65},
        {"case": "x"},
    ):
        assert (
            client.post(
                f"{API}/evidence/{evidence_id}/attach", headers=analyst, json=bad
            ).status_code
            == 422
        ), bad
    lone = client.post(
        f"{API}/evidence/{evidence_id}/attach",
        content=b'{"case_number": "\\ud800"}',
        headers={**analyst, "Content-Type": "application/json"},
    )
    assert lone.status_code == 422
    snap = client.post(
        f"{API}/evidence/snapshots", headers=analyst, json={"evidence_id": evidence_id, "at_s": 1.0}
    )
    assert snap.status_code == 201, snap.text
    body = snap.json()
    assert (
        body["kind"] == "image"
        and body["derived_from"] == evidence_id
        and body["content_type"] == "image/png"
    )
    png = client.get(f"{API}/evidence/{body['id']}/content", headers=analyst).content
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and hashlib.sha256(png).hexdigest() == body["sha256"]
    source_custody = [
        e["action"]
        for e in client.get(f"{API}/evidence/{evidence_id}/custody", headers=analyst).json()[
            "items"
        ]
    ]
    assert source_custody[-1] == "snapshot"
    assert (
        client.post(
            f"{API}/evidence/snapshots",
            headers=analyst,
            json={"evidence_id": evidence_id, "at_s": 999},
        ).status_code
        == 422
    )
    assert (
        client.post(
            f"{API}/evidence/snapshots", headers=analyst, json={"evidence_id": "ev-x", "at_s": 1}
        ).status_code
        == 404
    )


def test_form_upload_small_file_and_refusals(
    client: TestClient, app: Any, analyst: dict[str, str]
) -> None:
    data = mp4_bytes(8)
    r = client.post(
        f"{API}/evidence/form-upload",
        headers=analyst,
        data={"case_number": "26-1", "call_id": "call-2"},
        files={"file": ("wall-clip.mp4", data, "video/mp4")},
    )
    assert r.status_code == 201, r.text
    assert r.json()["sha256"] == sha256(data) and r.json()["filename"] == "wall-clip.mp4"
    odd = client.post(
        f"{API}/evidence/form-upload",
        headers=analyst,
        data={"case_number": "26-1"},
        files={"file": ("../../etc/snap.png", _png(), "image/png")},
    )
    assert (
        odd.status_code == 201 and odd.json()["filename"] == ".._.._etc_snap.png"
    )  # staff stills are accepted
    assert (
        client.post(
            f"{API}/evidence/form-upload",
            data={"case_number": "26-1"},
            files={"file": ("a.mp4", data, "video/mp4")},
        ).status_code
        == 401
    )
    assert (
        client.post(
            f"{API}/evidence/form-upload",
            headers=analyst,
            data={"case_number": "26-1"},
            files={"file": ("a.mp4", b"\0" * 1_100_000, "video/mp4")},
        ).status_code
        == 413
    )
    assert (
        client.post(
            f"{API}/evidence/form-upload",
            headers=analyst,
            data={},
            files={"file": ("a.mp4", data, "video/mp4")},
        ).status_code
        == 422
    )
    assert (
        client.post(
            f"{API}/evidence/form-upload",
            headers=analyst,
            data={"case_number": "26-1"},
            files={"file": ("a.mp4", b"plain text", "video/mp4")},
        ).status_code
        == 422
    )
    assert client.post(
        f"{API}/evidence/form-upload",
        headers={**analyst, "Content-Type": "multipart/form-data; boundary=zz"},
        content=b"--zz\r\nnonsense",
    ).status_code in (400, 422)
    assert count_rows(app, EvidenceItemRow) == 2


def _png() -> bytes:
    import tempfile

    from rtcc_console.server.vault.probe import frame_png
    from rtcc_console.sim.vault_media import make_mp4

    with tempfile.TemporaryDirectory() as d:
        return frame_png(make_mp4(Path(d) / "a.mp4"), 0.5)[0]


def test_retention_purge_skips_items_on_a_case(
    client: TestClient, app: Any, analyst: dict[str, str]
) -> None:
    from rtcc_console.core.models import utcnow
    from rtcc_console.server.vault.housekeeping import purge_retention
    from rtcc_console.server.vault.service import vault_of
    from rtcc_console.store import evidence as store

    on_case = _upload(client, analyst, 9)
    loose = _upload(client, analyst, 10)
    with (
        app.state.rtcc.db.write() as session
    ):  # an item that lost its case link (e.g. a snapshot of nothing)
        from sqlalchemy import delete

        from rtcc_console.store.schema import EvidenceCaseRow

        session.execute(delete(EvidenceCaseRow).where(EvidenceCaseRow.evidence_id == loose))
    vault = vault_of(app.state.rtcc)
    assert purge_retention(vault, now=utcnow() + timedelta(days=300)) == []
    assert purge_retention(vault, now=utcnow() + timedelta(days=400)) == [loose]
    assert (
        not _stored(app, sha256(mp4_bytes(10))).exists()
        and _stored(app, sha256(mp4_bytes(9))).exists()
    )
    assert client.get(f"{API}/evidence/{loose}", headers=analyst).status_code == 404
    assert client.get(f"{API}/evidence/{on_case}", headers=analyst).status_code == 200
    with app.state.rtcc.db.read() as session:
        assert [c.action for c in store.list_custody(session, evidence_ids=[loose])][-1] == "purged"


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.fail(f"cannot mount a 2 MB tmpfs (root needed): {done.stderr.decode()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_disk_full_during_upload_is_a_clear_error_and_no_item(
    settings_factory: Any, tiny_disk: Path
) -> None:
    from rtcc_console.core.models import Role
    from rtcc_console.server.app import create_app
    from tests.server.conftest import add_user, login

    app = create_app(settings_factory(vault_dir=tiny_disk / "vault"))
    with TestClient(app) as client:
        add_user(app, "ana", Role.ANALYST)
        analyst = login(client, "ana")
        data = mp4_bytes(12) + os.urandom(3_000_000)
        loc = tus_create(client, analyst, len(data), case_number="26-1").headers["Location"]
        assert tus_patch(client, loc, analyst, 0, data[:500_000]).status_code == 204
        r = tus_patch(client, loc, analyst, 500_000, data[500_000:])
        assert r.status_code == 507 and "full" in r.json()["detail"]
        assert (
            client.head(loc, headers={**analyst, **TUS}).headers["Upload-Offset"] == "500000"
        )  # rolled back to the last good offset
        assert count_rows(app, EvidenceItemRow) == 0
        assert not list((tiny_disk / "vault" / "objects").rglob("*"))


def test_browser_copy_is_a_verified_working_copy_beside_the_original(
    client: TestClient, app: Any, analyst: dict[str, str]
) -> None:
    import time

    evidence_id = _upload(client, analyst, 13)
    deadline = time.monotonic() + 30
    while not client.get(f"{API}/evidence/{evidence_id}", headers=analyst).json()[
        "has_browser_copy"
    ]:
        assert time.monotonic() < deadline, "no browser copy was made"
        time.sleep(0.05)
    copy = client.get(
        f"{API}/evidence/{evidence_id}/content", headers=analyst, params={"variant": "browser"}
    )
    assert copy.status_code == 200 and copy.headers["content-type"] == "video/mp4"
    assert (
        copy.content[4:8] == b"ftyp" and b"moov" in copy.content[:4096]
    )  # fast start: index first
    assert _stored(app, sha256(mp4_bytes(13))).read_bytes() == mp4_bytes(
        13
    )  # the original is untouched
    derived = Path(app.state.rtcc.settings.vault_dir) / "derived" / sha256(mp4_bytes(13))
    assert (derived / "browser.mp4").exists() and (derived / "thumb.jpg").exists()
