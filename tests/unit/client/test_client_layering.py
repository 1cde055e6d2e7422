"""rtcc_console.client stays Qt-free: it must import with PySide6 blocked."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_client_imports_without_qt() -> None:
    code = textwrap.dedent(
        """
        import importlib, pkgutil, sys
        class Blocker:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "PySide6":
                    raise ImportError("blocked: " + name)
                return None
        sys.meta_path.insert(0, Blocker())
        import rtcc_console.client as client
        for m in pkgutil.walk_packages(client.__path__, "rtcc_console.client."):
            importlib.import_module(m.name)
        assert not [m for m in sys.modules if m.startswith("PySide6")]
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
