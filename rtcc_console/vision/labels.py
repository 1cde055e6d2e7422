"""The only labels the vision package ever reports: five COCO vehicle classes."""

from __future__ import annotations

from typing import Final

# COCO class index -> label, for the vehicles only. Everything else the network knows
# (person included) is dropped in ``detector.decode`` before anything leaves the package.
VEHICLE_CLASS_IDS: Final[dict[int, str]] = {
    1: "bicycle",
    2: "car",
    3: "motorcycle",
    5: "bus",
    7: "truck",
}
VEHICLE_LABELS: Final[tuple[str, ...]] = tuple(VEHICLE_CLASS_IDS.values())

COLOUR_NAMES: Final[tuple[str, ...]] = (
    "white",
    "black",
    "grey",
    "silver",
    "red",
    "blue",
    "green",
    "yellow",
    "brown",
)


def is_vehicle_label(label: str) -> bool:
    return label in VEHICLE_LABELS
