"""Root test configuration. Sub-folders add their own fixtures in their conftest.py."""

from __future__ import annotations

import os

# Tests never need a display; QtWebEngine needs --no-sandbox when run as root.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault(
    "QTWEBENGINE_CHROMIUM_FLAGS",
    "--no-sandbox --disable-gpu --disable-background-networking --disable-component-update",
)
os.environ.setdefault("RTCC_DEV_MODE", "1")
