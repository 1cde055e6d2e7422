"""Reads a supervisor's panels need from the server, once, before the event stream takes over.

The dashboard's initial load (calls, footage requests, live views, emergencies) and the
incident review's audit entries. Everything later arrives as events; nothing here polls.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rtcc_console.client.api import ApiClient
from rtcc_console.client.requests_api import FootageRequestsApi


def all_calls(api: ApiClient, *, max_items: int = 5000) -> list[dict[str, Any]]:
    """Open and closed calls, newest first (the dashboard counts the last day of them)."""
    return api.list_calls("all", max_items=max_items)


def all_requests(api: ApiClient, *, max_items: int = 2000) -> list[dict[str, Any]]:
    """Every footage request of the agency (``scope=all`` needs the supervisor role)."""
    reqs = FootageRequestsApi(api)
    out: list[dict[str, Any]] = []
    while len(out) < max_items:
        page = reqs.list_requests(scope="all", limit=200, offset=len(out))
        batch = [r for r in page.get("items", []) if isinstance(r, dict)]
        out.extend(batch)
        if len(batch) < 200 or len(out) >= int(page.get("total", 0)):
            break
    return out


def audit_entries(
    api: ApiClient, *, since: datetime | None = None, max_items: int = 5000, **filters: str
) -> list[dict[str, Any]]:
    """Audit entries matching ``filters`` (``action``, ``call``, ``case``, ``q``...), newest
    first, following the keyset cursor (docs/api/supervision.md)."""
    params: dict[str, Any] = {k: v for k, v in filters.items() if v}
    if since is not None:
        params["since"] = since.isoformat()
    out: list[dict[str, Any]] = []
    before: int | None = None
    while len(out) < max_items:
        page_params = {**params, "limit": min(1000, max_items - len(out))}
        if before is not None:
            page_params["before_id"] = before
        body = api.request("GET", "/audit", params=page_params).json()
        batch = [e for e in body.get("items", []) if isinstance(e, dict)]
        out.extend(batch)
        nxt = body.get("next_before_id")
        if not body.get("has_more") or nxt is None or not batch:
            break
        before = int(nxt)
    return out


def all_emergencies(api: ApiClient) -> list[dict[str, Any]]:
    body = api.request("GET", "/emergencies").json()
    return [
        e
        for e in (body.get("items", []) if isinstance(body, dict) else body)
        if isinstance(e, dict)
    ]
