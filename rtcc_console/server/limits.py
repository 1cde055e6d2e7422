"""Request limits at the edge: body size per route, text that is real Unicode, bounded JSON.

One ASGI middleware (:class:`EdgeLimits`) sits in front of every route, so no route can
forget a check:

* **Body size**: each request gets the limit of the longest matching rule in
  :class:`BodyLimits` (a table of path pattern -> bytes). A ``Content-Length`` above it is
  refused with 413 before one byte of the body is read; a chunked body without a length is
  counted while it arrives and refused as soon as it passes the limit. Nothing larger
  than the limit is ever held in memory.
* **Text**: JSON bodies (every body that is not declared as CSV, form, multipart or
  binary) must be UTF-8 without lone surrogates (``"\\ud800"`` escapes, or surrogates
  encoded as raw bytes) and without NUL characters. Such text cannot be hashed, written to
  SQLite/PostgreSQL or hashed by argon2; it is refused with 422 here instead of failing
  deep inside a route.
* **Depth**: JSON nested deeper than :data:`MAX_JSON_DEPTH` is refused with 422 before
  any parser recurses into it (a RecursionError used to be a 500).
* **Validation errors** (:func:`validation_error`) never echo large input back: each error
  shows at most a short preview of the offending value, and at most
  :data:`MAX_ERRORS` errors are listed.

Binary routes (tus ``PATCH`` of evidence uploads) are registered with ``raw=True``: their
body is streamed through to the route uncopied and only counted. See docs/api/security.md
"Body limits" for how a route registers its own limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KIB = 1024
MIB = 1024 * KIB
DEFAULT_LIMIT = 64 * KIB
SMALL_LIMIT = 8 * KIB
MAX_JSON_DEPTH = 64
MAX_ERRORS = 20
PREVIEW_CHARS = 120

#: Media types whose bodies are not JSON text (no JSON checks; size limits still apply).
NON_JSON_TYPES = frozenset(
    {
        "text/csv",
        "application/csv",
        "application/x-www-form-urlencoded",
        "application/offset+octet-stream",
        "application/octet-stream",
    }
)
NON_JSON_PREFIXES = ("multipart/", "video/", "image/", "audio/")


@dataclass(frozen=True, slots=True)
class BodyRule:
    """``pattern``: a path prefix where ``*`` stands for one path segment
    (``/api/v1/cameras/*/snapshots``). ``methods``: None for every method. ``raw``: the
    body is binary, streamed to the route and only counted (no JSON checks)."""

    pattern: str
    limit: int
    methods: frozenset[str] | None = None
    raw: bool = False

    def matches(self, method: str, path: str) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        return _compile(self.pattern).match(path) is not None

    @property
    def weight(self) -> tuple[int, int]:
        """Longer literal patterns win; a method-specific rule beats a general one."""
        return (len(self.pattern.replace("*", "")), 0 if self.methods is None else 1)


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _compile(pattern: str) -> re.Pattern[str]:
    compiled = _PATTERNS.get(pattern)
    if compiled is None:
        parts = [re.escape(p) for p in pattern.split("*")]
        # A prefix, ending at a segment boundary: "/api/v1/calls" matches "/api/v1/calls",
        # "/api/v1/calls/batch" and "/api/v1/calls?..." but not "/api/v1/callsigns".
        tail = "" if pattern.endswith("/") else r"(?:/|$)"
        compiled = _PATTERNS[pattern] = re.compile("^" + "[^/]+".join(parts) + tail)
    return compiled


class BodyLimits:
    """The table of body limits. ``set`` adds or replaces a rule (the vault registers its
    tus upload routes this way); :meth:`rule_for` answers the rule of one request."""

    def __init__(self, rules: Iterable[BodyRule] = (), *, default: int = DEFAULT_LIMIT) -> None:
        self.default = BodyRule("/", default)
        self._rules: dict[tuple[str, frozenset[str] | None], BodyRule] = {}
        for rule in rules:
            self._rules[(rule.pattern, rule.methods)] = rule

    def set(
        self, pattern: str, limit: int, *, methods: Iterable[str] | None = None, raw: bool = False
    ) -> None:
        if limit < 0:
            raise ValueError("limit must not be negative")
        wanted = frozenset(m.upper() for m in methods) if methods is not None else None
        self._rules[(pattern, wanted)] = BodyRule(pattern, limit, wanted, raw)

    def rules(self) -> list[BodyRule]:
        return sorted(self._rules.values(), key=lambda r: r.weight, reverse=True)

    def rule_for(self, method: str, path: str) -> BodyRule:
        best = self.default
        for rule in self._rules.values():
            if rule.weight > best.weight and rule.matches(method, path):
                best = rule
        return best


def default_limits(
    api: str = "/api/v1", *, upload_bytes: int = 4 * 1024**3, form_bytes: int = 256 * MIB
) -> BodyLimits:
    """The server's table: small bodies for sign-in, the media hook and control routes,
    CAD sizes for intake, file sizes for imports and evidence uploads."""
    return BodyLimits(
        [
            BodyRule(f"{api}/auth", SMALL_LIMIT),
            BodyRule(f"{api}/media", SMALL_LIMIT),
            BodyRule(f"{api}/users", SMALL_LIMIT),
            BodyRule(f"{api}/live-grants", SMALL_LIMIT),
            BodyRule(f"{api}/cameras/*/live-grants", SMALL_LIMIT),
            BodyRule(f"{api}/cameras/*/revoke", SMALL_LIMIT),
            BodyRule(f"{api}/emergencies", SMALL_LIMIT),
            BodyRule(f"{api}/calls/*/acknowledge", SMALL_LIMIT),
            BodyRule(f"{api}/me/presets", 256 * KIB),
            BodyRule(f"{api}/calls", 1_000_000),  # one EIDO, or a batch (routes.calls.MAX_BODY)
            BodyRule(f"{api}/cad/webhook", 1_000_000),
            BodyRule(
                f"{api}/footage-requests", 1_000_000
            ),  # geofence polygons (core.fence.MAX_POINTS)
            BodyRule(f"{api}/cameras/import", 50_000_000, frozenset({"POST"})),  # MAX_IMPORT_BYTES
            BodyRule(f"{api}/uploads", upload_bytes, frozenset({"PATCH", "POST"}), raw=True),
            BodyRule(f"{api}/evidence/form-upload", form_bytes, frozenset({"POST"}), raw=True),
        ],
        default=DEFAULT_LIMIT,
    )


def _media_type(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return str(value.decode("latin-1").split(";", 1)[0].strip().lower())
    return ""


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == wanted:
            return str(value.decode("latin-1"))
    return None


def is_json_like(media: str) -> bool:
    return media not in NON_JSON_TYPES and not media.startswith(NON_JSON_PREFIXES)


_RAW_SURROGATE_RE = re.compile(rb"\xed[\xa0-\xbf]")  # UTF-8 encoding of U+D800..U+DFFF
# On text whose escaped backslashes and quotes are blanked (see _unescaped), every "\u" left
# is a real escape, so plain patterns find lone surrogates and NUL exactly.
_HIGH = rb"\\u[dD][89abAB][0-9a-fA-F]{2}"
_LOW = rb"\\u[dD][c-fC-F][0-9a-fA-F]{2}"
_PAIR_RE = re.compile(_HIGH + _LOW)  # a valid surrogate pair (an escaped emoji)
_SURROGATE_RE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_NUL_ESCAPE_RE = re.compile(rb"\\u0000")
_IS_SPECIAL = np.zeros(256, dtype=bool)
_IS_SPECIAL[list(b'[]{}"')] = True
_DEPTH_STEP = np.zeros(256, dtype=np.int8)
_DEPTH_STEP[list(b"[{")] = 1
_DEPTH_STEP[list(b"]}")] = -1


def _unescaped(body: bytes) -> bytes:
    r"""``body`` with escaped backslashes and escaped quotes (``\\`` then ``\"``, left to
    right, as a JSON tokenizer pairs them) blanked to ``..``: quotes left delimit strings,
    ``\u`` left are escapes, and no two escapes become neighbours. Two C-speed passes,
    whatever the input; the length is unchanged."""
    return body.replace(b"\\\\", b"..").replace(b'\\"', b"..")


def json_depth(body: bytes, *, unescaped: bool = False) -> int:
    """The deepest nesting of ``[``/``{`` in JSON text (strings ignored), without parsing.

    Linear, vectorised and without recursion, so it is safe and cheap on any input; on
    invalid JSON (unclosed brackets) it counts what is open, which is what a parser would
    recurse into.
    """
    text = np.frombuffer(body if unescaped else _unescaped(body), dtype=np.uint8)
    special = text[_IS_SPECIAL[text]]  # only quotes and brackets matter, in their order
    if special.size == 0:
        return 0
    quote = special == 0x22
    outside = (np.cumsum(quote, dtype=np.uint8) & 1) == 0  # parity of quotes so far (mod 256)
    steps = _DEPTH_STEP[special[outside & ~quote]]
    if steps.size == 0:
        return 0
    return max(0, int(np.cumsum(steps, dtype=np.int64).max()))


def json_text_problem(body: bytes) -> str | None:
    """Why ``body`` is not acceptable JSON text at the edge, or None.

    Only what a JSON parser would let through and the rest of the server cannot handle:
    the parser's own errors (bad syntax) are left to the route, which names them.
    """
    head = body[:4]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        return "body: JSON must be UTF-8 (RFC 8259), not UTF-16/32"
    if b"\x00" in body:
        return "body: NUL characters are not accepted in text"
    if _RAW_SURROGATE_RE.search(body):
        return "body: not valid UTF-8 (an encoded surrogate code point)"
    text = _unescaped(body)
    if _NUL_ESCAPE_RE.search(text):
        return "body: NUL characters (\\u0000) are not accepted in text"
    match = _SURROGATE_RE.search(text) and _SURROGATE_RE.search(_PAIR_RE.sub(b"..", text))
    if match:
        escape = match.group(0).decode("ascii").lower()
        return f"body: lone surrogate {escape}: not valid Unicode text"
    if text.count(b"[") + text.count(b"{") <= MAX_JSON_DEPTH:
        return None  # too few brackets to nest deeper: the common case, no scan needed
    depth = json_depth(text, unescaped=True)
    if depth > MAX_JSON_DEPTH:
        return f"body: JSON nested {depth} levels deep; at most {MAX_JSON_DEPTH} are accepted"
    return None


class _BodyTooLarge(Exception):
    pass


async def _answer(
    send: Send, status: int, detail: str, *, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=True).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


class EdgeLimits:
    """The ASGI middleware applying :class:`BodyLimits` and the JSON text checks."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        chunked = "chunked" in (_header(scope, b"transfer-encoding") or "").lower()
        if (declared is None or declared.strip() == "0") and not chunked:
            await self.app(scope, receive, send)  # no body (GET, SSE...): untouched
            return
        rule = self.limits.rule_for(scope["method"], scope["path"])
        if declared is not None:
            if not declared.strip().isdigit():
                await _answer(send, 400, "Content-Length: not a number")
                return
            if int(declared) > rule.limit:
                await _answer(
                    send,
                    413,
                    f"body larger than {rule.limit} bytes (Content-Length {int(declared)})",
                )
                return
        if rule.raw:
            await self._stream(scope, receive, send, rule.limit)
            return
        body = await self._read(receive, rule.limit)
        if body is None:
            await _answer(send, 413, f"body larger than {rule.limit} bytes")
            return
        if body and is_json_like(_media_type(scope)):
            problem = json_text_problem(body)
            if problem is not None:
                await _answer(send, 422, problem)
                return
        await self.app(scope, _replay(body, receive), send)

    @staticmethod
    async def _read(receive: Receive, limit: int) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)  # the client went away: the route sees what came
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _stream(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _answer(send, 413, f"body larger than {limit} bytes")


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # then the real channel (http.disconnect)

    return replay


def _preview(value: Any) -> Any:
    """A short stand-in for an input value inside a validation error."""
    if value is None or isinstance(value, bool | int | float):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**30:
            return "<a very large integer>"
        return value
    if isinstance(value, str):
        text = value.encode("utf-8", "replace").decode("utf-8")
        return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "..."
    if isinstance(value, dict | list | tuple):
        if len(value) <= 8:
            try:
                shown = json.dumps(value, ensure_ascii=True, default=str)
            except (TypeError, ValueError, RecursionError):
                shown = ""
            if shown and len(shown) <= PREVIEW_CHARS:
                return value
        return f"<{type(value).__name__} of {len(value)} items>"
    return f"<{type(value).__name__}>"


def _bounded_error(error: Any) -> dict[str, Any]:
    loc = [part if isinstance(part, int) else _preview(str(part)) for part in error.get("loc", ())][
        :12
    ]
    return {
        "type": str(error.get("type", ""))[:60],
        "loc": loc,
        "msg": str(error.get("msg", ""))[:300],
        "input": _preview(error.get("input")),
    }


async def validation_error(request: Request, exc: Exception) -> Response:
    """422 in FastAPI's shape, but never echoing large input (nor invalid text) back."""
    errors = list(exc.errors()) if isinstance(exc, RequestValidationError) else []
    payload: dict[str, Any] = {"detail": [_bounded_error(e) for e in errors[:MAX_ERRORS]]}
    if len(errors) > MAX_ERRORS:
        payload["more_errors"] = len(errors) - MAX_ERRORS
    return Response(
        json.dumps(payload, ensure_ascii=True, default=str),
        status_code=422,
        media_type="application/json",
    )


def install_limits(
    app: FastAPI, settings: Any = None, *, limits: BodyLimits | None = None
) -> BodyLimits:
    """Wire the edge limits into ``app`` (call it last in ``create_app``, so its 422 handler
    is the one in force). The table is kept as ``app.state.body_limits``: a router can
    register its own rule with ``app.state.body_limits.set(pattern, bytes, ...)``.

    Evidence upload limits follow the vault settings when ``settings`` has them.
    """
    if limits is None:
        limits = default_limits(
            upload_bytes=int(getattr(settings, "vault_max_file_bytes", 4 * 1024**3)),
            form_bytes=int(getattr(settings, "vault_form_max_bytes", 256 * MIB))
            + 64 * KIB,  # + multipart framing
        )
    app.state.body_limits = limits
    app.add_middleware(EdgeLimits, limits=limits)
    app.add_exception_handler(RequestValidationError, validation_error)
    return limits
