"""``rtcc bench requests``: footage request fan-out and e-mail outbox delivery.

Setup: a fresh database (a temporary SQLite file, ``--pg`` for a throw-away PostgreSQL
cluster, or ``--db URL``) holding N owners, each with one registered camera inside a
circle around one point (plus the same number of owners outside it, so the area query
has to select). Figures:

* ``create_s`` (median of ``--repeat`` runs, each on a fresh copy of the seeded database):
  one footage request whose area holds the N owners, created through the
  server's own code path (``server.footage_requests.create``: area test, owner rules,
  limits, de-duplication check, N items, N links, N outbox rows, audit, event) and
  committed — the time from the call to the commit;
* delivery: the outbox sender (``server.mail.sender.Mailer``: claim, render, SMTP, and a
  commit with audit entry + item state + event per message) to a local aiosmtpd server,
  against a bare ``smtplib`` loop sending equally sized messages over one connection to
  the same server in the same run (bare, outbox, bare again; the reference is the mean
  of the two bare runs). ``delivery_ratio`` = outbox rate / bare rate.

Targets (issue 11): 10,000 owners created and enqueued within 2 s on SQLite; delivery
at >= 80 % of the bare loop's rate.
"""

from __future__ import annotations

import argparse
import math
import smtplib
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import numpy as np

from rtcc_console.bench.common import emit, machine_info

CENTER = (32.7800, -96.8000)
ROUNDS = 5
SECRET = "bench-secret-0123456789abcdef"


def _settings(url: str, sink: Any | None = None) -> Any:
    from rtcc_console.config import ServerSettings

    extra: dict[str, Any] = {}
    if sink is not None:
        extra = {"smtp_host": sink.host, "smtp_port": sink.port, "smtp_security": "none"}
    return ServerSettings(
        db_url=url,
        secret_key=SECRET,  # type: ignore[arg-type]  # pydantic converts the str to SecretStr
        request_max_area_sq_mi=100.0,
        request_max_per_case=1000,
        migrate_on_start=False,
        **extra,
    )


def _seed(url: str, owners: int, rng: np.random.Generator) -> float:
    """N owners inside a circle of radius R, N outside; returns R in metres."""
    from rtcc_console.core.geo import destination_point
    from rtcc_console.core.models import Camera, CameraKind, GeoPoint, Owner, SharingMode, Tier
    from rtcc_console.store.bulk import bulk_insert_cameras, bulk_insert_owners
    from rtcc_console.store.db import make_engine, make_session_factory

    radius = max(200.0, math.sqrt(owners) * 12.0)  # ~ one camera per 450 m²
    center = GeoPoint(*CENTER)
    owner_rows, cams = [], []
    for i in range(2 * owners):
        inside = i < owners
        dist = radius * math.sqrt(rng.random()) * 0.98 if inside else radius * (1.1 + rng.random())
        p = destination_point(center, float(rng.random() * 360.0), dist)
        owner_rows.append(
            Owner(
                id=f"own-{i:06d}",
                name=f"Owner {i}",
                kind=CameraKind.RESIDENTIAL,
                email=f"owner{i}@example.org",
            )
        )
        cams.append(
            Camera(
                id=f"cam-{i:06d}",
                name=f"Camera {i}",
                tier=Tier.REGISTERED,
                location=GeoPoint(p.lat, p.lon),
                kind=CameraKind.RESIDENTIAL,
                sharing_mode=SharingMode.REQUEST_ONLY,
                address=f"{i} Bench St",
                owner_id=f"own-{i:06d}",
            )
        )
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as s:
            bulk_insert_owners(s, owners=owner_rows)
            bulk_insert_cameras(s, cameras=cams)
            s.commit()
    finally:
        engine.dispose()
    return radius


def _database(url: str, settings: Any) -> Any:
    """A server-side database handle with the audit keys installed (as the server app does)."""
    from rtcc_console.server.audit_checkpoints import install_audit_keys
    from rtcc_console.server.database import Database

    db = Database(url)
    install_audit_keys(
        secret=settings.secret_key.get_secret_value(),
        key_file=settings.audit_key_file,
        engine=db.engine,
    )
    return db


def _create(url: str, radius: float, owners: int) -> dict[str, Any]:
    from datetime import timedelta

    from rtcc_console.core.fence import parse_area
    from rtcc_console.core.models import Role, utcnow
    from rtcc_console.server.audit import Actor
    from rtcc_console.server.footage_requests import Draft, create
    from rtcc_console.store import outbox

    settings = _settings(url)
    db = _database(url, settings)
    try:
        with db.read() as s:  # warm the pool and the caches: measure the request, not the connect
            outbox.counts(s)
        now = utcnow()
        area = parse_area(
            {"kind": "circle", "center": {"lat": CENTER[0], "lon": CENTER[1]}, "radius_m": radius}
        )
        draft = Draft(
            case_number="26-BENCH",
            offence_category="theft_from_auto",
            call_id=None,
            area=area,
            window_start=now - timedelta(hours=3),
            window_end=now - timedelta(hours=2),
            message="Thefts from autos on this block around 3 a.m. Can you check your cameras?",
            client_key=f"bench-{time.monotonic_ns()}",
        )
        t0 = time.perf_counter()
        with db.write() as session:
            view, _ = create(
                session,
                settings=settings,
                draft=draft,
                actor=Actor("bench", "analyst"),
                role=Role.ANALYST,
            )
            items = len(view.items)
        elapsed = time.perf_counter() - t0
        with db.read() as s:
            queued = outbox.counts(s).get("pending", 0)
    finally:
        db.dispose()
    if items != owners or queued != owners:
        raise SystemExit(
            f"expected {owners} items and e-mails, got {items} items and {queued} queued"
        )
    return {
        "create_s": round(elapsed, 3),
        "items": items,
        "emails_enqueued": queued,
        "owners_per_s": round(owners / elapsed),
    }


def _bare_loop(sink: Any, messages: int, size: int) -> float:
    """Messages/s of a plain smtplib loop (one connection) to the sink: each message is
    built (stdlib ``EmailMessage``, a body of the outbox messages' size) and sent."""
    body = "x" * max(0, size - 400)
    start_count = sink.count
    t0 = time.perf_counter()
    with smtplib.SMTP(sink.host, sink.port, timeout=30) as smtp:
        for i in range(messages):
            msg = EmailMessage()
            msg["Subject"] = f"bare {i}"
            msg["From"] = "footage-requests@example.org"
            msg["To"] = f"owner{i}@example.org"
            msg["Message-ID"] = f"<bare.{i}.{time.monotonic_ns()}@example.org>"
            msg.set_content(body)
            smtp.send_message(msg)
    elapsed = time.perf_counter() - t0
    if sink.count - start_count != messages:
        raise SystemExit("the SMTP sink lost messages of the bare loop")
    return messages / elapsed


def _message_size() -> int:
    """Bytes of one outbox message as sent (so the bare loop sends the same size)."""
    from datetime import timedelta

    from rtcc_console.core.footage_mail import OwnerMail, Sender, build_message
    from rtcc_console.core.models import utcnow

    now = utcnow()
    mail = OwnerMail(
        to_addr="owner1@example.org",
        owner_name="Owner 1",
        link="http://127.0.0.1:8750/portal/requests/" + "x" * 43,
        window_start=now - timedelta(hours=3),
        window_end=now - timedelta(hours=2),
        due_at=now,
        cameras=[("Camera 1", "1 Bench St")],
        case_numbers=["26-BENCH"],
        messages=["Thefts from autos on this block around 3 a.m. Can you check your cameras?"],
    )
    sender = Sender(
        "footage-requests@example.org",
        "Real-Time Crime Center",
        "rtcc@example.org",
        "",
        "America/Chicago",
    )
    return len(build_message(mail, sender=sender, message_id="<x@example.org>", now=now).as_bytes())


def _outbox_rate(url: str, sink: Any, messages: int) -> float:
    """Messages/s of the outbox sender for the first ``messages`` queued e-mails."""
    from rtcc_console.server.mail.sender import Mailer

    settings = _settings(url, sink)
    db = _database(url, settings)
    mailer = Mailer(db, settings)
    start_count = sink.count
    try:
        t0 = time.perf_counter()
        while mailer.sent < messages:
            if mailer.deliver_batch(limit=min(100, messages - mailer.sent)) == 0:
                break
        elapsed = time.perf_counter() - t0
        sent = mailer.sent
    finally:
        mailer.stop()
        db.dispose()
    if sink.count - start_count != sent:
        raise SystemExit("the SMTP sink did not receive what the outbox reported as sent")
    return sent / elapsed


def _copies(url: str, cluster: Any, count: int) -> list[str]:
    """``count`` databases identical to the seeded one at ``url`` (the first is ``url``)."""
    if count <= 1:
        return [url]
    if url.startswith("sqlite:///"):
        import shutil

        path = Path(url.removeprefix("sqlite:///"))
        out = [url]
        for i in range(1, count):
            copy = path.with_name(f"{path.stem}-{i}{path.suffix}")
            shutil.copyfile(path, copy)
            out.append(f"sqlite:///{copy}")
        return out
    if cluster is not None:
        return [url] + [
            cluster.create_database(f"rtcc_copy_{i}", template=url.rsplit("/", 1)[1])
            for i in range(1, count)
        ]
    return [url]


def run(
    url: str, owners: int, messages: int, seed: int, *, cluster: Any = None, repeat: int = 3
) -> dict[str, Any]:
    from rtcc_console.sim.smtp_sink import SinkProcess
    from rtcc_console.store.migrate import upgrade

    upgrade(url)
    rng = np.random.default_rng(seed)
    radius = _seed(url, owners, rng)
    urls = _copies(url, cluster, repeat)  # each create on a fresh copy: the same work every time
    runs = [_create(u, radius, owners) for u in urls]
    times = [r["create_s"] for r in runs]
    created = {
        **runs[0],
        "create_s": round(float(np.median(times)), 3),
        "create_s_runs": times,
        "owners_per_s": round(owners / float(np.median(times))),
    }
    per_round = max(1, min(messages, owners // ROUNDS))
    size = _message_size()
    bare_rates: list[float] = []
    outbox_rates: list[float] = []
    with SinkProcess() as sink:
        _bare_loop(sink, 50, size)  # warm-up: connection set-up, imports
        for _ in range(ROUNDS):  # interleaved: a noisy spell on the shared machine hits both alike
            bare_rates.append(_bare_loop(sink, per_round, size))
            outbox_rates.append(_outbox_rate(url, sink, per_round))
    ratios = [o / b for o, b in zip(outbox_rates, bare_rates, strict=True)]
    return {
        "owners": owners,
        "area_radius_m": round(radius, 1),
        **created,
        "delivery": {
            "rounds": ROUNDS,
            "messages_per_round": per_round,
            "message_bytes": size,
            "outbox_msgs_per_s": [round(r, 1) for r in outbox_rates],
            "bare_smtplib_msgs_per_s": [round(r, 1) for r in bare_rates],
            "round_ratios": [round(r, 3) for r in ratios],
            "delivery_ratio": round(float(np.median(ratios)), 3),
        },
        "targets": {"create_10k_s": 2.0, "delivery_ratio": 0.8},
    }


def _backend_url(args: argparse.Namespace, tmp: Path, owners: int) -> tuple[str, Any]:
    if args.db:
        return args.db, None
    if args.pg:
        from rtcc_console.store.pgcluster import start_pg_cluster

        cluster = start_pg_cluster(tmp / f"pg-{owners}")
        return cluster.url, cluster
    return f"sqlite:///{tmp / f'bench-requests-{owners}.sqlite'}", None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="rtcc bench requests", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--owners",
        type=int,
        nargs="+",
        default=[1000],
        help="owners inside the area (one run each)",
    )
    parser.add_argument(
        "--messages",
        type=int,
        default=1000,
        help="e-mails timed per delivery round (5 rounds, interleaved with the bare loop)",
    )
    parser.add_argument(
        "--db", default=None, help="database URL (must be empty); default: a temporary SQLite file"
    )
    parser.add_argument("--pg", action="store_true", help="use a throw-away PostgreSQL cluster")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="creates timed, each on a fresh copy (median reported)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory(prefix="rtcc-bench-requests-") as tmpdir:
        for owners in args.owners:
            url, cluster = _backend_url(args, Path(tmpdir), owners)
            try:
                result = run(
                    url,
                    owners,
                    args.messages,
                    args.seed,
                    cluster=cluster,
                    repeat=1 if args.db else args.repeat,
                )
            finally:
                if cluster is not None:
                    cluster.stop()
            result["backend"] = "postgresql" if url.startswith("postgresql") else "sqlite"
            runs.append(result)
    out = {"bench": "requests", "runs": runs, "machine": machine_info()}

    def human(r: dict[str, Any]) -> str:
        lines = []
        for run_ in r["runs"]:
            d = run_["delivery"]
            lines.append(
                f"{run_['backend']:>10} owners={run_['owners']:>6} create={run_['create_s']:.3f}s "
                f"outbox={d['outbox_msgs_per_s']} msg/s bare={d['bare_smtplib_msgs_per_s']} msg/s "
                f"ratio={d['delivery_ratio']:.2f}"
            )
        return "\n".join(lines)

    emit(out, as_json=args.json, human=human)
    return 0
