"""Helpers for the store tests (database fixtures live in the root conftest)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rtcc_console.core.models import Camera, CameraKind, GeoPoint, Owner, SharingMode, Tier

MakeCamera = Callable[..., Camera]


@pytest.fixture
def make_camera() -> MakeCamera:
    """Factory for valid cameras; keyword arguments override fields."""

    def _make(i: int = 1, **over: object) -> Camera:
        fields: dict[str, object] = dict(
            id=f"cam-{i:06d}",
            name=f"Camera {i}",
            tier=Tier.REGISTERED,
            location=GeoPoint(32.78 + i * 1e-4, -96.80 - i * 1e-4),
            kind=CameraKind.RESIDENTIAL,
            sharing_mode=SharingMode.REQUEST_ONLY,
            address=f"{100 + i} Elm St",
            owner_id=None,
            heading_deg=90.0,
            fov_deg=80.0,
        )
        fields.update(over)
        return Camera(**fields)  # type: ignore[arg-type]

    return _make


@pytest.fixture
def owner() -> Owner:
    return Owner(
        id="own-00001",
        name="Deep Ellum Books",
        kind=CameraKind.BUSINESS,
        email="owner@example.org",
        phone="+1 214 555 0100",
    )
