"""The dark theme: Fusion style, a dark palette (for widgets the style sheet does not
reach) and ``resources/console_dark.qss``. Font sizes stay in points so high-DPI screens
scale them; Qt 6 is DPI-aware by default."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

PALETTE = {
    QPalette.ColorRole.Window: "#15191e",
    QPalette.ColorRole.WindowText: "#e4e7eb",
    QPalette.ColorRole.Base: "#1b2027",
    QPalette.ColorRole.AlternateBase: "#20262e",
    QPalette.ColorRole.Text: "#e4e7eb",
    QPalette.ColorRole.Button: "#222830",
    QPalette.ColorRole.ButtonText: "#e4e7eb",
    QPalette.ColorRole.Highlight: "#2f6fb3",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.ToolTipBase: "#222830",
    QPalette.ColorRole.ToolTipText: "#e4e7eb",
    QPalette.ColorRole.PlaceholderText: "#8b949e",
    QPalette.ColorRole.Link: "#6cb6ff",
}


def style_sheet() -> str:
    """The style sheet shipped in ``rtcc_console/resources``."""
    return (Path(__file__).resolve().parent.parent / "resources" / "console_dark.qss").read_text(
        "utf-8"
    )


def apply_dark_theme(app: QApplication) -> None:
    """Fusion + dark palette + the console's style sheet."""
    app.setStyle("Fusion")
    palette = QPalette()
    for role, colour in PALETTE.items():
        palette.setColor(role, QColor(colour))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#7d8590"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#7d8590"))
    app.setPalette(palette)
    app.setStyleSheet(style_sheet())
