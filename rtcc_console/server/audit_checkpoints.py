"""Signed checkpoints of the audit chain's head, published outside the database.

A checkpoint says "at time T the trail held N events and the newest one's hash was H",
signed with the audit signing key (Ed25519). The server appends one to an append-only
file (one JSON line each; ``RTCC_AUDIT_CHECKPOINT_FILE``) and writes it to the log every
``audit_checkpoint_s`` seconds when the head moved, and at shutdown. ``rtcc audit verify``
then refuses a database that holds fewer events than a checkpoint (truncation) or whose
event at a checkpoint's head has another hash (a rewrite, even one made with the HMAC
key), and a checkpoint file with a forged line. Several server processes (PostgreSQL) may
append to one file; their lines need not be in order.

What this does not cover, by design: events appended after the latest checkpoint and then
cut again before the next one (at most ``audit_checkpoint_s`` of history); a checkpoint
file that is rewritten along with the database (keep it on other storage, ``chattr +a``,
ship the log to a remote collector, where the database's administrators cannot write).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from rtcc_console.core.models import utcnow
from rtcc_console.server.audit import ChainReport, chain_head, count_upto, row_at, walk_chain
from rtcc_console.server.audit_keys import AuditKeyring
from rtcc_console.store.db import normalize_url

log = logging.getLogger("rtcc_console.audit.checkpoint")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    at: str
    count: int
    head_id: int
    head_hash: str
    signer: str
    sig: str
    v: int = 1

    def message(self) -> bytes:
        fields = {
            "v": self.v,
            "at": self.at,
            "count": self.count,
            "head_id": self.head_id,
            "head_hash": self.head_hash,
            "signer": self.signer,
        }
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def line(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))


def default_checkpoint_path(db_url: str) -> Path | None:
    """Beside the SQLite file; None on PostgreSQL (configure a path, or rely on the log)."""
    url = normalize_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        db = Path(url.database).expanduser()
        return db.with_name(db.name + ".audit-checkpoints.jsonl")
    return None


def make_checkpoint(
    ring: AuditKeyring, *, count: int, head_id: int, head_hash: str, at: datetime | None = None
) -> Checkpoint:
    unsigned = Checkpoint(
        at=(at or utcnow()).isoformat(timespec="microseconds"),
        count=count,
        head_id=head_id,
        head_hash=head_hash,
        signer=ring.current_signer,
        sig="",
    )
    signer, sig = ring.sign(unsigned.message())
    return Checkpoint(
        at=unsigned.at, count=count, head_id=head_id, head_hash=head_hash, signer=signer, sig=sig
    )


def append_checkpoint(path: Path, cp: Checkpoint) -> None:
    """Append one line and fsync it (the file is only ever appended to)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (cp.line() + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_checkpoint(
    session: Session, *, ring: AuditKeyring, path: Path | None, last: tuple[int, str] | None = None
) -> Checkpoint | None:
    """Sign the current head and publish it (file + log); None when the head has not moved
    since ``last`` (count, head hash)."""
    count, head_id, head_hash = chain_head(session)
    if last is not None and last == (count, head_hash):
        return None
    cp = make_checkpoint(ring, count=count, head_id=head_id, head_hash=head_hash)
    if path is not None:
        append_checkpoint(path, cp)
    log.info("audit checkpoint %s", cp.line())
    return cp


def read_checkpoints(path: Path) -> tuple[list[Checkpoint], list[str]]:
    """Every well-formed checkpoint of the file, and a problem per malformed line."""
    found: list[Checkpoint] = []
    problems: list[str] = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                data: Any = json.loads(raw)
                cp = Checkpoint(
                    at=str(data["at"]),
                    count=int(data["count"]),
                    head_id=int(data["head_id"]),
                    head_hash=str(data["head_hash"]),
                    signer=str(data["signer"]),
                    sig=str(data["sig"]),
                    v=int(data.get("v", 1)),
                )
            except (ValueError, KeyError, TypeError, AttributeError):
                problems.append(f"checkpoint line {number} is malformed")
                continue
            found.append(cp)
    return found, problems


@dataclass(frozen=True, slots=True)
class TrailReport:
    """The outcome of ``rtcc audit verify``."""

    chain: ChainReport
    problems: list[str]
    checkpoints: int
    latest: Checkpoint | None

    @property
    def ok(self) -> bool:
        return self.chain.broken_id is None and not self.problems


def verify_trail(
    session: Session, *, ring: AuditKeyring, checkpoints_path: Path | None
) -> TrailReport:
    """Walk the keyed chain, then hold the database against every signed checkpoint."""
    chain = walk_chain(session, keyring=ring)
    problems: list[str] = []
    cps: list[Checkpoint] = []
    if checkpoints_path is not None and checkpoints_path.exists():
        cps, problems = read_checkpoints(checkpoints_path)
    latest: Checkpoint | None = None
    for cp in cps:  # every one is checked: lines of several server processes may interleave
        if not ring.check_signature(cp.signer, cp.sig, cp.message()):
            problems.append(
                f"checkpoint of {cp.at}: signature does not verify (forged, or signer {cp.signer!r} unknown)"
            )
            continue
        if latest is None or cp.count >= latest.count:
            latest = cp
        if cp.count == 0:
            continue
        row = row_at(session, id=cp.head_id)
        if row is None:
            held = chain.count if chain.broken_id is None else count_upto(session, id=cp.head_id)
            problems.append(
                f"truncated: the checkpoint of {cp.at} covers {cp.count} events up to id {cp.head_id}; "
                f"the database holds {held}"
            )
        elif row.hash != cp.head_hash:
            problems.append(
                f"rewritten: event {cp.head_id} does not carry the hash signed in the checkpoint of {cp.at}"
            )
        elif count_upto(session, id=cp.head_id) != cp.count:
            problems.append(
                f"events before id {cp.head_id} were removed or added after the checkpoint of {cp.at}"
            )
    return TrailReport(chain=chain, problems=problems, checkpoints=len(cps), latest=latest)


def install_audit_keys(*, secret: str, key_file: Path | None, engine: Any) -> AuditKeyring:
    """Load the keyring the settings name and make it the audit keys of ``engine``'s database."""
    from rtcc_console.server.audit import use_keyring
    from rtcc_console.server.audit_keys import keyring_for

    ring = keyring_for(secret=secret, key_file=key_file)
    use_keyring(engine, ring)
    return ring


def checkpoint_path(*, db_url: str, configured: Path | None) -> Path | None:
    return configured if configured is not None else default_checkpoint_path(db_url)
