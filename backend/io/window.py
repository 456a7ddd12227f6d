"""A rectangular pixel window, named as in rasterio: `Window(col_off, row_off, width, height)`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    """A block of pixels: columns `[col_off, col_off + width)`, rows `[row_off, row_end)`."""

    col_off: int
    row_off: int
    width: int
    height: int

    @property
    def col_end(self) -> int:
        """First column after the window."""
        return self.col_off + self.width

    @property
    def row_end(self) -> int:
        """First row after the window."""
        return self.row_off + self.height

    @property
    def empty(self) -> bool:
        """True when the window holds no pixel."""
        return self.width <= 0 or self.height <= 0

    def intersection(self, other: Window) -> Window:
        """The pixels both windows hold (possibly empty, then width or height is 0)."""
        c0 = max(self.col_off, other.col_off)
        r0 = max(self.row_off, other.row_off)
        c1 = min(self.col_end, other.col_end)
        r1 = min(self.row_end, other.row_end)
        return Window(c0, r0, max(0, c1 - c0), max(0, r1 - r0))

    def shift(self, dcol: int, drow: int) -> Window:
        """The same window moved by `(dcol, drow)` pixels."""
        return Window(self.col_off + dcol, self.row_off + drow, self.width, self.height)

    def scaled(self, factor: int) -> Window:
        """The same window on a grid whose pixels are `factor` times smaller."""
        return Window(
            self.col_off * factor, self.row_off * factor, self.width * factor, self.height * factor
        )

    def slices(self) -> tuple[slice, slice]:
        """`(rows, cols)` slices that cut this window out of a `(..., H, W)` array at origin 0."""
        return slice(self.row_off, self.row_end), slice(self.col_off, self.col_end)

    def relative_to(self, outer: Window) -> Window:
        """This window in the pixel coordinates of `outer` (whose origin becomes 0, 0)."""
        return self.shift(-outer.col_off, -outer.row_off)
