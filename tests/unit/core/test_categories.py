"""Call-type code -> category table: the packaged table, agency overrides, keyword fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from rtcc_console.core.categories import (
    CATEGORIES,
    CategoryTable,
    CategoryTableError,
    category_from_text,
    default_table,
)


def test_packaged_table_loads_and_uses_only_known_categories() -> None:
    table = default_table()
    assert len(table) >= 30
    for code in (
        "BURG",
        "ROBB",
        "ASLT",
        "SHOTS",
        "THEFT",
        "UUMV",
        "MVA",
        "DIST",
        "SUSP",
        "MISS",
        "FIRE",
        "MED",
    ):
        entry = table.entry(code)
        assert entry is not None, code
        assert entry.category in CATEGORIES


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("BURG", "burglary"),
        ("burg", "burglary"),
        (" uumv ", "vehicle_crime"),
        ("SHOTS", "shooting"),
        ("MVA", "traffic"),
        ("MISS", "missing_person"),
        ("11R", "burglary"),
        ("09V", "vehicle_crime"),
    ],
)
def test_code_lookup_is_case_insensitive(code: str, category: str) -> None:
    assert default_table().category_for(code, "text that says robbery") == category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Shots fired near the school", "shooting"),
        ("Burglary of motor vehicle", "vehicle_crime"),
        ("Motor vehicle accident, 2 cars", "traffic"),
        ("Residential burglary in progress", "burglary"),
        ("Fire alarm sounding", "fire"),
        ("Loud party", "disturbance"),
        ("Check the wellbeing of an elderly man", "welfare"),
        ("Lost dog", "other"),
        ("", "other"),
        (None, "other"),
    ],
)
def test_unknown_code_falls_back_to_keywords(text: str | None, category: str) -> None:
    assert default_table().category_for("ZZZ-UNLISTED", text) == category
    assert category_from_text(text) == category


def test_agency_table_from_a_path_overrides_the_default(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(
        "\ufeff# our codes\ncode,category,description\nP1,robbery,Hold-up\nBURG,theft,We call it theft\n"
    )
    table = CategoryTable.load(path)
    assert len(table) == 2
    assert table.category_for("p1") == "robbery"
    assert table.category_for("BURG") == "theft"
    assert table.category_for("ROBB", None) == "other"


@pytest.mark.parametrize(
    ("text", "row", "field", "fragment"),
    [
        ("code,category\nX1,crime\n", 2, "category", "unknown category 'crime'"),
        ("code,category\nX1,theft\nx1,fire\n", 3, "code", "duplicate code 'x1'"),
        ("code,category\n,theft\n", 2, "code", "empty code"),
        ("code,description\nX1,y\n", 1, "category", "missing column"),
        ("# only a comment\n", 1, "header", "empty table"),
    ],
)
def test_bad_tables_name_the_row_and_field(text: str, row: int, field: str, fragment: str) -> None:
    with pytest.raises(CategoryTableError) as info:
        CategoryTable.from_text(text, source="agency.csv")
    err = info.value
    assert (err.row, err.field) == (row, field)
    assert fragment in str(err) and str(err).startswith("agency.csv: row")
