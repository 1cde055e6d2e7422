"""CameraIndex answers exactly what a brute-force haversine scan answers, before and after
incremental updates, with and without filters."""

from __future__ import annotations

import math
from dataclasses import FrozenInstanceError, replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtcc_console.core import geo
from rtcc_console.core.index import CameraIndex, NearestHit
from rtcc_console.core.models import (
    Camera,
    CameraKind,
    CircleFence,
    GeoPoint,
    PolygonFence,
    SharingMode,
    Tier,
)

TOL_M = 1e-6  # distances closer than this to a boundary may fall either way

# Coordinates over a few km of Dallas; a coarse grid creates exact ties and duplicates.
lat_st = st.one_of(st.floats(32.70, 32.80), st.integers(0, 20).map(lambda i: 32.70 + i * 0.005))
lon_st = st.one_of(st.floats(-96.85, -96.75), st.integers(0, 20).map(lambda i: -96.85 + i * 0.005))
point_st = st.builds(GeoPoint, lat_st, lon_st)
tier_st = st.sampled_from([Tier.REGISTERED, Tier.INTEGRATED])


def make_camera(
    i: int | str, p: GeoPoint, tier: Tier = Tier.REGISTERED, revoked: bool = False
) -> Camera:
    return Camera(
        id=str(i) if isinstance(i, str) else f"cam-{i:04d}",
        name=f"Camera {i}",
        tier=tier,
        location=p,
        kind=CameraKind.BUSINESS,
        sharing_mode=SharingMode.REQUEST_ONLY
        if tier is Tier.REGISTERED
        else SharingMode.LIVE_ALWAYS,
        revoked=revoked,
    )


cameras_st = st.lists(
    st.builds(lambda p, t, r: (p, t, r), point_st, tier_st, st.booleans()), min_size=0, max_size=60
).map(lambda rows: [make_camera(i, p, t, r) for i, (p, t, r) in enumerate(rows)])


def _eligible(cams: dict[str, Camera], tier: Tier | None, include_revoked: bool) -> list[Camera]:
    return [
        c
        for c in cams.values()
        if (tier is None or c.tier is tier) and (include_revoked or not c.revoked)
    ]


def brute_knn(
    cams: dict[str, Camera],
    q: GeoPoint,
    k: int,
    radius: float | None,
    tier: Tier | None = None,
    include_revoked: bool = False,
) -> list[tuple[float, str]]:
    scored = sorted(
        (geo.haversine_m(q, c.location), c.id) for c in _eligible(cams, tier, include_revoked)
    )
    if radius is not None:
        scored = [s for s in scored if s[0] <= radius + TOL_M]
    return scored


def assert_knn_matches(
    hits: list[NearestHit], ref: list[tuple[float, str]], k: int, radius: float | None
) -> None:
    """The index's answer is a correct k-nearest answer: same distances as the reference
    and the same ids, except where the reference itself is ambiguous within TOL_M."""
    dists = [h.distance_m for h in hits]
    assert dists == sorted(dists)
    certain = [r for r in ref if radius is None or r[0] <= radius - TOL_M]
    expected_n = min(k, len(certain)) if len(certain) >= k else None
    if expected_n is not None:
        assert len(hits) == k
    else:
        assert len(certain) <= len(hits) <= min(k, len(ref))
    assert dists == pytest.approx([r[0] for r in ref[: len(hits)]], abs=TOL_M)
    if not hits:
        return
    last = dists[-1]
    must = {cid for d, cid in ref if d < last - TOL_M}
    may = {cid for d, cid in ref if d <= last + TOL_M}
    got = {h.camera_id for h in hits}
    assert len(got) == len(hits)
    assert must <= got <= may


def assert_set_matches(
    hits: list[NearestHit],
    cams: list[Camera],
    inside: list[bool],
    dist: list[float],
    boundary: float | None,
) -> None:
    got = {h.camera_id for h in hits}
    for cam, ok, d in zip(cams, inside, dist, strict=True):
        if boundary is not None and abs(d - boundary) <= TOL_M:
            continue
        assert (cam.id in got) is ok, (cam.id, d, boundary)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    cameras_st,
    point_st,
    st.integers(1, 12),
    st.one_of(st.none(), st.floats(0, 8000)),
    st.one_of(st.none(), tier_st),
    st.booleans(),
)
def test_knn_matches_brute_force(
    cameras: list[Camera],
    q: GeoPoint,
    k: int,
    radius: float | None,
    tier: Tier | None,
    include_revoked: bool,
) -> None:
    index = CameraIndex.from_cameras(cameras)
    cams = {c.id: c for c in cameras}
    hits = index.nearest(q, k, radius_m=radius, tier=tier, include_revoked=include_revoked)
    assert_knn_matches(hits, brute_knn(cams, q, k, radius, tier, include_revoked), k, radius)
    for h in hits:
        cam = cams[h.camera_id]
        assert h.distance_m == pytest.approx(geo.haversine_m(q, cam.location), abs=TOL_M)
        if h.distance_m > 1:
            assert (
                geo.angle_difference_deg(h.bearing_deg, geo.initial_bearing_deg(q, cam.location))
                < 1e-6
            )


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(cameras_st, point_st, st.floats(0, 6000), st.one_of(st.none(), tier_st), st.booleans())
def test_within_radius_matches_brute_force(
    cameras: list[Camera], q: GeoPoint, radius: float, tier: Tier | None, include_revoked: bool
) -> None:
    index = CameraIndex.from_cameras(cameras)
    hits = index.within_radius(q, radius, tier=tier, include_revoked=include_revoked)
    eligible = _eligible({c.id: c for c in cameras}, tier, include_revoked)
    dist = [geo.haversine_m(q, c.location) for c in eligible]
    assert_set_matches(hits, eligible, [d <= radius for d in dist], dist, radius)
    assert (
        len({h.camera_id for h in hits})
        == len(hits)
        == len([h for h in hits if h.camera_id in {c.id for c in eligible}])
    )
    assert [h.distance_m for h in hits] == sorted(h.distance_m for h in hits)


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(cameras_st, point_st, st.floats(1, 6000))
def test_within_circle_fence_matches_brute_force(
    cameras: list[Camera], c: GeoPoint, radius: float
) -> None:
    index = CameraIndex.from_cameras(cameras)
    fence = CircleFence(c, radius)
    hits = index.within_fence(fence, include_revoked=True)
    dist = [geo.haversine_m(c, cam.location) for cam in cameras]
    assert_set_matches(hits, cameras, [d <= radius for d in dist], dist, radius)


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(cameras_st, st.lists(point_st, min_size=3, max_size=8), st.one_of(st.none(), tier_st))
def test_within_polygon_fence_matches_brute_force(
    cameras: list[Camera], vertices: list[GeoPoint], tier: Tier | None
) -> None:
    index = CameraIndex.from_cameras(cameras)
    fence = PolygonFence(tuple(vertices))
    hits = index.within_fence(fence, tier=tier)
    eligible = _eligible({c.id: c for c in cameras}, tier, False)
    inside = [geo.fence_contains(fence, cam.location) for cam in eligible]
    assert {h.camera_id for h in hits} == {
        cam.id for cam, ok in zip(eligible, inside, strict=True) if ok
    }


# ---------------------------------------------------------------- incremental updates
op_st = st.one_of(
    st.tuples(st.just("upsert"), st.integers(0, 40), point_st, tier_st, st.booleans()),
    st.tuples(st.just("move"), st.integers(0, 40), point_st),
    st.tuples(st.just("remove"), st.integers(0, 40)),
    st.tuples(st.just("revoke"), st.integers(0, 40), st.booleans()),
)


@settings(max_examples=120, suppress_health_check=[HealthCheck.too_slow])
@given(
    cameras_st,
    st.lists(op_st, max_size=40),
    st.integers(0, 6),
    point_st,
    st.integers(1, 8),
    st.one_of(st.none(), st.floats(0, 6000)),
    st.one_of(st.none(), tier_st),
)
def test_updates_keep_answers_exact(
    cameras: list[Camera],
    ops: list[tuple],
    max_delta: int,
    q: GeoPoint,
    k: int,
    radius: float | None,
    tier: Tier | None,
) -> None:
    index = CameraIndex.from_cameras(cameras, max_delta=max_delta)
    model = {c.id: c for c in cameras}
    for op in ops:
        cid = f"cam-{op[1]:04d}"
        if op[0] == "upsert":
            cam = make_camera(op[1], op[2], op[3], op[4])
            index.upsert(cam)
            model[cid] = cam
        elif op[0] == "move":
            if cid in model:
                index.move(cid, op[2])
                model[cid] = replace(model[cid], location=op[2])
            else:
                with pytest.raises(KeyError):
                    index.move(cid, op[2])
        elif op[0] == "remove":
            assert index.remove(cid) is (model.pop(cid, None) is not None)
        elif cid in model:
            index.set_revoked(cid, op[2])
            model[cid] = replace(model[cid], revoked=op[2])
    assert len(index) == len(model)
    assert set(index.camera_ids()) == set(model)
    for cid, cam in model.items():
        assert index.get(cid) == cam
    hits = index.nearest(q, k, radius_m=radius, tier=tier)
    assert_knn_matches(hits, brute_knn(model, q, k, radius, tier), k, radius)
    if radius is not None:
        ring = index.within_radius(q, radius, tier=tier, include_revoked=True)
        eligible = _eligible(model, tier, True)
        dist = [geo.haversine_m(q, c.location) for c in eligible]
        assert_set_matches(ring, eligible, [d <= radius for d in dist], dist, radius)


def test_crossing_the_rebuild_threshold_rebuilds_and_stays_exact() -> None:
    rng = np.random.default_rng(7)
    cams = [
        make_camera(i, GeoPoint(32.7 + rng.random() * 0.1, -96.85 + rng.random() * 0.1))
        for i in range(200)
    ]
    index = CameraIndex.from_cameras(cams, max_delta=10)
    model = {c.id: c for c in cams}
    for i in range(200, 230):  # 30 adds, 30 moves, 60 removes: crosses both thresholds
        cam = make_camera(i, GeoPoint(32.7 + rng.random() * 0.1, -96.85 + rng.random() * 0.1))
        index.add(cam)
        model[cam.id] = cam
        moved = f"cam-{i - 200:04d}"
        p = GeoPoint(32.7 + rng.random() * 0.1, -96.85 + rng.random() * 0.1)
        index.move(moved, p)
        model[moved] = replace(model[moved], location=p)
        for gone in (f"cam-{i - 150:04d}", f"cam-{i - 100:04d}"):
            index.remove(gone)
            model.pop(gone)
        q = GeoPoint(32.75, -96.8)
        assert_knn_matches(index.nearest(q, 7), brute_knn(model, q, 7, None), 7, None)
    assert index.rebuilds >= 2
    assert len(index) == len(model) == 170


def test_filters_still_return_k_when_enough_qualify() -> None:
    """99 registered cameras crowd the query point; the 5 integrated ones are far away."""
    center = GeoPoint(32.78, -96.80)
    cams = [make_camera(i, geo.destination_point(center, i * 3.6, 10 + i)) for i in range(99)]
    cams += [
        make_camera(100 + i, geo.destination_point(center, i * 70, 3000 + i), Tier.INTEGRATED)
        for i in range(5)
    ]
    cams += [make_camera(200, geo.destination_point(center, 0, 5), Tier.INTEGRATED, revoked=True)]
    index = CameraIndex.from_cameras(cams)
    hits = index.nearest(center, 5, tier=Tier.INTEGRATED)
    assert [h.camera_id for h in hits] == [f"cam-{100 + i:04d}" for i in range(5)]
    with_revoked = index.nearest(center, 1, tier=Tier.INTEGRATED, include_revoked=True)
    assert with_revoked[0].camera_id == "cam-0200"
    odd = index.nearest(center, 10, where=lambda c: int(c.id[-4:]) % 2 == 1)
    assert len(odd) == 10 and all(int(h.camera_id[-4:]) % 2 == 1 for h in odd)
    assert index.nearest(center, 5, tier=Tier.INTEGRATED, radius_m=1000) == []


def test_hits_carry_distance_and_bearing_from_the_query_point() -> None:
    center = GeoPoint(32.78, -96.80)
    index = CameraIndex.from_cameras(
        [
            make_camera("north", geo.destination_point(center, 0, 120)),
            make_camera("east", geo.destination_point(center, 90, 80)),
        ]
    )
    east, north = index.nearest(center, 2)
    assert east == NearestHit(east.camera_id, east.distance_m, east.bearing_deg)
    with pytest.raises(FrozenInstanceError):
        east.distance_m = 1.0  # type: ignore[misc]
    assert (east.camera_id, north.camera_id) == ("east", "north")
    assert east.distance_m == pytest.approx(80, abs=1e-6)
    assert east.bearing_deg == pytest.approx(90, abs=1e-6)
    assert geo.angle_difference_deg(north.bearing_deg, 0) < 1e-6


def test_ties_are_broken_by_camera_id() -> None:
    p = GeoPoint(32.78, -96.80)
    names = [f"id-{(i * 37) % 101:03d}" for i in range(101)]  # a shuffled order
    index = CameraIndex.from_cameras([make_camera(name, p) for name in names])
    q = GeoPoint(32.781, -96.80)
    assert [h.camera_id for h in index.nearest(q, 3)] == ["id-000", "id-001", "id-002"]
    index.add(make_camera("0-added-later", p))  # ties across the tree and the delta
    assert [h.camera_id for h in index.nearest(q, 2)] == ["0-added-later", "id-000"]


def test_array_fast_path_matches_public_api() -> None:
    rng = np.random.default_rng(3)
    lats, lons = rng.uniform(32.62, 33.02, 5000), rng.uniform(-97.0, -96.55, 5000)
    ids = [f"p{i}" for i in range(5000)]
    index = CameraIndex.from_arrays(ids, lats, lons)
    assert len(index) == 5000 and index.get("p1") is None
    assert index.location_of("p1") == GeoPoint(float(lats[1]), float(lons[1]))
    q = GeoPoint(32.8, -96.8)
    got_ids, dist = index.nearest_ids(q.lat, q.lon, 10)
    ref = geo.haversine_m_arrays(q.lat, q.lon, lats, lons)
    assert set(got_ids) == {ids[i] for i in np.argsort(ref)[:10]}
    assert [h.camera_id for h in index.nearest(q, 10)] == got_ids
    ring_ids, ring_d = index.within_radius_ids(q.lat, q.lon, 1500)
    assert set(ring_ids) == {ids[i] for i in np.flatnonzero(ref <= 1500)}
    assert (ring_d <= 1500).all()


def test_empty_index_answers_empty() -> None:
    index = CameraIndex()
    q = GeoPoint(32.78, -96.80)
    assert index.nearest(q, 3) == []
    assert index.within_radius(q, 500) == []
    assert index.within_fence(CircleFence(q, 100)) == []
    index.add(make_camera(1, q))
    assert [h.camera_id for h in index.nearest(q, 3)] == ["cam-0001"]


@pytest.mark.parametrize("k", [0, -1, 1.5, True])
def test_bad_k_is_a_clear_error(k: object) -> None:
    index = CameraIndex.from_cameras([make_camera(1, GeoPoint(32.78, -96.8))])
    with pytest.raises(ValueError, match="k must be a positive integer"):
        index.nearest(GeoPoint(32.78, -96.8), k)  # type: ignore[arg-type]


def test_bad_query_input_is_a_clear_error_and_changes_nothing() -> None:
    cam = make_camera(1, GeoPoint(32.78, -96.8))
    index = CameraIndex.from_cameras([cam])
    with pytest.raises(ValueError, match="finite"):
        index.nearest_ids(math.nan, -96.8, 3)
    with pytest.raises(ValueError, match="out of range"):
        index.within_radius_ids(91.0, -96.8, 10)
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="radius_m"):
            index.within_radius(cam.location, bad)
        with pytest.raises(ValueError, match="radius_m"):
            index.nearest(cam.location, 2, radius_m=bad)
    with pytest.raises(ValueError, match="already in the index"):
        index.add(cam)
    with pytest.raises(KeyError):
        index.set_revoked("nope")
    assert index.remove("nope") is False
    assert [h.camera_id for h in index.nearest(cam.location, 5)] == ["cam-0001"]


def test_bad_bulk_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="invalid coordinates"):
        CameraIndex.from_arrays(["a", "b"], [32.7, math.nan], [-96.8, -96.8])
    with pytest.raises(ValueError, match="unique"):
        CameraIndex.from_arrays(["a", "a"], [32.7, 32.8], [-96.8, -96.8])
    with pytest.raises(ValueError, match="same length"):
        CameraIndex.from_arrays(["a"], [32.7, 32.8], [-96.8, -96.8])


def test_predicate_on_array_only_rows_is_a_clear_error() -> None:
    index = CameraIndex.from_arrays(["a"], [32.7], [-96.8])
    with pytest.raises(ValueError, match="Camera record"):
        index.nearest(GeoPoint(32.7, -96.8), 1, where=lambda c: True)


def test_upsert_changes_attributes_in_place() -> None:
    p = GeoPoint(32.78, -96.80)
    cam = make_camera(1, p)
    index = CameraIndex.from_cameras([cam, make_camera(2, geo.destination_point(p, 0, 50))])
    index.upsert(replace(cam, tier=Tier.INTEGRATED, revoked=True))
    assert index.nearest(p, 1)[0].camera_id == "cam-0002"  # revoked is excluded by default
    assert index.nearest(p, 1, tier=Tier.INTEGRATED) == []
    assert (
        index.nearest(p, 1, tier=Tier.INTEGRATED, include_revoked=True)[0].camera_id == "cam-0001"
    )
    index.set_revoked("cam-0001", False)
    assert index.get("cam-0001") is not None and index.get("cam-0001").revoked is False  # type: ignore[union-attr]
    assert index.nearest(p, 1)[0].camera_id == "cam-0001"


def test_many_removals_trigger_a_compacting_rebuild() -> None:
    rng = np.random.default_rng(11)
    cams = [
        make_camera(i, GeoPoint(32.7 + rng.random() * 0.1, -96.85 + rng.random() * 0.1))
        for i in range(300)
    ]
    index = CameraIndex.from_cameras(cams, max_delta=1000)
    model = {c.id: c for c in cams}
    for i in range(0, 300, 3):  # 100 tombstones in the tree: more than a quarter
        assert index.remove(f"cam-{i:04d}")
        model.pop(f"cam-{i:04d}")
    assert index.rebuilds == 0  # lazily: nothing happens until the next query
    q = GeoPoint(32.75, -96.8)
    assert_knn_matches(index.nearest(q, 9), brute_knn(model, q, 9, None), 9, None)
    assert index.rebuilds == 1
    assert len(index) == 200


@pytest.mark.parametrize(
    "center", [GeoPoint(0.0, 179.999), GeoPoint(-10.0, -179.9995), GeoPoint(89.9995, 30.0)]
)
def test_exact_across_the_antimeridian_and_near_the_pole(center: GeoPoint) -> None:
    rng = np.random.default_rng(5)
    cams = [
        make_camera(i, geo.destination_point(center, rng.random() * 360, rng.random() * 3000))
        for i in range(300)
    ]
    index = CameraIndex.from_cameras(cams)
    model = {c.id: c for c in cams}
    assert_knn_matches(index.nearest(center, 12), brute_knn(model, center, 12, None), 12, None)
    ring = index.within_radius(center, 1500)
    dist = [geo.haversine_m(center, c.location) for c in cams]
    assert_set_matches(ring, cams, [d <= 1500 for d in dist], dist, 1500)
    assert len(ring) > 10
