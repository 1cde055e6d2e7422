"""Owners, footage requests, evidence and custody on both back ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from rtcc_console.core.models import (
    CameraKind,
    CircleFence,
    EvidenceItem,
    FootageRequest,
    GeoPoint,
    Owner,
    PolygonFence,
    RequestStatus,
)
from rtcc_console.store import owners, requests
from rtcc_console.store.schema import CustodyEntryRow

T0 = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)


def test_owners_save_get_list(db_session: Session) -> None:
    for i, kind in enumerate([CameraKind.BUSINESS, CameraKind.SCHOOL, CameraKind.BUSINESS]):
        owners.save_owner(db_session, owner=Owner(id=f"own-{i:05d}", name=f"Owner {i}", kind=kind))
    _, created = owners.save_owner(db_session, owner=Owner(id="own-00000", name="Renamed", kind=CameraKind.PUBLIC,
                                                           accepts_requests=False))
    db_session.commit()
    assert not created
    got = owners.get_owner(db_session, owner_id="own-00000")
    assert got == Owner(id="own-00000", name="Renamed", kind=CameraKind.PUBLIC, accepts_requests=False)
    page = owners.list_owners(db_session, kind=CameraKind.BUSINESS)
    assert page.total == 1 and page.items[0].id == "own-00002"
    assert owners.list_owners(db_session, limit=1, offset=1).items[0].id == "own-00001"
    with pytest.raises(ValueError):
        owners.save_owner(db_session, owner=Owner(id="own-9", name="x", kind="castle"))  # type: ignore[arg-type]
    assert owners.get_owner(db_session, owner_id="own-missing") is None


@pytest.mark.parametrize("fence", [
    CircleFence(GeoPoint(32.78, -96.8), 150.0),
    PolygonFence((GeoPoint(32.78, -96.8), GeoPoint(32.79, -96.8), GeoPoint(32.79, -96.79))),
])
def test_footage_request_round_trip_with_recipients(db_session: Session, fence: CircleFence | PolygonFence) -> None:
    req = FootageRequest(id="req-1", call_id=None, geofence=fence, window_start=T0, window_end=T0 + timedelta(hours=1),
                         created_by="analyst1", created_at=T0, message="please")
    requests.create_footage_request(db_session, request=req)
    owners.save_owner(db_session, owner=Owner(id="own-1", name="O", kind=CameraKind.BUSINESS))
    rid = requests.add_recipient(db_session, request_id="req-1", owner_id="own-1", camera_id=None,
                                 upload_token_hash="ab" * 32, token_expires_at=T0 + timedelta(days=7))
    db_session.commit()
    got = requests.get_footage_request(db_session, request_id="req-1")
    assert got == req
    recips = requests.list_recipients(db_session, request_id="req-1")
    assert [r.id for r in recips] == [rid] and recips[0].token_expires_at == T0 + timedelta(days=7)
    requests.set_request_status(db_session, request_id="req-1", status=RequestStatus.FULFILLED)
    assert requests.get_footage_request(db_session, request_id="req-1").status is RequestStatus.FULFILLED  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="window_end"):
        requests.create_footage_request(db_session, request=FootageRequest(
            id="req-2", call_id=None, geofence=fence, window_start=T0, window_end=T0, created_by="a", created_at=T0))


def test_evidence_and_custody_chain_detects_tampering(db_session: Session) -> None:
    item = EvidenceItem(id="ev-1", filename="clip.mp4", sha256="0" * 64, size_bytes=1234, media_type="video/mp4",
                        received_at=T0)
    assert requests.create_evidence_item(db_session, item=item, stored_path="vault/00/ev-1") == item
    with pytest.raises(ValueError, match="sha256"):
        requests.create_evidence_item(db_session, item=EvidenceItem(
            id="ev-2", filename="x", sha256="XYZ", size_bytes=1, media_type="video/mp4", received_at=T0),
            stored_path="p")
    a = requests.add_custody_entry(db_session, evidence_id="ev-1", actor="portal", action="received",
                                   details={"sha256": "0" * 64}, at=T0.astimezone(UTC))
    b = requests.add_custody_entry(db_session, evidence_id="ev-1", actor="analyst1", action="viewed")
    db_session.commit()
    assert b.prev_hash == a.hash and a.prev_hash is None
    assert requests.verify_custody(db_session, evidence_id="ev-1") is None
    db_session.execute(update(CustodyEntryRow).where(CustodyEntryRow.id == a.id).values(actor="mallory"))
    db_session.commit()
    assert requests.verify_custody(db_session, evidence_id="ev-1") == a.id
