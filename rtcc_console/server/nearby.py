"""Ranked nearest cameras for a point: the in-memory index + the core ranking.

Used by ``GET /cameras/nearest`` and ``GET /calls/{id}``; the console computes the same
list locally from its cached registry with the same core code.
"""

from __future__ import annotations

from typing import Any

from rtcc_console.core.models import GeoPoint, Tier
from rtcc_console.core.ranking import rank_candidates
from rtcc_console.server.registry import CameraRegistry


def ranked_nearby(
    registry: CameraRegistry, *, point: GeoPoint, k: int, radius_m: float | None, tier: Tier | None = None
) -> list[dict[str, Any]]:
    """``[{"camera", "distance_m", "bearing_deg", "score", "covers_scene", "explanation"}]``."""
    candidates = registry.nearest(point, k=max(3 * k, k + 10), radius_m=radius_m, tier=tier)
    publics = {camera.id: public for _hit, camera, public in candidates}
    ranked = rank_candidates(
        point, [(camera, hit.distance_m, hit.bearing_deg) for hit, camera, _public in candidates],
        k=k, radius_m=radius_m,
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
            }
        )
    return out
