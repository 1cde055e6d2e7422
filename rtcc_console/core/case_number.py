"""Case numbers as the evidence vault accepts them (they appear in URLs and file names)."""

from __future__ import annotations

import re

_CASE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}")


class CaseNumberError(ValueError):
    """Not an acceptable case number; the message names the rule."""


def check_case_number(value: object) -> str:
    """The case number, stripped; CaseNumberError unless 1-64 letters, digits, space . _ -."""
    if not isinstance(value, str):
        raise CaseNumberError("case_number must be text")
    text = value.strip()
    if not _CASE.fullmatch(text) or text != text.strip():
        raise CaseNumberError(
            "case_number must be 1-64 letters, digits, spaces, '.', '_' or '-', starting with a letter or digit"
        )
    return text
