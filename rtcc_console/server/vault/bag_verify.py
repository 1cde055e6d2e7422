"""``rtcc evidence verify PACKAGE``: re-check an exported case package with the bagit library.

PACKAGE is a bag directory, a ``.zip`` or a ``.tar``; archives are unpacked (streamed, no
absolute or parent paths allowed) into a temporary directory first. The check is the
``bagit`` library's full validation: bagit.txt, Payload-Oxum, every file of every manifest
(SHA-256 and SHA-512) present and matching, no extra payload files, tag manifests.
Prints one JSON line; exit status 0 valid, 1 invalid, 2 unusable input.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import bagit


class UnsafeArchive(ValueError):
    pass


def _safe_members(names: list[str]) -> None:
    for name in names:
        p = PurePosixPath(name)
        if p.is_absolute() or ".." in p.parts:
            raise UnsafeArchive(f"unsafe path in archive: {name!r}")


def unpack(package: Path, into: Path) -> Path:
    """Unpack an archive and return the bag directory inside it."""
    if zipfile.is_zipfile(package):
        with zipfile.ZipFile(package) as zf:
            _safe_members(zf.namelist())
            zf.extractall(into)
    elif tarfile.is_tarfile(package):
        with tarfile.open(package) as tf:
            _safe_members(tf.getnames())
            if any(not (m.isfile() or m.isdir()) for m in tf.getmembers()):
                raise UnsafeArchive("archive holds links or devices")
            tf.extractall(into, filter="data")
    else:
        raise UnsafeArchive(f"{package.name} is neither a directory, a zip nor a tar")
    candidates = [p.parent for p in into.rglob("bagit.txt")]
    if len(candidates) != 1:
        raise UnsafeArchive(f"expected one bag in the archive, found {len(candidates)}")
    return candidates[0]


def verify_bag(bag_dir: Path) -> dict[str, Any]:
    bag = bagit.Bag(str(bag_dir))
    result: dict[str, Any] = {
        "bag": bag_dir.name,
        "algorithms": sorted(bag.algorithms),
        "valid": False,
        "errors": [],
    }
    try:
        bag.validate(processes=1)
        result["valid"] = True
    except bagit.BagValidationError as exc:
        result["errors"] = [str(d) for d in exc.details] or [str(exc.message)]
    result["payload_files"] = sum(1 for _ in bag.payload_files())
    result["oxum"] = bag.info.get("Payload-Oxum")
    return result


def verify_package(package: Path) -> dict[str, Any]:
    if package.is_dir():
        return verify_bag(package)
    with tempfile.TemporaryDirectory(prefix="rtcc-verify-") as tmp:
        return verify_bag(unpack(package, Path(tmp)))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="rtcc evidence verify", description=__doc__.splitlines()[0]
    )
    parser.add_argument("package", type=Path, help="bag directory, .zip or .tar from a case export")
    args = parser.parse_args(argv)
    logging.getLogger("bagit").setLevel(logging.ERROR)
    if not args.package.exists():
        sys.stdout.write(
            json.dumps({"valid": False, "errors": [f"{args.package} does not exist"]}) + "\n"
        )
        return 2
    try:
        result = verify_package(args.package)
    except (UnsafeArchive, bagit.BagError, zipfile.BadZipFile, tarfile.TarError, OSError) as exc:
        sys.stdout.write(json.dumps({"valid": False, "errors": [str(exc)]}) + "\n")
        return 2
    sys.stdout.write(json.dumps(result) + "\n")
    return 0 if result["valid"] else 1
