"""FieldSharesApi against the real embedded server (uvicorn on loopback, seeded registry):
the officer roster with unit ids, sending a call's cameras (by account and by unit), the
call's shares, ending one, and the server's refusals surfacing as typed errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from rtcc_console.client.api import ApiClient, ApiError, Forbidden
from rtcc_console.client.field_shares import FieldSharesApi
from tests.gui.conftest import PASSWORD, ConsoleServer


@pytest.fixture
def field(tmp_path: Path) -> Iterator[tuple[ConsoleServer, FieldSharesApi]]:
    server = ConsoleServer(tmp_path)
    try:
        for name in ("ofc.kim", "ofc.lee"):
            server.embedded.ensure_user(name, "officer", PASSWORD)
        for name, units in (("ofc.kim", ["1A23", "1A24"]), ("ofc.lee", ["1A23"])):
            r = requests.put(
                f"{server.base}/api/v1/users/{name}/units",
                json={"unit_ids": units, "display_name": name.split(".")[1].title()},
                headers={"Authorization": f"Bearer {server.admin}"},
                timeout=10,
            )
            assert r.status_code == 200, r.text
        api = ApiClient(server.base)
        api.login("ana", PASSWORD)
        yield server, FieldSharesApi(api)
    finally:
        server.stop()


def test_roster_send_list_end(field: tuple[ConsoleServer, FieldSharesApi]) -> None:
    server, fs = field
    roster = fs.officers()
    by_name = {o.username: o for o in roster.officers}
    assert set(by_name) == {"ofc.kim", "ofc.lee"}
    assert by_name["ofc.kim"].unit_ids == ("1A23", "1A24")
    assert by_name["ofc.kim"].label == "Kim (ofc.kim) · 1A23, 1A24"
    assert by_name["ofc.lee"].matches("1a23") and not by_name["ofc.lee"].matches("1A24")
    assert roster.default_duration_s == 7200
    call = server.post_call()
    sent = fs.send(call["id"], units=["1A23"], duration_s=600)  # the server's top live cameras
    assert sorted(s.share.officer for s in sent) == ["ofc.kim", "ofc.lee"]
    assert all(s.link.startswith(server.base + "/field/fld_") for s in sent)
    cams = sent[0].share.camera_ids
    assert 1 <= len(cams) <= 4
    assert (sent[0].share.expires_at - sent[0].share.created_at).total_seconds() == 600
    listed = fs.call_shares(call["id"])
    assert sorted(s.id for s in listed) == sorted(s.share.id for s in sent)
    now = datetime.now(UTC)
    assert all(s.active(now) for s in listed)
    ended = fs.end(call["id"], listed[0].id)
    assert ended.ended_at is not None and ended.end_reason == "ended by ana"
    after = {s.id: s for s in fs.call_shares(call["id"])}
    assert not after[listed[0].id].active(datetime.now(UTC))
    assert after[listed[1].id].active(datetime.now(UTC))
    # the link opens the officer's page once (the server's single-use rule, seen end to end)
    device = requests.Session()
    still = next(s for s in sent if s.share.id == listed[1].id)
    first = device.get(still.link, allow_redirects=False, timeout=10)
    assert first.status_code == 303
    assert device.get(still.link, allow_redirects=False, timeout=10).status_code == 410


def test_refusals_are_typed_errors(field: tuple[ConsoleServer, FieldSharesApi]) -> None:
    server, fs = field
    call = server.post_call()
    with pytest.raises(ApiError) as unit:
        fs.send(call["id"], units=["9Z99"], camera_ids=None)
    assert unit.value.status == 422 and "9Z99" in str(unit.value)
    with pytest.raises(ApiError) as nobody:
        fs.send(call["id"], officers=["ana"])
    assert nobody.value.status == 422
    with pytest.raises(ApiError) as gone:
        fs.send("call-nope", officers=["ofc.kim"], camera_ids=["cam-000001"])
    assert gone.value.status == 404
    with pytest.raises(ApiError) as missing:
        fs.end(call["id"], "fs-nope")
    assert missing.value.status == 404
    assert fs.call_shares(call["id"]) == []
    officer = ApiClient(server.base)
    officer.login("ofc.kim", PASSWORD)
    with pytest.raises(Forbidden):
        FieldSharesApi(officer).officers()
