"""`rtcc` entry point: a thin dispatcher to lazily imported subcommands.

Each subcommand lives in its own module as ``main(argv: list[str]) -> int`` with its own
argparse parser, so nothing heavy (Qt, SQLAlchemy engines, av) is imported until a
command that needs it runs.
"""

from __future__ import annotations

import importlib
import sys

# (words) -> "module:function". Longest match wins, so "bench nearest" beats "bench".
COMMANDS: dict[tuple[str, ...], tuple[str, str]] = {
    ("demo",): ("rtcc_console.demo:main", "console + embedded server + simulators"),
    ("console",): ("rtcc_console.ui.app:main", "the analyst console (needs --server URL)"),
    ("server",): ("rtcc_console.server.cli:server_main", "run the API server"),
    ("user",): ("rtcc_console.server.cli:user_main", "manage staff accounts (user add ...)"),
    ("audit",): ("rtcc_console.server.cli:audit_main", "audit trail tools (audit verify)"),
    ("db",): ("rtcc_console.store.cli:main", "database tools (db upgrade)"),
    ("evidence", "verify"): (
        "rtcc_console.server.vault.bag_verify:main",
        "re-check an exported evidence package (BagIt)",
    ),
    ("seed",): ("rtcc_console.sim.seed:main", "create a demo camera registry"),
    ("seed", "audit"): (
        "rtcc_console.sim.seed_audit:main",
        "append a large valid audit trail (seed audit --entries N)",
    ),
    ("report",): (
        "rtcc_console.server.transparency:main",
        "reports (report transparency --from --to --out)",
    ),
    ("tiles",): ("rtcc_console.sim.basemap:main", "build an offline basemap for the console"),
    ("sim", "cameras"): ("rtcc_console.sim.cameras:main", "serve simulated live cameras"),
    ("sim", "cad"): ("rtcc_console.sim.cad_post:main", "post simulated dispatch calls"),
    ("bench", "nearest"): ("rtcc_console.bench.nearest:main", "nearest-camera index benchmark"),
    ("bench", "intake"): (
        "rtcc_console.bench.intake:main",
        "call intake + event delivery benchmark",
    ),
    ("bench", "call-to-screen"): (
        "rtcc_console.bench.call_to_screen:main",
        "POST /calls to console row",
    ),
    ("bench", "wall"): ("rtcc_console.bench.wall:main", "video wall vs ffmpeg decode benchmark"),
    ("bench", "requests"): (
        "rtcc_console.bench.requests:main",
        "footage request fan-out + e-mail outbox vs smtplib",
    ),
    ("bench", "vehicles"): (
        "rtcc_console.bench.vehicles:main",
        "vehicle index of evidence vs decode-only (and with the wall)",
    ),
    ("bench", "vault"): (
        "rtcc_console.bench.vault:main",
        "evidence vault: tus upload + export vs plain copy",
    ),
    ("bench", "player"): (
        "rtcc_console.bench.player:main",
        "evidence player: step back, 1x/8x playback vs plain decode",
    ),
    ("bench", "edge"): (
        "rtcc_console.bench.edge:main",
        "server edge checks (body text, depth) vs json.loads",
    ),
    ("bench", "audit"): (
        "rtcc_console.bench.audit:main",
        "audit viewer page, chain verification, transparency report",
    ),
    ("bench", "media-hook"): (
        "rtcc_console.bench.media_hook:main",
        "media relay auth hook vs /health; sign-out to refusal",
    ),
    ("bench", "confirmations"): (
        "rtcc_console.bench.confirmations:main",
        "yearly camera confirmation sweep vs indexed lookup / plain UPDATE",
    ),
    ("bench", "field"): (
        "rtcc_console.bench.field:main",
        "officers' live video: first frame, delay, CPU per viewer vs decode",
    ),
}


def _usage() -> str:
    lines = ["usage: rtcc COMMAND [ARGS...]", "", "commands:"]
    for words, (_, help_text) in COMMANDS.items():
        lines.append(f"  {' '.join(words):<22} {help_text}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(_usage())
        return 0
    if args[0] == "--version":
        from rtcc_console import __version__

        print(__version__)
        return 0
    for n in (2, 1):
        key = tuple(args[:n])
        if key in COMMANDS:
            target, _ = COMMANDS[key]
            module_name, func_name = target.split(":")
            func = getattr(importlib.import_module(module_name), func_name)
            return int(func(args[n:]) or 0)
    print(f"rtcc: unknown command {' '.join(args[:2])!r}\n\n{_usage()}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
