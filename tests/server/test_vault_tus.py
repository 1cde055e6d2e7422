"""tus 1.0 at /uploads (raw protocol through the app): creation, resume, lies, limits, auth."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rtcc_console.config import ServerSettings
from rtcc_console.store.schema import EvidenceItemRow, VaultUploadRow
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
    return settings_factory(vault_dir=tmp_path / "vault", vault_max_file_bytes=2_000_000)


def test_options_advertises_protocol(client: TestClient) -> None:
    r = client.options(f"{API}/uploads")
    assert r.status_code == 204
    assert r.headers["Tus-Version"] == "1.0.0"
    assert set(r.headers["Tus-Extension"].split(",")) >= {
        "creation",
        "termination",
        "expiration",
        "checksum",
    }
    assert r.headers["Tus-Max-Size"] == "2000000"


def test_staff_upload_in_two_patches_registers_hashes_and_event(
    client: TestClient, app: Any, analyst: dict[str, str]
) -> None:
    data = mp4_bytes(1)
    r = tus_create(
        client,
        analyst,
        len(data),
        case_number="26-000101",
        filename="front.mp4",
        camera_id="cam-1",
        clock_offset_s="-3.5",
        call_id="call-9",
    )
    assert r.status_code == 201 and r.headers["Tus-Resumable"] == "1.0.0"
    loc = r.headers["Location"]
    assert r.headers["Upload-Expires"]
    half = len(data) // 2
    assert tus_patch(client, loc, analyst, 0, data[:half]).status_code == 204
    head = client.head(loc, headers={**analyst, **TUS})
    assert head.status_code == 200 and head.headers["Upload-Offset"] == str(half)
    assert head.headers["Upload-Length"] == str(len(data))
    done = tus_patch(client, loc, analyst, half, data[half:])
    assert done.status_code == 204, done.text
    assert done.headers["Upload-Offset"] == str(len(data))
    assert done.headers["Upload-Sha256"] == sha256(data)
    evidence_id = done.headers["Upload-Evidence-Id"]
    receipt = client.get(f"{loc}/receipt", headers=analyst).json()
    assert (
        receipt["evidence_id"] == evidence_id
        and receipt["sha512"] == hashlib.sha512(data).hexdigest()
    )
    assert receipt["duplicate"] is False and sha256(data) in receipt["message"]
    item = client.get(f"{API}/evidence/{evidence_id}", headers=analyst).json()
    assert (
        item["media"]["codec"] == "h264"
        and item["media"]["width"] == 160
        and item["media"]["duration_s"] == pytest.approx(2.0, abs=0.2)
    )
    assert (
        item["clock_offset_s"] == -3.5
        and item["camera_id"] == "cam-1"
        and item["call_id"] == "call-9"
    )
    assert (
        item["case_numbers"] == ["26-000101"]
        and item["owner_kind"] == "staff"
        and item["integrity"] == "ok"
    )
    assert item["has_thumbnail"] is True
    stored = (
        Path(app.state.rtcc.settings.vault_dir)
        / "objects"
        / sha256(data)[:2]
        / sha256(data)[2:4]
        / sha256(data)
    )
    assert stored.read_bytes() == data and (stored.stat().st_mode & 0o222) == 0  # write-once
    received = [e for e in events_of(app, "evidence.received")]
    assert len(received) == 1 and evidence_id in received[0][2]


def test_lying_offsets_and_lengths_are_refused_without_damage(
    client: TestClient, analyst: dict[str, str]
) -> None:
    data = mp4_bytes(2)
    loc = tus_create(client, analyst, len(data), case_number="26-1").headers["Location"]
    assert tus_patch(client, loc, analyst, 0, data[:1000]).status_code == 204
    # offset ahead of and behind the server's: 409, nothing written
    assert tus_patch(client, loc, analyst, 5000, data[5000:6000]).status_code == 409
    assert tus_patch(client, loc, analyst, 10, data[10:2000]).status_code == 409
    # a body that goes past Upload-Length: 413, the chunk is not kept
    r = tus_patch(client, loc, analyst, 1000, data[1000:] + b"EXTRA-BYTES")
    assert r.status_code == 413
    assert client.head(loc, headers={**analyst, **TUS}).headers["Upload-Offset"] == "1000"
    # wrong checksum: 460 and rolled back; right checksum accepted
    bad = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    assert (
        tus_patch(
            client, loc, analyst, 1000, data[1000:3000], **{"Upload-Checksum": f"sha256 {bad}"}
        ).status_code
        == 460
    )
    good = base64.b64encode(hashlib.sha256(data[1000:]).digest()).decode()
    done = tus_patch(
        client, loc, analyst, 1000, data[1000:], **{"Upload-Checksum": f"sha256 {good}"}
    )
    assert done.status_code == 204 and done.headers["Upload-Sha256"] == sha256(
        data
    )  # rollbacks left the hash right


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_bad_headers_are_clear_4xx(client: TestClient, app: Any, analyst: dict[str, str]) -> None:
    base = {**analyst, **TUS}
    cases = [
        {"Upload-Length": "-5"},
        {"Upload-Length": "abc"},
        {},
        {"Upload-Length": "99999999999999999999999"},
        {"Upload-Length": "10", "Upload-Metadata": "case_number !!!notbase64"},
        {
            "Upload-Length": "10",
            "Upload-Metadata": "case_number " + base64.b64encode(b"\xff\xfe").decode(),
        },
        {"Upload-Length": "10"},  # no case number
        {
            "Upload-Length": "10",
            "Upload-Metadata": "case_number "
            + base64.b64encode("../../etc\ud800".encode("utf-8", "surrogatepass")).decode(),
        },
        {
            "Upload-Length": "10",
            "Upload-Metadata": "case_number " + base64.b64encode(b"a/b").decode(),
        },
        {"Upload-Length": "10", "Upload-Defer-Length": "1"},
        {
            "Upload-Length": "10",
            "Upload-Metadata": "case_number "
            + base64.b64encode(b"26-1").decode()
            + ",clock_offset_s "
            + base64.b64encode(b"nan").decode(),
        },
    ]
    for extra in cases:
        r = client.post(f"{API}/uploads", headers={**base, **extra})
        assert 400 <= r.status_code < 500, (extra, r.status_code, r.text)
    assert (
        client.post(f"{API}/uploads", headers={**analyst, "Upload-Length": "10"}).status_code == 412
    )  # no Tus-Resumable
    assert (
        tus_create(client, analyst, 2_000_001, case_number="26-1").status_code == 413
    )  # over the per-file limit
    assert count_rows(app, VaultUploadRow) == 0


def test_credentials_and_other_users(
    client: TestClient, analyst: dict[str, str], supervisor: dict[str, str], app: Any
) -> None:
    from rtcc_console.core.models import Role
    from tests.server.conftest import add_user, login

    assert client.post(f"{API}/uploads", headers={**TUS, "Upload-Length": "10"}).status_code == 401
    assert (
        client.post(
            f"{API}/uploads",
            headers={**TUS, "Upload-Length": "10", "Authorization": "Bearer forged"},
        ).status_code
        == 401
    )
    loc = tus_create(client, analyst, 100, case_number="26-1").headers["Location"]
    add_user(app, "bob", Role.ANALYST)
    bob = login(client, "bob")
    assert client.head(loc, headers={**bob, **TUS}).status_code == 404  # another analyst's upload
    assert tus_patch(client, loc, bob, 0, b"x" * 10).status_code == 404
    assert client.head(loc, headers={**supervisor, **TUS}).status_code == 200  # oversight
    assert client.head(loc, headers=TUS).status_code == 401
    assert client.head(f"{API}/uploads/{'0' * 32}", headers={**analyst, **TUS}).status_code == 404


def test_termination_and_expiry_purge(
    client: TestClient, app: Any, analyst: dict[str, str]
) -> None:
    from datetime import timedelta

    from rtcc_console.core.models import utcnow
    from rtcc_console.server.vault.service import vault_of
    from rtcc_console.server.vault.uploads import purge_expired

    loc = tus_create(client, analyst, 5000, case_number="26-1").headers["Location"]
    tus_patch(client, loc, analyst, 0, b"a" * 100)
    assert client.delete(loc, headers={**analyst, **TUS}).status_code == 204
    assert client.head(loc, headers={**analyst, **TUS}).status_code == 404
    loc2 = tus_create(client, analyst, 5000, case_number="26-1").headers["Location"]
    tus_patch(client, loc2, analyst, 0, b"b" * 100)
    with (
        app.state.rtcc.db.write() as session
    ):  # an upload past its expiry is gone for the client at once
        row = session.get(VaultUploadRow, loc2.rsplit("/", 1)[1])
        assert row is not None
        expires = row.expires_at
        row.expires_at = utcnow() - timedelta(seconds=1)
    assert tus_patch(client, loc2, analyst, 100, b"c" * 10).status_code == 410
    with app.state.rtcc.db.write() as session:
        row = session.get(VaultUploadRow, loc2.rsplit("/", 1)[1])
        assert row is not None
        row.expires_at = expires
    vault = vault_of(app.state.rtcc)
    part = vault.blobs.upload_path(loc2.rsplit("/", 1)[1])
    assert part.exists()
    assert purge_expired(vault, now=utcnow() + timedelta(hours=23)) == []
    assert purge_expired(vault, now=utcnow() + timedelta(hours=25)) == [loc2.rsplit("/", 1)[1]]
    assert not part.exists() and client.head(loc2, headers={**analyst, **TUS}).status_code == 404


def test_refused_files_have_owner_readable_reasons(
    client: TestClient, app: Any, analyst: dict[str, str]
) -> None:
    video = mp4_bytes(3)
    samples = {
        "text": (b"This is just a text file renamed to .mp4\n" * 50, "not a video"),
        "truncated": (video[: len(video) // 2], "incomplete"),
    }
    for name, (data, words) in samples.items():
        r = upload_whole(client, analyst, data, case_number="26-1", filename=f"{name}.mp4")
        assert r.status_code == 422, (name, r.status_code)
        assert words in r.json()["detail"], (name, r.json())
    assert count_rows(app, EvidenceItemRow) == 0


def test_same_bytes_twice_stored_once_linked_to_both(
    client: TestClient, app: Any, analyst: dict[str, str]
) -> None:
    data = mp4_bytes(4)
    a = upload_whole(client, analyst, data, case_number="26-A")
    b = upload_whole(client, analyst, data, case_number="26-B")
    assert a.status_code == b.status_code == 204
    ida, idb = a.headers["Upload-Evidence-Id"], b.headers["Upload-Evidence-Id"]
    assert ida != idb
    objects = list((Path(app.state.rtcc.settings.vault_dir) / "objects").rglob("*"))
    assert len([p for p in objects if p.is_file()]) == 1
    items = client.get(f"{API}/evidence", headers=analyst, params={"case_number": "26-B"}).json()[
        "items"
    ]
    assert [i["id"] for i in items] == [idb] and items[0]["sha256"] == sha256(data)
    custody = client.get(f"{API}/evidence/{idb}/custody", headers=analyst).json()["items"]
    assert custody[0]["action"] == "received" and custody[0]["details"]["duplicate_of"] == ida


def test_resume_without_the_running_hash_rehashes_the_prefix_once(
    client: TestClient, app: Any, analyst: dict[str, str]
) -> None:
    """As after a restart or on another server process: the in-memory hash state is gone."""
    from rtcc_console.server.vault.service import vault_of

    data = mp4_bytes(14)
    loc = tus_create(client, analyst, len(data), case_number="26-1").headers["Location"]
    third = len(data) // 3
    assert tus_patch(client, loc, analyst, 0, data[:third]).status_code == 204
    vault = vault_of(app.state.rtcc)
    vault.hashers.drop(loc.rsplit("/", 1)[1])
    before = vault.hashers.rehashes
    assert tus_patch(client, loc, analyst, third, data[third : 2 * third]).status_code == 204
    assert vault.hashers.rehashes == before + 1
    done = tus_patch(client, loc, analyst, 2 * third, data[2 * third :])
    assert vault.hashers.rehashes == before + 1  # continued in memory after that
    assert done.headers["Upload-Sha256"] == sha256(data)
    receipt = client.get(f"{loc}/receipt", headers=analyst).json()
    assert receipt["sha512"] == hashlib.sha512(data).hexdigest()


def test_creation_with_upload_in_one_request(client: TestClient, analyst: dict[str, str]) -> None:
    from tests.server.vault_helpers import meta_header

    data = mp4_bytes(15)
    r = client.post(
        f"{API}/uploads",
        content=data,
        headers={
            **analyst,
            **TUS,
            "Upload-Length": str(len(data)),
            "Content-Type": "application/offset+octet-stream",
            "Upload-Metadata": meta_header(case_number="26-2", filename="one-shot.mp4"),
        },
    )
    assert r.status_code == 201, r.text
    assert r.headers["Upload-Offset"] == str(len(data)) and r.headers["Upload-Sha256"] == sha256(
        data
    )
    item = client.get(f"{API}/evidence/{r.headers['Upload-Evidence-Id']}", headers=analyst).json()
    assert item["filename"] == "one-shot.mp4" and item["size"] == len(data)
    head = client.head(r.headers["Location"], headers={**analyst, **TUS})
    assert head.status_code == 200 and head.headers["Upload-Offset"] == str(len(data))
