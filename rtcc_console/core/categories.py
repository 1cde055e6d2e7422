"""Local CAD call-type codes mapped to the common incident categories analysts filter by.

Every agency's CAD has its own codes (``BURG``, ``11R``, ``09V``...). The console colours
calls and the server ranks cameras by a small shared vocabulary instead (:data:`CATEGORIES`).
The mapping is an editable CSV table (``code,category,description``): the default ships in
the package (``rtcc_console/resources/call_categories.csv``) and an agency can point the
server at its own copy. Codes not in the table fall back to keywords in the call's text.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

CATEGORIES: tuple[str, ...] = (
    "burglary",
    "robbery",
    "assault",
    "shooting",
    "theft",
    "vehicle_crime",
    "traffic",
    "disturbance",
    "suspicious",
    "missing_person",
    "fire",
    "medical",
    "welfare",
    "other",
)

OTHER = "other"

# Checked in this order, so the more specific wins: "burglary of motor vehicle" is a
# vehicle crime, "motor vehicle accident" is traffic, "shots fired" is not a fire.
_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("shooting", ("shooting", "shots", "shot", "gunfire", "gunshot", "gunshots", "shooter")),
    ("robbery", ("robbery", "robbed", "carjacking", "carjack", "holdup", "hold-up", "mugging")),
    (
        "traffic",
        (
            "accident",
            "crash",
            "collision",
            "mva",
            "hit and run",
            "dwi",
            "dui",
            "reckless",
            "traffic",
            "wreck",
        ),
    ),
    (
        "vehicle_crime",
        (
            "motor vehicle",
            "uumv",
            "stolen vehicle",
            "stolen car",
            "auto theft",
            "vehicle theft",
            "car break-in",
            "bmv",
            "vehicle burglary",
        ),
    ),
    ("burglary", ("burglary", "burglar", "break-in", "breaking and entering", "intrusion")),
    ("assault", ("assault", "stabbing", "stabbed", "domestic", "battery", "attack")),
    ("theft", ("theft", "shoplifting", "shoplifter", "larceny", "stolen", "pickpocket")),
    ("missing_person", ("missing", "runaway", "abduction", "amber", "kidnap", "kidnapping")),
    ("fire", ("fire", "smoke", "burning", "explosion", "arson")),
    (
        "medical",
        (
            "medical",
            "injured",
            "injury",
            "cardiac",
            "cpr",
            "overdose",
            "unconscious",
            "breathing",
            "ambulance",
            "ems",
            "seizure",
        ),
    ),
    ("welfare", ("welfare", "mental", "suicidal", "crisis", "check on", "wellbeing")),
    (
        "disturbance",
        (
            "disturbance",
            "fight",
            "fighting",
            "noise",
            "loud",
            "party",
            "riot",
            "harassment",
            "argument",
        ),
    ),
    ("suspicious", ("suspicious", "suspect", "prowler", "loitering", "trespass", "trespassing")),
)

_KEYWORD_RES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (category, re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.I))
    for category, words in _KEYWORDS
)


class CategoryTableError(ValueError):
    """A category table file is wrong; names the source, row and column."""

    def __init__(self, source: str, row: int, field: str, problem: str) -> None:
        self.source, self.row, self.field, self.problem = source, row, field, problem
        super().__init__(f"{source}: row {row}, {field}: {problem}")


@dataclass(frozen=True, slots=True)
class CategoryEntry:
    """One row of the table."""

    code: str
    category: str
    description: str


class CategoryTable:
    """Looks up the common category of a call from its code, else from its text."""

    def __init__(self, entries: dict[str, CategoryEntry]) -> None:
        self._entries = {code.upper(): entry for code, entry in entries.items()}

    @classmethod
    def load(cls, path: str | Path | None = None) -> CategoryTable:
        """Read a table from ``path``, or the packaged default when ``path`` is None."""
        if path is None:
            resource = files("rtcc_console") / "resources" / "call_categories.csv"
            return cls.from_text(resource.read_text(encoding="utf-8"), source=str(resource))
        return cls.from_text(Path(path).read_text(encoding="utf-8-sig"), source=str(path))

    @classmethod
    def from_text(cls, text: str, *, source: str = "<text>") -> CategoryTable:
        """Parse CSV text; ``#`` lines are comments. Raises CategoryTableError."""
        numbered = [
            (number, line)
            for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1)
            if line.strip() and not line.lstrip().startswith("#")
        ]
        if not numbered:
            raise CategoryTableError(
                source, 1, "header", "empty table: expected 'code,category,description'"
            )
        rows = list(csv.reader(io.StringIO("\n".join(line for _, line in numbered))))
        header = [h.strip().lower() for h in rows[0]]
        for column in ("code", "category"):
            if column not in header:
                raise CategoryTableError(source, numbered[0][0], column, "missing column in header")
        i_code, i_cat = header.index("code"), header.index("category")
        i_desc = header.index("description") if "description" in header else None
        entries: dict[str, CategoryEntry] = {}
        for (number, _), row in zip(numbered[1:], rows[1:], strict=False):
            cells = [c.strip() for c in row]
            code = cells[i_code] if i_code < len(cells) else ""
            category = cells[i_cat].lower() if i_cat < len(cells) else ""
            description = cells[i_desc] if i_desc is not None and i_desc < len(cells) else ""
            if not code:
                raise CategoryTableError(source, number, "code", "empty code")
            if category not in CATEGORIES:
                raise CategoryTableError(
                    source,
                    number,
                    "category",
                    f"unknown category {category!r}; expected one of {', '.join(CATEGORIES)}",
                )
            if code.upper() in entries:
                raise CategoryTableError(source, number, "code", f"duplicate code {code!r}")
            entries[code.upper()] = CategoryEntry(code, category, description)
        return cls(entries)

    def __len__(self) -> int:
        return len(self._entries)

    def entry(self, code: str) -> CategoryEntry | None:
        """The table row for ``code`` (case-insensitive), if any."""
        return self._entries.get(code.strip().upper())

    def category_for(self, code: str | None, text: str | None = None) -> str:
        """The category for a call: by code, else by keywords in ``text``, else "other"."""
        if code:
            entry = self.entry(code)
            if entry is not None:
                return entry.category
        return category_from_text(text)


def category_from_text(text: str | None) -> str:
    """Keyword classification of a call's free-text type ("Shots fired near school")."""
    if not text:
        return OTHER
    for category, pattern in _KEYWORD_RES:
        if pattern.search(text):
            return category
    return OTHER


@lru_cache(maxsize=1)
def default_table() -> CategoryTable:
    """The packaged table, loaded once per process."""
    return CategoryTable.load(None)
