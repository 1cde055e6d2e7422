"""Regression guard: PySide6 6.12.0 on CPython 3.11 drops a reference to None on every
void-returning call and aborts with ``none_dealloc`` after a few thousand. The pinned
version must survive 100,000 such calls (a video wall makes thousands a second)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_hundred_thousand_void_qt_calls_do_not_abort_the_interpreter() -> None:
    code = textwrap.dedent(
        """
        import sys
        from PySide6.QtWidgets import QApplication, QWidget
        from PySide6.QtGui import QImage, QPainter
        app = QApplication([])
        w = QWidget()
        img = QImage(8, 8, QImage.Format.Format_RGB32)
        before = sys.getrefcount(None)
        for i in range(100_000):
            w.setObjectName("x")
            w.update()
        p = QPainter(img)
        for i in range(20_000):
            p.drawImage(0, 0, img)
        p.end()
        after = sys.getrefcount(None)
        print(before, after)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=240,
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert out.returncode == 0, f"interpreter died: rc={out.returncode} {out.stderr[-2000:]}"
    before, after = (int(x) for x in out.stdout.split())
    # A leak of one reference per call would show as a drop of >= 100,000.
    assert abs(after - before) < 1000


def test_pyside6_is_below_6_12() -> None:
    import PySide6

    major, minor = (int(x) for x in PySide6.__version__.split(".")[:2])
    assert (major, minor) < (6, 12), PySide6.__version__
