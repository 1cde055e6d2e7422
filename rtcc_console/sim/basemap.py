"""The demo's simulated basemap: the streets the seed lays addresses along, the city
outline and a few landmarks, as a small vector description the console's map draws on
canvas. It is labelled "simulated basemap" on the map; no agency should navigate by it.

The streets follow ``sim.dallas``'s address grid: one named east-west street per latitude
band and one named north-south street per longitude band (the name an address on that
band carries), with unnamed block streets in between at close zoom.

``rtcc tiles build --from demo --out FILE.json`` writes it; the console reads it with
``RTCC_CONSOLE_BASEMAP=vector RTCC_CONSOLE_BASEMAP_PATH=FILE.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rtcc_console.core.basemap import FORMAT
from rtcc_console.sim import dallas

#: Well-known places, roughly where they are (lat, lon, name).
LANDMARKS: tuple[tuple[float, float, str], ...] = (
    (32.7801, -96.8004, "Downtown"),
    (32.8010, -96.8020, "Uptown"),
    (32.7840, -96.7830, "Deep Ellum"),
    (32.7790, -96.7600, "Fair Park"),
    (32.8130, -96.8170, "Oak Lawn"),
    (32.7490, -96.8290, "Bishop Arts"),
    (32.8470, -96.8510, "Love Field"),
    (32.8680, -96.7730, "NorthPark"),
    (32.8260, -96.7260, "White Rock Lake"),
    (32.7680, -96.8100, "The Cedars"),
    (32.7750, -96.8090, "City Hall"),
    (32.9300, -96.8000, "Far North Dallas"),
    (32.7050, -96.7900, "South Dallas"),
    (32.8700, -96.7000, "Lake Highlands"),
)


def demo_basemap() -> dict[str, Any]:
    """The vector basemap of the demo city (JSON-ready)."""
    return {
        "format": FORMAT,
        "label": "Simulated basemap (demo)",
        "outline": [[p.lat, p.lon] for p in dallas.OUTLINE],
        "grid": {
            "ew_origin": dallas.EW_ORIGIN,
            "ns_origin": dallas.NS_ORIGIN,
            "band": dallas.BAND_DEG,
            "block": dallas.BLOCK_DEG,
        },
        "ew_names": list(dallas.EAST_WEST_STREETS),
        "ns_names": list(dallas.NORTH_SOUTH_STREETS),
        "landmarks": [[lat, lon, name] for lat, lon, name in LANDMARKS],
    }


def main(argv: list[str]) -> int:
    """``rtcc tiles build --from demo --out FILE.json``."""
    parser = argparse.ArgumentParser(
        prog="rtcc tiles", description="Offline basemaps for the console."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="write a basemap file")
    build.add_argument("--from", dest="source", choices=["demo"], required=True)
    build.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.write_text(json.dumps(demo_basemap()), encoding="utf-8")
    print(
        f"wrote {args.out} (vector basemap: RTCC_CONSOLE_BASEMAP=vector RTCC_CONSOLE_BASEMAP_PATH={args.out})"
    )
    return 0
