"""Ranked nearest cameras for a point: the in-memory registry + the core ranking.

Used by ``GET /cameras/nearest`` and ``GET /calls/{id}``; the console computes the same
call list locally from its cached registry with the same core rule
(``core.ranking.ranked_for_call``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from rtcc_console.core.models import Camera, Emergency, GeoPoint, Tier, utcnow
from rtcc_console.core.policy import live_now
from rtcc_console.core.ranking import (
    RankedCamera,
    candidate_count,
    rank_candidates,
    ranked_for_call,
)
from rtcc_console.server.registry import CameraRegistry


def live_predicate(emergencies: list[Emergency], now: datetime) -> Callable[[Camera], bool]:
    """Which cameras can be opened live *now* (``core.policy.live_now``)."""
    return lambda camera: live_now(camera, emergencies, now)


class _RegistryNearest:
    """``core.ranking.NearestFn`` over the registry, remembering each camera's public shape."""

    def __init__(self, registry: CameraRegistry) -> None:
        self.registry = registry
        self.publics: dict[str, dict[str, Any]] = {}

    def __call__(
        self, point: GeoPoint, n: int, radius_m: float | None, tier: Tier | None
    ) -> list[tuple[Camera, float, float]]:
        found = self.registry.nearest(point, k=n, radius_m=radius_m, tier=tier)
        self.publics.update((camera.id, public) for _hit, camera, public in found)
        return [(camera, hit.distance_m, hit.bearing_deg) for hit, camera, _public in found]


def _public_items(
    ranked: list[RankedCamera],
    publics: dict[str, dict[str, Any]],
    is_live: Callable[[Camera], bool],
) -> list[dict[str, Any]]:
    return [
        {
            "camera": publics[item.camera.id],
            "distance_m": round(item.distance_m, 1),
            "bearing_deg": round(item.bearing_deg, 1),
            "score": round(item.score, 4),
            "covers_scene": item.covers_scene,
            "explanation": item.explanation,
            "live_now": is_live(item.camera),
        }
        for item in ranked
    ]


def ranked_nearby(
    registry: CameraRegistry,
    *,
    point: GeoPoint,
    k: int,
    radius_m: float | None,
    tier: Tier | None = None,
    emergencies: list[Emergency] | None = None,
) -> list[dict[str, Any]]:
    """``[{"camera", "distance_m", "bearing_deg", "score", "covers_scene", "explanation",
    "live_now"}]``; ``emergencies`` (the active ones) decide which cameras are live now."""
    is_live = live_predicate(emergencies or [], utcnow())
    nearest = _RegistryNearest(registry)
    ranked = rank_candidates(
        point,
        nearest(point, candidate_count(k), radius_m, tier),
        k=k,
        radius_m=radius_m,
        is_live=is_live,
    )
    return _public_items(ranked, nearest.publics, is_live)


def ranked_for_call_public(
    registry: CameraRegistry,
    *,
    point: GeoPoint,
    k: int,
    radius_m: float | None,
    emergencies: list[Emergency],
) -> list[dict[str, Any]]:
    """A call's cameras (``core.ranking.ranked_for_call``: both tiers), in the shape above."""
    is_live = live_predicate(emergencies, utcnow())
    nearest = _RegistryNearest(registry)
    ranked = ranked_for_call(nearest, point, k=k, radius_m=radius_m, is_live=is_live)
    return _public_items(ranked, nearest.publics, is_live)
