"""The one builder of JavaScript sent into the map page.

Every argument is JSON-encoded (and ``<``, ``>``, ``&`` and the JS-hostile line separators
escaped), so data can never become code, whatever a camera name or address contains.
"""

from __future__ import annotations

import json
import re
from typing import Any

_FUNC = re.compile(r"^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$")
_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def js_value(value: Any) -> str:
    """A JavaScript expression for ``value`` (JSON, safe inside an HTML <script> too)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return re.sub("[<>&\u2028\u2029]", lambda m: _UNSAFE[m.group(0)], text)


def js_call(function: str, *args: Any) -> str:
    """``function(arg1, arg2, ...)`` with each argument JSON-encoded.

    ``function`` must be a dotted identifier fixed in code (e.g. ``"rtcc.selectCall"``);
    anything else is refused.
    """
    if not _FUNC.match(function):
        raise ValueError(f"not a JavaScript function name: {function!r}")
    return f"{function}({','.join(js_value(a) for a in args)});"
