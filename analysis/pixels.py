"""The pixel work behind a pair's evidence (pictures cut, laid over each other, drawn on), in panel terms: a side
of a pair that lies in one panel of a figure is that panel, not the whole figure.

Kept apart from the page fragments so that the websocket process, which renders only those, never loads OpenCV.
"""

import io
import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from analysis.engine.evidence import describe_change, describe_crop, intensity_change, second_onto_first
from analysis.models import Item, Pair

Box = tuple[float, float, float, float]  # x0, y0, x1, y1


@dataclass
class Side:
    """One side of a pair as it is shown: its panel when the shared region lies in one, else the whole item."""

    item: Item
    panel: int | None
    name: str
    box: Box  # in the item's pixels

    @property
    def width(self) -> int:
        return round(self.box[2] - self.box[0])

    @property
    def height(self) -> int:
        return round(self.box[3] - self.box[1])

    def local(self, point) -> tuple[float, float]:
        """A point in fractions of the item's size, in fractions of this side's size."""
        x0, y0, x1, y1 = self.box
        return (
            (point[0] * self.item.width - x0) / max(x1 - x0, 1),
            (point[1] * self.item.height - y0) / max(y1 - y0, 1),
        )

    def region(self, region) -> Box | None:
        """A region in fractions of the item, in fractions of this side, cut to it."""
        if not region:
            return None
        (a, b), (c, d) = self.local(region[:2]), self.local(region[2:])
        return (min(max(a, 0.0), 1.0), min(max(b, 0.0), 1.0), min(max(c, 0.0), 1.0), min(max(d, 0.0), 1.0))

    def words(self, first: bool) -> str:
        """How a sentence names it: "the first panel", "the second image"."""
        return f"the {'first' if first else 'second'} {'panel' if self.panel else 'image'}"

    def cut(self, view: np.ndarray) -> np.ndarray:
        """This side's part of the item's view (a scaled picture of the whole item)."""
        scale = view.shape[1] / max(self.item.width, 1)
        x0, y0, x1, y1 = (round(value * scale) for value in self.box)
        return view[y0:y1, x0:x1]


def pair_sides(pair: Pair) -> tuple[Side, Side]:
    def side(item: Item, panel: int | None, name: str) -> Side:
        if panel and 1 <= panel <= len(item.panels):
            return Side(item, panel, name, tuple(item.panels[panel - 1]))
        return Side(item, None, name, (0, 0, item.width, item.height))

    return side(pair.first, pair.first_panel, pair.first_name), side(pair.second, pair.second_panel, pair.second_name)


@dataclass
class PairDrawing:
    """Both sides next to each other in one SVG, scaled to one height, with the evidence on top."""

    width: float
    height: float
    second_x: float
    first_width: float
    second_width: float
    region1: Box | None  # x, y, width, height in drawing units
    region2: Box | None
    lines: list[Box]


def pair_drawing(pair: Pair, height: float = 400, gap: float = 24, max_lines: int = 150) -> PairDrawing:
    first, second = pair_sides(pair)
    first_width = height * first.width / max(first.height, 1)
    second_width = height * second.width / max(second.height, 1)
    second_x = first_width + gap

    def box(region: Box | None, x0: float, width: float) -> Box | None:
        if not region:
            return None
        return (
            x0 + region[0] * width,
            region[1] * height,
            (region[2] - region[0]) * width,
            (region[3] - region[1]) * height,
        )

    lines = [
        (a[0] * first_width, a[1] * height, second_x + b[0] * second_width, b[1] * height)
        for a, b in _inliers(pair, first, second, max_lines)
    ]
    return PairDrawing(
        width=second_x + second_width,
        height=height,
        second_x=second_x,
        first_width=first_width,
        second_width=second_width,
        region1=box(first.region(pair.region1), 0, first_width),
        region2=box(second.region(pair.region2), second_x, second_width),
        lines=lines,
    )


def _inliers(pair: Pair, first: Side, second: Side, most: int) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Up to `most` inlier matches in the sides' fractions, those that fall on both sides."""
    inside = [
        (a, b)
        for a, b in ((first.local(p), second.local(q)) for p, q in zip(pair.points1, pair.points2, strict=True))
        if min(*a, *b) >= 0 and max(*a, *b) <= 1
    ]
    return inside[:: max(1, math.ceil(len(inside) / most))]


def pair_views(pair: Pair) -> tuple[np.ndarray, np.ndarray]:
    """Both items' views as RGB arrays: decoded once, for every picture and finding of the pair."""

    return item_view(pair.first), item_view(pair.second)


def panel_jpeg(item: Item, panel: int, most: int | None = 256) -> bytes:
    """One panel (numbered from 1) of a figure, cut from the figure's view; at most `most` px on a side."""
    crop = Image.fromarray(Side(item, panel, "", tuple(item.panels[panel - 1])).cut(item_view(item)))
    if most:
        crop.thumbnail((most, most))
    return _jpeg(np.asarray(crop), 85)


def _jpeg(rgb: np.ndarray, quality: int) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=quality)
    return out.getvalue()


def pair_overlay(pair: Pair, views: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first side's picture, the second item laid onto it by the found transform, and where it lands."""
    first, second = views
    size1, size2 = (pair.first.width, pair.first.height), (pair.second.width, pair.second.height)
    warped, covered = second_onto_first(first, second, pair.matrix, pair.mirrored, size1, size2)
    side = pair_sides(pair)[0]
    return side.cut(first), side.cut(warped), side.cut(covered)


def overlay_jpeg(pair: Pair) -> bytes:
    _, warped, _ = pair_overlay(pair, pair_views(pair))
    return _jpeg(np.ascontiguousarray(warped), 88)


def pair_findings(pair: Pair, views: tuple[np.ndarray, np.ndarray]) -> list[str]:
    """The transform in words: orientation and scale, how much of each side the shared part is, contrast."""
    if pair.matrix is None:
        return []
    first, second = pair_sides(pair)
    base, warped, covered = pair_overlay(pair, views)
    words = (first.words(first=True), second.words(first=False))
    return [
        pair.transform,
        describe_crop(first.region(pair.region1), second.region(pair.region2), words),
        describe_change(intensity_change(base, warped, covered)),
    ]


def evidence_jpeg(pair: Pair, views: tuple[np.ndarray, np.ndarray], height: int = 300, max_lines: int = 60) -> bytes:
    """Both sides next to each other at one height, the matched regions outlined and some inliers joined."""
    sides = pair_sides(pair)
    pictures = [side.cut(view) for side, view in zip(sides, views, strict=True)]
    widths = [max(1, round(height * picture.shape[1] / max(picture.shape[0], 1))) for picture in pictures]
    gap = 12
    canvas = np.full((height, widths[0] + gap + widths[1], 3), 255, np.uint8)
    canvas[:, : widths[0]] = cv2.resize(pictures[0], (widths[0], height), interpolation=cv2.INTER_AREA)
    canvas[:, widths[0] + gap :] = cv2.resize(pictures[1], (widths[1], height), interpolation=cv2.INTER_AREA)
    offsets = (0, widths[0] + gap)

    def place(point, side: int) -> tuple[int, int]:
        return (offsets[side] + round(point[0] * widths[side]), round(point[1] * height))

    for a, b in _inliers(pair, *sides, max_lines):
        cv2.line(canvas, place(a, 0), place(b, 1), (25, 195, 125), 1, cv2.LINE_AA)
    for number, (side, region) in enumerate(zip(sides, (pair.region1, pair.region2), strict=True)):
        if local := side.region(region):
            cv2.rectangle(canvas, place(local[:2], number), place(local[2:], number), (255, 59, 48), 2)
    return _jpeg(canvas, 82)


def region_in_pixels(side: Side, region) -> str:
    """A region for people: whole pixels of the side (its panel, or the picture)."""
    local = side.region(region)
    if not local:
        return "not located"
    x0, y0, x1, y1 = local
    return (
        f"x {round(x0 * side.width)}–{round(x1 * side.width)}, y {round(y0 * side.height)}–{round(y1 * side.height)}"
        f" of {side.width} × {side.height} px"
    )


BAND_COLOURS = {"high": (211, 47, 47), "medium": (239, 138, 0), "low": (107, 118, 128)}  # as on the page


def map_jpeg(figure, view: np.ndarray, width: int = 700) -> bytes:
    """A figure map as a picture, for the report: the page or figure with its numbered boxes drawn in."""
    height = max(1, round(width * view.shape[0] / max(view.shape[1], 1)))
    canvas = cv2.resize(view, (width, height), interpolation=cv2.INTER_AREA)
    scale = width / max(figure.item.width, 1)
    for region, x, y, box_width, box_height, label_y in figure.rects():
        colour = BAND_COLOURS[region.pair.confidence_band or "low"]
        corner = (round(x * scale), round(y * scale))
        cv2.rectangle(canvas, corner, (round((x + box_width) * scale), round((y + box_height) * scale)), colour, 3)
        label = " ".join(str(pair.rank) for pair, _ in region.findings)
        origin = (corner[0], max(24, round(label_y * scale)))
        cv2.putText(canvas, label, origin, cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 6, cv2.LINE_AA)
        cv2.putText(canvas, label, origin, cv2.FONT_HERSHEY_SIMPLEX, 1.0, colour, 2, cv2.LINE_AA)
    return _jpeg(canvas, 85)


def item_view(item: Item) -> np.ndarray:
    with item.preview.open("rb") as stored, Image.open(stored) as picture:
        return np.asarray(picture.convert("RGB"))
