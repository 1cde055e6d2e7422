"""Composition root of the analyst console and ``rtcc console``.

``build_console(settings, api, user=..., settings_file=...)`` wires cache, live data, map,
wall and main window, and returns the window (not shown). ``main(argv)`` is the command:
``rtcc console --server URL [--user NAME --password-stdin] [--screenshot FILE]
[--exit-after SECONDS] [--settings-file INI]``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rtcc_console.client.api import ApiClient, SessionUser
from rtcc_console.client.registry_cache import RegistryCache, cache_path_for
from rtcc_console.config import ConsoleSettings, config_dir

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from rtcc_console.ui.main_window import MainWindow
    from rtcc_console.ui.map_view import MapView
    from rtcc_console.ui.seams import ConsoleMap, ConsoleWall

log = logging.getLogger(__name__)


def prepare_environment() -> None:
    """Offscreen without a display; QtWebEngine's sandbox cannot run as root."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
        if "--no-sandbox" not in flags:
            os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = f"{flags} --no-sandbox".strip()


def build_console(
    settings: ConsoleSettings,
    api: ApiClient,
    *,
    user: SessionUser | None = None,
    settings_file: Path | None = None,
    idle_lock_ms: int | None = None,
    map_view: ConsoleMap | None = None,
    wall: ConsoleWall | None = None,
) -> MainWindow:
    """Build the main window (hidden). With ``user`` (already signed in through ``api``)
    the live feed starts at once; without, the window waits behind its overlay until
    ``window.session.sign_in()`` succeeds. Needs a QApplication."""
    from PySide6.QtWidgets import QApplication

    from rtcc_console.ui import gc_guard, messages, tasks
    from rtcc_console.ui.live_data import LiveData
    from rtcc_console.ui.main_window import MainWindow
    from rtcc_console.ui.session import ConsoleSession
    from rtcc_console.ui.theme import apply_dark_theme

    tasks.install()
    gc_guard.install()  # the cycle collector runs on the GUI thread only
    messages.install_excepthooks()
    app = QApplication.instance()
    if isinstance(app, QApplication) and not app.styleSheet():
        apply_dark_theme(app)
    cache = RegistryCache(cache_path_for(Path(settings.cache_dir), api.base_url))
    live = LiveData(api, cache)
    if map_view is None:
        map_view = basemap_map_view(settings)
    if wall is None:
        from rtcc_console.client.live_view import ServerGrantService
        from rtcc_console.ui.wall.wall import VideoWall

        name = (user or api.user or SessionUser("analyst", "analyst")).username
        wall = VideoWall(ServerGrantService(api), user=name)
    window = MainWindow(
        settings,
        api,
        live,
        map_view=map_view,
        wall=wall,
        settings_file=settings_file or config_dir() / "console.ini",
        idle_lock_ms=idle_lock_ms,
    )
    live.setParent(window)
    window.selection.wanted_call_id = window.restore_layout()
    window.session = ConsoleSession(window, api)
    if user is not None or api.user is not None:
        window.show_data()
    else:
        window.hide_data()
    return window


def basemap_map_view(settings: ConsoleSettings) -> MapView:
    """The map with the basemap the settings choose: online tiles, an MBTiles file served on
    loopback (stopped when the application quits), or a vector basemap drawn in the page.
    A basemap file that cannot be read leaves the map without streets and says why."""
    import json

    from PySide6.QtWidgets import QApplication

    from rtcc_console.core.basemap import validate
    from rtcc_console.ui import messages
    from rtcc_console.ui.map_view import MapView

    if settings.basemap == "online":
        return MapView(tile_url=settings.tile_url, tile_attribution=settings.tile_attribution)
    path = settings.basemap_path
    try:
        if path is None:
            raise ValueError(
                f"basemap {settings.basemap!r} needs basemap_path (RTCC_CONSOLE_BASEMAP_PATH)"
            )
        if settings.basemap == "mbtiles":
            from rtcc_console.client.mbtiles import MBTilesServer

            server = MBTilesServer(path)
            url = server.start()
            app = QApplication.instance()
            if app is not None:
                app.aboutToQuit.connect(server.stop)
            return MapView(tile_url=url, tile_attribution=server.attribution)
        doc = validate(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:  # json.JSONDecodeError and sqlite errors included
        messages.error(f"Basemap {settings.basemap} from {path}: {exc}; the map shows no streets.")
        return MapView(tile_url="", tile_attribution="")
    view = MapView(tile_url="", tile_attribution="")
    view.set_vector_basemap(doc)
    return view


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="rtcc console", description="RTCC analyst console")
    parser.add_argument(
        "--server", required=True, help="server base URL, e.g. http://127.0.0.1:8750"
    )
    parser.add_argument("--user", help="sign in directly as this user (with --password-stdin)")
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    parser.add_argument("--screenshot", type=Path, help="grab the window to this PNG, then exit")
    parser.add_argument("--exit-after", type=float, help="quit after this many seconds")
    parser.add_argument("--settings-file", type=Path, help="layout ini file (default: config dir)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """``rtcc console``: sign-in dialog (or direct sign-in), then the main window."""
    args = _parse(list(sys.argv[1:] if argv is None else argv))
    prepare_environment()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from PySide6.QtCore import QCoreApplication, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    import rtcc_console.ui.map_view  # noqa: F401 - QtWebEngine must load before the QApplication
    from rtcc_console.ui.theme import apply_dark_theme

    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    apply_dark_theme(app)  # type: ignore[arg-type]
    from rtcc_console.ui import tasks

    app.aboutToQuit.connect(tasks.shutdown)
    settings = ConsoleSettings(server_url=args.server)
    api = ApiClient(settings.server_url)
    user: SessionUser | None = None
    if args.user and args.password_stdin:
        try:
            user = api.login(args.user, sys.stdin.readline().rstrip("\n"))
        except Exception as exc:  # noqa: BLE001 - reported, then the dialog takes over
            log.error("direct sign-in failed: %s", exc)
    if user is None:
        from rtcc_console.ui.sign_in import SignInDialog

        dialog = SignInDialog(api, username=args.user or "")
        if args.exit_after is not None:
            delay_ms = int(args.exit_after * 1000)
            if args.screenshot is not None:  # not signed in: the picture is the dialog
                QTimer.singleShot(max(0, delay_ms - 300), lambda: _grab(dialog, args.screenshot))
            QTimer.singleShot(delay_ms, dialog.reject)
        if dialog.exec() != SignInDialog.DialogCode.Accepted:
            return 1  # the wall and its presets belong to a user: build only once signed in
        user = api.user
    window = build_console(settings, api, user=user, settings_file=args.settings_file)
    window.show()
    if args.screenshot is not None:
        delay_ms = int((args.exit_after or 5.0) * 1000)
        QTimer.singleShot(max(0, delay_ms - 300), lambda: _grab(window, args.screenshot))
        QTimer.singleShot(delay_ms, app.quit)
    elif args.exit_after is not None:
        QTimer.singleShot(int(args.exit_after * 1000), app.quit)
    code = app.exec()
    window.close()
    return int(code)


def _grab(window: QWidget, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if window.grab().save(str(path)):
        log.info("screenshot written to %s", path)
    else:
        log.error("could not write the screenshot to %s", path)
