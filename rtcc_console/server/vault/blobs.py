"""Content-addressed, write-once files under the vault directory.

Layout under ``vault_dir``::

    objects/ab/cd/<sha256>          the original bytes (mode 0444, never rewritten)
    derived/<sha256>/thumb.jpg      working copies beside the original, never instead of it
    derived/<sha256>/browser.mp4
    uploads/<upload_id>.part        tus uploads in progress (offset = file size)
    exports/<export_id>.zip|.tar    finished case exports

``uploads`` and ``objects`` live on one file system, so an original enters the store by a
hard link (atomic; the bytes are never copied) and its upload file is removed afterwards.
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

READ_CHUNK = 1024 * 1024


class VaultIntegrityError(Exception):
    """A stored file does not match the hash it was registered with: never served."""

    def __init__(self, sha256: str, actual: str | None) -> None:
        super().__init__(
            f"integrity failure: stored bytes of {sha256[:12]}… hash to {actual or 'nothing (file missing)'}"
        )
        self.sha256 = sha256
        self.actual = actual


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What identifies one version of a file on disk (for the short verification cache)."""

    size: int
    mtime_ns: int
    inode: int
    ctime_ns: int


def fingerprint(path: Path) -> Fingerprint:
    st = path.stat()
    return Fingerprint(st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


def hash_file(
    path: Path, *, sha512: bool = False, on_chunk: Callable[[int], None] | None = None
) -> tuple[str, str | None]:
    """(sha256, sha512|None) of a file, streamed in 1 MiB reads."""
    h256 = hashlib.sha256()
    h512 = hashlib.sha512() if sha512 else None
    with path.open("rb") as f:
        while chunk := f.read(READ_CHUNK):
            h256.update(chunk)
            if h512 is not None:
                h512.update(chunk)
            if on_chunk is not None:
                on_chunk(len(chunk))
    return h256.hexdigest(), (h512.hexdigest() if h512 is not None else None)


class BlobStore:
    """The vault's directories and the operations on them."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.derived_root = self.root / "derived"
        self.uploads = self.root / "uploads"
        self.exports = self.root / "exports"

    def ensure(self) -> None:
        for d in (self.objects, self.derived_root, self.uploads, self.exports):
            d.mkdir(parents=True, exist_ok=True)

    # originals ---------------------------------------------------------------------------
    @staticmethod
    def relpath(sha256: str) -> str:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return f"objects/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def path_of(self, sha256: str) -> Path:
        return self.root / self.relpath(sha256)

    def exists(self, sha256: str) -> bool:
        return self.path_of(sha256).exists()

    def commit(self, src: Path, sha256: str) -> tuple[Path, bool]:
        """Enter ``src`` (already hashed) under its hash; returns (path, stored_new).

        Existing bytes are never replaced: the same hash already present means the same
        content (de-duplication) and ``src`` is left for the caller to remove.
        """
        dest = self.path_of(sha256)
        if dest.exists():
            return dest, False
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, dest)
        except FileExistsError:
            return dest, False
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK):
                raise
            self._copy_in(src, dest)
        os.chmod(dest, 0o444)
        _fsync_dir(dest.parent)
        return dest, True

    def put_bytes(self, data: bytes) -> tuple[str, str, Path, bool]:
        """Store small bytes (a snapshot); returns (sha256, sha512, path, stored_new)."""
        sha256, sha512 = hashlib.sha256(data).hexdigest(), hashlib.sha512(data).hexdigest()
        self.ensure()
        tmp = self.uploads / f"put-{sha256}-{os.getpid()}.tmp"
        tmp.write_bytes(data)
        try:
            path, new = self.commit(tmp, sha256)
        finally:
            tmp.unlink(missing_ok=True)
        return sha256, sha512, path, new

    @staticmethod
    def _copy_in(src: Path, dest: Path) -> None:
        tmp = dest.with_name(dest.name + ".tmp")
        with src.open("rb") as fin, tmp.open("wb") as fout:
            while chunk := fin.read(READ_CHUNK):
                fout.write(chunk)
            fout.flush()
            os.fsync(fout.fileno())
        os.replace(tmp, dest)

    def verify(self, sha256: str) -> str | None:
        """The actual SHA-256 of the stored bytes (None when the file is missing)."""
        path = self.path_of(sha256)
        try:
            actual, _ = hash_file(path)
        except FileNotFoundError:
            return None
        return actual

    def remove(self, sha256: str) -> None:
        """Delete an original and its working copies (retention purge only)."""
        path = self.path_of(sha256)
        if path.exists():
            os.chmod(path, 0o644)
            path.unlink()
        d = self.derived_dir(sha256)
        if d.exists():
            for child in d.iterdir():
                child.unlink()
            d.rmdir()

    # working copies ----------------------------------------------------------------------
    def derived_dir(self, sha256: str) -> Path:
        self.relpath(sha256)  # validates
        return self.derived_root / sha256

    def upload_path(self, upload_id: str) -> Path:
        if not upload_id.replace("-", "").isalnum():
            raise ValueError("bad upload id")
        return self.uploads / f"{upload_id}.part"


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
