"""Owners, footage requests, evidence and custody on both back ends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from rtcc_console.core.models import CameraKind, EvidenceItem, Owner
from rtcc_console.store import owners, requests
from rtcc_console.store.schema import CustodyEntryRow

T0 = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)


def test_owners_save_get_list(db_session: Session) -> None:
    for i, kind in enumerate([CameraKind.BUSINESS, CameraKind.SCHOOL, CameraKind.BUSINESS]):
        owners.save_owner(db_session, owner=Owner(id=f"own-{i:05d}", name=f"Owner {i}", kind=kind))
    _, created = owners.save_owner(
        db_session,
        owner=Owner(id="own-00000", name="Renamed", kind=CameraKind.PUBLIC, accepts_requests=False),
    )
    db_session.commit()
    assert not created
    got = owners.get_owner(db_session, owner_id="own-00000")
    assert got == Owner(
        id="own-00000", name="Renamed", kind=CameraKind.PUBLIC, accepts_requests=False
    )
    page = owners.list_owners(db_session, kind=CameraKind.BUSINESS)
    assert page.total == 1 and page.items[0].id == "own-00002"
    assert owners.list_owners(db_session, limit=1, offset=1).items[0].id == "own-00001"
    with pytest.raises(ValueError):
        owners.save_owner(db_session, owner=Owner(id="own-9", name="x", kind="castle"))  # type: ignore[arg-type]
    assert owners.get_owner(db_session, owner_id="own-missing") is None


def test_evidence_and_custody_chain_detects_tampering(db_session: Session) -> None:
    item = EvidenceItem(
        id="ev-1",
        filename="clip.mp4",
        sha256="0" * 64,
        size_bytes=1234,
        media_type="video/mp4",
        received_at=T0,
    )
    assert requests.create_evidence_item(db_session, item=item, stored_path="vault/00/ev-1") == item
    with pytest.raises(ValueError, match="sha256"):
        requests.create_evidence_item(
            db_session,
            item=EvidenceItem(
                id="ev-2",
                filename="x",
                sha256="XYZ",
                size_bytes=1,
                media_type="video/mp4",
                received_at=T0,
            ),
            stored_path="p",
        )
    a = requests.add_custody_entry(
        db_session,
        evidence_id="ev-1",
        actor="portal",
        action="received",
        details={"sha256": "0" * 64},
        at=T0.astimezone(UTC),
    )
    b = requests.add_custody_entry(
        db_session, evidence_id="ev-1", actor="analyst1", action="viewed"
    )
    db_session.commit()
    assert b.prev_hash == a.hash and a.prev_hash is None
    assert requests.verify_custody(db_session, evidence_id="ev-1") is None
    db_session.execute(
        update(CustodyEntryRow).where(CustodyEntryRow.id == a.id).values(actor="mallory")
    )
    db_session.commit()
    assert requests.verify_custody(db_session, evidence_id="ev-1") == a.id
