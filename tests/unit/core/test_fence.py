"""Footage-request areas: parsing, validity, size, containment (core.fence, shapely)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rtcc_console.core.fence import SQ_M_PER_SQ_MI, AreaError, parse_area
from rtcc_console.core.geo import destination_point, haversine_m
from rtcc_console.core.models import GeoPoint

C = {"lat": 32.78, "lon": -96.80}


def test_circle_area_and_containment_match_great_circle_distance() -> None:
    area = parse_area({"kind": "circle", "center": C, "radius_m": 200})
    assert area.area_m2 == pytest.approx(math.pi * 200**2, rel=1e-3)
    assert area.area_sq_mi == pytest.approx(area.area_m2 / SQ_M_PER_SQ_MI)
    center = GeoPoint(C["lat"], C["lon"])
    for bearing in range(0, 360, 15):
        near = destination_point(center, bearing, 195.0)
        far = destination_point(center, bearing, 205.0)
        assert area.contains(near.lat, near.lon) and not area.contains(far.lat, far.lon), bearing
    lats = np.array([destination_point(center, b, d).lat for b in (0, 90) for d in (100, 300)])
    lons = np.array([destination_point(center, b, d).lon for b in (0, 90) for d in (100, 300)])
    assert area.contains_arrays(lats, lons).tolist() == [True, False, True, False]


def test_polygon_closed_or_open_and_concave() -> None:
    pts = [
        (32.780, -96.800),
        (32.782, -96.800),
        (32.782, -96.798),
        (32.781, -96.799),
        (32.780, -96.798),
    ]
    ring = [{"lat": a, "lon": b} for a, b in pts]
    open_ = parse_area({"kind": "polygon", "points": ring})
    closed = parse_area({"kind": "polygon", "points": ring + [ring[0]]})
    assert open_.area_m2 == pytest.approx(closed.area_m2) and len(closed.spec["points"]) == 5
    assert open_.contains(32.7815, -96.7995)
    assert not open_.contains(32.7812, -96.7982)  # in the notch of the concave side


def test_corridor_is_a_band_of_the_given_full_width() -> None:
    a = GeoPoint(32.78, -96.80)
    b = destination_point(a, 90.0, 500.0)
    area = parse_area(
        {
            "kind": "corridor",
            "points": [{"lat": a.lat, "lon": a.lon}, {"lat": b.lat, "lon": b.lon}],
            "width_m": 40,
        }
    )
    assert area.area_m2 == pytest.approx(500 * 40 + math.pi * 20**2, rel=0.01)
    mid = destination_point(a, 90.0, 250.0)
    inside, outside = destination_point(mid, 0.0, 18.0), destination_point(mid, 0.0, 22.0)
    assert area.contains(inside.lat, inside.lon) and not area.contains(outside.lat, outside.lon)
    assert haversine_m(a, b) == pytest.approx(500, rel=1e-6)


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        (
            {
                "kind": "polygon",
                "points": [
                    {"lat": 0, "lon": 0},
                    {"lat": 1, "lon": 1},
                    {"lat": 1, "lon": 0},
                    {"lat": 0, "lon": 1},
                ],
            },
            "crosses itself",
        ),
        (
            {
                "kind": "polygon",
                "points": [
                    {"lat": 32.78, "lon": -96.8},
                    {"lat": 32.79, "lon": -96.8},
                    {"lat": 32.80, "lon": -96.8},
                ],
            },
            "at least 1",
        ),
        ({"kind": "polygon", "points": [{"lat": 32.78, "lon": -96.8}] * 3}, "area"),
        ({"kind": "polygon", "points": [{"lat": 32.78, "lon": -96.8}] * 10_000}, "too many points"),
        ({"kind": "polygon", "points": "nope"}, "list"),
        ({"kind": "polygon", "points": [{"lat": 95, "lon": 0}] * 3}, "latitude"),
        ({"kind": "circle", "center": C, "radius_m": -1}, "radius_m"),
        ({"kind": "circle", "center": C, "radius_m": float("nan")}, "radius_m"),
        ({"kind": "circle", "center": C, "radius_m": True}, "radius_m"),
        ({"kind": "circle", "center": "here", "radius_m": 5}, "center"),
        ({"kind": "corridor", "points": [C, C], "width_m": 10}, "zero length"),
        (
            {"kind": "corridor", "points": [C, {"lat": 32.79, "lon": -96.8}], "width_m": 0},
            "width_m",
        ),
        ({"kind": "square"}, "kind"),
        ([], "object"),
    ],
)
def test_bad_areas_are_refused_with_a_message(spec: object, needle: str) -> None:
    with pytest.raises(AreaError, match=needle):
        parse_area(spec)
