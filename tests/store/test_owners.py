"""Owners on both back ends (the repository the portal, the uploads and the panic route use)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from rtcc_console.core.models import CameraKind, Owner
from rtcc_console.store import owners

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
