"""Wires the Evidence tab into the console: the selected call, the event stream, and the
wall's saved clips and snapshots, which enter the vault attached to the call's case.

The main window calls ``attach_evidence`` once and docks ``wiring.tab``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from PySide6.QtCore import QCoreApplication, QObject

from rtcc_console.client.api import ApiClient
from rtcc_console.client.evidence_api import EvidenceApi
from rtcc_console.ui import messages
from rtcc_console.ui.evidence.tab import EvidenceTab
from rtcc_console.ui.tasks import run_in_background, run_on_main

if TYPE_CHECKING:
    from rtcc_console.ui.live_data import LiveData
    from rtcc_console.ui.main_window import MainWindow

log = logging.getLogger(__name__)
FORM_LIMIT = 200 * 1024 * 1024  # below the vault's form limit (256 MiB); larger goes by tus


class WallToVault(QObject):
    """Sends each file the wall saves (clip or snapshot) into the vault, in the case of the
    call selected when it was saved. The local copy stays where the wall wrote it."""

    def __init__(self, tab: EvidenceTab, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tab = tab
        self.sent: list[str] = []  # evidence ids, in order (tests, status)

    def upload(self, path: str, _sha256: str, camera_id: str) -> None:
        case, call_id = self.tab.current_case(), self.tab.call_id
        file = Path(path)
        if case is None:
            messages.warning(
                f"{file.name} was saved locally; select a call to store it in the vault."
            )
            return
        ev = self.tab.evidence

        def send() -> str:
            if file.stat().st_size > FORM_LIMIT:
                evidence_id, _ = ev.tus_upload(
                    file, case_number=case, call_id=call_id, camera_id=camera_id
                )
                return evidence_id
            receipt = ev.form_upload(file, case_number=case, call_id=call_id, camera_id=camera_id)
            return str(receipt.get("evidence_id", ""))

        def sent(evidence_id: str) -> None:
            self.sent.append(evidence_id)
            messages.info(f"{file.name} stored in the vault as {evidence_id} (case {case}).")

        run_in_background(send, on_success=sent, what=f"Storing {file.name} in the vault")


@dataclass
class EvidenceWiring:
    tab: EvidenceTab
    evidence: EvidenceApi
    wall_bridge: WallToVault


def attach_evidence(
    window: MainWindow,
    *,
    api: ApiClient,
    live: LiveData,
    time_zone: str,
    cache_dir: Path,
    wall: Any,
) -> EvidenceWiring:
    """Build the tab and connect it; ``wall`` may be any widget (only a VideoWall feeds it)."""
    try:
        zone: ZoneInfo | None = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
    evidence = EvidenceApi(api, cache_dir / "evidence")
    tab = EvidenceTab(evidence, window, zone=zone)
    bridge = WallToVault(tab, tab)

    def call_selected(call_id: str) -> None:
        tab.show_call(window.call_queue.model.call(call_id))

    def event(event_type: str, data: Any) -> None:
        if event_type.startswith("evidence.") and isinstance(data, dict):
            tab.on_evidence_event(event_type, data)

    window.call_queue.call_selected.connect(call_selected)
    window.sign_out_requested.connect(tab.forget)
    api.add_unauthorized_listener(lambda: run_on_main(tab.forget))
    live.request_event.connect(event)
    from rtcc_console.ui.wall.wall import VideoWall

    if isinstance(wall, VideoWall):
        wall.evidence_saved.connect(bridge.upload)
    app = QCoreApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(tab.forget)  # no evidence copies left after the console
        app.aboutToQuit.connect(tab.shutdown)
    return EvidenceWiring(tab, evidence, bridge)
