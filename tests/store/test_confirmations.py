"""store.confirmations on SQLite and PostgreSQL: who is asked (once), who becomes stale
(once, as a registry change), and a confirmation that clears it; plus migration 0108's
clean-up of stream URLs that still held passwords."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from rtcc_console.core.models import Owner
from rtcc_console.store import cameras, confirmations, migrate, owners, portal
from rtcc_console.store.schema import CameraRow, CameraSecretRow
from tests.store.conftest import MakeCamera

YEAR = timedelta(days=365)
GRACE = timedelta(days=30)
T0 = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)


def _setup(session: Session, make_camera: MakeCamera, owner: Owner) -> None:
    owners.save_owner(session, owner=owner)
    for i in (1, 2, 3):
        cameras.save_camera(session, camera=make_camera(i, owner_id=owner.id), now=T0)
    cameras.save_camera(session, camera=make_camera(4), now=T0)  # no owner: nobody to ask
    cameras.save_camera(session, camera=make_camera(5, owner_id=owner.id), now=T0)
    cameras.revoke_camera(session, camera_id="cam-000005", reason="withdrawn", now=T0)
    session.commit()


def _row(session: Session, camera_id: str) -> CameraRow:
    row = session.get(CameraRow, camera_id, populate_existing=True)
    assert row is not None
    return row


def test_new_cameras_count_as_confirmed_and_are_not_due_within_the_year(
    db_session: Session, make_camera: MakeCamera, owner: Owner
) -> None:
    _setup(db_session, make_camera, owner)
    assert _row(db_session, "cam-000001").confirmed_at == T0
    soon = T0 + YEAR - timedelta(seconds=1)
    assert not confirmations.any_due(db_session, now=soon, interval=YEAR, grace=GRACE)
    assert confirmations.claim_due(db_session, interval=YEAR, limit=10, now=soon) == []


def test_due_cameras_are_claimed_once_with_the_owners_account(
    db_session: Session, make_camera: MakeCamera, owner: Owner
) -> None:
    _setup(db_session, make_camera, owner)
    account = portal.create_account(
        db_session, name="x", kind="business", email="a@x.example", password_hash=None
    )
    assert account is not None
    db_session.execute(
        text("UPDATE portal_accounts SET owner_id = :o WHERE id = :a"),
        {"o": owner.id, "a": account.id},
    )
    db_session.commit()
    later = T0 + YEAR + timedelta(days=1)
    assert confirmations.any_due(db_session, now=later, interval=YEAR, grace=GRACE)
    due = confirmations.claim_due(db_session, interval=YEAR, limit=2, now=later)
    db_session.commit()
    assert [d.camera_id for d in due] == ["cam-000001", "cam-000002"]  # limit, oldest first
    assert {d.account_id for d in due} == {account.id}
    rest = confirmations.claim_due(db_session, interval=YEAR, limit=10, now=later)
    db_session.commit()
    # no owner (cam 4) and revoked (cam 5) are never asked; nobody is asked twice
    assert [d.camera_id for d in rest] == ["cam-000003"]
    assert confirmations.claim_due(db_session, interval=YEAR, limit=10, now=later) == []
    assert _row(db_session, "cam-000001").confirm_asked_at == later
    assert _row(db_session, "cam-000004").confirm_asked_at is None


def test_unanswered_cameras_become_stale_once_as_a_registry_change_and_confirm_clears_it(
    db_session: Session, make_camera: MakeCamera, owner: Owner
) -> None:
    _setup(db_session, make_camera, owner)
    asked = T0 + YEAR + timedelta(days=1)
    confirmations.claim_due(db_session, interval=YEAR, limit=10, now=asked)
    db_session.commit()
    before = _row(db_session, "cam-000001")
    version, seq = before.version, before.change_seq
    # within the grace time: nothing
    assert (
        confirmations.mark_stale_due(db_session, grace=GRACE, limit=10, now=asked + GRACE / 2) == []
    )
    # cam 2 answers in time
    done = confirmations.confirm(
        db_session, camera_id="cam-000002", owner_id=owner.id, now=asked + timedelta(days=2)
    )
    assert done is not None and not done.was_stale
    db_session.commit()
    late = asked + GRACE + timedelta(hours=1)
    marked = confirmations.mark_stale_due(db_session, grace=GRACE, limit=10, now=late)
    db_session.commit()
    assert [r.id for r in marked] == ["cam-000001", "cam-000003"]
    row = _row(db_session, "cam-000001")
    assert row.stale_since == late and row.version == version + 1 and row.change_seq > seq
    # the sync feed carries the change; a second sweep marks nothing
    feed = cameras.changes_since(db_session, cursor=seq)
    assert "cam-000001" in [c.id for c in feed.changed]
    assert confirmations.mark_stale_due(db_session, grace=GRACE, limit=10, now=late) == []
    # another owner cannot confirm it; the owner can, and the stale mark goes
    assert confirmations.confirm(db_session, camera_id="cam-000001", owner_id="own-other") is None
    assert confirmations.confirm(db_session, camera_id="cam-nope") is None
    done = confirmations.confirm(db_session, camera_id="cam-000001", owner_id=owner.id, now=late)
    db_session.commit()
    assert done is not None and done.was_stale
    row = _row(db_session, "cam-000001")
    assert (row.stale_since, row.confirm_asked_at, row.confirmed_at) == (None, None, late)
    # the next cycle starts from the confirmation
    assert confirmations.claim_due(db_session, interval=YEAR, limit=10, now=late + GRACE) == []


def test_confirmation_link_is_readable_until_consumed_once(
    db_session: Session, make_camera: MakeCamera, owner: Owner
) -> None:
    account = portal.create_account(
        db_session, name="x", kind="home", email="b@x.example", password_hash=None
    )
    assert account is not None
    now = datetime.now(UTC)
    portal.create_link(
        db_session,
        account_id=account.id,
        purpose=confirmations.LINK_PURPOSE,
        token_hash="h" * 64,
        ttl_s=60,
    )
    portal.create_link(
        db_session, account_id=account.id, purpose="signin", token_hash="s" * 64, ttl_s=60
    )
    db_session.commit()
    link = confirmations.link_account(db_session, token_hash="h" * 64)
    assert link is not None and link.account_id == account.id
    assert abs(link.asked_at.replace(tzinfo=UTC) - now) < timedelta(seconds=5)
    assert confirmations.link_account(db_session, token_hash="s" * 64) is None  # other purpose
    assert (
        confirmations.link_account(db_session, token_hash="h" * 64, now=now + timedelta(minutes=2))
        is None
    )
    assert (
        portal.consume_link(db_session, token_hash="h" * 64, purpose=confirmations.LINK_PURPOSE)
        == account.id
    )
    assert (
        portal.consume_link(db_session, token_hash="h" * 64, purpose=confirmations.LINK_PURPOSE)
        is None
    )
    assert confirmations.link_account(db_session, token_hash="h" * 64) is None


def test_link_cameras_are_the_owners_cameras_asked_by_that_sweep_and_still_unanswered(
    db_session: Session, make_camera: MakeCamera, owner: Owner
) -> None:
    _setup(db_session, make_camera, owner)
    other = Owner(id="own-other", name="Other", kind=owner.kind, email="o@x.example")
    owners.save_owner(db_session, owner=other)
    cameras.save_camera(db_session, camera=make_camera(6, owner_id=other.id), now=T0)
    db_session.commit()
    first = T0 + YEAR + timedelta(days=1)
    asked = confirmations.claim_due(db_session, interval=YEAR, limit=2, now=first)
    later = confirmations.claim_due(db_session, interval=YEAR, limit=10, now=first + GRACE)
    db_session.commit()
    mine = sorted(c.camera_id for c in asked if c.owner_id == owner.id)
    assert len(mine) == 2 and len(later) == 2  # the rest: the owner's third, the other's
    found = confirmations.link_cameras(db_session, owner_id=owner.id, asked_at=first)
    assert sorted(r.id for r in found) == mine
    assert "cam-000006" not in [
        r.id
        for r in confirmations.link_cameras(db_session, owner_id=owner.id, asked_at=first + GRACE)
    ]
    assert confirmations.confirm(db_session, camera_id=mine[0], now=first + timedelta(days=2))
    cameras.delete_camera(db_session, camera_id=mine[1], now=first + timedelta(days=2))
    db_session.commit()
    assert confirmations.link_cameras(db_session, owner_id=owner.id, asked_at=first) == []


LEAKS = {
    # (public stream_url as the old redaction left it, secret row or None)
    "cam-leak1": ("rtsp://10.0.0.5:554/live?user=admin&password=hunter2", None),
    "cam-leak2": (
        "http://cam.example/cgi-bin/snap.cgi;loginuse=admin;loginpas=hunter3",
        "http://cam.example/cgi-bin/snap.cgi;loginuse=admin;loginpas=hunter3",
    ),
    "cam-leak3": ("rtsp://admin:hunter4@10.0.0.7/Streaming/Channels/101", None),
    "cam-clean": ("rtsp://10.0.0.9:554/live", "rtsp://u:p@10.0.0.9:554/live"),
}


def test_db_upgrade_cleans_stream_urls_that_still_hold_passwords(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    migrate.upgrade(url, "0107")
    engine = create_engine(url)
    with engine.begin() as conn:
        for seq, (cid, (public, secret)) in enumerate(sorted(LEAKS.items()), start=1):
            conn.execute(
                text(
                    "INSERT INTO cameras (id, name, tier, kind, sharing_mode, lat, lon, address, "
                    "revoked, has_stream, stream_url, version, created_at, updated_at, deleted, "
                    "change_seq) VALUES (:id, 'n', 'integrated', 'business', 'live_always', 32.7, "
                    "-96.8, '', 0, 1, :url, 1, '2024-03-01 10:00:00', '2024-05-01 10:00:00', 0, :seq)"
                ),
                {"id": cid, "url": public, "seq": seq},
            )
            if secret:
                conn.execute(
                    text("INSERT INTO camera_secrets (camera_id, stream_url_full) VALUES (:i, :u)"),
                    {"i": cid, "u": secret},
                )
    engine.dispose()
    run = subprocess.run(
        [sys.executable, "-m", "rtcc_console.cli", "db", "upgrade", "--db", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert migrate.current(url) == migrate.head()
    engine = create_engine(url)
    try:
        with Session(engine) as s:
            rows: dict[str, Any] = {r.id: r for r in s.query(CameraRow)}
            kept = {r.camera_id: r.stream_url_full for r in s.query(CameraSecretRow)}
    finally:
        engine.dispose()
    for cid in LEAKS:
        public = rows[cid].stream_url
        assert "hunter" not in public and "admin" not in public, public
    # a password that lived only in the public column moved to the credentials table
    assert kept["cam-leak1"] == LEAKS["cam-leak1"][0]
    assert kept["cam-leak3"] == LEAKS["cam-leak3"][0]
    assert kept["cam-leak2"] == LEAKS["cam-leak2"][1]
    assert rows["cam-clean"].stream_url == "rtsp://10.0.0.9:554/live"
    assert kept["cam-clean"] == "rtsp://u:p@10.0.0.9:554/live"
    # the confirmation clock starts at the camera's last update
    assert rows["cam-leak1"].confirmed_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
