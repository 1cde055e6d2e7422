"""Footage-request rules that need no database: item states, agency limits, de-duplication.

An *item* is what one owner is asked (one per owner; it may serve several requests when
analysts ask the same owner about overlapping windows). Its state machine::

    queued -> sent -> opened -> uploaded | no_footage | declined
    queued | sent | opened -> undeliverable        (permanent SMTP failure or bounce)
    sent | opened -> expired                       (link expired without an answer)
    uploaded -> uploaded                           (more files)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class ItemState(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    OPENED = "opened"
    UPLOADED = "uploaded"
    NO_FOOTAGE = "no_footage"
    DECLINED = "declined"
    EXPIRED = "expired"
    UNDELIVERABLE = "undeliverable"


ALL_STATES: tuple[str, ...] = tuple(s.value for s in ItemState)
ANSWERED = frozenset({ItemState.UPLOADED, ItemState.NO_FOOTAGE, ItemState.DECLINED})
FINAL = frozenset(
    {ItemState.NO_FOOTAGE, ItemState.DECLINED, ItemState.EXPIRED, ItemState.UNDELIVERABLE}
)
#: States in which an item may still take a new request (de-duplication) and reminders.
WAITING = frozenset({ItemState.QUEUED, ItemState.SENT, ItemState.OPENED})

_TRANSITIONS: dict[ItemState, frozenset[ItemState]] = {
    ItemState.QUEUED: frozenset(
        {
            ItemState.SENT,
            ItemState.UNDELIVERABLE,
            ItemState.OPENED,
            ItemState.UPLOADED,
            ItemState.NO_FOOTAGE,
            ItemState.DECLINED,
        }
    ),
    ItemState.SENT: frozenset(
        {
            ItemState.OPENED,
            ItemState.UPLOADED,
            ItemState.NO_FOOTAGE,
            ItemState.DECLINED,
            ItemState.EXPIRED,
            ItemState.UNDELIVERABLE,
        }
    ),
    ItemState.OPENED: frozenset(
        {
            ItemState.UPLOADED,
            ItemState.NO_FOOTAGE,
            ItemState.DECLINED,
            ItemState.EXPIRED,
            ItemState.UNDELIVERABLE,
        }
    ),
    ItemState.UPLOADED: frozenset({ItemState.UPLOADED}),
    ItemState.NO_FOOTAGE: frozenset(),
    ItemState.DECLINED: frozenset(),
    ItemState.EXPIRED: frozenset(),
    ItemState.UNDELIVERABLE: frozenset(),
}


class TransitionError(ValueError):
    """A state change the item's state machine does not allow."""


def can_move(current: str, target: str) -> bool:
    return ItemState(target) in _TRANSITIONS[ItemState(current)]


def check_move(current: str, target: str) -> ItemState:
    """The target state, or :class:`TransitionError` naming both states."""
    if not can_move(current, target):
        raise TransitionError(f"an item that is {current} cannot become {target}")
    return ItemState(target)


def is_overdue(
    *,
    state: str,
    due_at: datetime | None,
    sent_at: datetime | None,
    now: datetime,
    nag_after: timedelta | None,
) -> bool:
    """Not answered, and the link expired or the last reminder time passed."""
    if ItemState(state) not in WAITING:
        return False
    if due_at is not None and now >= due_at:
        return True
    return sent_at is not None and nag_after is not None and now >= sent_at + nag_after


# --- agency limits ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Limits:
    max_window_s: int
    max_area_sq_mi: float
    max_per_case: int
    future_skew_s: int = 60


@dataclass(frozen=True, slots=True)
class LimitBreach:
    limit: str
    message: str
    overridable: bool = True

    def as_dict(self) -> dict[str, object]:
        return {"limit": self.limit, "message": self.message, "overridable": self.overridable}


def check_limits(
    limits: Limits,
    *,
    window_start: datetime,
    window_end: datetime,
    area_sq_mi: float,
    requests_for_case: int,
    now: datetime,
) -> list[LimitBreach]:
    """Every agency limit the request breaks (empty: within limits)."""
    out: list[LimitBreach] = []
    if window_end > now + timedelta(seconds=limits.future_skew_s):
        out.append(
            LimitBreach(
                "window_in_future",
                "the time window ends in the future; footage cannot exist yet",
                overridable=False,
            )
        )
    hours = (window_end - window_start).total_seconds() / 3600.0
    if hours * 3600.0 > limits.max_window_s:
        out.append(
            LimitBreach(
                "max_window",
                f"window is {hours:.1f} h; the agency allows at most "
                f"{limits.max_window_s / 3600.0:.1f} h",
            )
        )
    if area_sq_mi > limits.max_area_sq_mi:
        out.append(
            LimitBreach(
                "max_area",
                f"area is {area_sq_mi:.3f} sq mi; the agency allows at most "
                f"{limits.max_area_sq_mi:g} sq mi",
            )
        )
    if requests_for_case >= limits.max_per_case:
        out.append(
            LimitBreach(
                "max_per_case",
                f"case already has {requests_for_case} request(s); the agency "
                f"allows at most {limits.max_per_case}",
            )
        )
    return out


# --- de-duplication ---------------------------------------------------------------------


def windows_mergeable(
    a_start: datetime,
    a_end: datetime,
    b_start: datetime,
    b_end: datetime,
    slack: timedelta = timedelta(0),
) -> bool:
    """Whether two time windows overlap (or lie within ``slack`` of each other)."""
    return a_start <= b_end + slack and b_start <= a_end + slack


# --- who is asked -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CandidateCamera:
    """A camera near the area with what the owner rules need (never contact details)."""

    id: str
    lat: float
    lon: float
    tier: str
    revoked: bool
    owner_id: str | None
    owner_kind: str
    owner_accepts: bool
    owner_has_email: bool


@dataclass(frozen=True, slots=True)
class OwnerPick:
    """An owner who gets an item, with their cameras inside the area that accept requests."""

    owner_id: str
    owner_kind: str
    camera_ids: tuple[str, ...]


@dataclass(slots=True)
class OwnerSelection:
    cameras_inside: int = 0
    owners_inside: int = 0
    picks: list[OwnerPick] = field(default_factory=list)
    excluded: dict[str, int] = field(
        default_factory=lambda: {"opted_out": 0, "revoked": 0, "no_contact": 0}
    )

    @property
    def owners_included(self) -> int:
        return len(self.picks)


def select_owners(cameras_inside: Sequence[CandidateCamera]) -> OwnerSelection:
    """Group the cameras inside the area by owner and decide who is asked.

    Order of exclusion: opted out (the owner does not accept requests; this also keeps
    integrated cameras out unless their owner allows requests), revoked (all of the
    owner's cameras inside are revoked), no contact (no e-mail address).
    """
    sel = OwnerSelection(cameras_inside=len(cameras_inside))
    by_owner: dict[str, list[CandidateCamera]] = {}
    for cam in cameras_inside:
        if cam.owner_id:
            by_owner.setdefault(cam.owner_id, []).append(cam)
    sel.owners_inside = len(by_owner)
    for owner_id in sorted(by_owner):
        cams = by_owner[owner_id]
        first = cams[0]
        live = [c for c in cams if not c.revoked]
        if not first.owner_accepts:
            sel.excluded["opted_out"] += 1
        elif not live:
            sel.excluded["revoked"] += 1
        elif not first.owner_has_email:
            sel.excluded["no_contact"] += 1
        else:
            sel.picks.append(
                OwnerPick(owner_id, first.owner_kind, tuple(sorted(c.id for c in live)))
            )
    return sel


# --- owner link tokens ------------------------------------------------------------------


def link_token(secret: bytes, item_id: str, nonce: str) -> str:
    """The owner's link token for an item: HMAC-SHA256 of (item, nonce), url-safe base64.

    Derived, never stored: reminders can carry the same link, and a copy of the database
    alone does not give anyone a working link.
    """
    mac = hmac.new(secret, f"rtcc-owner-link:{item_id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def token_digest(token: str) -> str:
    """What the database keeps of a token (SHA-256 hex)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
