"""Chain verification as a background job with progress (POST /audit/verify).

The job walks the chain with :func:`rtcc_console.server.audit.walk_chain` (the verifier of
``rtcc audit verify``) in a thread of this process and writes its progress to
``audit_verify_jobs`` at most every ``PROGRESS_EVERY_S`` seconds, so that any server
process can answer its status.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from datetime import timedelta
from typing import Any

from rtcc_console.core.models import utcnow
from rtcc_console.server.audit import Actor, append_audit, keyring_of, walk_chain
from rtcc_console.server.database import Database
from rtcc_console.store import audit_log
from rtcc_console.store.schema import AuditVerifyJobRow

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 0.25
STALE_AFTER = timedelta(hours=2)


def job_public(row: AuditVerifyJobRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": row.status,
        "started_by": row.started_by,
        "started_at": row.started_at.isoformat(),
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        "checked": row.checked,
        "total": row.total,
        "broken_id": row.broken_id,
        "problem": row.problem,
    }


def start_verify(db: Database, *, actor: Actor) -> tuple[dict[str, Any], bool]:
    """Start a job (or return the one running); (job, started) where started is False for a running one."""
    with db.write() as session:
        running = audit_log.running_verify_job(session)
        if running is not None and utcnow() - running.started_at > STALE_AFTER:
            # its server process stopped mid-walk (a walk of a million entries takes about a minute)
            audit_log.finish_verify_job(
                session,
                job_id=running.id,
                status="failed",
                checked=running.checked,
                finished_at=utcnow(),
                problem="abandoned: the server stopped during the walk",
            )
            running = None
        if running is not None:
            return job_public(running), False
        total = audit_log.head_id(session)
        job = audit_log.create_verify_job(
            session,
            job_id="averify-" + secrets.token_hex(8),
            started_by=actor.username or "",
            started_at=utcnow(),
            total=total,
        )
        append_audit(session, actor=actor, action="audit.verify", targets={"job": job.id})
        out = job_public(job)
    threading.Thread(
        target=run_verify, args=(db, out["id"]), name=f"audit-verify-{out['id']}", daemon=True
    ).start()
    return out, True


def run_verify(db: Database, job_id: str) -> None:
    """Walk the chain, recording progress; the job ends intact, broken (with the first bad entry) or failed."""
    last = [time.monotonic()]

    def progress(checked: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            with db.write() as w:
                audit_log.set_verify_progress(w, job_id=job_id, checked=checked)

    try:
        with db.read() as session:
            report = walk_chain(session, keyring=keyring_of(session), progress=progress)
        status = "intact" if report.broken_id is None else "broken"
        with db.write() as w:
            audit_log.finish_verify_job(
                w,
                job_id=job_id,
                status=status,
                checked=report.count,
                finished_at=utcnow(),
                broken_id=report.broken_id,
                problem=report.problem,
            )
    except Exception as exc:  # the job records why it failed; the supervisor sees it
        log.exception("audit verification job %s failed", job_id)
        with db.write() as w:
            audit_log.finish_verify_job(
                w,
                job_id=job_id,
                status="failed",
                checked=0,
                finished_at=utcnow(),
                problem=f"verification could not run: {type(exc).__name__}",
            )


def get_job(db: Database, *, job_id: str) -> dict[str, Any] | None:
    with db.read() as session:
        row = audit_log.get_verify_job(session, job_id=job_id)
        return job_public(row) if row is not None else None
