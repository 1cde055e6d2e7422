"""Footage requests from the console's side (``docs/api/footage-requests.md``).

Qt-free and blocking, on top of ``ApiClient.request``: callers run it on worker threads
(``ui.tasks``). A limit breach (422 with ``{"limit", "message", "overridable"}``) becomes
:class:`LimitExceeded`, so the form can name the limit and offer a supervisor's override.
Also the small pure helpers the console shows: area units, item state labels, a request's
quick window picks.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from rtcc_console.client.api import ApiClient, ApiError

SQ_M_PER_SQ_MI = 2_589_988.110336
ITEM_STATES = (
    "queued",
    "sent",
    "opened",
    "uploaded",
    "no_footage",
    "declined",
    "expired",
    "undeliverable",
)
ANSWERED = frozenset({"uploaded", "no_footage", "declined"})
# Quick picks for the time window, relative to the call's reported time: (label, start, end).
QUICK_WINDOWS: tuple[tuple[str, timedelta, timedelta], ...] = (
    ("±30 min", timedelta(minutes=-30), timedelta(minutes=30)),
    ("1 h before → 30 min after", timedelta(hours=-1), timedelta(minutes=30)),
    ("2 h before", timedelta(hours=-2), timedelta(0)),
    ("6 h before", timedelta(hours=-6), timedelta(0)),
    ("12 h before", timedelta(hours=-12), timedelta(0)),
)


class LimitExceeded(ApiError):
    """422 naming an agency limit (``max_window``, ``max_area``, ``max_per_case``...)."""

    def __init__(self, limit: str, message: str, overridable: bool) -> None:
        super().__init__(422, f"{limit}: {message}")
        self.limit = limit
        self.message = message
        self.overridable = overridable


@dataclass(frozen=True, slots=True)
class RequestDraft:
    """What the form holds; ``body()`` is the create/preview body of the contract."""

    case_number: str
    area: dict[str, Any]
    window_start: datetime
    window_end: datetime
    message: str = ""
    offence_category: str = ""
    call_id: str | None = None
    camera_ids: list[str] | None = None
    override_reason: str | None = None
    client_key: str = field(default_factory=lambda: uuid.uuid4().hex)

    def body(self) -> dict[str, Any]:
        return {
            "client_key": self.client_key,
            "case_number": self.case_number.strip(),
            "offence_category": self.offence_category.strip(),
            "call_id": self.call_id,
            "area": self.area,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "message": self.message,
            "camera_ids": self.camera_ids,
            "override_reason": self.override_reason or None,
        }


def _limit_from(detail: Any) -> LimitExceeded | None:
    if isinstance(detail, dict) and "limit" in detail:
        return LimitExceeded(
            str(detail["limit"]),
            str(detail.get("message") or detail["limit"]),
            bool(detail.get("overridable")),
        )
    return None


class FootageRequestsApi:
    """The footage-request routes for one signed-in ``ApiClient``."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            resp = self.api.request(method, path, **kwargs)
        except ApiError as exc:
            limit = _limit_from(exc.payload) if exc.status == 422 else None
            if limit is not None:
                raise limit from exc
            raise
        return resp.json() if resp.content else None

    def preview(self, draft: RequestDraft) -> dict[str, Any]:
        """Counts, exclusions and limit warnings for ``draft``; nothing is stored."""
        return dict(self._json("POST", "/footage-requests/preview", json=draft.body()))

    def create(self, draft: RequestDraft) -> dict[str, Any]:
        """Send the request (idempotent by ``draft.client_key``); the request object."""
        return dict(self._json("POST", "/footage-requests", json=draft.body()))

    def list_requests(
        self,
        *,
        scope: str = "mine",
        case_number: str = "",
        state: str = "",
        limit: int = 200,
        offset: int = 0,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"scope": scope, "limit": limit, "offset": offset}
        if case_number.strip():
            params["case_number"] = case_number.strip()
        if state:
            params["state"] = state
        return dict(self._json("GET", "/footage-requests", params=params))

    def get(self, request_id: str) -> dict[str, Any]:
        return dict(self._json("GET", f"/footage-requests/{request_id}"))


# -- shown by the console (pure) --------------------------------------------------------
def square_miles(area_m2: float) -> float:
    return area_m2 / SQ_M_PER_SQ_MI


def area_text(area_m2: float | None) -> str:
    """``"125,664 m² (0.049 sq mi)"``."""
    if area_m2 is None:
        return "no area drawn"
    sq_mi = square_miles(area_m2)
    return f"{area_m2:,.0f} m² ({sq_mi:.{4 if sq_mi < 0.01 else 3}f} sq mi)"


def item_state_text(item: dict[str, Any]) -> str:
    """An owner item's state as the panel shows it: "uploaded (2 files)", "undeliverable: 550 …"."""
    state = str(item.get("state") or "")
    if state == "uploaded":
        n = int(item.get("files") or 0)
        return f"uploaded ({n} file{'s' if n != 1 else ''})"
    label = state.replace("_", " ")
    reason = item.get("state_reason")
    if state in ("undeliverable", "declined", "expired") and reason:
        return f"{label}: {reason}"
    return label


def window_from_call(
    reported_at: datetime, pick: int, *, now: datetime
) -> tuple[datetime, datetime]:
    """Quick pick ``pick`` of :data:`QUICK_WINDOWS` around a call; the end never after ``now``."""
    _label, before, after = QUICK_WINDOWS[pick]
    start, end = reported_at + before, min(reported_at + after, now)
    return min(start, end), end
