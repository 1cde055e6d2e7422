"""docs/configuration.md is the settings classes, rendered: it cannot drift."""

from __future__ import annotations

from pathlib import Path

from rtcc_console.config import ConsoleSettings, ServerSettings
from rtcc_console.config_doc import render

DOC = Path(__file__).parents[2] / "docs" / "configuration.md"


def test_configuration_reference_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/configuration.md is out of date: python -m rtcc_console.config_doc > docs/configuration.md"
    )


def test_every_setting_is_documented_with_a_description() -> None:
    text = render()
    for cls, prefix in ((ServerSettings, "RTCC_"), (ConsoleSettings, "RTCC_CONSOLE_")):
        for name, field in cls.model_fields.items():
            assert f"`{prefix}{name.upper()}`" in text
            assert field.description, f"{cls.__name__}.{name} has no description"
    assert "/root" not in text and "/home/" not in text  # no machine-specific paths
