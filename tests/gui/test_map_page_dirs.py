"""Map page folders: removed when the console exits, stale ones from crashed runs on start."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from rtcc_console.ui.map_page import PAGE_DIR_PREFIX, new_page_dir, remove_stale_page_dirs


def test_folder_of_a_dead_process_is_removed_on_start(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    crashed = tmp_path / f"{PAGE_DIR_PREFIX}crashed"
    crashed.mkdir()
    (crashed / "owner.pid").write_text(dead.stdout.strip())
    (crashed / "map.html").write_text("<html></html>")
    alive = tmp_path / f"{PAGE_DIR_PREFIX}alive"
    alive.mkdir()
    (alive / "owner.pid").write_text(str(os.getpid()))
    old_unowned = tmp_path / f"{PAGE_DIR_PREFIX}old"
    old_unowned.mkdir()
    two_days_ago = time.time() - 2 * 86_400
    os.utime(old_unowned, (two_days_ago, two_days_ago))
    fresh_unowned = tmp_path / f"{PAGE_DIR_PREFIX}fresh"
    fresh_unowned.mkdir()
    other = tmp_path / "someone-else"
    other.mkdir()

    page_dir = new_page_dir(tmp_path)

    assert not crashed.exists() and not old_unowned.exists()
    assert alive.exists() and fresh_unowned.exists() and other.exists()
    assert page_dir.exists() and (page_dir / "owner.pid").read_text() == str(os.getpid())
    assert remove_stale_page_dirs(tmp_path) == []


def test_folder_is_removed_when_the_process_exits(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from rtcc_console.ui.map_page import new_page_dir;"
        "p = new_page_dir(Path(sys.argv[1])); (p / 'map.html').write_text('x'); print(p)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True
    )
    made = Path(out.stdout.strip())
    assert made.parent == tmp_path
    assert not made.exists()
