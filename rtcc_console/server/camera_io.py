"""Camera registry import/export (CSV and GeoJSON), validated row by row.

Import is all or nothing: every row is validated first (the same ``CameraCreate`` schema
as ``POST /cameras``, plus duplicate ids within the file or already in the registry and
unknown owners); any error means a 422 listing *every* bad row and nothing is written.
CSV rows are numbered as a spreadsheet shows them (header = row 1); GeoJSON rows are
1-based feature numbers. Exports carry redacted stream URLs only: credentials never
leave the server in a file, so they must be re-entered after a round trip.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from rtcc_console.server.camera_store import camera_public
from rtcc_console.server.schemas import CameraCreate
from rtcc_console.store import cameras as store_cameras
from rtcc_console.store.schema import CameraRow

CSV_COLUMNS = (
    "id",
    "name",
    "tier",
    "kind",
    "sharing_mode",
    "lat",
    "lon",
    "address",
    "owner_id",
    "heading_deg",
    "fov_deg",
    "range_m",
    "stream_url",
    "substream_url",
)
READ_ONLY_COLUMNS = frozenset(
    {
        "revoked",
        "has_stream",
        "version",
        "updated_at",
        "deleted",
        "confirmed_at",
        "stale",
        "stale_since",
    }
)
MAX_ROWS = 100_000


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


def _blank_to_none(record: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, str) and not v.strip() else v) for k, v in record.items()}


def rows_from_csv(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[RowProblem]]:
    """(row number, raw record) pairs and header problems."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""), restkey="\x00extra")
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        return [], [RowProblem(1, "header", f"not readable as CSV ({exc})")]
    problems = [
        RowProblem(1, h or "(empty)", "unknown column")
        for h in header
        if h not in CSV_COLUMNS and h not in READ_ONLY_COLUMNS
    ]
    problems += [
        RowProblem(1, c, "missing column")
        for c in ("name", "tier", "kind", "sharing_mode", "lat", "lon")
        if c not in header
    ]
    if problems:
        return [], problems
    reader.fieldnames = header
    out: list[tuple[int, dict[str, Any]]] = []
    number = 1
    try:
        for record in reader:
            number += 1
            if "\x00extra" in record:
                problems.append(RowProblem(number, "$", "more cells than header columns"))
                continue
            if number > MAX_ROWS:
                problems.append(RowProblem(number, "$", f"more than {MAX_ROWS} rows"))
                break
            out.append((number, {k: v for k, v in record.items() if k in CSV_COLUMNS}))
    except csv.Error as exc:
        problems.append(RowProblem(number + 1, "$", f"not readable as CSV ({exc})"))
    return out, problems


def rows_from_geojson(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[RowProblem]]:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        return [], [RowProblem(0, "$", f"not valid JSON ({exc})")]
    if (
        not isinstance(doc, dict)
        or doc.get("type") != "FeatureCollection"
        or not isinstance(doc.get("features"), list)
    ):
        return [], [
            RowProblem(0, "type", "expected a GeoJSON FeatureCollection with a features list")
        ]
    out: list[tuple[int, dict[str, Any]]] = []
    problems: list[RowProblem] = []
    for i, feature in enumerate(doc["features"][: MAX_ROWS + 1], start=1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.append(RowProblem(i, "type", "expected a GeoJSON Feature"))
            continue
        geom = feature.get("geometry")
        coords = geom.get("coordinates") if isinstance(geom, dict) else None
        if not (
            isinstance(geom, dict)
            and geom.get("type") == "Point"
            and isinstance(coords, list)
            and len(coords) in (2, 3)
        ):
            problems.append(
                RowProblem(i, "geometry", "expected a Point with [lon, lat] coordinates")
            )
            continue
        props = feature.get("properties")
        if props is not None and not isinstance(props, dict):
            problems.append(RowProblem(i, "properties", "expected an object"))
            continue
        record = {k: v for k, v in (props or {}).items() if k not in READ_ONLY_COLUMNS}
        if feature.get("id") is not None and "id" not in record:
            record["id"] = feature["id"]
        record["lon"], record["lat"] = coords[0], coords[1]
        out.append((i, record))
    return out, problems


def validate_rows(
    session: Session, rows: list[tuple[int, dict[str, Any]]]
) -> tuple[list[CameraCreate], list[RowProblem]]:
    """Validate every row; returns the good ones and a problem for each bad cell."""
    good: list[tuple[int, CameraCreate]] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for number, record in rows:
        unknown = [k for k in record if k not in CSV_COLUMNS]
        if unknown:
            problems.extend(RowProblem(number, str(k), "unknown field") for k in unknown)
            continue
        try:
            camera = CameraCreate.model_validate(_blank_to_none(record))
        except ValidationError as exc:
            for err in exc.errors():
                loc = err.get("loc") or ("lat",)
                problems.append(RowProblem(number, str(loc[0]), str(err.get("msg", "invalid"))))
            continue
        if camera.id:
            if camera.id in seen:
                problems.append(
                    RowProblem(
                        number, "id", f"duplicate id {camera.id!r} (also row {seen[camera.id]})"
                    )
                )
                continue
            seen[camera.id] = number
        good.append((number, camera))
    existing = store_cameras.existing_ids(session, camera_ids=[c.id for _n, c in good if c.id])
    known_owners = store_cameras.existing_ids(
        session, camera_ids=sorted({c.owner_id for _n, c in good if c.owner_id}), owners=True
    )
    for number, camera in good:
        if camera.id and camera.id in existing:
            problems.append(
                RowProblem(number, "id", f"duplicate id {camera.id!r}: already in the registry")
            )
        if camera.owner_id and camera.owner_id not in known_owners:
            problems.append(RowProblem(number, "owner_id", f"unknown owner {camera.owner_id!r}"))
    problems.sort(key=lambda p: (p.row, p.field))
    return [c for _n, c in good], problems


def export_csv(rows: list[CameraRow]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow((*CSV_COLUMNS, "revoked"))
    for row in rows:
        pub = camera_public(row)
        writer.writerow([_cell(pub.get(c)) for c in CSV_COLUMNS] + [str(pub["revoked"]).lower()])
    return buf.getvalue()


def export_geojson(rows: list[CameraRow]) -> dict[str, Any]:
    features = []
    for row in rows:
        pub = camera_public(row)
        props = {k: v for k, v in pub.items() if k not in ("lat", "lon", "deleted")}
        features.append(
            {
                "type": "Feature",
                "id": row.id,
                "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]},
                "properties": props,
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if (
        isinstance(value, str)
        and value[:1] in ("=", "+", "-", "@", "\t", "\r")
        and not _is_number(value)
    ):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
