"""The configuration reference, generated from the settings classes so it cannot drift:
``python -m rtcc_console.config_doc > docs/configuration.md`` (a test checks the file)."""

from __future__ import annotations

import sys
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings

from rtcc_console.config import ConsoleSettings, ServerSettings

SECRET_HINT = "secret: set it from the environment or a secrets file, never on a command line"


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        return (
            "computed"
            if field.default_factory.__name__ not in ("<lambda>",)
            else _lambda_value(field)
        )
    if field.default is PydanticUndefined:
        return "required"
    value: Any = field.default
    if hasattr(value, "get_secret_value"):
        return "(development secret)"
    return "" if value is None else f"`{value}`"


def _lambda_value(field: FieldInfo) -> str:
    try:
        value = field.default_factory()  # type: ignore[call-arg,misc]
    except TypeError:
        return "computed"
    text = str(value)
    if "/" in text and ("/root" in text or "/home" in text or "\\\\" in text):
        return "user data folder"
    return f"`{value}`"


def _type(field: FieldInfo) -> str:
    text = (
        str(field.annotation)
        .replace("typing.", "")
        .replace("pathlib.", "")
        .replace("pydantic.types.", "")
    )
    return text.replace("<class '", "").replace("'>", "").replace("|", "\\|")


def section(title: str, cls: type[BaseSettings]) -> list[str]:
    prefix = str(cls.model_config.get("env_prefix", ""))
    lines = [
        f"## {title}",
        "",
        f"Environment variables `{prefix}*` (`{cls.__name__}` in `rtcc_console/config.py`).",
        "",
        "| variable | type | default | meaning |",
        "|---|---|---|---|",
    ]
    for name, field in cls.model_fields.items():
        meaning = (field.description or "").replace("|", "\\|")
        if "Secret" in str(field.annotation):
            meaning = f"{meaning} ({SECRET_HINT})"
        lines.append(
            f"| `{prefix}{name.upper()}` | {_type(field)} | {_default(field)} | {meaning} |"
        )
    return [*lines, ""]


def render() -> str:
    head = [
        "# Configuration reference",
        "",
        "Generated from the settings classes (`python -m rtcc_console.config_doc > docs/configuration.md`);",
        "a test fails when this file and the code disagree. Values come from the environment;",
        "the server refuses to start outside development mode with the default secret.",
        "",
    ]
    return "\n".join(
        head
        + section("Server (`rtcc server`)", ServerSettings)
        + section("Console (`rtcc console`)", ConsoleSettings)
    )


def main() -> int:
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
