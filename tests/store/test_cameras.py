"""Camera repository on SQLite and PostgreSQL: CRUD, secrets, listing, the change feed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from rtcc_console.core.geo import BoundingBox
from rtcc_console.core.models import CameraKind, GeoPoint, Owner, SharingMode, Tier
from rtcc_console.store import cameras as repo
from rtcc_console.store.owners import save_owner
from rtcc_console.store.schema import CameraRow, CameraSecretRow
from tests.store.conftest import MakeCamera

CRED_URL = "rtsp://admin:hunter2@10.0.0.5:554/live?token=s3cr3t"


def _all_public_text(session: Session) -> str:
    rows = session.execute(text("SELECT * FROM cameras")).all()
    return " ".join(str(v) for row in rows for v in row)


def test_save_splits_credentials_into_secrets(
    db_session: Session, make_camera: MakeCamera, owner: Owner
) -> None:
    save_owner(db_session, owner=owner)
    cam = make_camera(
        1, tier=Tier.INTEGRATED, sharing_mode=SharingMode.LIVE_ALWAYS, owner_id=owner.id
    )
    saved, created = repo.save_camera(
        db_session, camera=cam, stream_url=CRED_URL, substream_url="rtsp://u:p@10.0.0.5/sub"
    )
    db_session.commit()
    assert created
    assert saved.stream_ref == "rtsp://10.0.0.5:554/live?token=***"
    assert saved.substream_ref == "rtsp://10.0.0.5/sub"
    public = _all_public_text(db_session)
    assert "hunter2" not in public and "s3cr3t" not in public and "u:p@" not in public
    assert repo.stream_secret(db_session, camera_id=cam.id) == (CRED_URL, "rtsp://u:p@10.0.0.5/sub")
    row = db_session.get(CameraRow, cam.id)
    assert row is not None and row.has_stream and row.version == 1


def test_credentials_in_stream_ref_are_also_kept_out_of_the_public_row(
    db_session: Session, make_camera: MakeCamera
) -> None:
    cam = make_camera(2, tier=Tier.INTEGRATED, stream_ref=CRED_URL)
    saved, _ = repo.save_camera(db_session, camera=cam)
    db_session.commit()
    assert "hunter2" not in (saved.stream_ref or "")
    assert "hunter2" not in _all_public_text(db_session)
    assert repo.stream_secret(db_session, camera_id=cam.id) == (CRED_URL, None)


def test_save_again_is_an_update_with_version_and_change_bump(
    db_session: Session, make_camera: MakeCamera
) -> None:
    cam = make_camera(3)
    repo.save_camera(db_session, camera=cam)
    db_session.commit()
    seq1 = db_session.get(CameraRow, cam.id).change_seq  # type: ignore[union-attr]
    cam.name = "Renamed"
    saved, created = repo.save_camera(db_session, camera=cam)
    db_session.commit()
    row = db_session.get(CameraRow, cam.id)
    assert not created and saved.name == "Renamed"
    assert row is not None and row.version == 2 and row.change_seq > seq1


def test_update_validates_before_writing(db_session: Session, make_camera: MakeCamera) -> None:
    cam = make_camera(4)
    repo.save_camera(db_session, camera=cam)
    db_session.commit()
    for bad in ({"colour": "red"}, {"tier": "gold"}, {"lat": 95.0}, {"heading_deg": 400.0}):
        with pytest.raises(ValueError):
            repo.update_camera(db_session, camera_id=cam.id, changes=bad)
        db_session.rollback()
    got = repo.get_camera(db_session, camera_id=cam.id)
    assert got is not None and got.location == cam.location and got.tier is Tier.REGISTERED
    assert repo.camera_version(db_session, camera_id=cam.id) == 1


def test_update_fields_and_stream(db_session: Session, make_camera: MakeCamera) -> None:
    cam = make_camera(5)
    repo.save_camera(db_session, camera=cam)
    updated = repo.update_camera(
        db_session,
        camera_id=cam.id,
        changes={
            "tier": "integrated",
            "sharing_mode": "live_in_emergency",
            "lat": 32.9,
            "lon": -96.7,
            "stream_url": "rtsp://a:b@h/x",
        },
    )
    db_session.commit()
    assert updated.tier is Tier.INTEGRATED and updated.location == GeoPoint(32.9, -96.7)
    assert updated.stream_ref == "rtsp://h/x"
    assert repo.stream_secret(db_session, camera_id=cam.id) == ("rtsp://a:b@h/x", None)
    repo.update_camera(db_session, camera_id=cam.id, changes={"stream_url": None})
    db_session.commit()
    assert repo.stream_secret(db_session, camera_id=cam.id) is None
    assert repo.camera_version(db_session, camera_id=cam.id) == 3


def test_revoke_and_delete(db_session: Session, make_camera: MakeCamera) -> None:
    cam = make_camera(6, tier=Tier.INTEGRATED, sharing_mode=SharingMode.LIVE_ALWAYS)
    repo.save_camera(db_session, camera=cam, stream_url=CRED_URL)
    with pytest.raises(ValueError, match="reason"):
        repo.revoke_camera(db_session, camera_id=cam.id, reason="  ")
    revoked = repo.revoke_camera(db_session, camera_id=cam.id, reason="owner opted out")
    db_session.commit()
    assert revoked.revoked
    assert db_session.get(CameraRow, cam.id).revoked_reason == "owner opted out"  # type: ignore[union-attr]
    repo.delete_camera(db_session, camera_id=cam.id)
    db_session.commit()
    assert repo.get_camera(db_session, camera_id=cam.id) is None
    assert repo.get_camera(db_session, camera_id=cam.id, include_deleted=True) is not None
    assert repo.stream_secret(db_session, camera_id=cam.id) is None  # credentials gone with it
    assert db_session.execute(select(CameraSecretRow)).first() is None
    with pytest.raises(repo.NotFoundError):
        repo.update_camera(db_session, camera_id=cam.id, changes={"name": "x"})
    with pytest.raises(repo.NotFoundError):
        repo.delete_camera(db_session, camera_id="cam-nope")


def test_list_filters_paging_and_total(db_session: Session, make_camera: MakeCamera) -> None:
    for i in range(1, 11):
        tier = Tier.INTEGRATED if i % 2 else Tier.REGISTERED
        kind = CameraKind.SCHOOL if i % 5 == 0 else CameraKind.RESIDENTIAL
        repo.save_camera(
            db_session,
            camera=make_camera(
                i, tier=tier, kind=kind, location=GeoPoint(32.0 + i / 10, -96.0 - i / 10)
            ),
        )
    repo.revoke_camera(db_session, camera_id="cam-000003", reason="r")
    repo.delete_camera(db_session, camera_id="cam-000001")
    db_session.commit()
    page = repo.list_cameras(db_session, limit=4, offset=0)
    assert page.total == 9 and [c.id for c in page.items] == [f"cam-{i:06d}" for i in (2, 3, 4, 5)]
    page2 = repo.list_cameras(db_session, limit=4, offset=8)
    assert [c.id for c in page2.items] == ["cam-000010"]
    integ = repo.list_cameras(db_session, flt=repo.CameraFilter(tier=Tier.INTEGRATED))
    assert {c.id for c in integ.items} == {"cam-000003", "cam-000005", "cam-000007", "cam-000009"}
    live = repo.list_cameras(
        db_session, flt=repo.CameraFilter(tier=Tier.INTEGRATED, include_revoked=False)
    )
    assert "cam-000003" not in {c.id for c in live.items}
    schools = repo.list_cameras(db_session, flt=repo.CameraFilter(kind=CameraKind.SCHOOL))
    assert {c.id for c in schools.items} == {"cam-000005", "cam-000010"}
    box = BoundingBox(min_lat=32.25, min_lon=-96.65, max_lat=32.65, max_lon=-96.25)
    inbox = repo.list_cameras(db_session, flt=repo.CameraFilter(bbox=box))
    assert {c.id for c in inbox.items} == {f"cam-{i:06d}" for i in (3, 4, 5, 6)}
    with pytest.raises(ValueError):
        repo.list_cameras(db_session, limit=-1)


def test_changes_since_pages_through_updates_revocations_and_deletions(
    db_session: Session, make_camera: MakeCamera
) -> None:
    for i in range(1, 8):
        repo.save_camera(db_session, camera=make_camera(i))
    db_session.commit()
    first = repo.changes_since(db_session, cursor=0, limit=5)
    assert [c.id for c in first.changed] == [f"cam-{i:06d}" for i in range(1, 6)] and first.has_more
    second = repo.changes_since(db_session, cursor=first.next_cursor, limit=5)
    assert [c.id for c in second.changed] == ["cam-000006", "cam-000007"] and not second.has_more
    cursor = second.next_cursor
    assert repo.changes_since(db_session, cursor=cursor) == ([], [], cursor, False)

    repo.update_camera(db_session, camera_id="cam-000002", changes={"name": "new"})
    repo.revoke_camera(db_session, camera_id="cam-000004", reason="opt out")
    repo.delete_camera(db_session, camera_id="cam-000006")
    repo.update_camera(db_session, camera_id="cam-000002", changes={"name": "newer"})
    db_session.commit()
    batch = repo.changes_since(db_session, cursor=cursor, limit=100)
    # each camera appears once, at its latest change; revoked ones among the changed
    assert [c.id for c in batch.changed] == ["cam-000004", "cam-000002"]
    assert batch.changed[0].revoked and batch.changed[1].name == "newer"
    assert batch.deleted_ids == ["cam-000006"]
    assert batch.next_cursor > cursor and not batch.has_more
    seen: list[str] = []
    c = cursor
    while True:  # page size 1: nothing is skipped or repeated
        page = repo.changes_since(db_session, cursor=c, limit=1)
        seen += [x.id for x in page.changed] + page.deleted_ids
        c = page.next_cursor
        if not page.has_more:
            break
    assert seen == ["cam-000004", "cam-000006", "cam-000002"]
    with pytest.raises(ValueError):
        repo.changes_since(db_session, cursor=-1)


def test_to_domain_keeps_every_field(db_session: Session, make_camera: MakeCamera) -> None:
    when = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
    cam = make_camera(9, range_m=35.0, heading_deg=None, fov_deg=None, kind=CameraKind.PUBLIC)
    repo.save_camera(db_session, camera=cam, now=when)
    db_session.commit()
    db_session.expire_all()
    got = repo.get_camera(db_session, camera_id=cam.id)
    assert got is not None
    cam.updated_at = when
    cam.confirmed_at = when  # a newly registered camera counts as confirmed (0108)
    assert got == cam


def test_row_level_reads_the_server_formats(db_session: Session, make_camera: MakeCamera) -> None:
    """The rows behind the API (registry load, change feed, import checks, export)."""
    assert repo.newest_change(db_session) == 0
    for i in range(1, 5):
        repo.save_camera(db_session, camera=make_camera(i))
    db_session.commit()
    repo.delete_camera(db_session, camera_id="cam-000002")
    db_session.commit()
    newest = repo.newest_change(db_session)
    rows = repo.change_rows_between(db_session, after=0, upto=newest)
    assert [r.change_seq for r in rows] == sorted(r.change_seq for r in rows) and rows[
        -1
    ].change_seq == newest
    assert {r.id for r in rows if r.deleted} == {"cam-000002"}
    assert repo.change_rows_between(db_session, after=newest, upto=newest) == []
    page, more_cursor, more = repo.change_rows_since(db_session, cursor=0, limit=2)
    assert len(page) == 2 and more and more_cursor == page[-1].change_seq
    assert repo.get_camera_row(db_session, camera_id="cam-000002") is None
    gone = repo.get_camera_row(db_session, camera_id="cam-000002", include_deleted=True)
    assert gone is not None and gone.deleted
    assert [r.id for r in repo.alive_rows(db_session)] == ["cam-000001", "cam-000003", "cam-000004"]
    assert repo.existing_ids(db_session, camera_ids=["cam-000002", "cam-000009"]) == {"cam-000002"}
    assert repo.existing_ids(db_session, camera_ids=["own-00001"], owners=True) == set()
    rows_page, total = repo.list_camera_rows(
        db_session, flt=repo.CameraFilter(tier=Tier.REGISTERED), limit=2
    )
    assert total == 3 and [r.id for r in rows_page] == ["cam-000001", "cam-000003"]
