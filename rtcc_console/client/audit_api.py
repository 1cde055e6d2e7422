"""The audit viewer's side of the API (docs/api/supervision.md): keyset pages, the streamed
CSV export, the chain verification job and the misuse flags. Blocking, Qt-free: called from
background threads (``ui.tasks``) only."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rtcc_console.client.api import ApiClient

FILTER_KEYS = ("user", "action", "camera", "call", "case", "since", "until", "q")


@dataclass(frozen=True, slots=True)
class AuditPage:
    items: list[dict[str, Any]]
    has_more: bool
    next_before_id: int | None


@dataclass(slots=True)
class AuditApi:
    api: ApiClient
    filters: dict[str, str] = field(default_factory=dict)

    def _params(self, filters: dict[str, str]) -> dict[str, str]:
        return {k: v.strip() for k, v in filters.items() if k in FILTER_KEYS and v and v.strip()}

    def page(
        self, filters: dict[str, str], *, before_id: int | None = None, limit: int = 200
    ) -> AuditPage:
        params: dict[str, Any] = {**self._params(filters), "limit": limit}
        if before_id is not None:
            params["before_id"] = before_id
        body = self.api.request("GET", "/audit", params=params).json()
        return AuditPage(
            items=list(body["items"]),
            has_more=bool(body["has_more"]),
            next_before_id=body.get("next_before_id"),
        )

    def export_csv(self, filters: dict[str, str], path: Path) -> int:
        """Stream the filtered entries into ``path`` (written to a .part file, renamed when complete)."""
        part = path.with_name(path.name + ".part")
        size = 0
        resp = self.api.request("GET", "/audit.csv", params=self._params(filters), stream=True)
        try:
            with part.open("wb") as out:
                for chunk in resp.iter_content(64 * 1024):
                    out.write(chunk)
                    size += len(chunk)
            part.replace(path)
        finally:
            resp.close()
            part.unlink(missing_ok=True)
        return size

    def start_verify(self) -> dict[str, Any]:
        return dict(self.api.request("POST", "/audit/verify").json())

    def verify_status(self, job_id: str) -> dict[str, Any]:
        return dict(self.api.request("GET", f"/audit/verify/{job_id}").json())

    def flags(self, *, acknowledged: bool | None = None) -> list[dict[str, Any]]:
        params = {} if acknowledged is None else {"acknowledged": str(acknowledged).lower()}
        return list(self.api.request("GET", "/audit/flags", params=params).json()["items"])

    def acknowledge(self, flag_id: str, note: str) -> dict[str, Any]:
        return dict(
            self.api.request("POST", f"/audit/flags/{flag_id}/ack", json={"note": note}).json()
        )
