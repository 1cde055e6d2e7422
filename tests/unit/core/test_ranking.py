"""Ranking puts the camera that sees the scene first, explains itself, and never returns
revoked or out-of-radius cameras."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtcc_console.core import geo
from rtcc_console.core.index import CameraIndex
from rtcc_console.core.models import Camera, CameraKind, GeoPoint, SharingMode, Tier
from rtcc_console.core.ranking import (
    format_distance,
    nearest_ranked,
    rank_cameras,
)

CALL = GeoPoint(32.7767, -96.7970)


def camera_at(
    cid: str,
    bearing_from_call: float,
    distance_m: float,
    *,
    facing: str | float | None = None,
    kind: CameraKind = CameraKind.BUSINESS,
    tier: Tier = Tier.REGISTERED,
    sharing: SharingMode = SharingMode.REQUEST_ONLY,
    fov: float | None = 90.0,
    range_m: float | None = None,
    revoked: bool = False,
) -> Camera:
    """A camera placed relative to the call; ``facing`` "scene"/"away" aims it."""
    loc = geo.destination_point(CALL, bearing_from_call, distance_m)
    heading: float | None
    if facing == "scene":
        heading = geo.initial_bearing_deg(loc, CALL)
    elif facing == "away":
        heading = (geo.initial_bearing_deg(loc, CALL) + 180.0) % 360.0
    else:
        heading = facing if isinstance(facing, float | int) else None
    return Camera(
        id=cid,
        name=cid,
        tier=tier,
        location=loc,
        kind=kind,
        sharing_mode=sharing,
        heading_deg=heading,
        fov_deg=fov,
        range_m=range_m,
        revoked=revoked,
    )


def ids(ranked: list) -> list[str]:
    return [r.camera.id for r in ranked]


def test_facing_scene_at_80_m_beats_facing_away_at_30_m() -> None:
    near_away = camera_at("near-away", 10, 30, facing="away")
    far_facing = camera_at("far-facing", 200, 80, facing="scene")
    ranked = rank_cameras(CALL, [near_away, far_facing], radius_m=300)
    assert ids(ranked) == ["far-facing", "near-away"]
    assert ranked[0].covers_scene is True and ranked[1].covers_scene is False
    assert ranked[0].explanation == "80 m S, facing the scene"
    assert ranked[1].explanation == "30 m N, facing away"


def test_unknown_view_sits_between_facing_and_away() -> None:
    cams = [
        camera_at("away", 90, 40, facing="away"),
        camera_at("unknown", 180, 60, facing=None),
        camera_at("facing", 270, 90, facing="scene"),
    ]
    ranked = rank_cameras(CALL, cams, radius_m=500)
    assert ids(ranked) == ["facing", "unknown", "away"]
    assert [r.covers_scene for r in ranked] == [True, None, False]
    assert ranked[1].explanation == "60 m S, view unknown"
    assert ranked[2].explanation == "40 m E, facing away"


def test_beyond_the_radius_is_never_included_and_revoked_is_excluded() -> None:
    cams = [
        camera_at("inside", 0, 290, facing="scene"),
        camera_at("outside", 0, 310, facing="scene"),
        camera_at("revoked", 0, 20, facing="scene", revoked=True),
    ]
    assert ids(rank_cameras(CALL, cams, radius_m=300)) == ["inside"]


def test_facing_but_beyond_range_is_not_covering() -> None:
    home = camera_at("home", 45, 80, facing="scene", kind=CameraKind.RESIDENTIAL)  # default 60 m
    shop = camera_at("shop", 225, 80, facing="scene", kind=CameraKind.BUSINESS)  # default 100 m
    long_lens = camera_at("long", 135, 150, facing="scene", range_m=200)
    ranked = rank_cameras(CALL, [home, shop, long_lens], radius_m=300)
    assert ids(ranked) == ["shop", "long", "home"]
    assert ranked[2].covers_scene is False
    assert ranked[2].explanation == "80 m NE, facing the scene, beyond its 60 m range"


def test_narrow_field_of_view_is_respected() -> None:
    loc_bearing = 0.0
    cam = camera_at("narrow", loc_bearing, 50, facing=None, fov=20)
    to_scene = geo.initial_bearing_deg(cam.location, CALL)
    slightly_off = Camera(**{**_fields(cam), "heading_deg": (to_scene + 15) % 360})
    on_axis = Camera(**{**_fields(cam), "id": "on-axis", "heading_deg": (to_scene + 5) % 360})
    ranked = rank_cameras(CALL, [slightly_off, on_axis])
    assert [(r.camera.id, r.covers_scene) for r in ranked] == [("on-axis", True), ("narrow", False)]


def _fields(cam: Camera) -> dict[str, object]:
    return {name: getattr(cam, name) for name in cam.__slots__}  # type: ignore[attr-defined]


def test_live_capable_gets_a_small_bonus_but_not_over_coverage() -> None:
    plain = camera_at("plain", 0, 100, facing="scene")
    live = camera_at(
        "live", 180, 120, facing="scene", tier=Tier.INTEGRATED, sharing=SharingMode.LIVE_ALWAYS
    )
    live_away = camera_at(
        "live-away", 90, 15, facing="away", tier=Tier.INTEGRATED, sharing=SharingMode.LIVE_ALWAYS
    )
    ranked = rank_cameras(CALL, [plain, live, live_away], radius_m=300)
    assert ids(ranked) == ["live", "plain", "live-away"]
    assert ranked[0].score > ranked[1].score > ranked[2].score


def test_at_the_scene_counts_as_covering_whatever_the_heading() -> None:
    cam = camera_at("doorbell", 0, 4, facing="away")
    (ranked,) = rank_cameras(CALL, [cam])
    assert ranked.covers_scene is True
    assert ranked.explanation == "4 m N, at the scene"


def test_tie_break_is_distance_then_id_and_deterministic() -> None:
    a = camera_at("b-cam", 90, 50, facing=None)
    b = camera_at("a-cam", 90, 50, facing=None)
    c = camera_at("c-cam", 270, 49, facing=None)
    first = rank_cameras(CALL, [a, b, c])
    second = rank_cameras(CALL, [c, b, a])
    assert ids(first) == ids(second) == ["c-cam", "a-cam", "b-cam"]


@given(
    st.lists(
        st.tuples(st.floats(0, 360), st.floats(0, 900), st.sampled_from(["scene", "away", None])),
        max_size=25,
    ),
    st.integers(1, 10),
)
def test_ranking_is_sorted_bounded_and_within_radius(
    specs: list[tuple[float, float, str | None]], k: int
) -> None:
    cams = [camera_at(f"c{i}", b, d, facing=f) for i, (b, d, f) in enumerate(specs)]
    ranked = rank_cameras(CALL, cams, k=k, radius_m=600)
    certain = sum(1 for _, d, _ in specs if d <= 600 - 1e-6)
    maybe = sum(1 for _, d, _ in specs if d <= 600 + 1e-6)  # destination_point round-off
    assert min(k, certain) <= len(ranked) <= min(k, maybe)
    assert all(r.distance_m <= 600 for r in ranked)
    keys = [(-r.score, r.distance_m, r.camera.id) for r in ranked]
    assert keys == sorted(keys)
    for r in ranked:
        if r.covers_scene is True:  # covering always outranks facing away within the radius
            assert all(r.score > o.score for o in ranked if o.covers_scene is False)


def test_nearest_ranked_uses_the_index_and_ranks() -> None:
    cams = [camera_at(f"n{i}", i * 30, 20 + i * 5, facing="away") for i in range(12)]
    cams.append(camera_at("seer", 100, 95, facing="scene"))
    cams.append(camera_at("far", 100, 2000, facing="scene"))
    index = CameraIndex.from_cameras(cams)
    ranked = nearest_ranked(index, CALL, k=3, radius_m=500)
    assert ids(ranked)[0] == "seer"
    assert len(ranked) == 3 and "far" not in ids(ranked)
    assert ranked[0].distance_m == pytest.approx(95, abs=1e-6)
    assert geo.angle_difference_deg(ranked[0].bearing_deg, 100) < 1e-6


def test_nearest_ranked_needs_camera_records() -> None:
    index = CameraIndex.from_arrays(["x"], [CALL.lat], [CALL.lon])
    with pytest.raises(ValueError, match="Camera records"):
        nearest_ranked(index, CALL, k=1, radius_m=100)


@pytest.mark.parametrize("k", [0, -3, 2.5])
def test_bad_k_is_a_clear_error(k: object) -> None:
    with pytest.raises(ValueError, match="k must be a positive integer"):
        rank_cameras(CALL, [], k=k)  # type: ignore[arg-type]


@pytest.mark.parametrize("radius", [-1.0, math.nan, math.inf])
def test_bad_radius_is_a_clear_error(radius: float) -> None:
    with pytest.raises(ValueError, match="radius_m"):
        rank_cameras(CALL, [camera_at("a", 0, 10)], radius_m=radius)


@pytest.mark.parametrize(
    ("metres", "text"),
    [(0.2, "0 m"), (62.4, "62 m"), (999.4, "999 m"), (999.6, "1.0 km"), (1449, "1.4 km")],
)
def test_format_distance(metres: float, text: str) -> None:
    assert format_distance(metres) == text


def test_is_live_overrides_who_earns_the_live_bonus() -> None:
    emergency_only = camera_at(
        "school", 0, 100, facing=None, tier=Tier.INTEGRATED, sharing=SharingMode.LIVE_IN_EMERGENCY
    )
    plain = camera_at("plain", 180, 90, facing=None)
    assert ids(rank_cameras(CALL, [emergency_only, plain], radius_m=300)) == ["school", "plain"]
    no_emergency = rank_cameras(
        CALL, [emergency_only, plain], radius_m=300, is_live=lambda c: False
    )
    assert ids(no_emergency) == ["plain", "school"]
