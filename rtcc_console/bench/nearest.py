"""`rtcc bench nearest`: the nearest-camera index against brute force and PostGIS.

Random cameras and query points over Dallas (lat 32.62..33.02, lon -97.00..-96.55). For
k = 10 nearest and for a 300 m radius it measures, per query:

* ``index.fast_path``: ``CameraIndex.nearest_ids`` / ``within_radius_ids`` (ids and
  distances, what a bulk caller or the benchmark needs);
* ``index.public``: ``CameraIndex.nearest`` / ``within_radius`` (the server's calls:
  NearestHit objects with distance and bearing);
* ``reference``: vectorised numpy haversine over every point (fewer queries at large N);
* ``postgis`` (with ``--postgis URL``): the same points COPYed into a temporary table with
  a ``geography(Point,4326)`` GiST index, ``ORDER BY geog <-> p LIMIT 10`` and
  ``ST_DWithin(geog, p, 300, false)`` (spherical, as our haversine), timed over loopback.

Exactness is the fraction of reference queries whose result *set* equals brute force.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from typing import Any

import numpy as np

from rtcc_console.bench.common import (
    emit,
    machine_info,
    summary_rounds_us,
    summary_us,
    time_calls_us,
    time_rounds_us,
)
from rtcc_console.core import geo
from rtcc_console.core.index import CameraIndex
from rtcc_console.core.models import GeoPoint
from rtcc_console.core.redact import redact_stream_url, redact_text

AREA = {"lat_min": 32.62, "lat_max": 33.02, "lon_min": -97.00, "lon_max": -96.55}
K = 10
RADIUS_M = 300.0
TARGETS = {"knn_p99_us": 100.0, "radius_p99_us": 150.0, "postgis_knn_speedup": 5.0}


def random_points(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    lats = rng.uniform(AREA["lat_min"], AREA["lat_max"], n)
    lons = rng.uniform(AREA["lon_min"], AREA["lon_max"], n)
    return lats, lons


def brute_knn(lats: np.ndarray, lons: np.ndarray, lat: float, lon: float, k: int) -> np.ndarray:
    """Row numbers of the k nearest points by full haversine scan (the reference)."""
    d = geo.haversine_m_arrays(lat, lon, lats, lons)
    if k >= len(d):
        return np.argsort(d)
    part = np.argpartition(d, k - 1)[:k]
    return part[np.argsort(d[part])]


def brute_radius(
    lats: np.ndarray, lons: np.ndarray, lat: float, lon: float, r: float
) -> np.ndarray:
    return np.flatnonzero(geo.haversine_m_arrays(lat, lon, lats, lons) <= r)


def _exact_fraction(got: list[set[str]], want: list[set[str]]) -> float:
    return sum(g == w for g, w in zip(got, want, strict=True)) / max(1, len(want))


def run_benchmark(
    *,
    cameras: int,
    queries: int = 1000,
    seed: int = 1,
    reference_queries: int | None = None,
    postgis_url: str | None = None,
    postgis_queries: int | None = None,
    rounds: int = 3,
) -> dict[str, Any]:
    """Run the benchmark and return its JSON-ready result (see the module docstring)."""
    if cameras < K + 1:
        raise ValueError(f"--cameras must be at least {K + 1}, got {cameras}")
    if queries < 1:
        raise ValueError(f"--queries must be at least 1, got {queries}")
    if rounds < 1:
        raise ValueError(f"--rounds must be at least 1, got {rounds}")
    rng = np.random.default_rng(seed)
    lats, lons = random_points(rng, cameras)
    ids = [f"c{i}" for i in range(cameras)]
    q_lats, q_lons = random_points(rng, queries)
    n_ref = reference_queries or min(queries, 200 if cameras <= 100_000 else 50)
    n_ref = min(n_ref, queries)

    t0 = time.perf_counter()
    index = CameraIndex.from_arrays(ids, lats, lons)
    build_s = time.perf_counter() - t0

    plain = [(float(a), float(b)) for a, b in zip(q_lats, q_lons, strict=True)]
    points = [(GeoPoint(a, b),) for a, b in plain]
    for a, b in plain[:20]:  # warm caches and code paths
        index.nearest_ids(a, b, K)
        index.within_radius_ids(a, b, RADIUS_M)
    timed = time_rounds_us(
        {
            "knn_fast": (lambda a, b: index.nearest_ids(a, b, K), plain),
            "knn_public": (lambda p: index.nearest(p, K), points),
            "rad_fast": (lambda a, b: index.within_radius_ids(a, b, RADIUS_M), plain),
            "rad_public": (lambda p: index.within_radius(p, RADIUS_M), points),
        },
        rounds,
    )

    ref_pts = plain[:n_ref]
    ref_knn_t = time_calls_us(lambda a, b: brute_knn(lats, lons, a, b, K), ref_pts)
    ref_rad_t = time_calls_us(lambda a, b: brute_radius(lats, lons, a, b, RADIUS_M), ref_pts)
    want_knn = [{ids[i] for i in brute_knn(lats, lons, a, b, K).tolist()} for a, b in ref_pts]
    want_rad = [
        {ids[i] for i in brute_radius(lats, lons, a, b, RADIUS_M).tolist()} for a, b in ref_pts
    ]
    got_knn = [set(index.nearest_ids(a, b, K)[0]) for a, b in ref_pts]
    got_rad = [set(index.within_radius_ids(a, b, RADIUS_M)[0]) for a, b in ref_pts]
    got_knn_public = [{h.camera_id for h in index.nearest(p, K)} for (p,) in points[:n_ref]]
    hits_per_radius = [len(index.within_radius_ids(a, b, RADIUS_M)[0]) for a, b in plain[:200]]

    result: dict[str, Any] = {
        "benchmark": "nearest",
        "cameras": cameras,
        "queries": queries,
        "seed": seed,
        "rounds": rounds,
        "k": K,
        "radius_m": RADIUS_M,
        "area": AREA,
        "index": {
            "method": "scipy cKDTree on unit-sphere vectors; chord->great-circle distance",
            "build_s": round(build_s, 3),
            "knn": {
                "fast_path": summary_rounds_us(timed["knn_fast"]),
                "public": summary_rounds_us(timed["knn_public"]),
            },
            "radius": {
                "fast_path": summary_rounds_us(timed["rad_fast"]),
                "public": summary_rounds_us(timed["rad_public"]),
                "mean_hits": round(float(np.mean(hits_per_radius)), 1),
            },
            "fast_path": "CameraIndex.nearest_ids / within_radius_ids (ids + distances)",
            "public": "CameraIndex.nearest / within_radius (NearestHit with bearing)",
        },
        "reference": {
            "method": "numpy vectorised haversine over all points (argpartition for k)",
            "queries": n_ref,
            "knn": summary_us(ref_knn_t),
            "radius": summary_us(ref_rad_t),
        },
        "exactness": {
            "checked_queries": n_ref,
            "knn": _exact_fraction(got_knn, want_knn),
            "knn_public": _exact_fraction(got_knn_public, want_knn),
            "radius": _exact_fraction(got_rad, want_rad),
        },
        "postgis": None,
        "targets": TARGETS,
        "machine": machine_info(),
    }
    if postgis_url:
        result["postgis"] = measure_postgis(
            postgis_url,
            lats,
            lons,
            plain[: postgis_queries or queries],
            ref_pts,
            want_knn,
            want_rad,
            ids,
            K,
            RADIUS_M,
            rounds,
        )
        pg = result["postgis"]
        for path in ("public", "fast_path"):
            idx_knn, idx_rad = result["index"]["knn"][path], result["index"]["radius"][path]
            pg[f"speedup_vs_index_{path}"] = {
                "knn_p50": round(pg["knn"]["p50_us"] / idx_knn["p50_us"], 1),
                "knn_p99": round(pg["knn"]["p99_us"] / idx_knn["p99_us"], 1),
                "radius_p50": round(pg["radius"]["p50_us"] / idx_rad["p50_us"], 1),
                "radius_p99": round(pg["radius"]["p99_us"] / idx_rad["p99_us"], 1),
            }
    result["targets_met"] = _targets_met(result)
    return result


def _targets_met(r: dict[str, Any]) -> dict[str, bool]:
    """The brief's targets, judged on this run (p99 on a shared machine is noisy)."""
    ix, ex = r["index"], r["exactness"]
    met = {
        f"{key}_p99_{path}": ix[key][path]["p99_us"] <= TARGETS[f"{key}_p99_us"]
        for key in ("knn", "radius")
        for path in ("fast_path", "public")
    }
    met["exact"] = ex["knn"] == ex["knn_public"] == ex["radius"] == 1.0
    if r["postgis"]:
        speed = r["postgis"]["speedup_vs_index_public"]
        met["postgis_knn_5x_p50_public"] = speed["knn_p50"] >= TARGETS["postgis_knn_speedup"]
        met["postgis_knn_5x_p99_public"] = speed["knn_p99"] >= TARGETS["postgis_knn_speedup"]
    return met


class PostgisUnavailableError(RuntimeError):
    """The --postgis database cannot be reached or has no PostGIS."""


def _conninfo(url: str) -> str:
    """Accept SQLAlchemy-style ``postgresql+psycopg://`` URLs as well as libpq ones."""
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def measure_postgis(
    url: str,
    lats: np.ndarray,
    lons: np.ndarray,
    timed: list[tuple[float, float]],
    ref_pts: list[tuple[float, float]],
    want_knn: list[set[str]],
    want_rad: list[set[str]],
    ids: list[str],
    k: int,
    radius_m: float,
    rounds: int,
) -> dict[str, Any]:
    """Load the points into a temporary PostGIS table and time KNN and radius queries."""
    import psycopg

    knn_sql = (
        "SELECT id FROM bench_cameras "
        "ORDER BY geog <-> ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography LIMIT %s"
    )
    rad_sql = (
        "SELECT id FROM bench_cameras WHERE "
        "ST_DWithin(geog, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s, false)"
    )
    try:
        conn = psycopg.connect(_conninfo(url), autocommit=True)
        version = conn.execute("SELECT postgis_lib_version()").fetchone()
    except psycopg.Error as exc:
        raise PostgisUnavailableError(
            f"cannot use PostGIS at {redact_stream_url(url)}: {redact_text(str(exc)).strip()}"
        ) from exc
    with conn:
        # Temporary tables live in backend-local buffers (8 MB by default): give them room
        # for the table and its GiST index, as a real deployment's shared_buffers would.
        conn.execute("SET temp_buffers = '512MB'")
        conn.execute("CREATE TEMP TABLE bench_cameras (id integer, geog geography(Point, 4326))")
        t0 = time.perf_counter()
        with conn.cursor().copy("COPY bench_cameras (id, geog) FROM STDIN") as copy:
            buf = io.StringIO()
            for i, (la, lo) in enumerate(zip(lats.tolist(), lons.tolist(), strict=True)):
                buf.write(f"{i}\tSRID=4326;POINT({lo!r} {la!r})\n")
                if i % 50_000 == 49_999:
                    copy.write(buf.getvalue())
                    buf = io.StringIO()
            copy.write(buf.getvalue())
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        conn.execute("CREATE INDEX ON bench_cameras USING gist (geog)")
        conn.execute("ANALYZE bench_cameras")
        index_s = time.perf_counter() - t0
        cur = conn.cursor()

        def knn(lat: float, lon: float) -> list[tuple[int]]:
            return cur.execute(knn_sql, (lon, lat, k), prepare=True).fetchall()

        def radius(lat: float, lon: float) -> list[tuple[int]]:
            return cur.execute(rad_sql, (lon, lat, radius_m), prepare=True).fetchall()

        for la, lo in timed[:200]:  # warm the buffers and the prepared statements
            knn(la, lo)
            radius(la, lo)
        pg_timed = time_rounds_us({"knn": (knn, timed), "radius": (radius, timed)}, rounds)
        got_knn = [{ids[r[0]] for r in knn(la, lo)} for la, lo in ref_pts]
        got_rad = [{ids[r[0]] for r in radius(la, lo)} for la, lo in ref_pts]
        conn.execute("DROP TABLE bench_cameras")
    return {
        "postgis_version": version[0] if version else None,
        "table": "TEMP geography(Point,4326) + GiST, loaded with COPY",
        "knn_sql": "ORDER BY geog <-> point::geography LIMIT k (prepared)",
        "radius_sql": "ST_DWithin(geog, point::geography, r, use_spheroid => false) (prepared)",
        "load_s": round(load_s, 2),
        "index_s": round(index_s, 2),
        "knn": summary_rounds_us(pg_timed["knn"]),
        "radius": summary_rounds_us(pg_timed["radius"]),
        "exactness": {
            "checked_queries": len(ref_pts),
            "knn": _exact_fraction(got_knn, want_knn),
            "radius": _exact_fraction(got_rad, want_rad),
        },
    }


def _human(r: dict[str, Any]) -> str:
    ix, ex = r["index"], r["exactness"]
    lines = [
        f"nearest-camera benchmark: {r['cameras']:,} cameras, {r['queries']:,} queries "
        f"(index build {ix['build_s']} s)",
    ]
    for name, key in (("k=10 nearest", "knn"), ("300 m radius", "radius")):
        for path in ("fast_path", "public"):
            s = ix[key][path]
            lines.append(
                f"  {name:<13} {path:<10} p50 {s['p50_us']:>8} µs  p99 {s['p99_us']:>8} µs"
            )
        ref = r["reference"][key]
        lines.append(
            f"  {name:<13} {'brute':<10} p50 {ref['p50_us']:>8} µs  p99 {ref['p99_us']:>8} µs"
        )
    lines.append(
        f"  exactness ({ex['checked_queries']} queries): knn {ex['knn']}, radius {ex['radius']}"
    )
    pg = r.get("postgis")
    if pg:
        for key in ("knn", "radius"):
            s = pg[key]
            lines.append(f"  postgis {key:<7} p50 {s['p50_us']:>8} µs  p99 {s['p99_us']:>8} µs")
        lines.append(
            f"  postgis exactness: {pg['exactness']}; slower than index: {pg['speedup_vs_index_public']}"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="rtcc bench nearest", description=__doc__.split("\n")[0])
    parser.add_argument("--cameras", type=int, default=1_000_000, help="number of random cameras")
    parser.add_argument("--queries", type=int, default=1000, help="timed queries per method")
    parser.add_argument(
        "--reference-queries",
        type=int,
        default=None,
        help="brute-force queries (default 200, or 50 above 100k cameras)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--postgis",
        metavar="URL",
        default=None,
        help="postgresql://... database with PostGIS to compare against",
    )
    parser.add_argument("--postgis-queries", type=int, default=None, help="default: --queries")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="timed rounds over the same queries (pooled; p99 per round kept)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    try:
        result = run_benchmark(
            cameras=args.cameras,
            queries=args.queries,
            seed=args.seed,
            reference_queries=args.reference_queries,
            postgis_url=args.postgis,
            postgis_queries=args.postgis_queries,
            rounds=args.rounds,
        )
    except ValueError as exc:
        parser.error(str(exc))
    except PostgisUnavailableError as exc:
        sys.stderr.write(f"rtcc bench nearest: {exc}\n")
        return 2
    emit(result, as_json=args.json, human=_human)
    exact = result["exactness"]
    return 0 if exact["knn"] == 1.0 and exact["radius"] == 1.0 else 1
