"""Bulk loading (the seeder's path) and change-number concurrency."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rtcc_console.core.models import CameraKind, Owner, SharingMode, Tier
from rtcc_console.store import bulk, cameras
from rtcc_console.store.db import make_engine, make_session_factory
from rtcc_console.store.schema import CameraRow, CameraSecretRow

N = 3000


def _rows(rng: np.random.Generator, n: int) -> list[tuple[Any, ...]]:
    lats = rng.uniform(32.70, 32.90, n)
    lons = rng.uniform(-96.95, -96.65, n)
    out = []
    for i in range(n):
        tier = Tier.INTEGRATED if i % 7 == 0 else Tier.REGISTERED
        url = f"rtsp://user:pw{i}@10.1.0.{i % 250}/s" if tier is Tier.INTEGRATED else None
        out.append(
            (
                f"cam-{i:06d}",
                f"c{i}",
                tier.value,
                CameraKind.RESIDENTIAL.value,
                SharingMode.REQUEST_ONLY.value,
                float(lats[i]),
                float(lons[i]),
                f"{i} Elm St",
                None,
                None,
                None,
                None,
                url,
                None,
            )
        )
    return out


@pytest.fixture
def loaded(db_session: Session) -> tuple[Session, np.ndarray, np.ndarray, list[str]]:
    rows = _rows(np.random.default_rng(7), N)
    secrets = {r[0]: (r[12], None) for r in rows if r[12]}
    assert (
        bulk.bulk_insert_camera_rows(db_session, rows=rows, secrets=secrets, batch_size=1000) == N
    )
    db_session.commit()
    lats = np.array([r[5] for r in rows])
    lons = np.array([r[6] for r in rows])
    return db_session, lats, lons, [r[0] for r in rows]


def test_bulk_insert_redacts_and_numbers_every_row(
    loaded: tuple[Session, Any, Any, list[str]],
) -> None:
    session = loaded[0]
    assert session.execute(select(func.count()).select_from(CameraRow)).scalar_one() == N
    seqs = session.execute(select(CameraRow.change_seq)).scalars().all()
    assert len(set(seqs)) == N
    public = (
        session.execute(select(CameraRow.stream_url).where(CameraRow.stream_url.is_not(None)))
        .scalars()
        .all()
    )
    assert public and all("@" not in u and "pw" not in u for u in public)
    assert session.execute(select(func.count()).select_from(CameraSecretRow)).scalar_one() == len(
        public
    )
    one = cameras.get_camera(session, camera_id="cam-000007")
    assert one is not None and one.tier is Tier.INTEGRATED and one.stream_ref == "rtsp://10.1.0.7/s"
    assert cameras.stream_secret(session, camera_id="cam-000007") == (
        "rtsp://user:pw7@10.1.0.7/s",
        None,
    )
    # a camera saved afterwards gets a higher change number than every bulk row
    saved, _ = cameras.save_camera(session, camera=one)
    assert session.get(CameraRow, saved.id).change_seq == max(seqs) + 1  # type: ignore[union-attr]


def test_bulk_insert_rejects_malformed_rows(db_session: Session) -> None:
    with pytest.raises(ValueError, match="expected 14"):
        bulk.bulk_insert_camera_rows(db_session, rows=[("cam-1", "x")])
    db_session.rollback()
    assert db_session.execute(select(func.count()).select_from(CameraRow)).scalar_one() == 0


def test_bulk_timestamps_compare_like_orm_timestamps(db_session: Session, make_camera: Any) -> None:
    """Bulk rows must store times exactly as the ORM does, or range filters miss them
    (on SQLite times are text, compared character by character)."""
    when = datetime(2026, 11, 21, 6, 0, 0, tzinfo=UTC)  # microsecond 0: the tricky case
    bulk.bulk_insert_cameras(db_session, cameras=[make_camera(i) for i in range(3)], now=when)
    db_session.commit()
    hits = db_session.execute(
        select(func.count()).select_from(CameraRow).where(CameraRow.updated_at >= when)
    )
    assert hits.scalar_one() == 3
    assert cameras.get_camera(db_session, camera_id="cam-000001").updated_at == when  # type: ignore[union-attr]


def test_bulk_owners_and_domain_cameras(db_session: Session, make_camera: Any) -> None:
    owners = [Owner(id=f"own-{i}", name=f"O{i}", kind=CameraKind.BUSINESS) for i in range(3)]
    assert bulk.bulk_insert_owners(db_session, owners=owners) == 3
    cams = [make_camera(i, owner_id="own-1") for i in range(5)]
    assert (
        bulk.bulk_insert_cameras(db_session, cameras=cams, secrets={"cam-000002": "rtsp://a:b@h/x"})
        == 5
    )
    db_session.commit()
    got = cameras.get_camera(db_session, camera_id="cam-000002")
    assert got is not None and got.stream_ref == "rtsp://h/x" and got.owner_id == "own-1"


def test_concurrent_writers_get_unique_ordered_change_numbers(
    db_url: str, make_camera: Any
) -> None:
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    errors: list[BaseException] = []
    per_thread = 15

    def writer(t: int) -> None:
        try:
            for j in range(per_thread):
                with factory() as s:
                    cameras.save_camera(s, camera=make_camera(t * 1000 + j))
                    s.commit()
        except Exception as exc:  # noqa: BLE001 - reported by the assert below, not swallowed
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    try:
        assert not errors, errors
        with factory() as s:
            seqs = s.execute(select(CameraRow.change_seq)).scalars().all()
            assert len(seqs) == 4 * per_thread == len(set(seqs))
            batch = cameras.changes_since(s, cursor=0, limit=1000)
            assert len(batch.changed) == 4 * per_thread
    finally:
        engine.dispose()


def test_change_numbers_follow_commit_order(db_url: str, make_camera: Any) -> None:
    """A second writer waits for the first to commit, so a reader never sees seq n+1
    committed while seq n is still in flight (which would make a sync client skip n)."""
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    first = factory()
    try:
        cameras.save_camera(first, camera=make_camera(1))
        done = threading.Event()

        def second_writer() -> None:
            with factory() as s:
                cameras.save_camera(s, camera=make_camera(2))
                s.commit()
            done.set()

        th = threading.Thread(target=second_writer)
        th.start()
        assert not done.wait(0.5), "the second writer must wait for the first to commit"
        first.commit()
        assert done.wait(20)
        th.join()
        with factory() as s:
            a = s.get(CameraRow, "cam-000001").change_seq  # type: ignore[union-attr]
            b = s.get(CameraRow, "cam-000002").change_seq  # type: ignore[union-attr]
            assert a < b
    finally:
        first.close()
        engine.dispose()


def test_seed_database_and_deferred_indexes_on_both_backends(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rtcc_console.sim import seed
    from rtcc_console.store import migrate

    monkeypatch.setattr(seed, "BIG_LOAD", 100)  # take the drop-and-rebuild index path
    registry = seed.generate_registry(seed=5, n_registered=270, n_integrated=30)
    stats = seed.seed_database(db_url, registry)
    assert stats["cameras"] == 300 and stats["owners"] == len(registry.owners)
    assert migrate.schema_diff(db_url) == []  # every index is back
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as s:
            got = {c.id: c for c in cameras.list_cameras(s, limit=1000).items}
            for cam in registry.cameras:
                stored = got[cam.id]
                stored.updated_at = None
                stored.confirmed_at = None  # the load's time (or the seeded stale history)
                assert stored == cam
            some = next(iter(registry.secrets))
            assert cameras.stream_secret(s, camera_id=some) == (registry.secrets[some], None)
            if s.get_bind().dialect.name == "postgresql":  # the PostGIS index is rebuilt too
                from sqlalchemy import text

                assert s.execute(
                    text("SELECT 1 FROM pg_indexes WHERE indexname = 'ix_cameras_geog'")
                ).first()
    finally:
        engine.dispose()
