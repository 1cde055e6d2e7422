"""Credentials in real vendor URL shapes (tests/data/stream_urls/vendor_urls.json) never
survive redaction: user-info, query parameters (loginuse/loginpas, usr/pwd, ...) and
parameters written into the path (XMeye ``/user=admin&password=...``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rtcc_console.core.redact import MASK, is_secret_param, redact_stream_url, redact_text

CORPUS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parents[2] / "data" / "stream_urls" / "vendor_urls.json").read_text()
)["urls"]


@pytest.mark.parametrize("entry", CORPUS, ids=[e["vendor"] for e in CORPUS])
def test_vendor_url_loses_its_secret_and_keeps_the_camera(entry: dict[str, Any]) -> None:
    out = redact_stream_url(entry["url"])
    assert "S3CR" not in out, out
    for part in entry["keep"]:
        assert part in out, (part, out)
    assert redact_stream_url(out) == out  # idempotent: stored redacted, shown redacted
    in_log = redact_text(f"[rtsp @ 0x1] opening '{entry['url']}' failed: 401")
    assert "S3CR" not in in_log


@pytest.mark.parametrize(
    "name",
    [
        "loginuse",
        "loginpas",
        "LoginPas",
        "usr",
        "USER",
        "pwd",
        "PWD",
        "password",
        "Passwd",
        "pass",
        "auth",
        "token",
        "username",
        "UserName",
        "admin_pwd",
        "login-pass",
        "apiKey",
        "pass%77ord",
    ],
)
def test_credential_parameter_names_case_insensitive(name: str) -> None:
    assert is_secret_param(name)
    out = redact_stream_url(f"http://10.0.0.9/videostream.cgi?{name}=S3CRx&rate=0")
    assert out == f"http://10.0.0.9/videostream.cgi?{name}={MASK}&rate=0"


@pytest.mark.parametrize("name", ["channel", "subtype", "stream", "resolution", "profile", "rate"])
def test_ordinary_parameters_are_kept(name: str) -> None:
    assert not is_secret_param(name)


def test_path_embedded_credentials_issue_example() -> None:
    url = "rtsp://host:554/user=admin&password=SECRET&channel=1&stream=0.sdp?"
    assert (
        redact_stream_url(url)
        == f"rtsp://host:554/user={MASK}&password={MASK}&channel=1&stream=0.sdp?"
    )


def test_raw_ampersand_inside_a_password_is_masked_whole() -> None:
    out = redact_stream_url("http://h/v.cgi?loginuse=admin&loginpas=ab&cd&res=0")
    assert out == f"http://h/v.cgi?loginuse={MASK}&loginpas={MASK}&res=0"


def test_free_text_key_values_of_vendor_names_are_masked() -> None:
    out = redact_text(
        "camera cfg loginpas=S3CR1 pass: S3CR2 psw=S3CR3; the check will pass quickly"
    )
    assert "S3CR" not in out
    assert out.endswith("the check will pass quickly")
