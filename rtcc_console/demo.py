"""`rtcc demo`: the console on a simulated city, signed in, with a call selected.

Starts a ``demo_env.DemoEnvironment`` (camera simulator, Connect Dallas registry, embedded
server, CAD feed, SMTP relay, simulated owners), opens the console as a demo supervisor without
a sign-in dialog, selects the newest call with live cameras nearby, opens four of them on a
2x2 wall, sends a footage request and plays the first clip an owner uploads (``demo_driver``).

With no display (no ``DISPLAY``/``WAYLAND_DISPLAY``) it runs offscreen, writes a screenshot
of each panel (``demo_shots``; into ``docs/`` when run from the repository, else a temporary
directory) and exits after ``--exit-after`` seconds (60 by default) once they are written,
so ``make demo`` ends on its own here. ``--screenshot FILE.png`` writes only the main window
(map and wall shots next to it); ``--screenshot DIR`` the panel set. With a display it runs
until the window is closed.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
DEFAULT_EXIT_AFTER_S = 60.0
PANELS_EMPTY_EXIT = 3  # the panel screenshots were written, but some panels showed nothing


def prepare_qt_environment() -> bool:
    """Offscreen Qt without a display, Chromium without its sandbox as root; True if headless.

    Must run before Qt is imported: both are read when Qt starts.
    """
    headless = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if headless:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
        if "--no-sandbox" not in flags:
            os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = f"{flags} --no-sandbox".strip()
    return headless or os.environ.get("QT_QPA_PLATFORM") == "offscreen"


def default_shot_dir() -> Path:
    """``docs/`` of the repository when run from its root, else a fresh temporary directory."""
    here = Path.cwd()
    if (here / "docs").is_dir() and (here / "rtcc_console").is_dir():
        return here / "docs"
    return Path(tempfile.mkdtemp(prefix="rtcc-demo-shots-"))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rtcc demo", description=__doc__.split("\n")[0])
    p.add_argument(
        "--screenshot",
        type=Path,
        default=None,
        help="FILE.png: the main window (map and wall shots next to it); DIR: a screenshot of "
        "each panel and panels.json (exit code 3 if a panel was empty)",
    )
    p.add_argument(
        "--exit-after",
        type=float,
        default=None,
        help=f"quit after this many seconds (offscreen default {DEFAULT_EXIT_AFTER_S:.0f})",
    )
    p.add_argument(
        "--cameras",
        type=int,
        default=None,
        help="registry size (default: Connect Dallas, 2,306 registered + 276 integrated)",
    )
    p.add_argument("--streams", type=int, default=16, help="simulated camera streams")
    p.add_argument(
        "--size",
        default=None,
        help="window size WxH (default: fit the screen; 1920x1200 offscreen)",
    )
    return p


def open_console(env: Any, *, size: tuple[int, int] | None, settings_dir: Path) -> Any:
    """Sign in as the demo supervisor and build the main window (needs a QApplication).

    ``size`` None: fit the screen the window opens on (a real display)."""
    import json

    from rtcc_console.client.api import ApiClient
    from rtcc_console.config import ConsoleSettings
    from rtcc_console.sim.basemap import demo_basemap
    from rtcc_console.ui.app import build_console

    basemap = (
        settings_dir / "demo-basemap.json"
    )  # the simulated city's streets: a map without internet
    basemap.write_text(json.dumps(demo_basemap()), encoding="utf-8")
    settings = ConsoleSettings(
        server_url=env.base_url,
        cache_dir=settings_dir / "cache",
        basemap="vector",
        basemap_path=basemap,
    )
    api = ApiClient(env.base_url)
    user = env.sign_in(api)  # the demo supervisor (password + TOTP): the dashboard's data is theirs
    window = build_console(settings, api, user=user, settings_file=settings_dir / "console.ini")
    window.show()
    if size is not None:
        window.resize(*size)
    else:
        from rtcc_console.ui.screen_fit import fit_to_screen

        fit_to_screen(window, force=True)
    return window


def main(argv: list[str]) -> int:
    import time

    t0 = time.monotonic()
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    headless = prepare_qt_environment()
    exit_after = (
        args.exit_after
        if args.exit_after is not None
        else (DEFAULT_EXIT_AFTER_S if headless else None)
    )
    shot_dir = (
        args.screenshot.parent if args.screenshot else (default_shot_dir() if headless else None)
    )
    panels_dir = (  # a directory (not FILE.png): a screenshot of each panel (demo_shots)
        args.screenshot
        if args.screenshot
        and (args.screenshot.is_dir() or args.screenshot.suffix.lower() != ".png")
        else (shot_dir if shot_dir is not None and not args.screenshot else None)
    )
    size_text = args.size or ("1920x1200" if headless else None)
    size = tuple(int(v) for v in size_text.lower().split("x")) if size_text else None

    from rtcc_console.demo_env import DemoEnvironment
    from rtcc_console.demo_portal import DEMO_SCHOOL_EMAIL
    from rtcc_console.sim.seed import split_counts

    reg, integ = split_counts(args.cameras) if args.cameras is not None else (2306, 276)
    from PySide6.QtCore import QTimer

    from rtcc_console.demo_driver import DemoDriver

    app = start_qt_app()
    outcome: dict[str, Any] = {"code": 0, "shots": []}
    with DemoEnvironment(streams=args.streams, n_registered=reg, n_integrated=integ) as env:
        _say(f"demo server {env.base_url}")
        _say(
            f"demo analyst: sign in again with user {env.credentials[0]!r} and password "
            f"{env.credentials[1]!r} (a throw-away demo account, new every run)"
        )
        if env.school is not None:
            _say(
                f"owner portal {env.school.portal_url} : demo school {DEMO_SCHOOL_EMAIL!r}, password "
                f"{env.school.password!r} (its alarm panel presses the panic button now and then)"
            )
        assert env.tmp is not None  # set by start()
        window = open_console(env, size=(size[0], size[1]) if size else None, settings_dir=env.tmp)
        _say(
            f"console signed in as demo supervisor {env.console_credentials[0]!r}: password "
            f"{env.console_credentials[1]!r}, authenticator key {env.authenticator.secret!r}"
        )
        driver = DemoDriver(
            window, None if panels_dir else shot_dir, min_calls=env.initial_calls + 1
        )
        shots = None
        if panels_dir is not None:
            shots = _panel_shots(env, window, driver, panels_dir, t0, outcome, exit_after, app)

        def shots_done(shots: list[tuple[str, float]]) -> None:
            outcome["shots"] = shots
            if args.screenshot and shots:
                Path(shots[0][0]).replace(args.screenshot)
                shots[0] = (str(args.screenshot), shots[0][1])
            for path, spread in shots:
                _say(f"screenshot {path} (pixel spread {spread:.1f})")
            if exit_after is not None and exit_after <= 0:
                app.quit()

        def failed(reason: str) -> None:
            _say(f"demo: {reason}", err=True)
            outcome["code"] = 1
            if headless and shots is None:  # the panel shots still shoot what is there
                app.quit()

        driver.screenshots_written.connect(shots_done)
        driver.failed.connect(failed)
        driver.call_chosen.connect(
            lambda cid, n: _say(f"selected call {cid}; {n} cameras on the wall")
        )
        driver.start()
        if shots is not None:
            shots.start()
        elif exit_after is not None and exit_after > 0:
            QTimer.singleShot(
                int(exit_after * 1000),
                lambda: (
                    app.quit()
                    if outcome["shots"] or shot_dir is None
                    else QTimer.singleShot(15_000, app.quit)
                ),
            )
        app.exec()
        _close(window)
    if shot_dir is not None and not outcome["shots"]:
        _say("demo: no screenshot was written", err=True)
        return 1
    return int(outcome["code"])


def _panel_shots(
    env: Any,
    window: Any,
    driver: Any,
    out_dir: Path,
    t0: float,
    outcome: dict[str, Any],
    exit_after: float | None,
    app: Any,
) -> Any:
    """A screenshot of each panel once the story is told (or at ``exit_after``); the demo
    quits when they are written and ``exit_after`` has passed."""
    from PySide6.QtCore import QTimer

    from rtcc_console.demo_portal import DEMO_SCHOOL_EMAIL
    from rtcc_console.demo_shots import DemoShots, PortalLogin

    portal = (
        PortalLogin(env.school.portal_url, DEMO_SCHOOL_EMAIL, env.school.password)
        if env.school is not None
        else None
    )
    shots = DemoShots(
        window,
        out_dir,
        driver=driver,
        portal=portal,
        story_timeout_s=exit_after if exit_after and exit_after > 0 else 90.0,
        t0=t0,
    )
    due = {"time": exit_after is None or exit_after <= 0}

    def written(report: dict[str, Any]) -> None:
        outcome["shots"] = [(r["file"], r["spread"]) for r in report.values() if r["file"]]
        for key, r in report.items():
            when = f" after {r['populated_at_s']:.0f} s" if r["populated_at_s"] is not None else ""
            state = f"populated{when}" if r["populated"] else "EMPTY"
            _say(f"panel {key}: {state}: {r['detail']} -> {r['file'] or 'no picture'}")
        _say(f"story: {shots.story}; panels.json in {out_dir}")
        empty = shots.empty_panels()
        if empty:
            _say(f"demo: panels empty: {', '.join(empty)}", err=True)
            outcome["code"] = outcome["code"] or PANELS_EMPTY_EXIT
        if due["time"] and exit_after is not None:
            app.quit()

    def time_up() -> None:
        due["time"] = True
        if shots.report:
            app.quit()
        else:
            shots.shoot_now()

    shots.finished.connect(written)
    if exit_after is not None and exit_after > 0:
        QTimer.singleShot(int(exit_after * 1000), time_up)
    return shots


def _say(text: str, *, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n")
    stream.flush()


def start_qt_app() -> Any:
    """The QApplication, created the way QtWebEngine needs (engine loaded first, shared GL)."""
    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtWidgets import QApplication

    import rtcc_console.ui.map_view  # noqa: F401 - QtWebEngine must load before the QApplication

    app = QApplication.instance()
    if app is None:
        QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
        app = QApplication([sys.argv[0]])
        from rtcc_console.ui.theme import apply_dark_theme

        apply_dark_theme(app)
    return app


def _close(window: Any) -> None:
    """Stop the console's feeds before the server goes away."""
    live_stop = getattr(getattr(window, "live", None), "stop", None)
    if callable(live_stop):
        live_stop()
    wall_shutdown = getattr(getattr(window, "wall", None), "shutdown", None)
    if callable(wall_shutdown):
        wall_shutdown()
    window.close()
