"""Wall layouts: which grid cells each tile covers, and their pixel rectangles.

Pure geometry (no widgets) so that layouts are easy to test and to store in presets by
name. A spanning layout such as "1+5" puts one large tile over a 2x2 block of a 3x3 grid
and five normal tiles around it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Cell:
    """A tile's place in the grid: top-left cell and how many rows/columns it covers."""

    row: int
    col: int
    row_span: int = 1
    col_span: int = 1


@dataclass(frozen=True, slots=True)
class WallLayout:
    """A named arrangement of ``len(cells)`` tiles on a ``rows`` x ``cols`` grid."""

    name: str
    rows: int
    cols: int
    cells: tuple[Cell, ...]

    @property
    def tile_count(self) -> int:
        return len(self.cells)

    def rects(self, width: int, height: int, gap: int = 2) -> list[tuple[int, int, int, int]]:
        """Pixel rectangles (x, y, w, h) of every tile inside a ``width`` x ``height`` area.

        Column and row edges are rounded once so neighbouring tiles never overlap and the
        gaps stay even whatever the size.
        """
        xs = [round(c * (width + gap) / self.cols) for c in range(self.cols + 1)]
        ys = [round(r * (height + gap) / self.rows) for r in range(self.rows + 1)]
        out = []
        for cell in self.cells:
            x0, x1 = xs[cell.col], xs[cell.col + cell.col_span]
            y0, y1 = ys[cell.row], ys[cell.row + cell.row_span]
            out.append((x0, y0, max(1, x1 - x0 - gap), max(1, y1 - y0 - gap)))
        return out


def grid(n: int) -> WallLayout:
    """An n x n grid of equal tiles."""
    cells = tuple(Cell(r, c) for r in range(n) for c in range(n))
    return WallLayout(f"{n}x{n}", n, n, cells)


def spanning(big: int, size: int) -> WallLayout:
    """One ``big`` x ``big`` tile in the top-left corner of a ``size`` x ``size`` grid."""
    cells = [Cell(0, 0, big, big)]
    cells += [Cell(r, c) for r in range(size) for c in range(size) if not (r < big and c < big)]
    return WallLayout(f"1+{len(cells) - 1}", size, size, tuple(cells))


LAYOUTS: dict[str, WallLayout] = {
    layout.name: layout
    for layout in (
        grid(1),
        grid(2),
        grid(3),
        grid(4),
        grid(5),
        grid(6),
        spanning(2, 3),  # 1+5
        spanning(3, 4),  # 1+7
        spanning(2, 4),  # 1+12
    )
}


def layout_for_tiles(count: int) -> WallLayout:
    """The smallest equal grid that holds ``count`` tiles (the benchmark's choice)."""
    for n in range(1, 7):
        if n * n >= count:
            return LAYOUTS[f"{n}x{n}"]
    raise ValueError(f"no layout holds {count} tiles (max 36)")
