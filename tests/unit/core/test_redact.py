"""Stream URL and log redaction: the password never survives, the camera stays identifiable."""

from __future__ import annotations

import logging
from urllib.parse import quote

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rtcc_console.core.redact import MASK, RedactingFilter, redact_stream_url, redact_text


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("rtsp://admin:hunter22@10.0.0.5:554/live", "rtsp://10.0.0.5:554/live"),
        ("rtsps://admin:hunter22@cam.example.org/s1", "rtsps://cam.example.org/s1"),
        ("http://u:hunter22@cam.local/snap.jpg", "http://cam.local/snap.jpg"),
        ("https://u:hunter22@cam.local:8443/", "https://cam.local:8443/"),
        ("rtmp://live:hunter22@relay.example:1935/app/key", "rtmp://relay.example:1935/app/key"),
        ("rtsp://admin@10.0.0.5/live", "rtsp://10.0.0.5/live"),
        ("rtsp://ad%40min:p%3Ass@host/", "rtsp://host/"),
        ("rtsp://admin:p@ss:w@rd@10.1.2.3:554/h264", "rtsp://10.1.2.3:554/h264"),
        ("rtsp://admin:pa/ss@10.1.2.3/h264", "rtsp://10.1.2.3/h264"),
        ("rtsp://admin:p#ss?w@10.1.2.3/h264", "rtsp://10.1.2.3/h264"),
        ("rtsp://ad#min:secret1@10.1.2.3/h264", "rtsp://10.1.2.3/h264"),
        ("rtsp://admin:a/b@c@10.1.2.3/h264", "rtsp://10.1.2.3/h264"),
        ("http://cam.local/p?next=/x@y", "http://cam.local/p?next=/x@y"),
        ("rtsp://admin:hunter22@[fe80::1]:8554/x", "rtsp://[fe80::1]:8554/x"),
        ("rtsp://[2001:db8::7]/x", "rtsp://[2001:db8::7]/x"),
        ("admin:hunter22@10.0.0.5:554/live", "10.0.0.5:554/live"),
        ("rtsp://10.0.0.5:554/live", "rtsp://10.0.0.5:554/live"),
        ("rtsp://admin:hunter22", f"rtsp://admin:{MASK}"),
        ("", ""),
        ("not a url at all", "not a url at all"),
        ("rtsp://", "rtsp://"),
    ],
)
def test_userinfo_is_removed_and_the_rest_kept(url: str, expected: str) -> None:
    assert redact_stream_url(url) == expected


def test_unbalanced_ipv6_bracket_does_not_raise_and_hides_password() -> None:
    out = redact_stream_url("rtsp://admin:hunter22@[fe80::1/live")
    assert "hunter22" not in out
    assert out.startswith("rtsp://[fe80::1")


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "pass",
        "pwd",
        "passphrase",
        "token",
        "access_token",
        "auth",
        "key",
        "apikey",
        "signature",
        "sig",
        "user",
        "username",
        "PassWord",
        "api-key",
    ],
)
def test_secret_query_parameters_are_masked(name: str) -> None:
    url = f"srt://relay.example:9000?streamid=cam7&{name}=hunter22&latency=200"
    out = redact_stream_url(url)
    assert "hunter22" not in out
    assert f"{name}={MASK}" in out
    assert "streamid=cam7" in out and "latency=200" in out
    assert out.startswith("srt://relay.example:9000?")


def test_percent_encoded_parameter_name_and_fragment_are_masked() -> None:
    out = redact_stream_url("https://h/p?pass%77ord=hunter22#access_token=abcdefgh&x=1")
    assert "hunter22" not in out and "abcdefgh" not in out
    assert out.endswith("x=1")


def test_non_secret_query_is_left_alone() -> None:
    url = "rtsp://10.0.0.5/cam/realmonitor?channel=1&subtype=0"
    assert redact_stream_url(url) == url


@pytest.mark.parametrize(
    "junk", ["://@@@", "@", ":@/", "[", "rtsp://[", "rtsp://@", "a:b:c@", "\x00\uffff"]
)
def test_garbage_never_raises(junk: str) -> None:
    assert isinstance(redact_stream_url(junk), str)
    assert isinstance(redact_text(junk), str)


def test_non_string_input_is_stringified_not_raised() -> None:
    assert redact_stream_url(12345) == "12345"  # type: ignore[arg-type]


def test_redact_text_cleans_every_url_in_an_ffmpeg_error() -> None:
    line = (
        "[rtsp @ 0x55d0] method DESCRIBE failed: 401 Unauthorized; "
        "rtsp://admin:hunter22@10.0.0.5:554/live: Server returned 401, "
        "retrying 'http://u:s3cr3tpw@cam2.local/snap?token=abcd1234' next"
    )
    out = redact_text(line)
    for secret in ("hunter22", "s3cr3tpw", "abcd1234", "admin:"):
        assert secret not in out
    assert "rtsp://10.0.0.5:554/live: Server returned 401" in out
    assert "'http://cam2.local/snap?token=***'" in out
    assert out.startswith("[rtsp @ 0x55d0] method DESCRIBE failed")


def test_redact_text_handles_bare_credentials_and_key_values() -> None:
    out = redact_text("camera cfg admin:p@ss99x@10.0.0.9:554 password=hunter22 token: abc123xyz")
    assert "p@ss99x" not in out and "ss99x" not in out
    assert "hunter22" not in out and "abc123xyz" not in out
    assert "10.0.0.9:554" in out


def test_redact_text_masks_authorization_headers() -> None:
    out = redact_text("sent Authorization: Bearer eyJhbGciOi.payload.sig to server")
    assert "eyJhbGciOi" not in out
    assert "Authorization: Bearer" in out


def test_redact_text_leaves_ordinary_text_alone() -> None:
    text = "Call 26-001234 at 12:30 on Elm St; user@example.com asked for footage."
    assert redact_text(text) == text


def _record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("t", logging.WARNING, __file__, 1, msg, args or None, None)


def test_filter_redacts_formatted_message_and_clears_args() -> None:
    record = _record("opening %s failed after %d tries", "rtsp://a:hunter22@h/x", 3)
    assert RedactingFilter().filter(record) is True
    assert record.getMessage() == "opening rtsp://h/x failed after 3 tries"
    assert not record.args


def test_filter_survives_a_bad_format_string_and_keeps_the_data() -> None:
    record = _record("two %s %s", "rtsp://a:hunter22@h/x")
    RedactingFilter().filter(record)
    message = record.getMessage()
    assert "hunter22" not in message and "rtsp://h/x" in message and "two" in message


def test_filter_redacts_exception_text_through_a_real_handler() -> None:
    logger = logging.getLogger("rtcc.test.redact")
    records: list[str] = []

    class ListHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = ListHandler()
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ConnectionError("cannot open rtsp://admin:hunter22@10.0.0.5/live")
        except ConnectionError:
            logger.exception("feed %s died", "rtsp://admin:hunter22@10.0.0.5/live")
    finally:
        logger.removeHandler(handler)
    assert len(records) == 1
    assert "hunter22" not in records[0]
    assert "ConnectionError: cannot open rtsp://10.0.0.5/live" in records[0]


_SCHEMES = st.sampled_from(["rtsp", "rtsps", "http", "https", "rtmp", "srt"])
_HOSTS = st.sampled_from(["10.0.0.5", "cam.example.org", "[fe80::1]", "[2001:db8::42]"])
_PATHS = st.sampled_from(["", "/", "/live", "/cam/realmonitor", "/Streaming/Channels/101"])
# Raw user-info text as careless vendors write it: '@', ':', '?', '#' allowed; no '/' or spaces.
_RAW = st.text(
    alphabet=st.characters(
        blacklist_characters="/\\ \t\r\n", blacklist_categories=("Cs", "Cc", "Zs")
    ),
    min_size=1,
    max_size=20,
)


@settings(max_examples=300, deadline=None)
@given(
    scheme=_SCHEMES,
    host=_HOSTS,
    port=st.one_of(st.none(), st.integers(1, 65535)),
    path=_PATHS,
    user=_RAW,
    password=_RAW,
    encode=st.booleans(),
)
def test_password_never_survives_and_location_is_kept(
    scheme: str, host: str, port: int | None, path: str, user: str, password: str, encode: bool
) -> None:
    authority = host + (f":{port}" if port is not None else "")
    expected = f"{scheme}://{authority}{path}"
    assume(len(password) >= 4)
    assume(password not in expected and MASK not in password)
    userinfo = (
        f"{quote(user, safe='')}:{quote(password, safe='')}" if encode else f"{user}:{password}"
    )
    assume(quote(password, safe="") not in expected)
    out = redact_stream_url(f"{scheme}://{userinfo}@{authority}{path}")
    assert password not in out
    assert quote(password, safe="") not in out
    assert out == expected
    in_text = redact_text(
        f"[rtsp @ 0x1] '{scheme}://{userinfo}@{authority}{path}': 401 Unauthorized"
    )
    assert password not in in_text
    assert f"'{expected}': 401 Unauthorized" in in_text


def test_filter_twice_is_the_same_as_once() -> None:
    record = _record("open %s token=%s", "rtsp://a:hunter22@h/x?sig=abc123", "zzz9999")
    RedactingFilter().filter(record)
    once = record.getMessage()
    RedactingFilter().filter(record)
    assert record.getMessage() == once == "open rtsp://h/x?sig=*** token=***"
