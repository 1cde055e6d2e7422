"""CSV files of calls (a CAD export or a file drop): one call per row, simple-form columns.

Rows are numbered by their line in the file (the header is line 1, as a spreadsheet shows
it; a record with a line break inside a quoted cell counts as its last line), so an error
report points a person straight at the cell. Good rows are returned even when others are bad; the
caller decides whether a partial import is acceptable.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from rtcc_console.core.cad_simple import REQUIRED_FIELDS, parse_simple
from rtcc_console.core.cad_types import CadParseError, ParsedCall
from rtcc_console.core.categories import CategoryTable


@dataclass(frozen=True, slots=True)
class RowError:
    """A problem in one row: ``row`` is its line in the file (header = 1), ``field`` the column."""

    row: int
    field: str
    message: str


@dataclass(slots=True)
class CsvResult:
    """The calls read from a CSV file and the rows that could not be read."""

    calls: list[ParsedCall] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def parse_csv(text: str, *, categories: CategoryTable) -> CsvResult:
    """Parse CSV text with a header row naming the simple-form fields."""
    result = CsvResult()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""), restkey="\x00extra")
    try:
        header = [name.strip() for name in (reader.fieldnames or [])]
    except csv.Error as exc:
        result.errors.append(RowError(1, "header", f"not readable as CSV ({exc})"))
        return result
    reader.fieldnames = header
    missing = [name for name in REQUIRED_FIELDS if name not in header]
    for name in missing:
        result.errors.append(RowError(1, name, "missing column in the header row"))
    if missing:
        return result
    while True:
        previous_line = reader.line_num
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            result.errors.append(
                RowError(
                    max(reader.line_num, previous_line + 1), "$", f"not readable as CSV ({exc})"
                )
            )
            continue
        row_number = reader.line_num
        if "\x00extra" in row:
            result.errors.append(RowError(row_number, "$", "row has more cells than the header"))
            continue
        cells = {k: (v.strip() if isinstance(v, str) else v) for k, v in row.items()}
        if all(not v for v in cells.values()):
            continue  # blank line
        try:
            result.calls.append(parse_simple(cells, categories=categories, source="csv"))
        except CadParseError as exc:
            result.errors.append(RowError(row_number, exc.field, exc.problem))
    return result
