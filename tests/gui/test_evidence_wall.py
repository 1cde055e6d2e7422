"""The wall announces each saved snapshot/clip with its camera, so the Evidence tab can
send it into the vault (tests/e2e/test_evidence_e2e.py follows it there)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gui.wall_fakes import Env, wall_env

pytestmark = pytest.mark.gui


@pytest.fixture
def env(qtbot: Any, tmp_path: Path) -> Iterator[Env]:
    yield from wall_env(qtbot, tmp_path)


def test_a_snapshot_is_offered_to_the_vault_with_its_camera(env: Env) -> None:
    wall = env.wall()
    env.open_live(wall, 1).go_live()
    env.qtbot.waitUntil(lambda: wall.tiles[0].current_image() is not None, timeout=3000)
    with env.qtbot.waitSignal(wall.evidence_saved, timeout=5000) as saved:
        assert wall.take_snapshot(0)
    path, digest, camera_id = saved.args
    assert camera_id == "cam-001"
    assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == digest
