"""The demo registry as columns, and how it is generated (used by ``sim.seed``).

A million ``Camera`` dataclasses take seconds to build, and the seeder does not need them:
it writes tuples straight to the database. So a :class:`Registry` keeps numpy/list
columns and builds domain objects only when ``.cameras`` / ``.owners`` is first read.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from rtcc_console.core.models import Camera, CameraKind, GeoPoint, Owner, SharingMode, Tier

FloatArray = npt.NDArray[np.float64]
KINDS = (CameraKind.RESIDENTIAL, CameraKind.BUSINESS, CameraKind.SCHOOL, CameraKind.PUBLIC)
# Share of each kind per tier: integrated cameras are mostly businesses and schools.
KIND_P = {Tier.REGISTERED: (0.64, 0.26, 0.03, 0.07), Tier.INTEGRATED: (0.15, 0.50, 0.17, 0.18)}
# Chance that an integrated camera of each kind is live_always (else live_in_emergency).
LIVE_ALWAYS_P = (0.5, 0.2, 0.1, 0.85)
JITTER_M = (6.0, 25.0, 70.0, 0.0)  # cameras around one owner's site

FIRST = (
    "Maria",
    "James",
    "Sofia",
    "Michael",
    "Aaliyah",
    "David",
    "Jose",
    "Emily",
    "Daniel",
    "Keisha",
    "Luis",
    "Sarah",
    "Andre",
    "Linh",
    "Robert",
    "Ana",
    "Marcus",
    "Jennifer",
    "Carlos",
    "Priya",
    "William",
    "Gabriela",
    "Terrence",
    "Hannah",
    "Juan",
    "Olivia",
    "Darnell",
    "Mei",
    "Thomas",
    "Rosa",
)
LAST = (
    "Garcia",
    "Johnson",
    "Martinez",
    "Williams",
    "Nguyen",
    "Brown",
    "Hernandez",
    "Davis",
    "Lopez",
    "Jackson",
    "Wilson",
    "Rodriguez",
    "Thompson",
    "Patel",
    "Anderson",
    "Moore",
    "Ramirez",
    "Taylor",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Scott",
)
BIZ_NAME = (
    "Elm Street",
    "Trinity",
    "Lone Star",
    "Oak Cliff",
    "Deep Ellum",
    "Lakewood",
    "Bluebonnet",
    "Big D",
    "Pegasus",
    "White Rock",
    "Bishop Arts",
    "Cedar Springs",
    "Knox",
    "Mockingbird",
    "Greenville",
    "Preston Hollow",
    "Fair Park",
    "Red Bird",
    "Kessler",
    "Lake Highlands",
)
BIZ_TYPE = (
    "Dental",
    "Auto Repair",
    "Tacos",
    "Hardware",
    "Coffee",
    "Pharmacy",
    "Laundromat",
    "Barbershop",
    "Food Mart",
    "Liquor",
    "Pawn",
    "Tire & Wheel",
    "BBQ",
    "Cleaners",
    "Fitness",
    "Bakery",
    "Apartments",
    "Self Storage",
    "Car Wash",
    "Grocery",
)
SCHOOL_NAME = (
    "Sam Houston",
    "Mockingbird",
    "Lakewood",
    "Bonham",
    "Stonewall",
    "Travis",
    "Hillcrest",
    "Sunset",
    "Adamson",
    "Kimball",
    "Carter",
    "Pinkston",
    "Molina",
    "Seagoville",
    "Wilmer-Hutchins",
)
SCHOOL_TYPE = ("Elementary School", "Middle School", "High School", "Academy", "Montessori")
AGENCIES = (
    "City of Dallas Park and Recreation",
    "DART Police",
    "Dallas Public Library",
    "City of Dallas Transportation",
    "Dallas Water Utilities",
    "Fair Park",
    "Love Field Aviation",
)
SPOTS = (
    ("porch", "driveway", "doorbell", "backyard", "garage", "side gate"),
    ("entrance", "parking lot", "register", "loading dock", "rear door", "drive-thru"),
    ("main entrance", "bus loop", "parking", "gym entrance", "playground", "front office"),
    ("intersection", "park entrance", "trailhead", "library entrance", "plaza", "bus stop"),
)


#: Share of seeded cameras whose owner did not answer last year's "still there?" e-mail
#: (per mille): stale in the registry and grey, dashed on the console's map (issue 12).
STALE_PER_MILLE = 20


def is_stale_seed(camera_id: str) -> bool:
    """Whether a seeded camera starts stale: a fixed ~2 % of ids (CRC-32 of the id), so the
    choice is deterministic and leaves the generator's random stream untouched."""
    return zlib.crc32(camera_id.encode()) % 1000 < STALE_PER_MILLE


class Registry:
    """Owners, cameras and full stream URLs of a generated registry."""

    def __init__(
        self, *, owner_cols: dict[str, Any], camera_cols: dict[str, Any], secrets: dict[str, str]
    ) -> None:
        self._o = owner_cols
        self._c = camera_cols
        self.secrets = secrets

    def __len__(self) -> int:
        return len(self._c["id"])

    @cached_property
    def owners(self) -> list[Owner]:
        return self.owner_rows_as_owners()

    def owner_rows_as_owners(self) -> list[Owner]:
        o = self._o
        return [
            Owner(id=i, name=n, kind=KINDS[k], email=e, phone=p, accepts_requests=a)
            for i, n, k, e, p, a in zip(
                o["id"],
                o["name"],
                o["kind"].tolist(),
                o["email"],
                o["phone"],
                o["accepts"].tolist(),
                strict=True,
            )
        ]

    @cached_property
    def stale_ids(self) -> list[str]:
        """Cameras that start stale (:func:`is_stale_seed`), in id order."""
        return sorted(i for i in self._c["id"] if is_stale_seed(i))

    @cached_property
    def cameras(self) -> list[Camera]:
        return [
            Camera(
                id=r[0],
                name=r[1],
                tier=Tier(r[2]),
                location=GeoPoint(r[5], r[6]),
                kind=CameraKind(r[3]),
                sharing_mode=SharingMode(r[4]),
                address=r[7],
                owner_id=r[8],
                heading_deg=r[9],
                fov_deg=r[10],
                range_m=r[11],
                stream_ref=r[12],
                stale=is_stale_seed(r[0]),
            )
            for r in self.camera_rows()
        ]

    def camera_rows(self) -> Iterator[tuple[Any, ...]]:
        """Tuples in ``store.bulk.CAMERA_ROW_FIELDS`` order (stream URL already redacted)."""
        c = self._c
        nan_to_none = [
            [None if v != v else v for v in c[key].tolist()] for key in ("heading", "fov", "range")
        ]
        tiers = [Tier.REGISTERED.value, Tier.INTEGRATED.value]
        modes = [m.value for m in SharingMode]
        kinds = [k.value for k in KINDS]
        for row in zip(
            c["id"],
            c["name"],
            c["tier"].tolist(),
            c["kind"].tolist(),
            c["mode"].tolist(),
            c["lat"].tolist(),
            c["lon"].tolist(),
            c["address"],
            c["owner_id"],
            *nan_to_none,
            c["stream_ref"],
            strict=True,
        ):
            yield (
                row[0],
                row[1],
                tiers[row[2]],
                kinds[row[3]],
                modes[row[4]],
                *row[5:9],
                row[9],
                row[10],
                row[11],
                row[12],
                None,
            )

    def credentialed_count(self) -> int:
        """How many full stream URLs carry credentials."""
        return sum(1 for url in self.secrets.values() if "@" in url)

    def summary(self) -> dict[str, int]:
        tier = self._c["tier"]
        return {
            "cameras": len(self),
            "registered": int((tier == 0).sum()),
            "integrated": int((tier == 1).sum()),
            "owners": len(self._o["id"]),
            "stale": len(self.stale_ids),
        }


def _group_sizes(rng: np.random.Generator, kind: int, count: int) -> npt.NDArray[np.int64]:
    """Cameras per owner for ``count`` cameras of one kind (sums to ``count``)."""
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    if kind == 0:
        sizes = 1 + (rng.random(count) < 0.08).astype(np.int64)
    elif kind == 1:
        sizes = np.minimum(rng.geometric(0.45, count), 8)
    elif kind == 2:
        sizes = np.minimum(1 + rng.geometric(0.25, count), 16)
    else:
        n_agencies = min(len(AGENCIES), max(1, count // 25))
        return np.bincount(rng.integers(0, n_agencies, count), minlength=n_agencies).astype(
            np.int64
        )
    cut = int(np.searchsorted(np.cumsum(sizes), count))
    sizes = sizes[: cut + 1].copy()
    sizes[-1] -= int(sizes.sum()) - count
    return sizes[sizes > 0]


def _owner_columns(
    rng: np.random.Generator, o_kind: npt.NDArray[np.int64]
) -> tuple[list[str], list[str]]:
    """Names and e-mail addresses for owners of the given kinds (vectorised draws)."""
    n = o_kind.size
    first, last = rng.integers(len(FIRST), size=n), rng.integers(len(LAST), size=n)
    biz = rng.integers(len(BIZ_NAME), size=n) * len(BIZ_TYPE) + rng.integers(len(BIZ_TYPE), size=n)
    school = rng.integers(len(SCHOOL_NAME), size=n) * len(SCHOOL_TYPE) + rng.integers(
        len(SCHOOL_TYPE), size=n
    )
    people = [[f"{f} {la}" for la in LAST] for f in FIRST]
    stems = [[f"{f[0]}{la}".lower() for la in LAST] for f in FIRST]
    biz_names = [f"{a} {b}" for a in BIZ_NAME for b in BIZ_TYPE]
    school_names = [f"{a} {b}" for a in SCHOOL_NAME for b in SCHOOL_TYPE]

    def slug(text: str) -> str:
        return "".join(ch for ch in text.lower() if ch.isalnum())[:20]

    biz_slugs, school_slugs = [slug(x) for x in biz_names], [slug(x) for x in school_names]
    agency_slugs = [slug(x) for x in AGENCIES]
    names: list[str] = []
    emails: list[str] = []
    for k, (kind, f, la, b, sc) in enumerate(
        zip(
            o_kind.tolist(),
            first.tolist(),
            last.tolist(),
            biz.tolist(),
            school.tolist(),
            strict=True,
        )
    ):
        if kind == 0:
            names.append(people[f][la])
            emails.append(f"{stems[f][la]}{k}@example.org")
        elif kind == 1:
            names.append(biz_names[b])
            emails.append(f"security@{biz_slugs[b]}-{k}.example.org")
        elif kind == 2:
            names.append(school_names[sc])
            emails.append(f"security@{school_slugs[sc]}-{k}.example.org")
        else:
            names.append(AGENCIES[k % len(AGENCIES)])
            emails.append(f"cameras@{agency_slugs[k % len(AGENCIES)]}.example.org")
    return names, emails


def build_registry_columns(
    rng: np.random.Generator,
    *,
    n_registered: int,
    n_integrated: int,
    stream_base: str,
    stream_pool: int,
    sample_points: Callable[..., tuple[FloatArray, FloatArray]],
    addresses: Callable[..., list[str]],
    inside: Callable[..., npt.NDArray[np.bool_]],
) -> Registry:
    """Generate every column; see ``sim.seed.generate_registry`` for the parameters."""
    o_kind: list[int] = []
    c_tier: list[npt.NDArray[np.int64]] = []
    c_kind: list[npt.NDArray[np.int64]] = []
    c_owner: list[npt.NDArray[np.int64]] = []
    for tier_code, (tier, count) in enumerate(
        ((Tier.REGISTERED, n_registered), (Tier.INTEGRATED, n_integrated))
    ):
        kinds = rng.choice(4, size=count, p=KIND_P[tier])
        for kind in range(4):
            sizes = _group_sizes(rng, kind, int((kinds == kind).sum()))
            first_owner = len(o_kind)
            o_kind.extend([kind] * len(sizes))
            c_owner.append(np.repeat(np.arange(first_owner, first_owner + len(sizes)), sizes))
            c_kind.append(np.full(int(sizes.sum()), kind))
            c_tier.append(np.full(int(sizes.sum()), tier_code))
    tier_a, kind_a, owner_a = (
        np.concatenate(c_tier),
        np.concatenate(c_kind),
        np.concatenate(c_owner),
    )
    n, n_owners = tier_a.size, len(o_kind)
    o_kind_a = np.array(o_kind, dtype=np.int64)
    # Positions: one site per owner, cameras jittered around it; public cameras stand alone.
    site_lat, site_lon = sample_points(rng, n_owners)
    lat, lon = site_lat[owner_a].copy(), site_lon[owner_a].copy()
    public = kind_a == 3
    lat[public], lon[public] = sample_points(rng, int(public.sum()))
    jitter = np.array(JITTER_M)[kind_a] / 111_195.0
    jlat = lat + rng.normal(0, 1, n) * jitter
    jlon = lon + rng.normal(0, 1, n) * jitter / np.cos(np.radians(lat))
    ok = inside(jlat, jlon)
    lat[ok], lon[ok] = jlat[ok], jlon[ok]
    lat, lon = np.round(lat, 6), np.round(lon, 6)
    site_addr = addresses(rng, site_lat, site_lon)
    addr_orig = [site_addr[k] for k in owner_a.tolist()]
    for idx, text in zip(
        np.flatnonzero(public).tolist(), addresses(rng, lat[public], lon[public]), strict=True
    ):
        addr_orig[idx] = text
    # Shuffle cameras so ids do not reveal tier/kind/owner grouping.
    order = rng.permutation(n)
    tier_a, kind_a, owner_a = tier_a[order], kind_a[order], owner_a[order]
    lat, lon = lat[order], lon[order]
    address = [addr_orig[i] for i in order.tolist()]
    width = max(6, len(str(n)))
    ids = [f"cam-{i + 1:0{width}d}" for i in range(n)]
    # Owners
    owidth = max(5, len(str(n_owners)))
    o_ids = [f"own-{k + 1:0{owidth}d}" for k in range(n_owners)]
    o_names, o_emails = _owner_columns(rng, o_kind_a)
    phones = [f"+1 214 555 01{x:02d}" for x in range(100)]  # 555-01xx: reserved fictional
    o_phone = [phones[x] for x in rng.integers(0, 100, n_owners).tolist()]
    o_accepts = rng.random(n_owners) < 0.92
    # Cameras: addresses, names, optics, sharing modes
    spot = rng.integers(0, 6, n)
    name = [
        f"{o_names[o] if k else a} — {SPOTS[k][s]}"
        for o, k, a, s in zip(
            owner_a.tolist(), kind_a.tolist(), address, spot.tolist(), strict=True
        )
    ]
    has_optics = rng.random(n) < 0.8
    heading = np.where(has_optics, np.round(rng.uniform(0, 360, n), 1) % 360.0, np.nan)
    fov = np.where(has_optics, rng.choice([70.0, 90.0, 110.0, 130.0], n), np.nan)
    range_m = np.where(
        has_optics & (rng.random(n) < np.where(tier_a == 1, 0.6, 0.3)),
        np.round(rng.uniform(20, 80, n)),
        np.nan,
    )
    modes = list(SharingMode)
    live = rng.random(n) < np.array(LIVE_ALWAYS_P)[kind_a]
    mode = np.where(
        tier_a == 0,
        modes.index(SharingMode.REQUEST_ONLY),
        np.where(
            live, modes.index(SharingMode.LIVE_ALWAYS), modes.index(SharingMode.LIVE_IN_EMERGENCY)
        ),
    )
    # Streams of integrated cameras, in id order; ~20 % with credentials.
    from rtcc_console.core.redact import redact_stream_url

    stream_ref: list[str | None] = [None] * n
    secrets: dict[str, str] = {}
    integ = np.flatnonzero(tier_a == 1)
    creds = rng.random(integ.size) < 0.2
    tokens = rng.integers(0, 2**40, integ.size)
    for j, (i, with_creds) in enumerate(zip(integ.tolist(), creds.tolist(), strict=True)):
        url = stream_base.format(index=j % stream_pool)
        if with_creds and "://" in url and "@" not in url.split("://", 1)[1].split("/", 1)[0]:
            scheme, rest = url.split("://", 1)
            url = f"{scheme}://viewer{j % 97}:{int(tokens[j]):010x}@{rest}"
        secrets[ids[i]] = url
        stream_ref[i] = redact_stream_url(url)
    owner_cols = {
        "id": o_ids,
        "name": o_names,
        "kind": o_kind_a,
        "email": o_emails,
        "phone": o_phone,
        "accepts": o_accepts,
    }
    camera_cols = {
        "id": ids,
        "name": name,
        "tier": tier_a,
        "kind": kind_a,
        "mode": mode,
        "lat": lat,
        "lon": lon,
        "address": address,
        "owner_id": [o_ids[k] for k in owner_a.tolist()],
        "heading": heading,
        "fov": fov,
        "range": range_m,
        "stream_ref": stream_ref,
    }
    return Registry(owner_cols=owner_cols, camera_cols=camera_cols, secrets=secrets)
