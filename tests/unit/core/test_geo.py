"""Spherical geometry: distances, bearings, compass names, projections and fences."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtcc_console.core import geo
from rtcc_console.core.models import CircleFence, GeoPoint, PolygonFence

CITY_HALL = GeoPoint(32.7767, -96.7970)
LOVE_FIELD = GeoPoint(32.8471, -96.8518)

lat_st = st.floats(-80, 80, allow_nan=False)
lon_st = st.floats(-179.9, 179.9, allow_nan=False)
points = st.builds(GeoPoint, lat_st, lon_st)


def _vincenty_sphere_m(a: GeoPoint, b: GeoPoint) -> float:
    """Independent cross-check: the Vincenty formula on the same sphere (atan2 form)."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dl = math.radians(b.lon - a.lon)
    num = math.hypot(
        math.cos(p2) * math.sin(dl),
        math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl),
    )
    den = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return geo.EARTH_RADIUS_M * math.atan2(num, den)


def test_city_hall_to_love_field_is_about_9_3_km() -> None:
    d = geo.haversine_m(CITY_HALL, LOVE_FIELD)
    assert 9_200 < d < 9_400
    assert d == pytest.approx(_vincenty_sphere_m(CITY_HALL, LOVE_FIELD), abs=1e-6)
    assert geo.haversine_m(LOVE_FIELD, CITY_HALL) == pytest.approx(d, abs=1e-9)


def test_one_degree_of_latitude_is_111_2_km() -> None:
    d = geo.haversine_m(GeoPoint(0, 0), GeoPoint(1, 0))
    assert d == pytest.approx(math.pi * geo.EARTH_RADIUS_M / 180, rel=1e-12)


@given(points, points)
def test_haversine_matches_vincenty_and_array_variant(a: GeoPoint, b: GeoPoint) -> None:
    d = geo.haversine_m(a, b)
    assert d == pytest.approx(_vincenty_sphere_m(a, b), abs=1e-3)
    arr = geo.haversine_m_arrays(a.lat, a.lon, np.array([b.lat]), np.array([b.lon]))
    assert float(arr[0]) == pytest.approx(d, abs=1e-6)


def test_bearings_to_cardinal_neighbours() -> None:
    o = GeoPoint(32.78, -96.80)
    assert geo.initial_bearing_deg(o, GeoPoint(32.79, -96.80)) == pytest.approx(0.0, abs=1e-9)
    assert geo.initial_bearing_deg(o, GeoPoint(32.77, -96.80)) == pytest.approx(180.0)
    assert geo.initial_bearing_deg(o, GeoPoint(32.78, -96.79)) == pytest.approx(90.0, abs=0.01)
    assert geo.initial_bearing_deg(o, GeoPoint(32.78, -96.81)) == pytest.approx(270.0, abs=0.01)
    # Love Field lies north-west of City Hall
    assert geo.compass_name(geo.initial_bearing_deg(CITY_HALL, LOVE_FIELD)) == "NW"


@given(points, points)
def test_bearing_array_variant_agrees(a: GeoPoint, b: GeoPoint) -> None:
    scalar = geo.initial_bearing_deg(a, b)
    arr = geo.initial_bearing_deg_arrays(a.lat, a.lon, np.array([b.lat]), np.array([b.lon]))
    assert 0.0 <= scalar < 360.0
    assert geo.angle_difference_deg(scalar, float(arr[0])) < 1e-6


@pytest.mark.parametrize(
    ("bearing", "name8", "name16"),
    [
        (0, "N", "N"),
        (359, "N", "N"),
        (22.4, "N", "NNE"),
        (22.6, "NE", "NNE"),
        (45, "NE", "NE"),
        (90, "E", "E"),
        (135, "SE", "SE"),
        (180, "S", "S"),
        (200, "S", "SSW"),
        (225, "SW", "SW"),
        (270, "W", "W"),
        (315, "NW", "NW"),
        (337.6, "N", "NNW"),
        (-90, "W", "W"),
        (720 + 45, "NE", "NE"),
    ],
)
def test_compass_names(bearing: float, name8: str, name16: str) -> None:
    assert geo.compass_name(bearing) == name8
    assert geo.compass_name(bearing, points=16) == name16


def test_compass_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="8 or 16"):
        geo.compass_name(10, points=4)
    with pytest.raises(ValueError, match="finite"):
        geo.compass_name(math.nan)


def test_angle_difference_wraps() -> None:
    assert geo.angle_difference_deg(350, 10) == pytest.approx(20)
    assert geo.angle_difference_deg(10, 350) == pytest.approx(20)
    assert geo.angle_difference_deg(0, 180) == pytest.approx(180)


@given(points, st.floats(0, 360), st.floats(0, 50_000))
def test_destination_point_round_trips(origin: GeoPoint, bearing: float, dist: float) -> None:
    dest = geo.destination_point(origin, bearing, dist)
    assert geo.haversine_m(origin, dest) == pytest.approx(dist, abs=1e-3)
    if dist > 10:
        assert geo.angle_difference_deg(geo.initial_bearing_deg(origin, dest), bearing) < 1e-4


@given(points, st.floats(1, 20_000), st.floats(0, 360))
def test_bounding_box_contains_the_circle(center: GeoPoint, radius: float, bearing: float) -> None:
    box = geo.bounding_box(center, radius)
    on_circle = geo.destination_point(center, bearing, radius * 0.999999)
    assert box.contains(on_circle)
    assert box.contains(center)


def test_bounding_box_is_tight_and_rejects_bad_radius() -> None:
    box = geo.bounding_box(CITY_HALL, 1000)
    north = geo.destination_point(CITY_HALL, 0, 1000)
    assert box.max_lat == pytest.approx(north.lat, abs=1e-9)
    assert not box.contains(geo.destination_point(CITY_HALL, 0, 1010))
    with pytest.raises(ValueError, match="non-negative"):
        geo.bounding_box(CITY_HALL, -1)
    with pytest.raises(ValueError, match="non-negative"):
        geo.bounding_box(CITY_HALL, math.nan)


def test_bounding_box_near_pole_spans_all_longitudes() -> None:
    box = geo.bounding_box(GeoPoint(89.99, 10), 5000)
    assert (box.min_lon, box.max_lon, box.max_lat) == (-180.0, 180.0, 90.0)


def test_local_projection_round_trip_and_scale() -> None:
    proj = geo.LocalProjection(CITY_HALL)
    x, y = proj.to_xy(LOVE_FIELD)
    assert math.hypot(x, y) == pytest.approx(geo.haversine_m(CITY_HALL, LOVE_FIELD), rel=2e-3)
    assert x < 0 < y  # west and north
    back = proj.to_point(x, y)
    assert back.lat == pytest.approx(LOVE_FIELD.lat, abs=1e-9)
    assert back.lon == pytest.approx(LOVE_FIELD.lon, abs=1e-9)


# A concave "U" (open to the north) around downtown Dallas
U_SHAPE = PolygonFence(
    tuple(
        GeoPoint(lat, lon)
        for lat, lon in [
            (32.770, -96.810),
            (32.770, -96.780),
            (32.790, -96.780),
            (32.790, -96.787),
            (32.776, -96.787),
            (32.776, -96.803),
            (32.790, -96.803),
            (32.790, -96.810),
        ]
    )
)


@pytest.mark.parametrize(
    ("lat", "lon", "inside"),
    [
        (32.773, -96.795, True),  # the bottom bar
        (32.785, -96.807, True),  # left arm
        (32.785, -96.783, True),  # right arm
        (32.785, -96.795, False),  # the notch between the arms
        (32.795, -96.795, False),  # north of everything
        (32.773, -96.820, False),  # west, level with the bar
    ],
)
def test_concave_polygon_containment(lat: float, lon: float, inside: bool) -> None:
    p = GeoPoint(lat, lon)
    assert geo.point_in_polygon(p, U_SHAPE.vertices) is inside
    assert geo.fence_contains(U_SHAPE, p) is inside


def test_polygon_across_the_antimeridian() -> None:
    fence = PolygonFence(
        (GeoPoint(-1, 179), GeoPoint(-1, -179), GeoPoint(1, -179), GeoPoint(1, 179))
    )
    assert geo.fence_contains(fence, GeoPoint(0, 179.9))
    assert geo.fence_contains(fence, GeoPoint(0, -179.9))
    assert not geo.fence_contains(fence, GeoPoint(0, 178))


def test_circle_fence_uses_great_circle_distance() -> None:
    fence = CircleFence(CITY_HALL, 500)
    assert geo.fence_contains(fence, geo.destination_point(CITY_HALL, 33, 499.9))
    assert not geo.fence_contains(fence, geo.destination_point(CITY_HALL, 33, 500.1))


def test_fence_bboxes() -> None:
    box = geo.fence_bbox(U_SHAPE)
    assert (box.min_lat, box.max_lat, box.min_lon, box.max_lon) == (
        32.770,
        32.790,
        -96.810,
        -96.780,
    )
    circle = geo.fence_bbox(CircleFence(CITY_HALL, 200))
    assert circle == geo.bounding_box(CITY_HALL, 200)


@given(st.lists(st.tuples(lat_st, lon_st), min_size=1, max_size=30))
def test_enclosing_circle_contains_every_polygon_point(pts: list[tuple[float, float]]) -> None:
    fence = U_SHAPE
    center, radius = geo.fence_enclosing_circle(fence)
    lats = np.array([p[0] for p in pts])
    lons = np.array([p[1] for p in pts])
    # sample points inside the polygon's box and keep those inside the polygon
    box = geo.fence_bbox(fence)
    lats = box.min_lat + (lats + 80) / 160 * (box.max_lat - box.min_lat)
    lons = box.min_lon + (lons + 180) / 360 * (box.max_lon - box.min_lon)
    inside = geo.fence_contains_arrays(fence, lats, lons)
    d = geo.haversine_m_arrays(center.lat, center.lon, lats[inside], lons[inside])
    assert (d <= radius).all()


def test_chord_conversion_round_trips() -> None:
    for d in (0.0, 1.0, 300.0, 10_000.0, 1e7):
        c = geo.chord_for_distance(d)
        assert float(geo.distances_for_chords(np.array([c]))[0]) == pytest.approx(d, abs=1e-6)
    vecs = geo.unit_vectors(
        np.array([CITY_HALL.lat, LOVE_FIELD.lat]), np.array([CITY_HALL.lon, LOVE_FIELD.lon])
    )
    assert np.linalg.norm(vecs, axis=1) == pytest.approx([1.0, 1.0])
    chord = float(np.linalg.norm(vecs[0] - vecs[1]))
    assert float(geo.distances_for_chords(np.array([chord]))[0]) == pytest.approx(
        geo.haversine_m(CITY_HALL, LOVE_FIELD), abs=1e-6
    )


def test_distance_validation_messages() -> None:
    assert geo.check_distance_m(5) == 5.0
    for bad in (-0.1, math.inf, math.nan):
        with pytest.raises(ValueError, match="radius_m"):
            geo.check_distance_m(bad)
    with pytest.raises(ValueError, match="number"):
        geo.check_distance_m("300")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="distance_m"):
        geo.destination_point(CITY_HALL, 0, -5)


def test_boxes_across_the_antimeridian_span_every_longitude() -> None:
    center = GeoPoint(10.0, 179.99)
    box = geo.bounding_box(center, 5000)
    assert box.contains(geo.destination_point(center, 90, 4000))  # lies at lon -179.97...
    assert (box.min_lon, box.max_lon) == (-180.0, 180.0)
    fence = PolygonFence((GeoPoint(-1, 179), GeoPoint(-1, -179), GeoPoint(1, -179)))
    fbox = geo.fence_bbox(fence)
    assert fbox.contains(GeoPoint(0, -179.5)) and fbox.contains(GeoPoint(0, 179.5))
