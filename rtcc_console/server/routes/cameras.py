"""Camera registry routes: list, sync feed, nearest, create/update/delete, revoke, snapshots.

Analysts read; admins write. Every write is audited and publishes ``camera.changed``;
revocation and deletion end the camera's live grants at once (``grant.revoked``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from rtcc_console.core.models import CameraKind, GeoPoint, SharingMode, Tier, utcnow
from rtcc_console.server import camera_store as cams
from rtcc_console.server.audit import append_audit
from rtcc_console.server.call_schemas import CameraChanges, CameraPage, NearbyPage
from rtcc_console.server.deps import RequireAdmin, RequireAnalyst, StateDep, actor_of
from rtcc_console.server.eventlog import record_event
from rtcc_console.server.grants import end_camera_grants
from rtcc_console.server.nearby import ranked_nearby
from rtcc_console.server.schemas import CameraCreate, CameraPublic, CameraUpdate, RevokeRequest
from rtcc_console.store.emergencies import active_emergencies
from rtcc_console.store.grants import get_grant

router = APIRouter(prefix="/cameras", tags=["cameras"])
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4 or not all(abs(p) <= 180 for p in parts):
        raise HTTPException(422, "bbox: expected minlon,minlat,maxlon,maxlat in degrees")
    minlon, minlat, maxlon, maxlat = parts
    if minlon > maxlon or minlat > maxlat or abs(minlat) > 90 or abs(maxlat) > 90:
        raise HTTPException(422, "bbox: min must not exceed max, latitudes within -90..90")
    return minlon, minlat, maxlon, maxlat


def _cursor(text: str) -> int:
    if not text.isdigit() or len(text) > 18:
        raise HTTPException(422, "since: expected a cursor returned by this endpoint (or 0)")
    return int(text)


@router.get("", response_model=CameraPage | CameraChanges)
def list_cameras(
    user: RequireAnalyst,
    state: StateDep,
    tier: Tier | None = None,
    kind: CameraKind | None = None,
    sharing_mode: SharingMode | None = None,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat")] = None,
    since: Annotated[str | None, Query(description="sync cursor; 0 starts from scratch")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """A page of cameras, or (with ``since``) the change feed including deletions."""
    if since is not None:
        cursor = _cursor(since)
        with state.db.read() as session:
            rows, new_cursor, more = cams.changes_since(session, cursor=cursor, limit=limit)
        items = [cams.camera_public(r) for r in rows if not r.deleted]
        deleted = [r.id for r in rows if r.deleted]
        return {"items": items, "deleted": deleted, "cursor": str(new_cursor), "has_more": more}
    flt = cams.CameraFilter(
        tier=tier.value if tier else None,
        kind=kind.value if kind else None,
        sharing_mode=sharing_mode.value if sharing_mode else None,
        bbox=_bbox(bbox),
    )
    with state.db.read() as session:
        rows, total = cams.list_cameras(session, flt=flt, limit=limit, offset=offset)
    return {
        "items": [cams.camera_public(r) for r in rows],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


@router.get("/nearest", response_model=NearbyPage)
def nearest(
    user: RequireAnalyst,
    state: StateDep,
    lat: Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False)],
    lon: Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False)],
    k: Annotated[int | None, Query(ge=1, le=200)] = None,
    radius_m: Annotated[float | None, Query(gt=0, le=50_000, allow_inf_nan=False)] = None,
    tier: Tier | None = None,
) -> dict[str, Any]:
    """Nearest non-revoked cameras, ranked (distance, facing the scene), with explanations."""
    with state.db.read() as session:
        emergencies = active_emergencies(session)
    items = ranked_nearby(
        state.registry,
        point=GeoPoint(lat, lon),
        k=k or state.settings.nearest_k,
        radius_m=radius_m or state.settings.nearest_radius_m,
        tier=tier,
        emergencies=emergencies,
    )
    return {"items": items}


@router.get("/{camera_id}", response_model=CameraPublic)
def get_camera(camera_id: str, user: RequireAnalyst, state: StateDep) -> Any:
    with state.db.read() as session:
        row = cams.get_camera(session, camera_id=camera_id)
        if row is None:
            raise HTTPException(404, f"camera {camera_id!r} not found")
        return cams.camera_public(row)


def _check_owner(session: Any, owner_id: str | None) -> None:
    if owner_id is not None and not cams.owner_exists(session, owner_id=owner_id):
        raise HTTPException(422, f"owner_id: unknown owner {owner_id!r}")


def _publish(session: Any, row: Any, change: str) -> dict[str, Any]:
    public = cams.camera_public(row)
    record_event(session, type="camera.changed", payload={"camera": public, "change": change})
    return public


@router.post("", status_code=201, response_model=CameraPublic)
def create_camera(body: CameraCreate, admin: RequireAdmin, state: StateDep) -> Any:
    fields = body.model_dump(exclude_unset=False)
    with state.db.write() as session:
        if (
            body.id
            and cams.get_camera(session, camera_id=body.id, include_deleted=True) is not None
        ):
            raise HTTPException(409, f"id: camera {body.id!r} already exists")
        _check_owner(session, body.owner_id)
        row = cams.create_camera(session, fields=fields)
        append_audit(
            session, actor=actor_of(admin), action="registry.create", targets={"camera": row.id}
        )
        return _publish(session, row, "created")


@router.patch("/{camera_id}", response_model=CameraPublic)
def update_camera(camera_id: str, body: CameraUpdate, admin: RequireAdmin, state: StateDep) -> Any:
    changes = body.model_dump(exclude_unset=True)
    with state.db.write() as session:
        row = cams.get_camera(session, camera_id=camera_id)
        if row is None:
            raise HTTPException(404, f"camera {camera_id!r} not found")
        if "owner_id" in changes:
            _check_owner(session, changes["owner_id"])
        lat, lon = changes.get("lat", row.lat), changes.get("lon", row.lon)
        if lat == 0 and lon == 0:
            raise HTTPException(422, "lat/lon: 0,0 is not a real camera location")
        row = cams.update_camera(session, row=row, changes=changes)
        append_audit(
            session,
            actor=actor_of(admin),
            action="registry.update",
            targets={"camera": camera_id},
            reason="fields: " + ", ".join(sorted(changes)) if changes else "no change",
        )
        if row.revoked:
            end_camera_grants(
                session, camera_id=camera_id, actor=actor_of(admin), reason="Owner revoked access"
            )
        elif row.sharing_mode != "live_always" or row.tier != "integrated":
            _recheck_consent(session, camera_id, admin)
        return _publish(session, row, "updated")


def _recheck_consent(session: Any, camera_id: str, admin: Any) -> None:
    """A consent downgrade (e.g. live_always -> request_only) ends grants that lost it."""
    from rtcc_console.server.grants import recheck_grant
    from rtcc_console.store.grants import open_grants

    for grant in open_grants(session, now=utcnow(), camera_id=camera_id):
        recheck_grant(session, grant=grant, actor=actor_of(admin))


@router.delete("/{camera_id}", status_code=204)
def delete_camera(camera_id: str, admin: RequireAdmin, state: StateDep) -> Response:
    with state.db.write() as session:
        row = cams.get_camera(session, camera_id=camera_id)
        if row is None:
            raise HTTPException(404, f"camera {camera_id!r} not found")
        end_camera_grants(
            session,
            camera_id=camera_id,
            actor=actor_of(admin),
            reason="Camera removed from the registry",
        )
        row = cams.delete_camera(session, row=row)
        append_audit(
            session, actor=actor_of(admin), action="registry.delete", targets={"camera": camera_id}
        )
        _publish(session, row, "deleted")
    return Response(status_code=204)


@router.post("/{camera_id}/revoke", response_model=CameraPublic)
def revoke(camera_id: str, body: RevokeRequest, admin: RequireAdmin, state: StateDep) -> Any:
    """Owner consent withdrawn: the camera stays listed as revoked; live views end now."""
    with state.db.write() as session:
        row = cams.get_camera(session, camera_id=camera_id)
        if row is None:
            raise HTTPException(404, f"camera {camera_id!r} not found")
        row = cams.revoke_camera(session, row=row, reason=body.reason)
        append_audit(
            session,
            actor=actor_of(admin),
            action="registry.revoke",
            targets={"camera": camera_id},
            reason=body.reason,
        )
        end_camera_grants(
            session,
            camera_id=camera_id,
            actor=actor_of(admin),
            reason=f"Owner revoked access: {body.reason}",
        )
        return _publish(session, row, "revoked")


class SnapshotCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grant_id: str = Field(min_length=1, max_length=48)
    taken_at: datetime
    sha256: str = Field(min_length=64, max_length=64)
    reason: str = Field(min_length=1, max_length=1000)


class SnapshotRecorded(BaseModel):
    id: int = Field(description="the audit entry")
    camera_id: str
    grant_id: str
    sha256: str
    taken_at: str
    recorded_at: str


@router.post("/{camera_id}/snapshots", status_code=201, response_model=SnapshotRecorded)
def snapshot(
    camera_id: str, body: SnapshotCreate, user: RequireAnalyst, state: StateDep
) -> dict[str, Any]:
    """Record (audit) a still taken from a live view; the grant must be the caller's."""
    digest = body.sha256.lower()
    if not _SHA256.match(digest):
        raise HTTPException(422, "sha256: expected 64 hexadecimal characters")
    if body.taken_at.tzinfo is None:
        raise HTTPException(422, "taken_at: a time zone offset is required")
    with state.db.write() as session:
        grant = get_grant(session, grant_id=body.grant_id)
        if grant is None or grant.camera_id != camera_id or grant.username != user.username:
            raise HTTPException(403, "grant_id: no live grant of yours for this camera")
        if not (grant.issued_at <= body.taken_at <= (grant.ended_at or grant.expires_at)):
            raise HTTPException(403, "taken_at: outside the grant's validity")
        row = append_audit(
            session,
            actor=actor_of(user),
            action="live.snapshot",
            targets={"camera": camera_id, "grant": grant.id, "sha256": digest},
            reason=body.reason,
        )
        return {
            "id": row.id,
            "camera_id": camera_id,
            "grant_id": grant.id,
            "sha256": digest,
            "taken_at": body.taken_at.isoformat(),
            "recorded_at": row.at.isoformat(),
        }
