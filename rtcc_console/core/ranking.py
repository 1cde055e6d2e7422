"""Rank the cameras near a call by how useful they are likely to be, not by distance alone.

An analyst opening cameras for a call wants the one that *sees* the scene first. A camera
whose heading and field of view point at the call location (and whose useful range reaches
it) beats a nearer camera facing the other way; a camera whose view is unknown sits between.

Score (higher is better), documented so that analysts can be told why a camera is first:

    score = coverage + proximity + live_bonus
    coverage   = 2.0  the scene is inside the camera's field of view and range (or the
                      camera is at the scene, within AT_SCENE_M)
                 1.0  view unknown (no heading recorded)
                 0.75 facing the scene but farther than its useful range
                 0.0  facing away
    proximity  = 1 - distance / radius_m           (0..1; radius_m defaults to 1000 m)
    live_bonus = 0.25 if the camera can be opened live (by default: integrated with live
                      sharing; callers may pass ``is_live`` that knows active emergencies)

So within the radius a camera that covers the scene (>= 2.0) always beats one facing away
(<= 1.25); an unknown view beats a covering camera only when it is live and nearer by more
than three quarters of the radius; within a coverage class nearer is better, and live
capability is worth a quarter of the radius. Ties: distance, then a camera confirmed by its
owner before a stale one (``Camera.stale``), then camera id. Stale cameras are listed.
Revoked cameras and cameras beyond ``radius_m`` are never returned.

For a call the same rule runs on the server (``GET /calls/{id}``) and in the console's
camera list (:func:`ranked_for_call`): rank the ``max(3k, k + 10)`` nearest, keep the best
``k``, and when one tier is missing from those, add up to ``MIN_PER_TIER`` of its best, so
the analyst always sees cameras to open live *and* owners to ask for footage.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rtcc_console.core import geo
from rtcc_console.core.index import CameraIndex, NearestHit
from rtcc_console.core.models import Camera, CameraKind, GeoPoint, Tier

DEFAULT_RADIUS_M = 1000.0
AT_SCENE_M = 10.0  # closer than this, the camera is "at the scene" whatever its heading
DEFAULT_FOV_DEG = 90.0  # a typical doorbell / bullet camera when only the heading is known
DEFAULT_RANGE_M: dict[CameraKind, float] = {
    CameraKind.RESIDENTIAL: 60.0,
    CameraKind.BUSINESS: 100.0,
    CameraKind.SCHOOL: 100.0,
    CameraKind.PUBLIC: 100.0,
}
LivePredicate = Callable[[Camera], bool]
MIN_PER_TIER = 3  # a call's list shows at least this many of a tier absent from its top k
#: ``nearest(point, n, radius_m, tier)``: the ``n`` nearest cameras as (camera, distance_m,
#: bearing_deg from the point), nearest first; the server's registry and the console's
#: cached index both provide one.
NearestFn = Callable[[GeoPoint, int, float | None, Tier | None], list[tuple[Camera, float, float]]]
COVERAGE_SCORE = {"covers": 2.0, "unknown": 1.0, "out_of_range": 0.75, "away": 0.0}
LIVE_BONUS = 0.25


@dataclass(frozen=True, slots=True)
class RankedCamera:
    """A candidate camera for a call. ``bearing_deg`` is from the call to the camera;
    ``covers_scene`` is None when the camera's heading is unknown."""

    camera: Camera
    distance_m: float
    bearing_deg: float
    covers_scene: bool | None
    score: float
    explanation: str


def format_distance(distance_m: float) -> str:
    """Short human distance: "62 m", "1.4 km"."""
    if distance_m < 999.5:
        return f"{round(distance_m)} m"
    return f"{distance_m / 1000:.1f} km"


def assess_view(camera: Camera, call_location: GeoPoint, distance_m: float) -> tuple[str, str]:
    """(coverage class, short phrase) for a camera looking at the call location."""
    if distance_m <= AT_SCENE_M:
        return "covers", "at the scene"
    if camera.heading_deg is None or not math.isfinite(camera.heading_deg):
        return "unknown", "view unknown"
    fov = camera.fov_deg if camera.fov_deg and camera.fov_deg > 0 else DEFAULT_FOV_DEG
    to_scene = geo.initial_bearing_deg(camera.location, call_location)
    if geo.angle_difference_deg(camera.heading_deg, to_scene) > min(fov, 360.0) / 2:
        return "away", "facing away"
    reach = (
        camera.range_m if camera.range_m and camera.range_m > 0 else DEFAULT_RANGE_M[camera.kind]
    )
    if distance_m > reach:
        return "out_of_range", f"facing the scene, beyond its {format_distance(reach)} range"
    return "covers", "facing the scene"


def _live_capable(camera: Camera) -> bool:
    return camera.is_live_capable


def _score(coverage: str, distance_m: float, radius_m: float, live_now: bool) -> float:
    proximity = max(0.0, 1.0 - distance_m / radius_m) if radius_m > 0 else 0.0
    live = LIVE_BONUS if live_now else 0.0
    return COVERAGE_SCORE[coverage] + proximity + live


def _check_k(k: int | None) -> None:
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k <= 0):
        raise ValueError(f"k must be a positive integer, got {k!r}")


def rank_candidates(
    call_location: GeoPoint,
    candidates: Iterable[tuple[Camera, float, float]],
    *,
    k: int | None = None,
    radius_m: float | None = None,
    is_live: LivePredicate | None = None,
) -> list[RankedCamera]:
    """Rank (camera, distance_m, bearing_deg from the call) triples already measured,
    e.g. from :meth:`CameraIndex.nearest`. Best first; at most ``k``.

    ``is_live`` says which cameras earn the live bonus; by default
    :attr:`Camera.is_live_capable` (the server may pass one that knows which
    ``live_in_emergency`` cameras have an active emergency right now)."""
    live = is_live or _live_capable
    _check_k(k)
    limit = DEFAULT_RADIUS_M if radius_m is None else geo.check_distance_m(radius_m)
    ranked: list[RankedCamera] = []
    for camera, distance, bearing in candidates:
        if camera.revoked or (radius_m is not None and distance > radius_m):
            continue
        coverage, phrase = assess_view(camera, call_location, distance)
        covers = None if coverage == "unknown" else coverage == "covers"
        where = format_distance(distance)
        if distance >= 0.5:
            where = f"{where} {geo.compass_name(bearing)}"
        ranked.append(
            RankedCamera(
                camera=camera,
                distance_m=distance,
                bearing_deg=bearing,
                covers_scene=covers,
                score=_score(coverage, distance, limit, live(camera)),
                explanation=f"{where}, {phrase}",
            )
        )
    ranked.sort(key=lambda r: (-r.score, r.distance_m, r.camera.stale, r.camera.id))
    return ranked if k is None else ranked[:k]


def rank_cameras(
    call_location: GeoPoint,
    cameras: Iterable[Camera],
    *,
    k: int | None = None,
    radius_m: float | None = None,
    is_live: LivePredicate | None = None,
) -> list[RankedCamera]:
    """Rank cameras for a call location: best first, at most ``k``, only within
    ``radius_m`` (when given) and never revoked ones. See the module docstring for the score."""
    return rank_candidates(
        call_location,
        (
            (
                cam,
                geo.haversine_m(call_location, cam.location),
                geo.initial_bearing_deg(call_location, cam.location),
            )
            for cam in cameras
        ),
        k=k,
        radius_m=radius_m,
        is_live=is_live,
    )


def candidate_count(k: int) -> int:
    """How many nearest cameras are ranked to pick the best ``k``: ``max(3k, k + 10)``.

    A well-placed camera farther than that many others is not considered, which keeps a
    call's ranking cheap in dense areas."""
    _check_k(k)
    return max(3 * k, k + 10)


def index_nearest(index: CameraIndex) -> NearestFn:
    """A :data:`NearestFn` over a ``CameraIndex`` built from Camera records."""

    def nearest(
        point: GeoPoint, n: int, radius_m: float | None, tier: Tier | None
    ) -> list[tuple[Camera, float, float]]:
        hits: list[NearestHit] = index.nearest(point, n, radius_m=radius_m, tier=tier)
        out: list[tuple[Camera, float, float]] = []
        for hit in hits:
            camera = index.get(hit.camera_id)
            if camera is None:
                raise ValueError(
                    f"camera {hit.camera_id!r} has no Camera record: ranking needs an index "
                    "built from Camera records"
                )
            out.append((camera, hit.distance_m, hit.bearing_deg))
        return out

    return nearest


def nearest_ranked(
    index: CameraIndex,
    point: GeoPoint,
    *,
    k: int,
    radius_m: float,
    tier: Tier | None = None,
    candidates: int | None = None,
    is_live: LivePredicate | None = None,
) -> list[RankedCamera]:
    """The k most useful cameras within ``radius_m`` of ``point`` (of one ``tier`` when
    given), ranking the ``candidates`` nearest (default :func:`candidate_count`)."""
    n = candidates if candidates is not None else candidate_count(k)
    _check_k(n)
    triples = index_nearest(index)(point, n, radius_m, tier)
    return rank_candidates(point, triples, k=k, radius_m=radius_m, is_live=is_live)


def ranked_for_call(
    nearest: NearestFn,
    point: GeoPoint,
    *,
    k: int,
    radius_m: float | None,
    is_live: LivePredicate | None = None,
) -> list[RankedCamera]:
    """A call's camera list: the best ``k`` of both tiers, then, for a tier with none among
    them, up to :data:`MIN_PER_TIER` of its best (see the module docstring)."""
    ranked = rank_candidates(
        point,
        nearest(point, candidate_count(k), radius_m, None),
        k=k,
        radius_m=radius_m,
        is_live=is_live,
    )
    seen = {r.camera.id for r in ranked}
    for tier in Tier:
        if any(r.camera.tier is tier for r in ranked):
            continue
        extra = rank_candidates(
            point,
            nearest(point, candidate_count(MIN_PER_TIER), radius_m, tier),
            k=MIN_PER_TIER,
            radius_m=radius_m,
            is_live=is_live,
        )
        ranked.extend(r for r in extra if r.camera.id not in seen)
    return ranked
