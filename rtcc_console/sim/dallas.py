"""Demo geography of Dallas, TX: a rough city-limits outline, hubs, street names.

Hand-simplified from the shape of the city limits (about 20 vertices): good enough for
demo data that lands in Dallas rather than in Irving, Mesquite or a bounding-box corner,
and nothing an agency should use for jurisdiction decisions. Points are (lat, lon).

Street names are real Dallas streets; addresses built from them follow a simple grid
(east-west streets by latitude band, north-south streets by longitude band, 100 house
numbers per block) and are plausible, not geocoded.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from rtcc_console.core.geo import points_in_polygon_arrays
from rtcc_console.core.models import GeoPoint

FloatArray = npt.NDArray[np.float64]

DOWNTOWN = GeoPoint(32.7801, -96.8004)  # Main St & Akard St

#: Rough city limits, clockwise from the north-west (Carrollton side).
OUTLINE: tuple[GeoPoint, ...] = tuple(
    GeoPoint(lat, lon)
    for lat, lon in (
        (32.990, -96.905),
        (33.020, -96.845),
        (33.018, -96.760),
        (32.990, -96.728),
        (32.935, -96.700),
        (32.920, -96.615),
        (32.885, -96.560),
        (32.822, -96.552),
        (32.782, -96.600),
        (32.722, -96.622),
        (32.662, -96.662),
        (32.622, -96.728),
        (32.620, -96.850),
        (32.648, -96.930),
        (32.700, -96.992),
        (32.770, -97.000),
        (32.830, -96.962),
        (32.870, -96.932),
        (32.930, -96.922),
    )
)

#: Neighbourhood centres where cameras cluster: (lat, lon, weight, spread in metres).
HUBS: tuple[tuple[float, float, float, float], ...] = (
    (32.7801, -96.8004, 0.30, 1400.0),  # Downtown
    (32.8010, -96.8020, 0.12, 1200.0),  # Uptown
    (32.7840, -96.7830, 0.08, 700.0),  # Deep Ellum
    (32.8130, -96.8170, 0.07, 1500.0),  # Oak Lawn
    (32.7490, -96.8290, 0.08, 1100.0),  # Bishop Arts / Oak Cliff
    (32.8680, -96.7730, 0.08, 1500.0),  # NorthPark / Lovers Ln
    (32.8140, -96.7700, 0.08, 1300.0),  # Lower Greenville / M Streets
    (32.9300, -96.8000, 0.08, 2500.0),  # Far North Dallas
    (32.7050, -96.7900, 0.06, 2500.0),  # South Dallas / Cedar Crest
    (32.8700, -96.7000, 0.05, 2000.0),  # Lake Highlands
)

EAST_WEST_STREETS: tuple[str, ...] = (
    "Camp Wisdom Rd",
    "Wheatland Rd",
    "Kiest Blvd",
    "Ledbetter Dr",
    "Illinois Ave",
    "Saner Ave",
    "Jefferson Blvd",
    "Davis St",
    "Colorado Blvd",
    "Commerce St",
    "Main St",
    "Elm St",
    "Pacific Ave",
    "Ross Ave",
    "San Jacinto St",
    "Live Oak St",
    "Gaston Ave",
    "Swiss Ave",
    "Columbia Ave",
    "Mockingbird Ln",
    "Lovers Ln",
    "University Blvd",
    "Northwest Hwy",
    "Park Ln",
    "Walnut Hill Ln",
    "Royal Ln",
    "Forest Ln",
    "LBJ Fwy Service Rd",
    "Spring Valley Rd",
    "Alpha Rd",
    "Belt Line Rd",
    "Arapaho Rd",
    "Frankford Rd",
    "Trinity Mills Rd",
    "Scyene Rd",
    "Military Pkwy",
    "Samuell Blvd",
    "Lake June Rd",
    "Bruton Rd",
    "Elam Rd",
)

NORTH_SOUTH_STREETS: tuple[str, ...] = (
    "Cockrell Hill Rd",
    "Westmoreland Rd",
    "Hampton Rd",
    "Polk St",
    "Zang Blvd",
    "Beckley Ave",
    "Marsalis Ave",
    "Lancaster Rd",
    "Riverfront Blvd",
    "Harry Hines Blvd",
    "Lamar St",
    "Akard St",
    "Ervay St",
    "Harwood St",
    "Pearl St",
    "Good Latimer Expy",
    "Malcolm X Blvd",
    "Haskell Ave",
    "Peak St",
    "Carroll Ave",
    "Fitzhugh Ave",
    "Henderson Ave",
    "Greenville Ave",
    "Skillman St",
    "Abrams Rd",
    "Audelia Rd",
    "Plano Rd",
    "Jupiter Rd",
    "Buckner Blvd",
    "St Augustine Dr",
    "Inwood Rd",
    "Lemmon Ave",
    "McKinney Ave",
    "Cedar Springs Rd",
    "Oak Lawn Ave",
    "Maple Ave",
    "Preston Rd",
    "Hillcrest Rd",
    "Coit Rd",
    "Marsh Ln",
    "Midway Rd",
    "Webb Chapel Rd",
    "Montfort Dr",
    "Ferguson Rd",
    "Garland Rd",
    "Second Ave",
    "Dolphin Rd",
    "Prairie Creek Rd",
)

BLOCK_DEG = 0.0011  # about 1/16 mile: one 100-block
BAND_DEG = 0.0105  # latitude/longitude band served by one street name
EW_ORIGIN = 32.60  # latitude where the first east-west band starts
NS_ORIGIN = -97.05  # longitude where the first north-south band starts
_BLOCK_DEG, _BAND_DEG = BLOCK_DEG, BAND_DEG


def bounds() -> tuple[float, float, float, float]:
    """(min_lat, min_lon, max_lat, max_lon) of the outline."""
    lats = [p.lat for p in OUTLINE]
    lons = [p.lon for p in OUTLINE]
    return min(lats), min(lons), max(lats), max(lons)


def inside(lats: FloatArray, lons: FloatArray) -> npt.NDArray[np.bool_]:
    """Vectorised containment in the outline."""
    return points_in_polygon_arrays(lats, lons, OUTLINE)


def _uniform(rng: np.random.Generator, n: int) -> tuple[FloatArray, FloatArray]:
    min_lat, min_lon, max_lat, max_lon = bounds()
    lats, lons = np.empty(0), np.empty(0)
    while lats.size < n:
        m = int((n - lats.size) * 1.6) + 16
        la, lo = rng.uniform(min_lat, max_lat, m), rng.uniform(min_lon, max_lon, m)
        keep = inside(la, lo)
        lats, lons = np.concatenate([lats, la[keep]]), np.concatenate([lons, lo[keep]])
    return lats[:n], lons[:n]


def sample_points(
    rng: np.random.Generator, n: int, *, clustered: float = 0.55
) -> tuple[FloatArray, FloatArray]:
    """``n`` points inside the outline: a ``clustered`` share around the hubs (denser
    downtown), the rest spread evenly over the city. Deterministic for a given ``rng``."""
    if n <= 0:
        return np.empty(0), np.empty(0)
    n_hub = int(round(n * clustered))
    weights = np.array([h[2] for h in HUBS])
    which = rng.choice(len(HUBS), size=n_hub, p=weights / weights.sum())
    centre_lat = np.array([h[0] for h in HUBS])[which]
    centre_lon = np.array([h[1] for h in HUBS])[which]
    spread = np.array([h[3] for h in HUBS])[which]
    m_per_deg_lat = 111_195.0
    lat_h = centre_lat + rng.normal(0.0, 1.0, n_hub) * spread / m_per_deg_lat
    lon_h = centre_lon + rng.normal(0.0, 1.0, n_hub) * spread / (
        m_per_deg_lat * np.cos(np.radians(centre_lat))
    )
    outside = ~inside(lat_h, lon_h)
    if outside.any():  # hub tails that leave the city are redrawn evenly inside it
        lat_h[outside], lon_h[outside] = _uniform(rng, int(outside.sum()))
    lat_u, lon_u = _uniform(rng, n - n_hub)
    lats, lons = np.concatenate([lat_h, lat_u]), np.concatenate([lon_h, lon_u])
    order = rng.permutation(n)
    return lats[order], lons[order]


def addresses(rng: np.random.Generator, lats: FloatArray, lons: FloatArray) -> list[str]:
    """Grid addresses ("1234 Elm St") for positions; about half on each street direction."""
    n = lats.size
    east_west = rng.random(n) < 0.5
    lat_band = np.floor((lats - EW_ORIGIN) / _BAND_DEG).astype(np.int64)
    lon_band = np.floor((lons - NS_ORIGIN) / _BAND_DEG).astype(np.int64)
    # House numbers grow away from downtown, 100 per block, odd/even sides.
    along_ew = np.abs(lons - DOWNTOWN.lon) / _BLOCK_DEG
    along_ns = np.abs(lats - DOWNTOWN.lat) / _BLOCK_DEG
    along = np.where(east_west, along_ew, along_ns)
    number = (
        np.floor(along) * 100 + rng.integers(0, 50, n) * 2 + rng.integers(0, 2, n) + 100
    ).astype(np.int64)
    ew, ns = EAST_WEST_STREETS, NORTH_SOUTH_STREETS
    out = []
    for is_ew, lb, ob, num in zip(
        east_west.tolist(), lat_band.tolist(), lon_band.tolist(), number.tolist(), strict=True
    ):
        street = ew[lb % len(ew)] if is_ew else ns[ob % len(ns)]
        out.append(f"{num} {street}")
    return out
