"""The domain core must import with Qt, SQLAlchemy, requests, av and FastAPI absent."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCKED = ["PySide6", "sqlalchemy", "requests", "av", "fastapi", "pyqtgraph", "folium"]


def test_core_imports_with_heavy_libraries_blocked() -> None:
    code = textwrap.dedent(
        f"""
        import importlib, pkgutil, sys
        blocked = {BLOCKED!r}
        class Blocker:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in blocked:
                    raise ImportError("blocked for the layering test: " + name)
                return None
        sys.meta_path.insert(0, Blocker())
        import rtcc_console.core as core
        names = [m.name for m in pkgutil.walk_packages(core.__path__, "rtcc_console.core.")]
        for n in names:
            importlib.import_module(n)
        leaked = [m for m in sys.modules if m.split(".")[0] in blocked]
        assert not leaked, leaked
        print(len(names))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip()) >= 1


def test_blocker_really_blocks() -> None:
    """Guard against a test that cannot fail: importing a blocked module must fail."""
    code = textwrap.dedent(
        """
        import sys
        class Blocker:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "sqlalchemy":
                    raise ImportError("blocked")
                return None
        sys.meta_path.insert(0, Blocker())
        import sqlalchemy
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
