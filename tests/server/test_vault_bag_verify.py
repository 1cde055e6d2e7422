"""`rtcc evidence verify` on bad input: unsafe archives, not an archive, no bag, missing files."""

from __future__ import annotations

import json
import tarfile
import zipfile
from pathlib import Path

import bagit
import pytest

from rtcc_console.server.vault.bag_verify import main


def _run(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    code = main([str(path)])
    return code, json.loads(capsys.readouterr().out)


def test_unsafe_or_unusable_packages_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../escape.txt", "x")
        zf.writestr("bag/bagit.txt", "BagIt-Version: 1.0\n")
    code, out = _run(evil, capsys)
    assert code == 2 and "unsafe" in str(out["errors"])
    assert not (tmp_path.parent / "escape.txt").exists()
    linky = tmp_path / "link.tar"
    with tarfile.open(linky, "w") as tf:
        info = tarfile.TarInfo("bag/data/x")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(info)
    assert _run(linky, capsys)[0] == 2
    text = tmp_path / "notes.txt"
    text.write_text("not a package")
    assert _run(text, capsys)[0] == 2
    assert _run(tmp_path / "missing.zip", capsys)[0] == 2
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("readme.txt", "no bag here")
    assert _run(empty, capsys)[0] == 2


def test_a_bag_missing_a_payload_file_is_invalid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag_dir = tmp_path / "case-1"
    (bag_dir).mkdir()
    (bag_dir / "a.bin").write_bytes(b"evidence bytes")
    (bag_dir / "b.bin").write_bytes(b"more evidence")
    bagit.make_bag(str(bag_dir), checksums=["sha256", "sha512"])
    code, out = _run(bag_dir, capsys)
    assert code == 0 and out["valid"] is True and out["payload_files"] == 2
    (bag_dir / "data" / "b.bin").unlink()
    code, out = _run(bag_dir, capsys)
    assert code == 1 and out["valid"] is False and out["errors"]
