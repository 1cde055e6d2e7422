"""`rtcc demo --screenshot DIR`: a screenshot of each panel, and whether it showed anything.

``DemoShots`` waits for the demo's story (``DemoDriver.story_complete``: the request
answered, an owner's clip playing), bounded by ``story_timeout_s``; then brings each panel
to the front of its tab group, waits until its content check passes (or
``panel_timeout_s``), grabs it and writes it to ``out_dir``. The
owner portal is signed in as the demo school in a QtWebEngine view (Chromium, headless like
the rest) and grabbed too. ``finished`` carries ``{panel: PanelResult.as_dict()}``, also
written to ``out_dir/panels.json``. A panel whose check fails is still photographed (the
picture shows what was there) and reported empty; a dock hidden for the signed-in role is
reported and not photographed. The panels and their content checks are in ``demo_panels``.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QImage

from rtcc_console.demo_driver import DemoDriver, image_spread
from rtcc_console.demo_panels import MIN_SPREAD, PANELS, Check, Panel
from rtcc_console.ui.js import js_value

log = logging.getLogger(__name__)
SETTLE_S = 0.6  # after a dock comes to the front: a layout pass and a few frames
MAP_STRIP_PX = 140  # the map's height while a tall panel is photographed
VERTICAL = Qt.Orientation.Vertical


@dataclass(frozen=True, slots=True)
class PortalLogin:
    """Where the owner portal is and whom to sign in as (the demo school)."""

    url: str  # the portal's root, e.g. http://127.0.0.1:PORT/portal/
    email: str
    password: str


@dataclass(slots=True)
class PanelResult:
    panel: str
    file: str | None  # None: not photographed (dock hidden for this role, portal failed)
    populated: bool
    detail: str
    spread: float = 0.0
    populated_at_s: float | None = None  # since t0, when the check first passed

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


PORTAL_FILE = "demo-portal.png"


def save_image(image: QImage, path: Path) -> float:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(path)):
        raise OSError(f"could not write {path}")
    return image_spread(image)


@dataclass(slots=True)
class _Step:
    index: int = -1
    raised_at: float = 0.0
    results: dict[str, PanelResult] = field(default_factory=dict)


class DemoShots(QObject):
    """See the module docstring. ``start()`` begins; ``shoot_now()`` stops waiting."""

    finished = Signal(object)  # {panel: PanelResult.as_dict()}, in panel order

    def __init__(
        self,
        window: Any,
        out_dir: Path,
        *,
        driver: DemoDriver | None = None,
        portal: PortalLogin | None = None,
        story_timeout_s: float = 90.0,
        panel_timeout_s: float = 8.0,
        t0: float | None = None,
    ) -> None:
        super().__init__(window)
        self.window: Any = window
        self.driver = driver
        self.out_dir, self.portal = out_dir, portal
        self.story_timeout_s, self.panel_timeout_s = story_timeout_s, panel_timeout_s
        self.t0 = time.monotonic() if t0 is None else t0
        self.story = "waiting"
        self.map_state: dict[str, Any] = {}
        self.first_ok: dict[str, float] = {}
        self.report: dict[str, dict[str, Any]] = {}
        self._phase = "idle"
        self._step = _Step()
        self._portal_shot: PortalShot | None = None
        self._tall = False
        self._started = 0.0
        if driver is not None:
            driver.story_complete.connect(lambda: self._story_ended("complete"))
            driver.failed.connect(lambda reason: self._story_ended(f"driver failed: {reason}"))
        self._timer = QTimer(self)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._phase, self._started = "waiting", time.monotonic()
        self._timer.start()

    def shoot_now(self) -> None:
        """Stop waiting for the story: shoot whatever is there."""
        if self._phase in ("idle", "waiting"):
            self._story_ended(f"not complete after {time.monotonic() - self.t0:.0f} s")

    def _story_ended(self, how: str) -> None:
        if self._phase not in ("idle", "waiting"):
            return
        self.story = how
        log.info("demo shots: story %s; shooting the panels", how)
        self._phase = "shooting"
        if not self._timer.isActive():
            self._timer.start()

    # -- the loop ------------------------------------------------------------------------
    def _tick(self) -> None:
        self._refresh_map_state()
        if self._phase == "waiting":
            for panel in PANELS:
                if not panel.raise_needed:
                    self._note(panel)
            if time.monotonic() - self._started > self.story_timeout_s:
                self._story_ended(f"timed out after {self.story_timeout_s:.0f} s")
        elif self._phase == "shooting":
            self._shoot_step()

    def _refresh_map_state(self) -> None:
        evaluate = getattr(self.window.map_view, "evaluate", None)
        if callable(evaluate):

            def got(state: Any) -> None:
                if isinstance(state, dict):
                    self.map_state = state

            evaluate("rtcc.state", got)

    def _note(self, panel: Panel) -> Check:
        ok, text = panel.check(self)
        if ok and panel.key not in self.first_ok:
            self.first_ok[panel.key] = time.monotonic() - self.t0
        return ok, text

    def _shoot_step(self) -> None:
        step = self._step
        if step.index >= 0:
            panel = PANELS[step.index]
            waited = time.monotonic() - step.raised_at
            if waited < SETTLE_S:
                return
            ok, _text = self._note(panel)
            if not ok and waited < self.panel_timeout_s:
                return
            self._grab(panel)
        step.index += 1
        while step.index < len(PANELS):
            panel = PANELS[step.index]
            hidden = [k for k in panel.docks if self._dock_hidden(k)]
            if not hidden:
                self._set_tall(panel.tall)
                for key in panel.docks:
                    self.window.docks[key].raise_()
                if panel.prepare is not None:
                    panel.prepare(self.window)
                step.raised_at = time.monotonic()
                return
            role = getattr(self.window.api.user, "role", "?")
            self._record(panel.key, None, False, f"dock {hidden[0]!r} hidden for role {role}")
            step.index += 1
        self._timer.stop()
        self._set_tall(False)
        self._restore_front()
        self._shoot_portal()

    def _set_tall(self, tall: bool) -> None:
        """The map shrunk to a strip (the wall's tab group gets the height), or back."""
        if tall == self._tall:
            return
        self._tall = tall
        w = self.window
        if tall:
            usable = w.height() - w.menuBar().height() - w.statusBar().height()
            w.resizeDocks(
                [w.docks["map"], w.docks["wall"]], [MAP_STRIP_PX, usable - MAP_STRIP_PX], VERTICAL
            )
        else:
            w.size_docks()

    def _dock_hidden(self, key: str) -> bool:
        dock = self.window.docks.get(key)
        return dock is None or not dock.toggleViewAction().isVisible() or dock.isHidden()

    def _grab(self, panel: Panel) -> None:
        ok, text = self._note(panel)
        path = self.out_dir / panel.file
        try:
            spread = save_image(panel.target(self.window).grab().toImage(), path)
        except OSError as exc:
            self._record(panel.key, None, False, f"{text}; {exc}")
            return
        if spread <= MIN_SPREAD:
            ok, text = False, f"{text}; the picture is blank (spread {spread:.1f})"
        self._record(panel.key, str(path), ok, text, spread)

    def _record(self, key: str, file: str | None, ok: bool, text: str, spread: float = 0.0) -> None:
        at = self.first_ok.get(key)
        result = PanelResult(
            key, file, ok, text, round(spread, 1), None if at is None else round(at, 1)
        )
        self._step.results[key] = result
        log.info("demo shots: %s %s: %s", key, "populated" if ok else "EMPTY", text)

    def _restore_front(self) -> None:
        for key in ("cameras", "wall"):
            dock = self.window.docks.get(key)
            if dock is not None:
                dock.raise_()

    def _shoot_portal(self) -> None:
        if self.portal is None:
            self._finish()
            return
        self._phase = "portal"
        shot = PortalShot(self.portal, self.out_dir / PORTAL_FILE, parent=self)
        self._portal_shot = shot
        shot.done.connect(self._portal_done)
        shot.start()

    def _portal_done(self, ok: bool, file: str, text: str, spread: float) -> None:
        if ok:
            self.first_ok.setdefault("portal", time.monotonic() - self.t0)
        self._record("portal", file or None, ok, text, spread)
        self._finish()

    def _finish(self) -> None:
        self._phase = "done"
        self.report = {k: r.as_dict() for k, r in self._step.results.items()}
        summary = {"story": self.story, "panels": self.report}
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            (self.out_dir / "panels.json").write_text(
                json.dumps(summary, indent=2) + "\n", encoding="utf-8"
            )
        except OSError as exc:
            log.warning("demo shots: panels.json not written: %s", exc)
        self.finished.emit(self.report)

    def empty_panels(self) -> list[str]:
        return [k for k, r in self.report.items() if not r["populated"]]


_SIGN_IN_JS = (
    "(function (email, password) {"
    " var f = document.querySelector('form[action=\"/portal/sign-in\"]');"
    " if (!f) return false;"
    " f.querySelector('[name=email]').value = email;"
    " f.querySelector('[name=password]').value = password;"
    " f.submit(); return true; })"
)
_CARDS_JS = "document.querySelectorAll('li.card').length"


class PortalShot(QObject):
    """Sign in to the owner portal in a web view, grab "My cameras", report its cards."""

    done = Signal(bool, str, str, float)  # populated, file ('' if none), detail, spread

    def __init__(
        self,
        login: PortalLogin,
        path: Path,
        *,
        timeout_s: float = 30.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.login, self.path = login, path
        self.view: Any = None
        self._finished = False
        self._signed_in = False
        self._deadline = QTimer(self)
        self._deadline.setSingleShot(True)
        self._deadline.setInterval(int(timeout_s * 1000))
        self._deadline.timeout.connect(
            lambda: self._end(False, "", "the portal did not load in time", 0.0)
        )

    def start(self) -> None:
        from PySide6.QtWebEngineWidgets import QWebEngineView

        view = QWebEngineView()
        view.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)  # rendered, not shown
        view.resize(1280, 900)
        view.loadFinished.connect(self._loaded)
        view.show()
        self.view = view
        self._deadline.start()
        view.load(QUrl(self.login.url.rstrip("/") + "/sign-in"))

    def _loaded(self, ok: bool) -> None:
        if self._finished or self.view is None:
            return
        path = self.view.url().path()
        if not ok:
            self._end(False, "", f"the portal page {path} did not load", 0.0)
        elif path.endswith("/sign-in") and not self._signed_in:
            self._signed_in = True
            script = (
                f"({_SIGN_IN_JS})({js_value(self.login.email)}, {js_value(self.login.password)})"
            )
            self.view.page().runJavaScript(script, 0, lambda _r: None)
        elif path.endswith("/cameras"):
            QTimer.singleShot(500, self._count_cards)
        else:
            self._end(False, "", f"signed in, but the portal showed {path}", 0.0)

    def _count_cards(self) -> None:
        if self._finished or self.view is None:
            return
        self.view.page().runJavaScript(_CARDS_JS, 0, self._counted)

    def _counted(self, cards: Any) -> None:
        if self._finished or self.view is None:
            return
        n = int(cards) if isinstance(cards, (int, float)) else 0
        try:
            spread = save_image(self.view.grab().toImage(), self.path)
        except OSError as exc:
            self._end(False, "", str(exc), 0.0)
            return
        ok = n > 0 and spread > MIN_SPREAD
        self._end(
            ok, str(self.path), f"signed in as {self.login.email}: {n} cameras listed", spread
        )

    def _end(self, ok: bool, file: str, text: str, spread: float) -> None:
        if self._finished:
            return
        self._finished = True
        self._deadline.stop()
        view, self.view = self.view, None
        if view is not None:
            view.close()
            view.deleteLater()
        self.done.emit(ok, file, text, spread)
