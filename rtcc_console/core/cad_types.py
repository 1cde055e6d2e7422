"""Shared pieces of the CAD parsers: the parsed call, the error type and field checkers.

Every parser (EIDO, simple JSON, CSV) turns untrusted input into a :class:`ParsedCall` or
raises :class:`CadParseError` naming the offending field with a JSON path such as
``incidentComponent[0].lastUpdateTimeStamp``. The checkers here never let a KeyError,
TypeError or AttributeError escape: junk input is a data problem, not a crash.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rtcc_console.core.models import CallStatus, DispatchCall, GeoPoint

MAX_TEXT = 500  # longest free text kept from a CAD field
MAX_ID = 200  # longest incident id


class CadParseError(ValueError):
    """A CAD record could not be used. ``field`` is a JSON path, ``problem`` says why."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


@dataclass(frozen=True, slots=True)
class ParsedCall:
    """One dispatch call as read from a CAD feed, before the server gives it an id.

    ``priority`` runs 1 (most urgent) to 9. ``location`` is None when only a civic address
    is known (never 0,0); then ``address`` is set. Times are aware UTC datetimes.
    ``uncertainty_m`` is the radius of the CAD's position uncertainty, when it gave one.
    """

    incident_id: str
    type_code: str
    type_text: str
    priority: int
    status: CallStatus
    location: GeoPoint | None
    address: str | None
    reported_at: datetime
    updated_at: datetime
    source: str
    uncertainty_m: float | None = None
    category: str = "other"
    #: What the parser had to guess (an unknown status word, a missing incident type...):
    #: the call is kept and these texts go into the call's history.
    warnings: tuple[str, ...] = ()
    #: True when ``status`` is a fallback, not read from the message: an update then keeps
    #: the call's current status.
    status_assumed: bool = False
    #: The CAD narrative (EIDO notesComponent), the responding units (emergencyResource-
    #: Component) and agencies (agencyComponent), as plain short texts; the simple form
    #: carries them as optional lists.
    notes: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()

    def to_simple_dict(self) -> dict[str, Any]:
        """The simple JSON form of docs/api-contract.md (``"format": "simple"``)."""
        details = {
            k: list(v)
            for k, v in (("notes", self.notes), ("units", self.units), ("agencies", self.agencies))
            if v
        }
        return details | {
            "format": "simple",
            "incident_id": self.incident_id,
            "type_code": self.type_code,
            "type_text": self.type_text,
            "priority": self.priority,
            "status": self.status.value,
            "lat": None if self.location is None else self.location.lat,
            "lon": None if self.location is None else self.location.lon,
            "address": self.address,
            "reported_at": self.reported_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }

    def to_dispatch_call(self, call_id: str) -> DispatchCall:
        """The domain record the server stores under ``call_id``."""
        return DispatchCall(
            id=call_id,
            incident_id=self.incident_id,
            type_code=self.type_code,
            type_text=self.type_text,
            priority=self.priority,
            status=self.status,
            reported_at=self.reported_at,
            updated_at=self.updated_at,
            location=self.location,
            address=self.address,
            category=self.category,
            source=self.source,
        )


def join(path: str, key: str | int) -> str:
    """Extend a JSON path: ``join("a", "b") == "a.b"``, ``join("a", 0) == "a[0]"``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def short(value: object, limit: int = 60) -> str:
    """A bounded repr for error messages (input may be huge or hostile)."""
    try:
        text = repr(value)
    except ValueError:  # an integer too long to print (sys.set_int_max_str_digits)
        return f"<{type(value).__name__} too long to show>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def clean_text(value: object, path: str, *, limit: int = MAX_TEXT) -> str:
    """A non-empty string, stripped, control characters removed, at most ``limit`` chars."""
    if not isinstance(value, str):
        raise CadParseError(path, f"expected text, got {type(value).__name__} {short(value)}")
    text = re.sub(r"[\x00-\x1f\x7f]+", " ", value).strip()
    if not text:
        raise CadParseError(path, "must not be empty")
    if len(text) > limit:
        raise CadParseError(path, f"longer than {limit} characters")
    return text


def optional_text(value: object, path: str, *, limit: int = MAX_TEXT) -> str | None:
    """Like :func:`clean_text` but None or blank give None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return clean_text(value, path, limit=limit)


def parse_time(value: object, path: str) -> datetime:
    """An ISO-8601 time with a time zone, as aware UTC. Naive times are rejected.

    A time without a zone is ambiguous across a CAD in local time and a server in UTC; a
    wrong guess shifts a call by hours, so the sender must say which zone it means.
    """
    if not isinstance(value, str):
        raise CadParseError(
            path, f"expected an ISO-8601 time text, got {type(value).__name__} {short(value)}"
        )
    text = value.strip()
    problem = f"not an ISO-8601 time with a time zone: {short(text)}"
    if not 10 <= len(text) <= 40:
        raise CadParseError(path, problem)
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "zZ" else text)
    except ValueError:
        raise CadParseError(path, problem) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise CadParseError(
            path, f"time has no time zone (add 'Z' or an offset such as '-06:00'): {short(text)}"
        )
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise CadParseError(path, problem) from None


def parse_number(value: object, path: str) -> float:
    """A finite JSON number (numeric text accepted; booleans are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise CadParseError(path, f"expected a number, got {type(value).__name__} {short(value)}")
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise CadParseError(path, f"not a number: {short(value)}") from None
    if not math.isfinite(number):
        raise CadParseError(path, f"not a finite number: {short(value)}")
    return number


def make_point(lat: float, lon: float, path: str) -> GeoPoint:
    """A validated position; 0,0 (the classic "no fix" placeholder) is refused."""
    if not -90.0 <= lat <= 90.0:
        raise CadParseError(path, f"latitude {lat} is outside -90..90")
    if not -180.0 <= lon <= 180.0:
        raise CadParseError(path, f"longitude {lon} is outside -180..180")
    if lat == 0.0 and lon == 0.0:
        raise CadParseError(
            path, "0,0 is not a real location (a CAD placeholder for 'no position')"
        )
    return GeoPoint(lat, lon)


def parse_priority(value: object, path: str) -> int:
    """A priority 1..9 (1 most urgent), from an integer or integral text."""
    number = parse_number(value, path)
    if number != int(number) or not 1 <= number <= 9:
        raise CadParseError(
            path, f"priority must be a whole number 1..9 (1 most urgent), got {short(value)}"
        )
    return int(number)


#: NENA-STA-021.1b Table 33, "Incident Status – Common Registry" (IANA EIDO-IncidentStatus-
#: Common), each mapped onto our lifecycle. ``NewLocation`` and ``ReOpened`` say the incident
#: is active again (pending) unless another word in the same list says more.
INCIDENT_STATUS_REGISTRY: dict[str, CallStatus] = {
    "Active": CallStatus.PENDING,
    "Cancelled": CallStatus.CLOSED,
    "Closed": CallStatus.CLOSED,
    "FireUnderControl": CallStatus.ON_SCENE,
    "NewLocation": CallStatus.PENDING,
    "ReOpened": CallStatus.PENDING,
    "ResourcesAssigned": CallStatus.DISPATCHED,
    "ResourcesEnroute": CallStatus.DISPATCHED,
    "ResourcesOnscene": CallStatus.ON_SCENE,
    "StructureCleared": CallStatus.ON_SCENE,
}

_STATUS_WORDS: tuple[tuple[CallStatus, tuple[str, ...]], ...] = (
    (
        CallStatus.CLOSED,
        (
            "closed",
            "close",
            "cleared",
            "clear",
            "cancelled",
            "canceled",
            "cancel",
            "completed",
            "complete",
            "resolved",
            "disposed",
            "finished",
            "ended",
        ),
    ),
    (
        CallStatus.ON_SCENE,
        ("onscene", "arrived", "atscene", "working", "inprogress", "undercontrol"),
    ),
    (CallStatus.DISPATCHED, ("dispatched", "assigned", "enroute", "responding", "acknowledged")),
    (
        CallStatus.PENDING,
        (
            "pending",
            "new",
            "queued",
            "received",
            "waiting",
            "open",
            "created",
            "unassigned",
            "holding",
            "hold",
        ),
    ),
)
_REGISTRY_KEYS = {name.lower(): status for name, status in INCIDENT_STATUS_REGISTRY.items()}
_STATUS_ORDER = (CallStatus.PENDING, CallStatus.DISPATCHED, CallStatus.ON_SCENE, CallStatus.CLOSED)
# A re-opened incident goes back to pending even when the same list still says Closed.
_REOPEN_WORDS = frozenset({"reopened"})


def _status_key(text: str) -> str:
    return re.sub(r"[\s\-._]+", "", text.strip().lower())


def status_from_word(text: str) -> CallStatus | None:
    """Normalise a CAD status word ("OnScene", "en route", "Cleared") or None if unknown."""
    key = _status_key(text)
    if key in _REGISTRY_KEYS:
        return _REGISTRY_KEYS[key]
    for status, words in _STATUS_WORDS:
        if key in words:
            return status
    return None


def _status_words(value: object, path: str) -> list[tuple[str, str]]:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise CadParseError(path, "empty status list")
    return [
        (
            join(path, i) if isinstance(value, list) else path,
            clean_text(item, join(path, i) if isinstance(value, list) else path, limit=60),
        )
        for i, item in enumerate(values)
    ]


def _lifecycle(found: list[tuple[str, CallStatus]]) -> CallStatus:
    if any(_status_key(word) in _REOPEN_WORDS for word, _ in found):
        found = [(w, s) for w, s in found if s is not CallStatus.CLOSED]
    return max((s for _, s in found), key=_STATUS_ORDER.index)


def parse_status(value: object, path: str) -> CallStatus:
    """One status word, or a list of them (the furthest along the lifecycle wins)."""
    found: list[tuple[str, CallStatus]] = []
    for item_path, word in _status_words(value, path):
        status = status_from_word(word)
        if status is None:
            raise CadParseError(
                item_path,
                f"unknown call status {short(word)}; expected pending, dispatched, on_scene or "
                "closed (or a CAD word such as Queued, Enroute, OnScene, Cleared)",
            )
        found.append((word, status))
    return _lifecycle(found)


def read_status_lenient(value: object, path: str) -> tuple[CallStatus | None, list[str]]:
    """Status words from a vendor: the known ones decide, unknown ones become warnings.

    Returns ``(None, warnings)`` when no word is known. Malformed values (not text, empty)
    still raise :class:`CadParseError`: that is a broken message, not a new vendor word.
    """
    found: list[tuple[str, CallStatus]] = []
    warnings: list[str] = []
    for item_path, word in _status_words(value, path):
        status = status_from_word(word)
        if status is None:
            warnings.append(f"{item_path}: unknown status word {short(word)} ignored")
        else:
            found.append((word, status))
    return (_lifecycle(found) if found else None), warnings


def expect_object(value: object, path: str) -> dict[str, Any]:
    """``value`` must be a JSON object."""
    if not isinstance(value, dict):
        raise CadParseError(
            path or "$", f"expected a JSON object, got {type(value).__name__} {short(value)}"
        )
    return value


MAX_DETAIL_ITEMS = 50
MAX_NOTE = 4000


def text_list(
    value: object, path: str, *, limit: int = MAX_TEXT, items: int = MAX_DETAIL_ITEMS
) -> tuple[str, ...]:
    """Optional list of short texts (one text is a list of one); blanks dropped."""
    if value is None:
        return ()
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list):
        raise CadParseError(path, f"expected a text or a list of texts, got {type(value).__name__}")
    if len(values) > items:
        raise CadParseError(path, f"more than {items} entries")
    out = []
    for i, item in enumerate(values):
        text = optional_text(item, join(path, i), limit=limit)
        if text is not None:
            out.append(text)
    return tuple(out)
