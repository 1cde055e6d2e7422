"""Live grants as the server stores them (issue, renew, end, media-relay lookup), on both back ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from rtcc_console.core.models import CameraKind, Owner
from rtcc_console.store import cameras, emergencies, grants
from rtcc_console.store.owners import save_owner
from tests.store.conftest import MakeCamera

T0 = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)


def _issue(
    session: Session,
    grant_id: str,
    camera_id: str,
    *,
    minutes: int = 5,
    emergency_id: str | None = None,
) -> None:
    grants.insert_grant(
        session,
        grant_id=grant_id,
        camera_id=camera_id,
        username="ana",
        reason="case 1",
        issued_at=T0,
        expires_at=T0 + timedelta(minutes=minutes),
        emergency_id=emergency_id,
        token_hash=f"hash-{grant_id}",
        session_jti="jti-1",
    )


def test_open_grants_by_camera_and_emergency_extend_and_end(
    db_session: Session, make_camera: MakeCamera
) -> None:
    for i in (1, 2):
        cameras.save_camera(db_session, camera=make_camera(i))
    emergency = emergencies.insert_emergency(
        db_session,
        owner_id=None,
        camera_ids=["cam-000002"],
        reason="panic",
        duration_s=600,
        created_by="sue",
        now=T0,
    )
    _issue(db_session, "grant-a", "cam-000001")
    _issue(db_session, "grant-b", "cam-000002", emergency_id=emergency.id)
    _issue(db_session, "grant-c", "cam-000002", minutes=1)
    db_session.commit()
    at = T0 + timedelta(minutes=2)
    assert [g.id for g in grants.open_grants(db_session, now=at)] == ["grant-a", "grant-b"]
    assert [g.id for g in grants.open_grants(db_session, now=at, camera_id="cam-000002")] == [
        "grant-b"
    ]
    assert [g.id for g in grants.open_grants(db_session, now=at, emergency_id=emergency.id)] == [
        "grant-b"
    ]
    found = grants.grant_by_token_hash(db_session, token_hash="hash-grant-a")
    assert found is not None and found.id == "grant-a" and found.session_jti == "jti-1"
    assert grants.grant_by_token_hash(db_session, token_hash="nope") is None

    grant_a = grants.get_grant(db_session, grant_id="grant-a")
    assert grant_a is not None
    grants.extend_grant(
        db_session, grant=grant_a, expires_at=T0 + timedelta(minutes=30), emergency_id=None
    )
    assert grants.end_grant(db_session, grant=grant_a, reason="tile closed", now=at)
    assert not grants.end_grant(
        db_session, grant=grant_a, reason="again", now=at + timedelta(seconds=1)
    )
    db_session.commit()
    again = grants.get_grant(db_session, grant_id="grant-a")
    assert again is not None and again.ended_at == at and again.end_reason == "tile closed"
    assert again.expires_at == T0 + timedelta(minutes=30)
    assert [g.id for g in grants.open_grants(db_session, now=at)] == ["grant-b"]
    assert grants.get_grant(db_session, grant_id="grant-zzz") is None


def test_owner_accepts_requests(db_session: Session) -> None:
    save_owner(
        db_session,
        owner=Owner(
            id="own-1",
            name="Shop",
            kind=CameraKind.BUSINESS,
            email="a@example.org",
            accepts_requests=False,
        ),
    )
    db_session.commit()
    assert grants.owner_accepts_requests(db_session, owner_id="own-1") is False
    assert grants.owner_accepts_requests(db_session, owner_id=None) is True
    assert grants.owner_accepts_requests(db_session, owner_id="own-unknown") is True
