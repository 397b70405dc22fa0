"""Figure maps: each PDF page and each multi-panel figure with a finding, drawn with a numbered box around every
region that has a copy elsewhere, for the run page and the report."""

from dataclasses import dataclass, field

from analysis.engine.names import embedding_page
from analysis.engine.stages import FINDINGS
from analysis.models import Item, Pair, Run

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in fractions of the mapped item


@dataclass
class MapBox:
    """A region of the mapped item and the findings that show it elsewhere, best (lowest rank) first."""

    box: Box
    findings: list[tuple[Pair, str]]  # each pair, and where its copy is: the other side's name

    @property
    def pair(self) -> Pair:
        return self.findings[0][0]

    def holds(self, box: Box, overlap: float = 0.8) -> bool:
        """Whether `box` is this region: they share at least `overlap` of their union."""
        width = min(box[2], self.box[2]) - max(box[0], self.box[0])
        height = min(box[3], self.box[3]) - max(box[1], self.box[1])
        shared = max(width, 0.0) * max(height, 0.0)
        area = (box[2] - box[0]) * (box[3] - box[1]) + (self.box[2] - self.box[0]) * (self.box[3] - self.box[1])
        return shared >= overlap * (area - shared)


@dataclass
class FigureMap:
    item: Item
    boxes: list[MapBox] = field(default_factory=list)

    def add(self, box: Box, pair: Pair, other: str) -> None:
        """A finding's region: one box per region, however many copies of it were found."""
        region = next((region for region in self.boxes if region.holds(box)), None)
        if region is None:
            self.boxes.append(MapBox(box, [(pair, other)]))
        else:
            region.findings.append((pair, other))
            region.findings.sort(key=lambda finding: finding[0].rank)

    @property
    def font(self) -> float:
        """The numbers' size, in the item's pixels: legible whatever the picture's size."""
        return max(self.item.width, self.item.height) / 30

    def rects(self) -> list[tuple[MapBox, float, float, float, float, float]]:
        """Each box in the item's pixels (x, y, width, height) and its number's baseline: above the box, or
        inside it where the box touches the top. Larger boxes first, so that a box inside another is on top."""
        width, height = self.item.width, self.item.height
        drawn = []
        for box in sorted(
            self.boxes, key=lambda region: -(region.box[2] - region.box[0]) * (region.box[3] - region.box[1])
        ):
            x0, y0, x1, y1 = (min(max(value, 0.0), 1.0) for value in box.box)
            top = y0 * height
            label = top - self.font * 0.25 if top > self.font * 1.2 else top + self.font
            drawn.append((box, x0 * width, top, (x1 - x0) * width, (y1 - y0) * height, label))
        return drawn

    @property
    def title(self) -> str:
        if self.item.kind == "pdf_page":
            return f"{self.item.name}: page {self.item.page}"
        return f"{self.item.name}: a figure of {len(self.item.panels)} panels"


def figure_maps(run: Run) -> list[FigureMap]:
    """A map for each PDF page and multi-panel figure that a finding touches, in the order of the items; a
    finding on an image embedded in a page is drawn on the page, where the image is placed."""
    items = {item.pk: item for item in run.items.filter(skipped="")}
    by_name = {item.name: item for item in items.values() if not item.library_origin}
    maps: dict[int, FigureMap] = {}
    pairs = run.pairs.filter(verdict__in=FINDINGS).select_related("first", "second")
    for pair in pairs:
        for item, region, other in (
            (pair.first, pair.region1, pair.second_name),
            (pair.second, pair.region2, pair.first_name),
        ):
            if not region or item.library_origin:
                continue
            mapped, box = _on_map(item, region, by_name)
            if mapped is not None:
                maps.setdefault(mapped.pk, FigureMap(mapped)).add(box, pair, other)
    return sorted(maps.values(), key=lambda figure: figure.item.number or 0)


def _on_map(item: Item, region, by_name: dict[str, Item]) -> tuple[Item | None, Box]:
    """The item whose map shows a region of `item`, and the region in that item's fractions."""
    if item.kind == "pdf_image" and item.placement:
        page = by_name.get(embedding_page(item.name))
        if page is not None:
            return page, _placed(region, item.placement)
    if item.kind == "pdf_page" or len(item.panels) >= 2:
        return item, tuple(region)
    return None, tuple(region)


def _placed(region, placement) -> Box:
    """A region of an embedded image, on its page: the box around its placed corners."""
    (a, b, c), (d, e, f) = placement
    corners = [(x, y) for x in (region[0], region[2]) for y in (region[1], region[3])]
    xs = [a * x + b * y + c for x, y in corners]
    ys = [d * x + e * y + f for x, y in corners]
    return (min(xs), min(ys), max(xs), max(ys))
