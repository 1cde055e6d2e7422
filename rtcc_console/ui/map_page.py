"""Builds the map page once: folium's Leaflet map, pointed at local assets only.

folium's default page pulls Leaflet, jQuery and Bootstrap from CDNs; here its lists are
replaced by Leaflet from the installed ``django-js-lib-leaflet`` package and the console's
own files under ``rtcc_console/resources/map``. The only remote URL left in the page is
the configurable tile URL, and the map stays useful when no tile loads. Everything else
(cameras, calls, selection) is sent in place afterwards (``ui.map_view``).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any

import folium
from branca.element import MacroElement
from jinja2 import Template

from rtcc_console.ui.js import js_value

DALLAS = (32.7767, -96.7970)


def leaflet_dir() -> Path:
    """Leaflet 1.9.4 as shipped inside the django-js-lib-leaflet wheel."""
    import js_lib_leaflet

    return Path(js_lib_leaflet.__file__).parent / "static" / "js_lib_leaflet"


def map_resources_dir() -> Path:
    return Path(str(resources.files("rtcc_console") / "resources" / "map"))


class _Attach(MacroElement):
    """Hands folium's map object to ``rtcc.attach`` after folium created it."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "rtcc.attach({{ this._parent.get_name() }}, {{ this.config_js }});"
        "{% endmacro %}"
    )

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca (folium) is not annotated
        self._name = "RtccAttach"
        self.config_js = js_value(config)


def build_map_html(
    *,
    tile_url: str,
    tile_attribution: str,
    center: tuple[float, float] = DALLAS,
    zoom: int = 12,
    asset_base: str = "",
) -> str:
    """The page's HTML. ``asset_base`` prefixes local asset file names (a directory URL)."""
    fmap = folium.Map(
        location=list(center), zoom_start=zoom, tiles=None, prefer_canvas=True, control_scale=False
    )
    fmap.default_js = [
        ("leaflet", f"{asset_base}leaflet.js"),
        ("qwebchannel", f"{asset_base}qwebchannel.js"),
        ("rtcc_map", f"{asset_base}rtcc_map.js"),
        ("leaflet_geoman", f"{asset_base}leaflet-geoman.min.js"),  # drawing tools (vendored)
        ("rtcc_draw", f"{asset_base}rtcc_draw.js"),
    ]
    fmap.default_css = [
        ("leaflet_css", f"{asset_base}leaflet.css"),
        ("rtcc_css", f"{asset_base}rtcc_map.css"),
        ("leaflet_geoman_css", f"{asset_base}leaflet-geoman.css"),
        ("rtcc_draw_css", f"{asset_base}rtcc_draw.css"),
    ]
    if tile_url:  # none with a vector basemap: the page then loads nothing remote at all
        folium.TileLayer(tiles=tile_url, attr=tile_attribution, max_zoom=19, name="basemap").add_to(
            fmap
        )
    _Attach({"tileUrl": tile_url}).add_to(fmap)
    html: str = fmap.get_root().render()
    return html


def write_map_page(
    directory: Path, *, tile_url: str, tile_attribution: str, qwebchannel_js: bytes
) -> Path:
    """Write the page and copies of its assets into ``directory``; return the page path.

    Copies keep the page self-contained (relative URLs): Leaflet's CSS finds its images,
    and nothing depends on where the virtualenv lives.
    """
    directory.mkdir(parents=True, exist_ok=True)
    src = leaflet_dir()
    shutil.copy2(src / "leaflet.js", directory / "leaflet.js")
    shutil.copy2(src / "leaflet.css", directory / "leaflet.css")
    shutil.copytree(src / "images", directory / "images", dirs_exist_ok=True)
    for name in ("rtcc_map.js", "rtcc_map.css", "rtcc_draw.js", "rtcc_draw.css"):
        shutil.copy2(map_resources_dir() / name, directory / name)
    for name in (
        "leaflet-geoman.min.js",
        "leaflet-geoman.css",
    ):  # see vendor/leaflet-geoman/README.md
        shutil.copy2(map_resources_dir() / "vendor" / "leaflet-geoman" / name, directory / name)
    (directory / "qwebchannel.js").write_bytes(qwebchannel_js)
    page = directory / "map.html"
    page.write_text(
        build_map_html(tile_url=tile_url, tile_attribution=tile_attribution), encoding="utf-8"
    )
    return page


PAGE_DIR_PREFIX = "rtcc-map-"
_OWNER_FILE = "owner.pid"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_page_dirs(parent: Path | None = None) -> list[Path]:
    """Remove map folders left by consoles that died without cleaning up.

    A folder is stale when the process named in its ``owner.pid`` is gone, or when it has
    no such file (written by an older version) and is more than a day old.
    """
    parent = Path(parent or tempfile.gettempdir())
    removed: list[Path] = []
    for path in parent.glob(PAGE_DIR_PREFIX + "*"):
        if not path.is_dir():
            continue
        owner = path / _OWNER_FILE
        try:
            stale = not _pid_alive(int(owner.read_text().strip()))
        except (OSError, ValueError):
            try:
                stale = time.time() - path.stat().st_mtime > 86_400
            except OSError:
                continue
        if stale:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def new_page_dir(parent: Path | None = None) -> Path:
    """A private folder for this console's map page, removed when the process exits."""
    remove_stale_page_dirs(parent)
    path = Path(tempfile.mkdtemp(prefix=PAGE_DIR_PREFIX, dir=parent))
    (path / _OWNER_FILE).write_text(str(os.getpid()))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path
