"""CAD input: the one entry point the server, file drop and simulators use to read calls.

``parse_call(obj, content_type)`` accepts a decoded JSON body in either form the API takes
(NENA EIDO or the simple form), ``parse_csv(text)`` a CSV export. Both give
:class:`ParsedCall` records or :class:`CadParseError` / :class:`RowError` naming the field.
The category of each call comes from a :class:`CategoryTable` (the packaged one unless
the caller passes the agency's own).
"""

from __future__ import annotations

from typing import Literal

from rtcc_console.core.cad_csv import CsvResult, RowError
from rtcc_console.core.cad_csv import parse_csv as _parse_csv
from rtcc_console.core.cad_eido import parse_eido
from rtcc_console.core.cad_simple import parse_simple
from rtcc_console.core.cad_types import CadParseError, ParsedCall, short
from rtcc_console.core.categories import CategoryTable, default_table

__all__ = [
    "CadParseError",
    "CsvResult",
    "ParsedCall",
    "RowError",
    "detect_format",
    "parse_call",
    "parse_csv",
]

CadFormat = Literal["eido", "simple"]
#: The media type registered for EIDO (NENA-STA-021.1b, IANA) and the older/shorter one.
EIDO_CONTENT_TYPE = "application/emergency.eido+json"
EIDO_CONTENT_TYPES = frozenset({EIDO_CONTENT_TYPE, "application/eido+json"})


def _media_type(content_type: str | None) -> str:
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def detect_format(obj: object, content_type: str | None = None) -> CadFormat:
    """Which parser a request body needs.

    ``application/emergency.eido+json`` (the registered type) or ``application/eido+json``
    means EIDO. Otherwise a ``"format"`` field decides (``"eido"`` or ``"simple"``), and
    without one the structure does: ``eidoVersion`` or any ``...Component`` means EIDO,
    an ``incident_id`` the simple form.
    """
    media = _media_type(content_type)
    if media in EIDO_CONTENT_TYPES:
        return "eido"
    if media and media != "application/json" and not media.endswith("+json"):
        raise CadParseError(
            "Content-Type",
            f"unsupported {short(media)}: send application/json or {EIDO_CONTENT_TYPE}",
        )
    if not isinstance(obj, dict):
        raise CadParseError("$", f"expected a JSON object, got {type(obj).__name__}")
    declared = obj.get("format")
    if declared is not None:
        if declared in ("eido", "simple"):
            return "eido" if declared == "eido" else "simple"
        raise CadParseError(
            "format", f"unknown format {short(declared)}; expected 'eido' or 'simple'"
        )
    if "eidoVersion" in obj or any(isinstance(k, str) and k.endswith("Component") for k in obj):
        return "eido"
    if "incident_id" in obj:
        return "simple"
    raise CadParseError(
        "format",
        "cannot tell the format: expected an EIDO (eidoVersion, incidentComponent) or a simple call "
        '(incident_id), or a "format" field',
    )


def parse_call(
    obj: object, content_type: str | None = None, *, categories: CategoryTable | None = None
) -> ParsedCall:
    """Parse one call body (decoded JSON). Raises CadParseError naming the field."""
    table = categories if categories is not None else default_table()
    if detect_format(obj, content_type) == "eido":
        return parse_eido(obj, categories=table)
    return parse_simple(obj, categories=table)


def parse_csv(text: str, *, categories: CategoryTable | None = None) -> CsvResult:
    """Parse a CSV export (header row of simple-form fields); see :mod:`cad_csv`."""
    return _parse_csv(text, categories=categories if categories is not None else default_table())
