"""Gathers one call's (or case's) timeline from the server: call history, the audit trail's
live views, footage requests and answers, evidence with its vehicle candidates and custody.

Blocking (several requests): the console runs it off the GUI thread. Every read is one the
server already audits (a supervisor reading the audit trail, custody, vehicles).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from rtcc_console.client import supervision_feed as feed
from rtcc_console.client.api import ApiClient, ApiError
from rtcc_console.client.call_history import history_rows
from rtcc_console.client.evidence_api import EvidenceApi
from rtcc_console.client.evidence_models import Evidence
from rtcc_console.client.requests_api import FootageRequestsApi
from rtcc_console.client.vehicles_api import item_vehicles
from rtcc_console.core import incident_timeline as tl

MAX_GRANTS = 100  # live views whose end is looked up one by one


@dataclass
class Incident:
    call: dict[str, Any] | None
    case_number: str
    entries: list[tl.TimelineEntry]
    evidence: list[Evidence]
    problems: list[str] = field(
        default_factory=list
    )  # parts the server refused (shown, not hidden)


def case_for_incident(incident_id: str) -> str:
    """The default case number of a call (same rule as the Evidence tab)."""
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", incident_id.rsplit(":", 1)[-1]).strip("-._")
    return text[:64].rstrip("-._ ") or "case"


def gather(
    api: ApiClient,
    evidence: EvidenceApi,
    *,
    call_id: str = "",
    case_number: str = "",
    zone: tzinfo | None = None,
) -> Incident:
    """Everything recorded about ``call_id`` and/or ``case_number`` (``zone``: the agency's,
    for the times written into entry titles)."""
    problems: list[str] = []
    call: dict[str, Any] | None = None
    groups: list[list[tl.TimelineEntry]] = []
    if call_id:
        call = api.get_call(call_id)
        rows = history_rows([h for h in call.get("history") or [] if isinstance(h, dict)])
        groups.append(tl.cad_entries((r.updated_at, r.source, r.changes) for r in rows))
        shares = _try(problems, "field shares", lambda: _field_shares(api, call_id), [])
        groups.append(tl.field_share_entries(shares, zone=zone))
        case_number = case_number or case_for_incident(str(call.get("incident_id") or call_id))
    requests = _try(problems, "footage requests", lambda: _requests(api, call_id, case_number), [])
    groups.append(tl.request_entries(requests))
    items: dict[str, Evidence] = {}
    for kwargs in ({"call_id": call_id}, {"case_number": case_number}):
        if any(kwargs.values()):
            for ev in _try(problems, "evidence", lambda k=kwargs: evidence.list_items(**k), []):
                items.setdefault(ev.id, ev)
    groups.append(tl.evidence_entries(items.values()))
    for ev in items.values():
        if ev.is_video:
            index = _try(
                problems, f"vehicles of {ev.id}", lambda e=ev: item_vehicles(api, e.id), None
            )
            if index is not None:
                groups.append(tl.vehicle_entries(ev, index.detections))
        groups.append(
            tl.custody_entries(
                _try(problems, f"custody of {ev.id}", lambda e=ev: evidence.custody(e.id), [])
            )
        )
    groups.append(
        tl.live_view_entries(
            _try(problems, "audit trail", lambda: _live_audit(api, call, case_number), [])
        )
    )
    return Incident(
        call, case_number, tl.merged(*groups), sorted(items.values(), key=lambda e: e.id), problems
    )


def _field_shares(api: ApiClient, call_id: str) -> list[dict[str, Any]]:
    """The call's shares to officers, as the API lists them (issue 16)."""
    from urllib.parse import quote

    body = api.request("GET", f"/calls/{quote(call_id, safe='')}/field-shares").json()
    return [s for s in body.get("items") or [] if isinstance(s, dict)]


def _requests(api: ApiClient, call_id: str, case_number: str) -> list[dict[str, Any]]:
    page = FootageRequestsApi(api).list_requests(scope="all", case_number=case_number, limit=200)
    found = [r for r in page.get("items", []) if isinstance(r, dict)]
    return [r for r in found if not call_id or r.get("call_id") in (None, call_id)]


def _live_audit(
    api: ApiClient, call: dict[str, Any] | None, case_number: str
) -> list[dict[str, Any]]:
    """``live.grant`` entries whose reason names the case or the incident, with their ends."""
    words = {case_number} | (
        {str(call.get("incident_id"))} if call and call.get("incident_id") else set()
    )
    grants: dict[int, dict[str, Any]] = {}
    for word in sorted(w for w in words if w):
        for e in feed.audit_entries(api, action="live.grant", q=word, max_items=2000):
            grants.setdefault(int(e["id"]), e)
    out = list(grants.values())
    for e in out[:MAX_GRANTS]:
        grant = (e.get("targets") or {}).get("grant")
        if grant:
            out.extend(feed.audit_entries(api, action="live.", q=str(grant), max_items=200))
    return out


def _try(problems: list[str], what: str, fn: Any, default: Any) -> Any:
    try:
        return fn()
    except ApiError as exc:
        problems.append(f"{what}: {exc}")
        return default
