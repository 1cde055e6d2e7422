"""Ranked nearest cameras for a point: the in-memory index + the core ranking.

Used by ``GET /cameras/nearest`` and ``GET /calls/{id}``; the console computes the same
list locally from its cached registry with the same core code.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from rtcc_console.core.models import Camera, Emergency, GeoPoint, Tier, utcnow
from rtcc_console.core.policy import live_now
from rtcc_console.core.ranking import rank_candidates
from rtcc_console.server.registry import CameraRegistry


def live_predicate(emergencies: list[Emergency], now: datetime) -> Callable[[Camera], bool]:
    """Which cameras can be opened live *now* (``core.policy.live_now``)."""
    return lambda camera: live_now(camera, emergencies, now)


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
    candidates = registry.nearest(point, k=max(3 * k, k + 10), radius_m=radius_m, tier=tier)
    publics = {camera.id: public for _hit, camera, public in candidates}
    ranked = rank_candidates(
        point, [(camera, hit.distance_m, hit.bearing_deg) for hit, camera, _public in candidates],
        k=k, radius_m=radius_m, is_live=is_live,
    )  # fmt: skip
    out: list[dict[str, Any]] = []
    for item in ranked:
        public = publics[item.camera.id]
        out.append(
            {
                "camera": public,
                "distance_m": round(item.distance_m, 1),
                "bearing_deg": round(item.bearing_deg, 1),
                "score": round(item.score, 4),
                "covers_scene": item.covers_scene,
                "explanation": item.explanation,
                "live_now": is_live(item.camera),
            }
        )
    return out
