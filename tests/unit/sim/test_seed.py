"""Demo registry: Connect Dallas figures, determinism, geography, credential separation."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from rtcc_console.core.models import CameraKind, SharingMode, Tier
from rtcc_console.sim import dallas
from rtcc_console.sim.seed import Registry, generate_registry, main, seed_database, split_counts


@pytest.fixture(scope="module")
def registry() -> Registry:
    return generate_registry(seed=7)


def test_default_figures_are_connect_dallas(registry: Registry) -> None:
    tiers = Counter(c.tier for c in registry.cameras)
    assert tiers == {Tier.REGISTERED: 2306, Tier.INTEGRATED: 276}
    assert len({c.id for c in registry.cameras}) == 2582
    assert split_counts(2582) == (2306, 276)
    reg, integ = split_counts(1_000_000)
    assert reg + integ == 1_000_000 and abs(integ / 1_000_000 - 276 / 2582) < 1e-6
    with pytest.raises(ValueError):
        split_counts(1_000_001)


def test_same_seed_same_registry_different_seed_different(registry: Registry) -> None:
    again = generate_registry(seed=7)
    assert again.cameras == registry.cameras and again.owners == registry.owners
    assert again.secrets == registry.secrets
    other = generate_registry(seed=8)
    assert [c.location for c in other.cameras] != [c.location for c in registry.cameras]


def test_every_camera_inside_the_outline_and_denser_downtown(registry: Registry) -> None:
    lats = np.array([c.location.lat for c in registry.cameras])
    lons = np.array([c.location.lon for c in registry.cameras])
    assert dallas.inside(lats, lons).all()
    # The outline is not its bounding box: a corner of the box is outside the city.
    min_lat, min_lon, max_lat, max_lon = dallas.bounds()
    assert not dallas.inside(np.array([max_lat - 0.001]), np.array([min_lon + 0.001]))[0]
    from rtcc_console.core.geo import haversine_m_arrays

    downtown = (
        haversine_m_arrays(dallas.DOWNTOWN.lat, dallas.DOWNTOWN.lon, lats, lons) < 3000
    ).sum()
    far_north = (haversine_m_arrays(32.97, -96.87, lats, lons) < 3000).sum()  # inside, no hub near
    assert dallas.inside(np.array([32.97]), np.array([-96.87]))[0]
    assert downtown > 3 * far_north > 0


def test_mix_of_kinds_owners_and_sharing_modes(registry: Registry) -> None:
    cams = registry.cameras
    assert all(
        c.sharing_mode is SharingMode.REQUEST_ONLY for c in cams if c.tier is Tier.REGISTERED
    )
    integrated = [c for c in cams if c.tier is Tier.INTEGRATED]
    assert all(c.sharing_mode is not SharingMode.REQUEST_ONLY for c in integrated)
    biz_school = [c for c in integrated if c.kind in (CameraKind.BUSINESS, CameraKind.SCHOOL)]
    emergency = sum(c.sharing_mode is SharingMode.LIVE_IN_EMERGENCY for c in biz_school)
    assert emergency > 0.6 * len(biz_school)
    assert set(Counter(c.kind for c in cams)) == set(CameraKind)
    owners = {o.id: o for o in registry.owners}
    per_owner = Counter(c.owner_id for c in cams)
    assert all(c.owner_id in owners and owners[c.owner_id].kind is c.kind for c in cams)
    multi = [oid for oid, n in per_owner.items() if n > 1]
    assert any(owners[o].kind is CameraKind.BUSINESS for o in multi)
    assert any(owners[o].kind is CameraKind.SCHOOL for o in multi)
    with_heading = sum(c.heading_deg is not None for c in cams) / len(cams)
    assert 0.75 < with_heading < 0.85
    assert all(c.address and c.address.split(" ", 1)[0].isdigit() for c in cams)


def test_stream_urls_pool_and_credentials_only_in_secrets(registry: Registry) -> None:
    integrated = [c for c in registry.cameras if c.tier is Tier.INTEGRATED]
    assert set(registry.secrets) == {c.id for c in integrated}
    assert all(c.stream_ref is None for c in registry.cameras if c.tier is Tier.REGISTERED)
    assert all("@" not in (c.stream_ref or "") for c in registry.cameras)
    with_creds = [cid for cid, url in registry.secrets.items() if "@" in url]
    assert 0.12 < len(with_creds) / len(integrated) < 0.28
    ordered = sorted(integrated, key=lambda c: c.id)
    assert [c.stream_ref for c in ordered[:3]] == [
        f"rtsp://127.0.0.1:8554/cam/{i}" for i in range(3)
    ]
    assert ordered[64].stream_ref == "rtsp://127.0.0.1:8554/cam/0"
    small = generate_registry(
        seed=1, n_registered=0, n_integrated=10, stream_base="http://h/s{index}.m3u8", stream_pool=4
    )
    assert sorted({c.stream_ref for c in small.cameras}) == [
        f"http://h/s{i}.m3u8" for i in range(4)
    ]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="index"):
        generate_registry(seed=1, stream_base="rtsp://h/fixed")
    with pytest.raises(ValueError):
        generate_registry(seed=1, n_registered=-1)
    with pytest.raises(ValueError):
        generate_registry(seed=1, stream_pool=0)
    with pytest.raises(ValueError, match="template"):
        generate_registry(seed=1, stream_base="rtsp://h/{index}/{camera}")


def test_template_with_its_own_credentials_is_not_mangled() -> None:
    reg = generate_registry(
        seed=2, n_registered=0, n_integrated=40, stream_base="rtsp://ops:pw@h/{index}"
    )
    assert all(url.startswith("rtsp://ops:pw@h/") for url in reg.secrets.values())
    assert all(
        c.stream_ref is not None and c.stream_ref.startswith("rtsp://h/") for c in reg.cameras
    )


def test_a_small_fixed_share_of_cameras_starts_stale(registry: Registry) -> None:
    stale = [c for c in registry.cameras if c.stale]
    assert [c.id for c in stale] == registry.stale_ids
    assert 0.01 < len(stale) / len(registry.cameras) < 0.03
    assert generate_registry(seed=7).stale_ids == registry.stale_ids  # deterministic
    assert registry.summary()["stale"] == len(stale)
    # spread over the city, both tiers possible: not one cluster
    lats = [c.location.lat for c in stale]
    assert max(lats) - min(lats) > 0.1


def test_camera_rows_match_the_bulk_loader_layout(registry: Registry) -> None:
    from rtcc_console.store.bulk import CAMERA_ROW_FIELDS, camera_row

    rows = list(registry.camera_rows())
    assert all(len(r) == len(CAMERA_ROW_FIELDS) for r in rows)
    assert rows[:50] == [camera_row(c) for c in registry.cameras[:50]]


def test_seed_database_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sqlalchemy import func, select, text

    from rtcc_console.store.db import make_engine
    from rtcc_console.store.schema import CameraRow, CameraSecretRow, OwnerRow

    url = f"sqlite:///{tmp_path / 'seed.sqlite'}"
    assert main(["--city", "dallas", "--cameras", "500", "--seed", "3", "--db", url, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (
        report["registered"] + report["integrated"] == 500
        and report["integrated"] == split_counts(500)[1]
    )
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(CameraRow)).scalar_one() == 500
            assert (
                conn.execute(select(func.count()).select_from(OwnerRow)).scalar_one()
                == report["owners"]
            )
            public = " ".join(
                str(v) for row in conn.execute(text("SELECT * FROM cameras")) for v in row
            )
            assert "viewer" not in public and "@" not in public
            n_secret_creds = conn.execute(
                select(func.count())
                .select_from(CameraSecretRow)
                .where(CameraSecretRow.stream_url_full.like("%@%"))
            ).scalar_one()
            assert n_secret_creds == report["with_credentials"] > 0
            # ~2 % start stale (never confirmed last year), the same ones as the registry says
            stale = set(
                conn.execute(
                    select(CameraRow.id).where(CameraRow.stale_since.is_not(None))
                ).scalars()
            )
            assert 0 < len(stale) == report["stale"] < 500 * 0.05
            again = generate_registry(
                seed=3, n_registered=split_counts(500)[0], n_integrated=split_counts(500)[1]
            )
            assert stale == set(again.stale_ids)
            old = conn.execute(
                select(
                    CameraRow.confirmed_at, CameraRow.confirm_asked_at, CameraRow.stale_since
                ).where(CameraRow.id.in_(sorted(stale)))
            ).all()
            assert all(c < a < s for c, a, s in old)
            assert all(s - c > timedelta(days=365) for c, _a, s in old)
            fresh = conn.execute(
                select(func.count())
                .select_from(CameraRow)
                .where(
                    CameraRow.stale_since.is_(None),
                    CameraRow.confirm_asked_at.is_(None),
                    CameraRow.confirmed_at.is_not(None),
                )
            ).scalar_one()
            assert fresh == 500 - len(stale)
        # seeding again refuses, and loses nothing; --replace replaces
        assert main(["--cameras", "10", "--db", url]) == 2
        assert "--replace" in capsys.readouterr().err
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(CameraRow)).scalar_one() == 500
        stats = seed_database(
            url, generate_registry(seed=1, n_registered=9, n_integrated=1), replace=True
        )
        assert stats["cameras"] == 10
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(CameraRow)).scalar_one() == 10
    finally:
        engine.dispose()
