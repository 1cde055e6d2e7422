"""Evidence vault benchmark: tus upload throughput and server memory, case export time.

``rtcc bench vault --size 1GiB --case-size 5GiB --json``

* Media: a real H.264 MP4 made with PyAV, padded to ``--size`` with one ISO BMFF ``free``
  box (still a valid MP4: the server probes and thumbnails it like any upload).
* Upload: the real tus client (tuspy) against an ``rtcc server`` subprocess over loopback;
  the time runs from creation until the server has answered the last PATCH, i.e. including
  its streaming SHA-256 + SHA-512, fsync, PyAV probe, thumbnail and registration.
  Reference, in the same run on the same disk: a plain file copy of the same bytes that
  also computes SHA-256 (1 MiB reads). Target: upload >= 60 % of the reference throughput.
* Server memory: the server's resident set sampled every 20 ms during the upload; the
  growth over its size before the upload. Target: < 100 MB for 1 GiB.
* Export: the case (``--case-size`` worth of files of ``--size``, all uploaded as above)
  exported as a zip BagIt package, from POST until the job is done, against copying the
  same original files with ``shutil.copyfile``. Target: <= 1.5x.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from rtcc_console.bench.common import machine_info

PASSWORD = "bench vault password 0123"
_UNITS = {
    "": 1,
    "B": 1,
    "K": 1000,
    "KB": 1000,
    "M": 1000**2,
    "MB": 1000**2,
    "G": 1000**3,
    "GB": 1000**3,
    "KIB": 1024,
    "MIB": 1024**2,
    "GIB": 1024**3,
}


def parse_size(text: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", text)
    if not m or m.group(2).upper() not in _UNITS:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 1GiB, 200MB)")
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def _rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class RssSampler:
    def __init__(self, pid: int, every_s: float = 0.02) -> None:
        self.pid, self.every_s = pid, every_s
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, _rss_bytes(self.pid))
            except OSError:
                return
            self._stop.wait(self.every_s)

    def __enter__(self) -> RssSampler:
        self.peak = _rss_bytes(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def make_media(path: Path, size: int, seed: int) -> Path:
    from rtcc_console.sim.vault_media import make_mp4, pad_to

    make_mp4(path, seconds=2.0, seed=seed)
    block = hashlib.sha256(str(seed).encode()).digest() * (1024 * 1024 // 32)
    return pad_to(path, size, fill=os.urandom(32) + block[32:])


def reference_copy(src: Path, dest: Path) -> float:
    """Seconds to copy src to dest while computing SHA-256 (1 MiB reads), fsynced."""
    t0 = time.perf_counter()
    h = hashlib.sha256()
    with src.open("rb") as fin, dest.open("wb") as fout:
        while chunk := fin.read(1024 * 1024):
            h.update(chunk)
            fout.write(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    h.hexdigest()
    return time.perf_counter() - t0


class Server:
    def __init__(self, work: Path) -> None:
        from rtcc_console.store.pgcluster import free_port

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.db = f"sqlite:///{work / 'bench.sqlite'}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("RTCC_")}
        self.env.update(
            {
                "RTCC_VAULT_DIR": str(work / "vault"),
                "RTCC_SECRET_KEY": "bench-vault-secret-0123456789",
                "RTCC_ARGON2_TIME_COST": "1",
                "RTCC_ARGON2_MEMORY_KIB": "8",
                "RTCC_ARGON2_PARALLELISM": "1",
                "RTCC_VEHICLE_INDEX": "0",
            }
        )
        self.log = (work / "server.log").open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rtcc_console.cli",
                "server",
                "--db",
                self.db,
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited; see " + str(work / "server.log"))
            try:
                if httpx.get(self.base + "/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "rtcc_console.cli",
                "user",
                "add",
                "bench",
                "--role",
                "analyst",
                "--password-stdin",
                "--db",
                self.db,
            ],
            input=PASSWORD + "\n",
            text=True,
            env=self.env,
            check=True,
            capture_output=True,
        )
        token = httpx.post(
            self.base + "/api/v1/auth/login", json={"username": "bench", "password": PASSWORD}
        ).json()
        self.auth = {"Authorization": f"Bearer {token['access_token']}"}

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def tus_upload(server: Server, path: Path, case: str, chunk: int) -> tuple[float, dict[str, Any]]:
    from tusclient import client as tus_client

    t0 = time.perf_counter()
    uploader = tus_client.TusClient(server.base + "/api/v1/uploads", headers=server.auth).uploader(
        str(path), chunk_size=chunk, metadata={"case_number": case, "filename": path.name}
    )
    uploader.upload()
    elapsed = time.perf_counter() - t0
    receipt = httpx.get(f"{uploader.url}/receipt", headers=server.auth, timeout=60).json()
    return elapsed, receipt


def _copy_reference(originals: list[Path], dest: Path) -> float:
    """Seconds to copy the case's original files (shutil.copyfile) until they are on disk."""
    dest.mkdir()
    t0 = time.perf_counter()
    for p in originals:
        shutil.copyfile(p, dest / p.name)
    os.sync()
    elapsed = time.perf_counter() - t0
    shutil.rmtree(dest)
    return elapsed


def _export(server: Server, fmt: str) -> float:
    """Seconds from POST .../export until the job is done (the BagIt archive written)."""
    t0 = time.perf_counter()
    job = httpx.post(
        f"{server.base}/api/v1/cases/BENCH-1/export", headers=server.auth, json={"format": fmt}
    ).json()
    while job["status"] not in ("done", "failed", "cancelled"):
        time.sleep(0.02)
        job = httpx.get(
            f"{server.base}/api/v1/cases/BENCH-1/exports/{job['id']}", headers=server.auth
        ).json()
    os.sync()  # as the copy reference: both measured until the bytes are on disk
    elapsed = time.perf_counter() - t0
    if job["status"] != "done":
        raise RuntimeError(f"export {job['status']}: {job.get('error')}")
    return elapsed


def run(
    *, size: int, case_size: int, chunk: int, work: Path, formats: tuple[str, ...] = ("zip", "tar")
) -> dict[str, Any]:
    files = max(1, -(-case_size // size))
    media = [make_media(work / f"clip-{i}.mp4", size, seed=100 + i) for i in range(files)]
    ref_s = reference_copy(media[0], work / "reference-copy.bin")
    (work / "reference-copy.bin").unlink()
    server = Server(work)
    try:
        baseline = _rss_bytes(server.proc.pid)
        with RssSampler(server.proc.pid) as rss:
            upload_s, receipt = tus_upload(server, media[0], "BENCH-1", chunk)
        peak_growth = rss.peak - baseline
        expected = hashlib.sha256()
        with media[0].open("rb") as f:
            while block := f.read(4 * 1024 * 1024):
                expected.update(block)
        assert receipt["sha256"] == expected.hexdigest(), "server hash differs from the file's"
        others = [tus_upload(server, m, "BENCH-1", chunk)[0] for m in media[1:]]
        vault = work / "vault" / "objects"
        originals = [p for p in vault.rglob("*") if p.is_file()]
        exports: dict[str, tuple[float, float]] = {}
        for fmt in formats:  # each export right after its own copy reference: same cache state
            copy_s = _copy_reference(originals, work / "copy-reference")
            exports[fmt] = (_export(server, fmt), copy_s)
            for archive in (work / "vault" / "exports").iterdir():
                archive.unlink()  # keep the disk footprint to one case at a time
    finally:
        server.stop()
    mb = size / 1e6
    up_tp, ref_tp = mb / upload_s, mb / ref_s
    return {
        "benchmark": "vault",
        "size_bytes": size,
        "chunk_bytes": chunk,
        "machine": machine_info(),
        "upload": {
            "seconds": round(upload_s, 3),
            "mb_per_s": round(up_tp, 1),
            "more_uploads_mb_per_s": [round(mb / s, 1) for s in others],
        },
        "reference_copy_sha256": {"seconds": round(ref_s, 3), "mb_per_s": round(ref_tp, 1)},
        "upload_vs_reference": round(up_tp / ref_tp, 3),
        "target_upload_vs_reference": 0.60,
        "server_rss_growth_mb": round(peak_growth / 1e6, 1),
        "target_rss_growth_mb": 100,
        "export": {
            "case_bytes": files * size,
            "files": files,
            "target_ratio": 1.5,
            **{
                fmt: {
                    "seconds": round(t, 3),
                    "copy_seconds": round(c, 3),
                    "ratio_vs_copy": round(t / c, 3),
                }
                for fmt, (t, c) in exports.items()
            },
        },
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="rtcc bench vault", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument(
        "--size", type=parse_size, default=parse_size("1GiB"), help="upload size (default 1GiB)"
    )
    parser.add_argument(
        "--case-size", type=parse_size, default=None, help="case exported (default 5x --size)"
    )
    parser.add_argument(
        "--chunk",
        type=parse_size,
        default=parse_size("32MiB"),
        help="tus PATCH size (default 32MiB)",
    )
    parser.add_argument(
        "--dir", type=Path, default=None, help="work directory (default: a temporary one, removed)"
    )
    parser.add_argument(
        "--formats", default="zip,tar", help="export formats, in this order (default zip,tar)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    case_size = args.case_size if args.case_size is not None else 5 * args.size
    if args.size < 64 * 1024 or case_size < args.size:
        parser.error("--size must be at least 64KiB and --case-size at least --size")
    tmp = Path(tempfile.mkdtemp(prefix="rtcc-bench-vault-", dir=args.dir))
    try:
        formats = tuple(f for f in args.formats.split(",") if f)
        if not formats or set(formats) - {"zip", "tar"}:
            parser.error("--formats takes zip and/or tar")
        result = run(
            size=args.size, case_size=case_size, chunk=args.chunk, work=tmp, formats=formats
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps(result))
    else:
        exports = "; ".join(
            f"{f} export {result['export'][f]['seconds']} s vs copy {result['export'][f]['copy_seconds']} s "
            f"({result['export'][f]['ratio_vs_copy']}x)"
            for f in formats
        )
        print(
            f"upload {result['upload']['mb_per_s']} MB/s vs copy+sha256 {result['reference_copy_sha256']['mb_per_s']} MB/s "
            f"({result['upload_vs_reference']:.0%}); server RSS +{result['server_rss_growth_mb']} MB; {exports}"
        )
    return 0
