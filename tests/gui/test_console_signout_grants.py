"""Sign-out closes every live view and ends its grant while the session is still valid,
then revokes the session: every grant of the session has an end time, the audit shows
each live view ended by the viewer (not swept up later), and the token is revoked after."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from sqlalchemy import select

from rtcc_console.store.schema import AuditEventRow, AuthTokenRow, LiveGrantRow
from tests.gui.conftest import ConsoleServer


def _live_camera_ids(server: ConsoleServer, n: int) -> list[str]:
    r = requests.get(
        f"{server.base}/api/v1/cameras",
        params={"tier": "integrated", "sharing_mode": "live_always", "limit": n},
        headers={"Authorization": f"Bearer {server.admin}"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    ids = [c["id"] for c in r.json()["items"]]
    assert len(ids) == n
    return ids


@pytest.mark.qt_log_ignore("GPUInfo not initialized")  # QtWebEngine (the map) without a GPU
def test_sign_out_ends_every_grant_before_revoking_the_session(
    qtbot: Any, console_server: ConsoleServer, make_console: Any
) -> None:
    window, api = make_console(console_server.base)
    wall = window.wall
    ids = _live_camera_ids(console_server, 3)
    qtbot.waitUntil(lambda: all(window.live.index.get(i) is not None for i in ids), timeout=20000)
    for cid in ids:
        assert wall.open_camera(window.live.index.get(cid), "case 26-004711")
    qtbot.waitUntil(
        lambda: len([f for f in wall.feeds.feeds.values() if f.grant is not None]) == 3,
        timeout=15000,
    )
    grant_ids = {f.grant.id for f in wall.feeds.feeds.values()}
    db = console_server.embedded.state.db
    with db.read() as s:
        jti = s.get(LiveGrantRow, next(iter(grant_ids))).session_jti
        assert {g.session_jti for g in s.scalars(select(LiveGrantRow))} == {jti}

    window.sign_out_action.trigger()
    qtbot.waitUntil(
        lambda: window.session.dialog is not None and window.session.dialog.isVisible(),
        timeout=5000,
    )
    assert api.token is None and not wall.feeds.feeds

    def revoked() -> bool:
        with db.read() as s:
            return s.get(AuthTokenRow, jti).revoked_at is not None

    qtbot.waitUntil(revoked, timeout=10000)
    with db.read() as s:
        token_row = s.get(AuthTokenRow, jti)
        grants = s.scalars(select(LiveGrantRow).where(LiveGrantRow.session_jti == jti)).all()
        assert {g.id for g in grants} == grant_ids
        for g in grants:  # every grant ended, by the viewer, before the session was revoked
            assert g.ended_at is not None and g.ended_at <= token_row.revoked_at
            assert g.end_reason == "viewer signed out"
        ends = s.scalars(select(AuditEventRow).where(AuditEventRow.action == "live.end")).all()
        assert {e.targets["grant"] for e in ends} == grant_ids
        assert all(e.username == "ana" and e.reason == "viewer signed out" for e in ends)
        logout = s.scalars(select(AuditEventRow).where(AuditEventRow.action == "auth.logout")).one()
        assert logout.id > max(e.id for e in ends) and logout.reason == "0 live view(s) ended"
