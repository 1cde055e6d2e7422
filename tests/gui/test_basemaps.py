"""Basemaps without internet: an MBTiles file served on loopback, and the demo's vector
street layer drawn in the page (with street names and landmarks, labelled simulated)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QColor, QImage

from rtcc_console.client.mbtiles import MBTilesServer
from rtcc_console.core.basemap import FORMAT, validate
from rtcc_console.sim.basemap import demo_basemap
from rtcc_console.ui.map_page import build_map_html
from tests.gui.map_support import call, evaluate, wait_state

pytestmark = pytest.mark.gui


def png(colour: str) -> bytes:
    image = QImage(256, 256, QImage.Format.Format_RGB32)
    image.fill(QColor(colour))
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "PNG")
    return bytes(data.data())


def make_mbtiles(path: Path, tiles: dict[tuple[int, int, int], bytes]) -> Path:
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE metadata (name TEXT, value TEXT);"
        "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);"
    )
    db.executemany(
        "INSERT INTO metadata VALUES (?, ?)",
        [("name", "test city"), ("format", "png"), ("attribution", "Test tiles &copy; us")],
    )
    for (z, x, y), data in tiles.items():  # stored in TMS rows
        db.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, (2**z - 1) - y, data))
    db.commit()
    db.close()
    return path


def test_mbtiles_served_on_loopback_in_xyz_order(tmp_path: Path) -> None:
    red, blue = png("#ff0000"), png("#0000ff")
    server = MBTilesServer(make_mbtiles(tmp_path / "t.mbtiles", {(3, 1, 2): red, (3, 1, 5): blue}))
    template = server.start()
    try:
        assert (
            template.startswith("http://127.0.0.1:")
            and server.attribution == "Test tiles &copy; us"
        )
        with urllib.request.urlopen(template.format(z=3, x=1, y=2)) as r:
            assert r.read() == red and r.headers["Content-Type"] == "image/png"
        with urllib.request.urlopen(template.format(z=3, x=1, y=5)) as r:
            assert r.read() == blue
        for bad in (
            template.format(z=3, x=1, y=3),
            template.split("{z}")[0] + "../etc/passwd",
            template.format(z=3, x=99, y=2),
        ):
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(bad)
            assert err.value.code == 404
    finally:
        server.stop()


@pytest.fixture
def qapp_view(qtbot: Any) -> Iterator[Any]:
    views: list[Any] = []

    def make(**kwargs: Any) -> Any:
        from rtcc_console.ui.map_view import MapView

        view = MapView(**kwargs)
        qtbot.addWidget(view)
        view.resize(900, 700)
        view.show()
        views.append(view)
        return view

    yield make


def test_the_map_loads_mbtiles_tiles(tmp_path: Path, qtbot: Any, qapp_view: Any) -> None:
    import math

    from rtcc_console.ui.map_page import DALLAS

    def xy(z: int) -> tuple[int, int]:  # the tile under the page's start centre
        lat, lon = math.radians(DALLAS[0]), DALLAS[1]
        return int((lon + 180) / 360 * 2**z), int(
            (1 - math.asinh(math.tan(lat)) / math.pi) / 2 * 2**z
        )

    tiles = {
        (z, xy(z)[0] + dx, xy(z)[1] + dy): png("#334455")
        for z in (11, 12, 13)
        for dx in range(-3, 4)
        for dy in range(-3, 4)
    }
    server = MBTilesServer(make_mbtiles(tmp_path / "city.mbtiles", tiles))
    view = qapp_view(tile_url=server.start(), tile_attribution=server.attribution)
    try:
        with qtbot.waitSignal(view.page_ready, timeout=30_000):
            pass
        qtbot.waitUntil(lambda: evaluate(qtbot, view, "rtcc.tileLoadCount") >= 4, timeout=20_000)
        assert not evaluate(qtbot, view, "rtcc.state")["noticeShown"]
    finally:
        server.stop()


def test_vector_basemap_draws_streets_and_landmarks_offline(qtbot: Any, qapp_view: Any) -> None:
    html = build_map_html(tile_url="", tile_attribution="")
    assert "tile.openstreetmap" not in html and "{z}" not in html  # nothing remote at all
    view = qapp_view(tile_url="", tile_attribution="")
    view.set_vector_basemap(demo_basemap())
    with qtbot.waitSignal(view.page_ready, timeout=30_000):
        pass
    view.set_calls([call("c1", 32.7803, -96.7996)])
    view.select_call("c1", center=True)
    s = wait_state(qtbot, view, lambda s: s["vectorDraws"] > 0 and s["zoom"] >= 15)
    assert s["vectorLabels"] > 0 and "Simulated basemap" in s["vectorLabel"]
    assert not s["noticeShown"] and s["tileErrors"] == 0
    assert "Simulated basemap" in evaluate(qtbot, view, "rtcc.attributionText")


def test_demo_basemap_follows_the_seed_grid_and_validates(tmp_path: Path) -> None:
    doc = demo_basemap()
    assert validate(doc) is doc and doc["format"] == FORMAT
    from rtcc_console.sim import dallas

    # the street an address carries is the street drawn for that band
    lat = 32.7801
    band = int((lat - doc["grid"]["ew_origin"]) // doc["grid"]["band"])
    import numpy as np

    rng = np.random.default_rng(1)
    addresses = dallas.addresses(rng, np.array([lat] * 50), np.array([-96.8] * 50))
    assert any(a.endswith(doc["ew_names"][band % len(doc["ew_names"])]) for a in addresses)
    for bad in (
        {},
        {**doc, "format": "x"},
        {**doc, "outline": [[0, 0]]},
        {**doc, "grid": {"band": "x"}},
        {**doc, "outline": [[95, 0]] * 3},
        {**doc, "ew_names": []},
    ):
        with pytest.raises(ValueError):
            validate(bad)
    out = tmp_path / "b.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "rtcc_console.cli",
            "tiles",
            "build",
            "--from",
            "demo",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert validate(json.loads(out.read_text())) == doc
