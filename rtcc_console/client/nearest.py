"""Nearest cameras of a call, ranked locally, with what the analyst may do with each.

Computed from the cached registry with the same ``core`` code the server uses (index,
ranking, consent policy), so the list is instant and keeps working offline. Qt-free.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from rtcc_console.core.index import CameraIndex
from rtcc_console.core.models import Camera, Emergency, GeoPoint, Role, Tier
from rtcc_console.core.policy import Action, decide, live_now
from rtcc_console.core.ranking import index_nearest, ranked_for_call

#: What the analyst may do with a camera now: view it live, request its footage, or nothing.
CameraAction = Literal["live", "request", "none"]


@dataclass(frozen=True, slots=True)
class CameraOption:
    """One row of the camera list: a ranked camera plus the analyst's options."""

    camera: Camera
    distance_m: float
    bearing_deg: float
    explanation: str
    score: float
    covers_scene: bool | None
    action: CameraAction
    action_text: str  # "View live now", "Request footage", "Nothing"
    why: str  # the policy's sentence


def access_for(
    role: Role | None, camera: Camera, *, now: datetime, emergencies: Iterable[Emergency]
) -> tuple[CameraAction, str, str]:
    """(action, short text, reason): live if allowed, else a footage request, else nothing."""
    ems = tuple(emergencies)
    live = decide(role, camera, Action.VIEW_LIVE, now=now, emergencies=ems)
    if live.allowed:
        return "live", "View live now", live.reason
    request = decide(role, camera, Action.REQUEST_FOOTAGE, now=now, emergencies=ems)
    if request.allowed:
        why = live.reason if camera.tier is Tier.INTEGRATED else request.reason
        return "request", "Request footage", why
    return "none", "Nothing", request.reason if camera.revoked else live.reason


def options_for(
    index: CameraIndex,
    point: GeoPoint,
    *,
    k: int,
    radius_m: float,
    role: Role | None,
    now: datetime,
    emergencies: Iterable[Emergency] = (),
) -> list[CameraOption]:
    """The call's camera list within ``radius_m`` of ``point``: the ``k`` best-ranked, topped
    up with a few of a tier missing from them (``core.ranking.ranked_for_call``, the rule
    the server's ``GET /calls/{id}`` uses)."""
    ems = tuple(emergencies)
    rows: list[CameraOption] = []
    ranked_list = ranked_for_call(
        index_nearest(index),
        point,
        k=k,
        radius_m=radius_m,
        is_live=lambda cam: live_now(cam, ems, now),
    )
    for ranked in ranked_list:
        action, text, why = access_for(role, ranked.camera, now=now, emergencies=ems)
        rows.append(
            CameraOption(
                camera=ranked.camera,
                distance_m=ranked.distance_m,
                bearing_deg=ranked.bearing_deg,
                explanation=ranked.explanation,
                score=ranked.score,
                covers_scene=ranked.covers_scene,
                action=action,
                action_text=text,
                why=why,
            )
        )
    return rows
