"""Credential redaction for stream URLs, log lines and error messages.

Every stream URL passes through :func:`redact_stream_url` before it is logged, shown to a
user or stored where analysts can read it. Camera URLs carry passwords in the user-info
part (``rtsp://admin:secret@10.0.0.5/``) or in the query (``?token=...``); FFmpeg and HTTP
libraries repeat them verbatim in their error messages, so :func:`redact_text` and
:class:`RedactingFilter` clean free text and log records too.

The parser is deliberately hand-written rather than ``urllib.parse``: it must never raise
(``urlsplit`` rejects unbalanced IPv6 brackets), and it must treat ``@``, ``:`` and ``/``
inside a raw password the way a careless camera vendor would write them. When in doubt it
masks too much rather than too little.
"""

from __future__ import annotations

import logging
import re
import traceback
from urllib.parse import unquote

MASK = "***"

#: Query/fragment/path parameter names whose values are secrets (compared
#: case-insensitively, after percent-decoding, with ``-`` treated as ``_``). Names that
#: merely *contain* one of :data:`SECRET_NAME_PARTS` count too (``loginpas``, ``admin_pwd``).
SECRET_PARAMS: frozenset[str] = frozenset(
    {
        "password",
        "passwd",
        "pass",
        "pwd",
        "pw",
        "psw",
        "pswd",
        "passphrase",
        "passcode",
        "secret",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "auth",
        "authorization",
        "key",
        "apikey",
        "api_key",
        "signature",
        "sig",
        "user",
        "username",
        "user_name",
        "usr",
        "userid",
        "user_id",
        "login",
        "loginuse",
        "loginpas",
        "loginname",
        "account",
        "credential",
        "credentials",
        "x_amz_signature",
        "x_amz_credential",
        "x_amz_security_token",
    }
)
SECRET_NAME_PARTS: tuple[str, ...] = (
    "pass",
    "pwd",
    "psw",
    "token",
    "secret",
    "auth",
    "cred",
    "login",
    "apikey",
    "api_key",
    "signature",
)

_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
# A URL inside free text: scheme:// up to whitespace. Quotes and brackets around it stay
# in the match but survive redaction unchanged (they land in the kept path/host part).
_URL_IN_TEXT_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://\S+")
# Scheme-less "user:password@host" inside free text (e.g. a camera config dump).
_BARE_CREDS_RE = re.compile(r"(?<![\w/@:.%\-])[^\s:/@]+:[^\s/]+@(?=[\w\[])")
# key=value secrets in free text outside URLs ("password=hunter2", "token: abc").
_TEXT_SECRET_RE = re.compile(
    r"(?i)\b(password|passwd|pwd|pass|psw|pswd|loginpas|passphrase|secret|token|access_token|api_?key)"
    r"(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s&'\",;]+)"
)
_AUTH_HEADER_RE = re.compile(
    r"(?i)\b(authorization\s*[:=]\s*)(bearer|basic|digest)?(\s*)([^\s,;]+)"
)


_HOST_PORT_RE = re.compile(r"(?:\[[0-9A-Za-z:.%]*\]|[A-Za-z0-9._~%!$&'()*+,;=\-]+)(?::\d{1,5})?")


def _is_port(text: str) -> bool:
    return text.isdigit() and len(text) <= 5


def _looks_like_host(text: str) -> bool:
    return bool(text) and _HOST_PORT_RE.fullmatch(text) is not None


def _first_of(text: str, chars: str, start: int = 0) -> int:
    positions = [p for p in (text.find(ch, start) for ch in chars) if p != -1]
    return min(positions) if positions else len(text)


def _strip_userinfo(rest: str) -> str:
    """Remove ``user:password@`` from the front of ``rest`` (the text after ``scheme://``).

    Careless vendors put raw ``@ : ? #`` (and even ``/``) in passwords, so the user-info
    is taken to end at the last ``@`` before the first ``/``. If what is left before the
    first ``/`` is still not a plausible ``host[:port]`` (``admin:pa/ss@host``), the
    first later ``@`` followed by a plausible host ends it. With no host at all
    (``rtsp://admin:secret``) the part after the colon is masked.
    """
    slash = _first_of(rest, "/")
    at = rest.rfind("@", 0, slash)
    if at != -1:
        return rest[at + 1 :]
    end = _first_of(rest, "/?#")
    authority = rest[:end]
    if _looks_like_host(authority) or authority == "":
        return rest
    at = rest.find("@")
    while at != -1:
        if _looks_like_host(rest[at + 1 : _first_of(rest, "/?#", at + 1)]):
            return rest[at + 1 :]
        at = rest.find("@", at + 1)
    # "scheme://name:notaport": keep the name, hide what may be a password.
    name = authority.partition(":")[0]
    return name + ":" + MASK + rest[end:]


# ``name=`` at the start of a parameter list or after a separator. Camera firmware writes
# parameters into the path too, separated by ``&``, ``;``, ``,`` or even ``_``
# (``/user=admin_password=x_channel=1_stream=0.sdp``); a value runs to the next ``name=``.
_PARAM_NAME_RE = re.compile(r"(?:^|(?<=[&;,_/?]))([A-Za-z%][A-Za-z0-9_.%\-]*)=")


def is_secret_param(name: str) -> bool:
    """True if a URL parameter called ``name`` (any case, percent-encoded or not) holds a
    credential: a known name, or one containing ``pass``, ``pwd``, ``token``, ``auth``..."""
    normal = unquote(name).strip().lower().replace("-", "_")
    return normal in SECRET_PARAMS or any(part in normal for part in SECRET_NAME_PARTS)


def _mask_params(params: str) -> str:
    """Mask the values of secret parameters in a query, fragment or path segment.

    A value ends where the next ``name=`` starts, so a raw ``&`` inside a password
    (``pwd=pa&ss&channel=1``) is masked with it rather than half shown.
    """
    matches = list(_PARAM_NAME_RE.finditer(params))
    if not matches:
        return params
    out: list[str] = [params[: matches[0].start()]]
    for i, match in enumerate(matches):
        end = matches[i + 1].start() - 1 if i + 1 < len(matches) else len(params)
        value = params[match.end() : end]
        out.append(match.group(0))
        if is_secret_param(match.group(1)) and value:
            # Keep closing quotes/brackets of the surrounding text ("...?token=x'").
            closing = re.search(r"[\"')\]>}]*$", value)
            out.append(MASK + (closing.group(0) if closing else ""))
        else:
            out.append(value)
        if i + 1 < len(matches):
            out.append(params[end : matches[i + 1].start()])
    return "".join(out)


def _mask_path(path: str) -> str:
    """Mask credentials written into path segments (``/user=admin&password=x&channel=1``)."""
    if "=" not in path:
        return path
    return "/".join(
        _mask_params(segment) if "=" in segment else segment for segment in path.split("/")
    )


def _mask_query_and_fragment(rest: str) -> str:
    """Mask secrets in the path segments, the query and the fragment of ``rest``."""
    q = rest.find("?")
    h = rest.find("#")
    if q == -1 and h == -1:
        return _mask_path(rest)
    if q != -1 and (h == -1 or q < h):
        path = rest[:q]
        query, sep, fragment = rest[q + 1 :].partition("#")
        return (
            _mask_path(path)
            + "?"
            + _mask_params(query)
            + sep
            + (_mask_params(fragment) if sep else "")
        )
    path, _, fragment = rest.partition("#")
    return _mask_path(path) + "#" + _mask_params(fragment)


def redact_stream_url(url: str) -> str:
    """Return ``url`` without user name and password, secret query values masked.

    Works for any scheme (rtsp, rtsps, http(s), rtmp, srt, ...) and for scheme-less
    ``user:pass@host:port/path``. Scheme, host, port and path are kept so the result still
    tells an analyst or an engineer *which* camera it was. Never raises; text that is not a
    URL comes back unchanged apart from masked ``key=value`` secrets.
    """
    if not isinstance(url, str):
        url = str(url)
    match = _SCHEME_RE.match(url)
    if match:
        prefix, rest = match.group(0), url[match.end() :]
        rest = _strip_userinfo(rest)
    else:
        prefix, rest = "", url
        head = re.split(r"[/?#]", rest, maxsplit=1)[0]
        if "@" in head or ("@" in rest and ":" in head and not _is_port(head.rpartition(":")[2])):
            rest = _strip_userinfo(rest)
    return prefix + _mask_query_and_fragment(rest)


def redact_text(text: str) -> str:
    """Redact every URL, ``user:pass@host`` and ``password=...`` inside free text.

    Meant for log lines and error messages (FFmpeg, requests, PyAV) that quote a stream URL.
    """
    if not isinstance(text, str):
        text = str(text)
    text = _URL_IN_TEXT_RE.sub(lambda m: redact_stream_url(m.group(0)), text)
    text = _BARE_CREDS_RE.sub("", text)
    text = _AUTH_HEADER_RE.sub(
        lambda m: m.group(1) + (m.group(2) or "") + (m.group(3) or "") + MASK, text
    )
    return _TEXT_SECRET_RE.sub(lambda m: m.group(1) + m.group(2) + MASK, text)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts credentials from a record before any handler sees it.

    Install it on handlers (``handler.addFilter(RedactingFilter())``) so records from every
    library logger are covered, or on a logger for that logger's own records. The record's
    message is formatted once (``msg % args``), redacted, and stored with empty ``args``;
    exception and stack text are redacted the same way.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):
            # A bad format string: keep everything, but as plain redacted text.
            message = f"{record.msg!s} {record.args!r}"
        record.msg = redact_text(message)
        record.args = None
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True
