"""The transparency report (HTML with inline PNG charts, optional PDF) and the figures of the
public ``/transparency`` page (issue 14, docs/api/supervision.md).

Only counts from :mod:`rtcc_console.store.transparency` and settings reach the output: no
names, e-mail addresses, street addresses, reasons or case numbers. Charts are drawn with
matplotlib (Agg, no display); the PDF is written with fpdf2 (pure Python, already used by
the vault).
"""

from __future__ import annotations

import argparse
import base64
import io
import sys
import time
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, select_autoescape

from rtcc_console.config import ServerSettings
from rtcc_console.core.models import utcnow
from rtcc_console.server.database import Database
from rtcc_console.store import transparency as store

NO_FACE_STATEMENT = (
    "No facial recognition is used. The system has no face detection or face matching of any kind; "
    "the only automated analysis of evidence sorts vehicles by type (bicycle, car, motorcycle, bus, truck)."
)
COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("month", "Month", False),
    ("cameras_registered", "Registered cameras", False),
    ("cameras_integrated", "Integrated cameras", False),
    ("cameras_new", "New", True),
    ("cameras_revoked", "Revoked", True),
    ("footage_requests", "Footage requests", True),
    ("owners_asked", "Owners asked", True),
    ("answered_footage", "Answered with footage", True),
    ("answered_no_footage", "No footage", True),
    ("declined", "Declined", True),
    ("expired", "Expired", True),
    ("live_views", "Live views", True),
    ("live_view_hours", "Live view hours", True),
    ("emergencies", "Emergencies", True),
    ("panic_presses", "Panic presses", True),
    ("exports", "Exports", True),
    ("flags_raised", "Misuse flags", True),
    ("flags_acknowledged", "Flags reviewed", True),
)


def collect(
    db: Database, settings: ServerSettings, *, start: datetime, end: datetime
) -> dict[str, Any]:
    """All figures of [start, end) as plain data (the JSON of /transparency.json)."""
    now = utcnow()
    with db.read() as session:
        months = store.monthly_figures(
            session, start=start, end=end, time_zone=settings.time_zone, now=now
        )
        today = store.registry_now(session)
    rows = [{k: v for k, v in asdict(m).items() if k != "extra"} for m in months]
    totals: dict[str, Any] = {key: 0 for key, _, summed in COLUMNS if summed}
    for row in rows:
        for key in totals:
            totals[key] += row[key]
    totals["live_view_hours"] = round(totals["live_view_hours"], 1)
    zone = ZoneInfo(settings.time_zone)
    last_day = (end.astimezone(zone) - timedelta(microseconds=1)).date()
    return {
        "agency": settings.agency_name,
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "period_label": f"{start.astimezone(zone).date():%d %B %Y} – {last_day:%d %B %Y}",
        "generated_at": now.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
        "months": rows,
        "totals": totals,
        "now": {"registered": today.get("registered", 0), "integrated": today.get("integrated", 0)},
        "retention_days": dict(sorted(settings.vault_retention_days.items())),
        "event_retention_h": round(settings.event_retention_s / 3600),
        "policy_text": settings.transparency_policy_text,
        "no_face_statement": NO_FACE_STATEMENT,
        "facial_recognition": False,
    }


def charts(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's charts as PNG bytes (title, png)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    months = [m["month"] for m in figures["months"]]
    x = list(range(len(months)))

    def series(key: str) -> list[float]:
        return [float(m[key]) for m in figures["months"]]

    def draw(title: str, kind: str, keys: list[tuple[str, str]]) -> dict[str, Any]:
        fig = Figure(figsize=(6.4, 3.0), dpi=110)
        ax = fig.subplots()
        width = 0.8 / max(1, len(keys))
        for n, (key, label) in enumerate(keys):
            if kind == "line":
                ax.plot(x, series(key), marker="o", label=label)
            else:
                ax.bar(
                    [i + (n - (len(keys) - 1) / 2) * width for i in x],
                    series(key),
                    width=width,
                    label=label,
                )
        ax.set_title(title, fontsize=11)
        ax.set_xticks(x, months, rotation=45, ha="right", fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8, frameon=False)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return {"title": title, "png": buf.getvalue()}

    return [
        draw(
            "Cameras at the end of each month",
            "line",
            [("cameras_registered", "registered"), ("cameras_integrated", "integrated")],
        ),
        draw(
            "Footage requests to owners and their answers",
            "bar",
            [
                ("owners_asked", "asked"),
                ("answered_footage", "footage"),
                ("answered_no_footage", "no footage"),
                ("declined", "declined"),
                ("expired", "expired"),
            ],
        ),
        draw("Live views", "bar", [("live_views", "views"), ("live_view_hours", "hours")]),
        draw(
            "Emergencies, exports and misuse flags",
            "bar",
            [
                ("emergencies", "emergencies"),
                ("panic_presses", "panic presses"),
                ("exports", "exports"),
                ("flags_raised", "misuse flags"),
                ("flags_acknowledged", "reviewed"),
            ],
        ),
    ]


def _environment() -> Environment:
    return Environment(autoescape=select_autoescape(default=True, default_for_string=True))


def render_html(figures: dict[str, Any], drawn: list[dict[str, Any]]) -> str:
    template_text = (
        resources.files("rtcc_console.resources")
        .joinpath("transparency/report.html.j2")
        .read_text("utf-8")
    )
    template = _environment().from_string(template_text)
    return template.render(
        **figures,
        charts=[
            {"title": c["title"], "png_b64": base64.b64encode(c["png"]).decode()} for c in drawn
        ],
        columns=[{"key": k, "label": label, "summed": summed} for k, label, summed in COLUMNS],
        column_groups=[
            {
                "title": "Cameras and footage requests, month by month",
                "columns": [
                    {"key": k, "label": label, "summed": summed}
                    for k, label, summed in COLUMNS[1:11]
                ],
            },
            {
                "title": "Live views, emergencies, exports and oversight, month by month",
                "columns": [
                    {"key": k, "label": label, "summed": summed}
                    for k, label, summed in COLUMNS[11:]
                ],
            },
        ],
        retention=list(figures["retention_days"].items()),
    )


def render_pdf(figures: dict[str, Any], drawn: list[dict[str, Any]], out: Path) -> None:
    """The same report as a PDF (fpdf2, core fonts: text is kept to Latin-1)."""
    from fpdf import FPDF

    def latin(text: str) -> str:
        return (
            text.replace("—", "-").replace("–", "-").encode("latin-1", "replace").decode("latin-1")
        )

    pdf = FPDF(orientation="L", format="A4")
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(
        0,
        10,
        latin(f"{figures['agency']} - camera program transparency report"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(
        0,
        6,
        latin(f"{figures['period_label']} - generated {figures['generated_at']}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 11)
    pdf.multi_cell(0, 6, latin(figures["no_face_statement"]), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 7)
    cols = COLUMNS
    widths = [18] + [(277 - 18) / (len(cols) - 1)] * (len(cols) - 1)
    with pdf.table(col_widths=widths, text_align="CENTER", line_height=4) as table:
        table.row([latin(label) for _, label, _ in cols])
        for m in figures["months"]:
            table.row([str(m[k]) for k, _, _ in cols])
        table.row(["Total"] + [str(figures["totals"][k]) if s else "" for k, _, s in cols[1:]])
    pdf.ln(3)
    pdf.set_font("Helvetica", "", 9)
    retention = ", ".join(
        f"{name}: {days} days" for name, days in figures["retention_days"].items()
    )
    pdf.multi_cell(
        0,
        5,
        latin(
            f"Retention: {retention}; event replay log: {figures['event_retention_h']} hours. "
            "Evidence attached to a case is kept while the case needs it."
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    for i, chart in enumerate(drawn):
        if i % 2 == 0:
            pdf.add_page()
        pdf.image(io.BytesIO(chart["png"]), w=200)
    if figures["policy_text"]:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 8, "Policy", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(0, 5, latin(figures["policy_text"]))
    pdf.output(str(out))


def year_back(now: datetime, time_zone: str) -> tuple[datetime, datetime]:
    """The current month and the 11 before it, in agency time (the public page's period)."""
    zone = ZoneInfo(time_zone)
    local = now.astimezone(zone)
    end = (local.replace(day=28) + timedelta(days=4)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    start = end.replace(year=end.year - 1)
    return start, end


def public_page(state: Any) -> tuple[str, dict[str, Any]]:
    """(HTML, figures) of the public page, reused for ``transparency_cache_s`` seconds."""
    cached = state.extras.get("transparency")
    if cached is not None and cached[0] > time.monotonic():
        return cached[1], cached[2]
    start, end = year_back(utcnow(), state.settings.time_zone)
    figures = collect(state.db, state.settings, start=start, end=end)
    html = render_html(figures, charts(figures))
    state.extras["transparency"] = (
        time.monotonic() + state.settings.transparency_cache_s,
        html,
        figures,
    )
    return html, figures


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def report_main(argv: list[str] | None = None) -> int:
    """``rtcc report transparency --from YYYY-MM-DD --to YYYY-MM-DD --out report.html [--pdf report.pdf]``."""
    parser = argparse.ArgumentParser(prog="rtcc report transparency", description=__doc__)
    parser.add_argument(
        "--from", dest="start", type=_day, required=True, help="first day (agency time)"
    )
    parser.add_argument(
        "--to", dest="end", type=_day, required=True, help="day after the last (agency time)"
    )
    parser.add_argument("--out", type=Path, required=True, help="HTML file to write")
    parser.add_argument(
        "--pdf",
        nargs="?",
        const="",
        default=None,
        help="also write a PDF (default: --out with .pdf)",
    )
    parser.add_argument(
        "--db", default=None, help="database URL (default RTCC_DB_URL / the local SQLite file)"
    )
    args = parser.parse_args(argv)
    if args.end <= args.start:
        parser.error("--to must be after --from")
    overrides: dict[str, Any] = {
        "migrate_on_start": False,
        "dev_mode": True,
    }  # reads only; signs nothing
    if args.db:
        overrides["db_url"] = args.db
    settings = ServerSettings(**overrides)
    zone = ZoneInfo(settings.time_zone)
    start = datetime(args.start.year, args.start.month, args.start.day, tzinfo=zone).astimezone(UTC)
    end = datetime(args.end.year, args.end.month, args.end.day, tzinfo=zone).astimezone(UTC)
    from sqlalchemy.exc import SQLAlchemyError

    from rtcc_console.store.db import normalize_url

    url = normalize_url(settings.db_url)
    if (
        url.get_backend_name() == "sqlite"
        and url.database
        and not Path(url.database).expanduser().exists()
    ):
        sys.stderr.write(f"rtcc report: no database at {url.database}\n")
        return 2
    db = Database(settings.db_url)
    try:
        figures = collect(db, settings, start=start, end=end)
    except SQLAlchemyError as exc:
        sys.stderr.write(
            f"rtcc report: cannot read the database ({type(exc).__name__}); is it migrated (rtcc db upgrade)?\n"
        )
        return 2
    finally:
        db.dispose()
    drawn = charts(figures)
    args.out.write_text(render_html(figures, drawn), encoding="utf-8")
    written = [str(args.out)]
    if args.pdf is not None:
        pdf_path = Path(args.pdf) if args.pdf else args.out.with_suffix(".pdf")
        render_pdf(figures, drawn, pdf_path)
        written.append(str(pdf_path))
    sys.stdout.write("wrote " + ", ".join(written) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``rtcc report ...`` (one report so far: transparency)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] != "transparency":
        sys.stderr.write(
            "usage: rtcc report transparency --from YYYY-MM-DD --to YYYY-MM-DD --out report.html [--pdf]\n"
        )
        return 2
    return report_main(args[1:])
