"""Low-latency HLS of the officer's page (issue 16): the repackager cuts the camera's own
H.264 packets into parts no longer than PART-TARGET and segments made of them, each
segment stamped with the camera's capture time; a blocking playlist reload
(_HLS_msn/_HLS_part, RFC 8216bis) waits for the part it names; the routes check every
part request like a segment request and refuse malformed reloads with a 400."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rtcc_console.core.models import Role
from rtcc_console.media.wallclock import h264_sei_nal
from rtcc_console.server.field_hls import Repackager, packet_wallclock
from tests.server.conftest import API, add_user, camera_body, simple_call
from tests.server.test_field_shares import open_page, share

PART_RE = re.compile(
    r'#EXT-X-PART:DURATION=([0-9.]+),URI="part-(\d+)\.(\d+)\.ts"(,INDEPENDENT=YES)?'
)


@pytest.fixture(scope="module")
def sim() -> Iterator[Any]:
    from rtcc_console.sim.cameras import SimCameraServer

    server = SimCameraServer(2, fps=15, size=(320, 180))
    server.start()
    yield server
    server.stop()


def _parts(text: str) -> list[tuple[float, int, int, bool]]:
    return [(float(d), int(s), int(i), bool(ind)) for d, s, i, ind in PART_RE.findall(text)]


def test_stamp_is_read_from_the_annex_b_sei() -> None:
    assert packet_wallclock(h264_sei_nal(1764450000.125) + b"\x00\x00\x00\x01\x65abc") == (
        pytest.approx(1764450000.125)
    )
    assert packet_wallclock(b"\x00\x00\x00\x01\x65no stamp here") is None


def test_parts_segments_stamps_and_blocking_reload(sim: Any) -> None:
    import av

    rep = Repackager("cam-t", sim.url(0, "ts"), segment_s=1.0, part_s=0.5, idle_s=30)
    try:
        text = rep.playlist(wait_s=15)
        assert text is not None
        assert "#EXT-X-PART-INF:PART-TARGET=0.500" in text
        assert "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.500" in text
        parts = _parts(text)
        assert parts, text
        assert all(d <= 0.5 + 1e-3 for d, *_ in parts)  # never longer than PART-TARGET
        assert all(ind for _, _, i, ind in parts if i == 0)  # a segment starts on a keyframe
        # each segment is its parts, and carries the camera's capture time
        complete = [int(n) for n in re.findall(r"^seg-(\d+)\.ts$", text, re.M)]
        seq = complete[-1]
        seg = rep.segment(seq)
        assert seg is not None
        own = [rep.part(seq, i) for i in range(50)]
        joined = b"".join(p for p in own if p is not None)
        assert seg == joined
        with av.open(io.BytesIO(seg), "r") as ts:
            assert ts.streams.video[0].codec_context.name == "h264"  # not re-encoded
            assert len(list(ts.demux(video=0))) >= 5
        stamps = re.findall(r"#EXT-X-PROGRAM-DATE-TIME:(\S+)", text)
        newest = datetime.fromisoformat(stamps[-1].replace("Z", "+00:00")).timestamp()
        assert abs(time.time() - newest) < 10  # the simulator's stamp: wall-clock time
        # blocking reload: the answer waits for the next part, then lists it
        _, last_seq, last_index, _ = parts[-1]
        t0 = time.monotonic()
        held = rep.playlist(msn=last_seq, part=last_index + 1, wait_s=6)
        waited = time.monotonic() - t0
        assert held is not None
        after = _parts(held)
        assert (last_seq, last_index + 1) in {(s, i) for _, s, i, _ in after} or any(
            s == last_seq + 1 and i == 0 for _, s, i, _ in after
        )  # the next part, or part 0 of the next segment when that one had ended
        assert 0.0 < waited < 3.0
        newest_seq = max(s for _, s, _, _ in after)
        assert rep.too_far(newest_seq + 5) and not rep.too_far(newest_seq + 1)
    finally:
        rep.stop()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_part_routes_are_checked_and_bad_reloads_refused(
    client: TestClient, app: Any, admin: dict[str, str], analyst: dict[str, str], sim: Any
) -> None:
    add_user(app, "ofc.kim", Role.OFFICER)
    for cid, url in (("cam-v", sim.url(0, "ts")), ("cam-w", sim.url(1, "ts"))):
        r = client.post(f"{API}/cameras", headers=admin, json=camera_body(id=cid, stream_url=url))
        assert r.status_code == 201
    call = client.post(f"{API}/calls", headers=analyst, json=simple_call()).json()["call"]["id"]
    [made] = share(client, analyst, call, officers=["ofc.kim"], camera_ids=["cam-v"]).json()
    device, page = open_page(app, made["link"])
    pl = device.get(f"{page}/cameras/cam-v/index.m3u8")
    assert pl.status_code == 200, pl.text
    _, seq, index, _ = _parts(pl.text)[-1]
    part = device.get(f"{page}/cameras/cam-v/part-{seq}.{index}.ts")
    assert part.status_code == 200 and part.content[:1] == b"G"
    assert part.headers["content-type"] == "video/mp2t"
    held = device.get(f"{page}/cameras/cam-v/index.m3u8?_HLS_msn={seq}&_HLS_part={index + 1}")
    assert held.status_code == 200 and "#EXT-X-PART" in held.text
    # malformed or impossible reloads: 400/422, never a 500
    base = f"{page}/cameras/cam-v/index.m3u8"
    assert device.get(f"{base}?_HLS_part=1").status_code == 400
    assert device.get(f"{base}?_HLS_msn={seq + 50}&_HLS_part=0").status_code == 400
    assert device.get(f"{base}?_HLS_msn=-1").status_code == 422
    assert device.get(f"{base}?_HLS_msn=abc").status_code == 422
    assert device.get(f"{base}?_HLS_msn=99999999999999999999").status_code == 422
    # a part guessed for another camera, one that does not exist, or no session: refused
    assert device.get(f"{page}/cameras/cam-w/part-{seq}.{index}.ts").status_code == 404
    assert device.get(f"{page}/cameras/cam-v/part-{seq}.999.ts").status_code == 404
    assert device.get(f"{page}/cameras/cam-v/part-x.1.ts").status_code == 404
    assert TestClient(app).get(f"{page}/cameras/cam-v/part-{seq}.{index}.ts").status_code == 403
    # revoked: the next part request is refused
    r = client.post(f"{API}/cameras/cam-v/revoke", headers=admin, json={"reason": "owner"})
    assert r.status_code == 200
    assert device.get(f"{page}/cameras/cam-v/part-{seq}.{index}.ts").status_code == 403
    app.state.rtcc.extras["field_hls"].stop_all()
