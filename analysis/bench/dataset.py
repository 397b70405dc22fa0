"""A deterministic benchmark data set: originals, derived duplicates, look-alikes.

Every file records the originals whose pixels it contains (its "families");
two items are true duplicates when their families intersect. Look-alike
classes (fluorescence fields, blots with the same layout and labels, plots
with the same styling, multi-panel figures with the same letters) give the
hard negatives: pairs from one class but different families.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
from PIL import Image

REAL_IMAGES = (
    "astronaut",
    "camera",
    "rocket",
    "coins",
    "moon",
    "immunohistochemistry",
    "retina",
    "hubble_deep_field",
    "brick",
    "grass",
    "gravel",
    "cell",
    "microaneurysms",
    "clock",
)

# skimage's grass and gravel textures hold regions repeated within them (pixel correlation 0.57-0.94 at the
# offset found, under 0.1 at other offsets): copies inside them are true findings, counted apart
REPEATED_INSIDE = {"real_grass", "real_gravel"}

TRANSFORMS = (
    "reencode",
    "resize",
    "crop",
    "rotate90",
    "rotate180",
    "rotate_small",
    "flip",
    "contrast",
    "noise",
    "annotation",
    "panel",
)


@dataclass
class Entry:
    name: str
    families: set[str]
    transform: str  # "original", one of TRANSFORMS, "pdf" or "filler"
    look_alike: str  # class of look-alikes, "" for none
    page_families: list[set[str]] = field(default_factory=list)  # PDFs: each page's own
    panel_families: list[set[str]] = field(default_factory=list)  # figures: each picture panel's, in reading order
    copy_inside: str = ""  # the kind of picture copied inside this one (a region or a panel), "" for none


@dataclass
class Dataset:
    root: Path
    entries: list[Entry] = field(default_factory=list)
    _by_name: dict[str, Entry] = field(default_factory=dict, repr=False)

    def item_families(self, item_name: str) -> set[str]:
        """Families of an engine item; a PDF page's items have their page's."""
        entry = self.entry(item_name)
        if entry.page_families and "#page=" in item_name:
            page = int(item_name.split("#page=", 1)[1].split("&", 1)[0])
            return entry.page_families[page - 1]
        return entry.families

    def panel_families(self, item_name: str, panel: int | None) -> set[str]:
        """Families of one panel of an item (numbered from 1), or of the item when panel is None or unknown."""
        entry = self.entry(item_name)
        if panel is not None and entry.panel_families and panel <= len(entry.panel_families):
            return entry.panel_families[panel - 1]
        return self.item_families(item_name)

    def entry(self, item_name: str) -> Entry:
        if len(self._by_name) != len(self.entries):  # entries are appended while a set is built
            self._by_name = {entry.name: entry for entry in self.entries}
        return self._by_name[item_name.split("#", 1)[0]]


def real_image(name: str) -> np.ndarray:
    from skimage import data

    image = getattr(data, name)()
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    if image.dtype != np.uint8:
        image = (255 * (image.astype(np.float64) / max(float(image.max()), 1e-9))).astype(np.uint8)
    return np.ascontiguousarray(image[..., :3])


def fluorescence(rng: np.random.Generator, size: int, faint: bool = False) -> np.ndarray:
    """Cells as textured, blurred ellipses on a dark, noisy background."""
    height, width = size, int(size * rng.uniform(1.0, 1.4))
    canvas = np.zeros((height, width), np.float32)
    for _ in range(int(rng.integers(5, 14) if faint else rng.integers(25, 60))):
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        axes = (int(rng.integers(10, 35)), int(rng.integers(8, 28)))
        cv2.ellipse(canvas, centre, axes, float(rng.uniform(0, 180)), 0, 360, float(rng.uniform(0.4, 1.0)), -1)
    texture = cv2.GaussianBlur(rng.random((height, width)).astype(np.float32), (0, 0), 2.0)
    canvas = cv2.GaussianBlur(canvas * (0.6 + texture), (0, 0), 3.0)
    canvas += cv2.GaussianBlur(rng.random((height, width)).astype(np.float32), (0, 0), 6.0) * 0.15
    peak = 60 if faint else 230
    gray = np.clip(canvas * peak + rng.normal(0, 3, canvas.shape), 0, 255)
    colour = np.zeros((height, width, 3), np.float32)
    channel = int(rng.integers(0, 3))
    colour[..., channel] = gray
    colour[..., (channel + 1) % 3] = gray * 0.25
    return colour.astype(np.uint8)


def blot(rng: np.random.Generator, size: int, lanes: int = 8, faint: bool = False) -> np.ndarray:
    """Dark bands in lanes on a light background, with lane and kDa labels."""
    height, width = int(size * 0.6), size
    canvas = np.zeros((height, width), np.float32)
    left, top = 110, 60
    lane_width = (width - left - 20) / lanes
    for lane in range(lanes):
        x = left + lane_width * (lane + 0.5)
        for _ in range(int(rng.integers(2, 6))):
            y = top + rng.uniform(20, height - top - 20)
            axes = (int(lane_width * rng.uniform(0.3, 0.42)), int(rng.uniform(4, 11)))
            cv2.ellipse(canvas, (int(x), int(y)), axes, 0, 0, 360, float(rng.uniform(0.3, 1.0)), -1)
    smear = cv2.GaussianBlur(rng.random((height, width)).astype(np.float32), (0, 0), 3.0)
    canvas = cv2.GaussianBlur(canvas * (0.7 + 0.6 * smear), (0, 0), 3.5)
    background = 0.1 * cv2.GaussianBlur(rng.random((height, width)).astype(np.float32), (0, 0), 12.0)
    depth = 40 if faint else 200
    gray = 235 - (canvas + background) * depth + rng.normal(0, 2.5, canvas.shape)
    gray = np.clip(gray, 0, 255).astype(np.uint8)
    for lane in range(lanes):
        x = int(left + lane_width * (lane + 0.5)) - 10
        cv2.putText(gray, str(lane + 1), (x, 35), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 0, 2, cv2.LINE_AA)
    for kda, y in zip((250, 130, 70, 35, 15), np.linspace(top + 30, height - 30, 5), strict=True):
        cv2.putText(gray, f"{kda} kDa", (5, int(y)), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 0, 1, cv2.LINE_AA)
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)


def plot(rng: np.random.Generator, size: int) -> np.ndarray:
    """A line and scatter plot of random data; styling, ticks and labels are always the same."""
    height, width = int(size * 0.75), size
    image = np.full((height, width, 3), 255, np.uint8)
    x0, y0, x1, y1 = 100, 40, width - 30, height - 80
    cv2.rectangle(image, (x0, y0), (x1, y1), (0, 0, 0), 2)
    for tick in range(6):
        x = int(x0 + (x1 - x0) * tick / 5)
        y = int(y1 - (y1 - y0) * tick / 5)
        cv2.line(image, (x, y1), (x, y1 + 8), (0, 0, 0), 2)
        cv2.line(image, (x0 - 8, y), (x0, y), (0, 0, 0), 2)
        cv2.putText(image, f"{tick * 20}", (x - 15, y1 + 32), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 2, cv2.LINE_AA)
        cv2.putText(
            image, f"{tick * 0.2:.1f}", (x0 - 70, y + 8), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 2, cv2.LINE_AA
        )
    cv2.putText(
        image, "Time (min)", (width // 2 - 60, height - 20), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (0, 0, 0), 2, cv2.LINE_AA
    )
    cv2.putText(image, "Signal", (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (0, 0, 0), 2, cv2.LINE_AA)
    for colour in ((200, 60, 30), (30, 90, 200)):
        values = np.cumsum(rng.normal(0, 1, 40))
        values = (values - values.min()) / max(np.ptp(values), 1e-6)
        xs = np.linspace(x0 + 10, x1 - 10, 40)
        ys = y1 - 20 - values * (y1 - y0 - 40)
        points = np.stack([xs, ys], axis=1).astype(np.int32)
        cv2.polylines(image, [points], False, colour, 2, cv2.LINE_AA)
        for px, py in points[::3]:
            cv2.circle(image, (int(px), int(py + rng.normal(0, 15))), 5, colour, -1, cv2.LINE_AA)
    return image


def multi_panel(panels: list[np.ndarray], panel_side: int, letters: str = "ABCD") -> np.ndarray:
    """Panels on a white 2-column grid with a letter at each panel's corner."""
    columns = 2
    rows = math.ceil(len(panels) / columns)
    gap = 40
    figure = np.full((rows * (panel_side + gap) + gap, columns * (panel_side + gap) + gap, 3), 255, np.uint8)
    for index, panel in enumerate(panels):
        scale = panel_side / max(panel.shape[:2])
        resized = cv2.resize(
            panel, (int(panel.shape[1] * scale), int(panel.shape[0] * scale)), interpolation=cv2.INTER_AREA
        )
        row, column = divmod(index, columns)
        top, left = gap + row * (panel_side + gap), gap + column * (panel_side + gap)
        figure[top : top + resized.shape[0], left : left + resized.shape[1]] = resized
        cv2.putText(
            figure, letters[index], (left - 32, top + 20), cv2.FONT_HERSHEY_DUPLEX, 0.9, (0, 0, 0), 2, cv2.LINE_AA
        )
    return figure


def derive(image: np.ndarray, transform: str, rng: np.random.Generator) -> np.ndarray:
    height, width = image.shape[:2]
    if transform == "reencode":
        return image  # written as low-quality JPEG
    if transform == "resize":
        scale = float(rng.uniform(0.45, 0.7))
        return cv2.resize(image, (int(width * scale), int(height * scale)), interpolation=cv2.INTER_AREA)
    if transform == "crop":
        fraction = rng.uniform(0.55, 0.8, 2)
        crop_w, crop_h = int(width * fraction[0]), int(height * fraction[1])
        x = int(rng.integers(0, width - crop_w + 1))
        y = int(rng.integers(0, height - crop_h + 1))
        return image[y : y + crop_h, x : x + crop_w]
    if transform == "rotate90":
        return np.rot90(image, 1 if rng.random() < 0.5 else 3)
    if transform == "rotate180":
        return np.rot90(image, 2)
    if transform == "rotate_small":
        angle = float(rng.choice([-1, 1]) * rng.uniform(3, 12))
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
        border = tuple(int(v) for v in image[0, 0])
        return cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=border)
    if transform == "flip":
        return image[:, ::-1] if rng.random() < 0.7 else image[::-1]
    if transform == "contrast":
        # gamma, then a contrast stretch about the image's own mean (as an editor's levels tool would)
        values = (image.astype(np.float32) / 255.0) ** float(rng.choice([0.6, 1.6]))
        mean = float(values.mean())
        stretched = (values - mean) * rng.uniform(1.1, 1.4) + mean + rng.uniform(-0.05, 0.05)
        return (np.clip(stretched, 0, 1) * 255).astype(np.uint8)
    if transform == "noise":
        return np.clip(image + rng.normal(0, 8, image.shape), 0, 255).astype(np.uint8)
    if transform == "annotation":
        # arrows, a label, a box and a scale bar, sized to the picture as an author would
        marked = image.copy()
        colour = (255, 255, 0)
        unit = min(width, height) / 500
        stroke = max(1, round(3 * unit))
        for _ in range(3):
            start = (int(rng.integers(0, width)), int(rng.integers(0, height)))
            reach = max(8, int(80 * unit))
            end = (start[0] + int(rng.integers(-reach, reach)), start[1] + int(rng.integers(-reach, reach)))
            cv2.arrowedLine(marked, start, end, colour, stroke, cv2.LINE_AA)
        origin = (int(width * 0.1), int(height * 0.15))
        cv2.putText(marked, "* p<0.05", origin, cv2.FONT_HERSHEY_SIMPLEX, unit, colour, stroke, cv2.LINE_AA)
        box = (int(width * 0.55), int(height * 0.6))
        cv2.rectangle(marked, box, (box[0] + width // 6, box[1] + height // 6), colour, stroke)
        bar = (int(width * 0.7), int(height * 0.92))
        cv2.line(marked, bar, (int(width * 0.9), bar[1]), (255, 255, 255), max(2, round(6 * unit)))
        return marked
    raise ValueError(transform)  # "panel" is made by Builder.family, which records where the picture went


def textured_patch(image: np.ndarray, rng: np.random.Generator, fraction: tuple[float, float]) -> tuple[int, ...]:
    """The box (x0, y0, x1, y1) of the most textured of some random patches in the left half of a picture."""
    height, width = image.shape[:2]
    patch_h = int(height * rng.uniform(*fraction))
    patch_w = min(int(width * rng.uniform(*fraction)), width // 2 - 2)
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    detail = np.abs(cv2.GaussianBlur(gray, (0, 0), 1.5) - cv2.GaussianBlur(gray, (0, 0), 6.0)) > 3
    best = None
    for _ in range(30):
        x, y = int(rng.integers(0, width // 2 - patch_w + 1)), int(rng.integers(0, height - patch_h + 1))
        share = float(detail[y : y + patch_h, x : x + patch_w].mean())
        if best is None or share > best[0]:
            best = (share, (x, y, x + patch_w, y + patch_h))
    return best[1]


def cloned(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A textured region of the picture pasted into its right half, mirrored one time in three."""
    x0, y0, x1, y1 = textured_patch(image, rng, (0.15, 0.3))
    patch = image[y0:y1, x0:x1]
    if rng.random() < 1 / 3:
        patch = patch[:, ::-1]
    height, width = image.shape[:2]
    x = int(rng.integers(width // 2, width - patch.shape[1] + 1))
    y = int(rng.integers(0, height - patch.shape[0] + 1))
    copy = image.copy()
    copy[y : y + patch.shape[0], x : x + patch.shape[1]] = patch
    return copy


def bar_chart(rng: np.random.Generator, size: int) -> np.ndarray:
    """Grouped bars with error bars, a legend and axis labels: the styling, legend and fonts never change."""
    height, width = int(size * 0.75), size
    image = np.full((height, width, 3), 255, np.uint8)
    x0, y0, x1, y1 = 100, 60, width - 40, height - 80
    cv2.line(image, (x0, y1), (x1, y1), (0, 0, 0), 2)
    cv2.line(image, (x0, y0), (x0, y1), (0, 0, 0), 2)
    colours = ((60, 60, 60), (200, 80, 40), (40, 120, 200))
    groups = 4
    slot = (x1 - x0) / groups
    for group in range(groups):
        for series, colour in enumerate(colours):
            value = float(rng.uniform(0.15, 0.95))
            left = int(x0 + group * slot + 15 + series * (slot - 30) / 3)
            right = int(left + (slot - 30) / 3 - 6)
            top = int(y1 - value * (y1 - y0 - 20))
            cv2.rectangle(image, (left, top), (right, y1 - 1), colour, -1)
            error = int(rng.uniform(8, 30))
            middle = (left + right) // 2
            cv2.line(image, (middle, top - error), (middle, top + error), (0, 0, 0), 2)
            cv2.line(image, (middle - 6, top - error), (middle + 6, top - error), (0, 0, 0), 2)
        label = ("Control", "siRNA", "Drug", "Both")[group]
        cv2.putText(image, label, (int(x0 + group * slot + 20), y1 + 30), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 2)
    for tick in range(5):
        y = int(y1 - (y1 - y0 - 20) * tick / 4)
        cv2.line(image, (x0 - 8, y), (x0, y), (0, 0, 0), 2)
        cv2.putText(image, f"{tick * 25}", (x0 - 55, y + 8), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 2)
    for series, (colour, name) in enumerate(zip(colours, ("WT", "KO", "Rescue"), strict=True)):
        x = width - 170
        y = 30 + series * 26
        cv2.rectangle(image, (x, y - 14), (x + 18, y + 2), colour, -1)
        cv2.putText(image, name, (x + 28, y), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 2)
    cv2.putText(image, "Relative expression (%)", (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 2)
    return image


def schematic(rng: np.random.Generator, size: int) -> np.ndarray:
    """A pathway diagram: labelled boxes and arrows in one house style, laid out differently each time."""
    height, width = int(size * 0.7), size
    image = np.full((height, width, 3), 255, np.uint8)
    words = ("Receptor", "Kinase", "TF", "Gene", "mRNA", "Protein", "Ligand", "Nucleus")
    columns, rows = 4, 3
    cells = [(c, r) for c in range(columns) for r in range(rows)]
    chosen = [cells[i] for i in rng.choice(len(cells), size=6, replace=False)]
    centres = []
    for (column, row), word in zip(chosen, rng.choice(words, size=6, replace=False), strict=True):
        cx = int((column + 0.5) * width / columns)
        cy = int((row + 0.5) * height / rows)
        cv2.rectangle(image, (cx - 75, cy - 28), (cx + 75, cy + 28), (30, 30, 30), 2)
        cv2.putText(image, str(word), (cx - 60, cy + 8), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (30, 30, 30), 2)
        centres.append((cx, cy))
    for first, second in zip(centres, centres[1:], strict=False):
        cv2.arrowedLine(image, first, second, (180, 40, 40), 2, tipLength=0.06)
    return image


def with_scale_bar(image: np.ndarray) -> np.ndarray:
    """A scale bar and its label in the lower right corner, the same in every micrograph."""
    marked = image.copy()
    height, width = marked.shape[:2]
    cv2.line(marked, (width - 160, height - 30), (width - 40, height - 30), (255, 255, 255), 6)
    cv2.putText(marked, "10 um", (width - 150, height - 45), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
    return marked


def side_by_side(left: np.ndarray, right: np.ndarray, side: int = 460) -> np.ndarray:
    """Two panels on white with letters: a chart beside a micrograph, say."""
    return multi_panel([left, right], side, letters="AB")


class Builder:
    """Writes files and records their families."""

    def __init__(self, root: Path, seed: int):
        self.dataset = Dataset(root)
        self.rng = np.random.default_rng(seed)
        self.count = 0

    def write(
        self,
        image: np.ndarray,
        stem: str,
        families: set[str],
        transform: str,
        look_alike: str,
        panel_families: list[set[str]] | None = None,
        copy_inside: str = "",
    ) -> None:
        suffix = ".png" if transform in ("original", "filler") and self.count % 3 == 0 else ".jpg"
        quality = 55 if transform == "reencode" else 92
        name = f"{stem}{suffix}"
        path = self.dataset.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.ascontiguousarray(image)).save(path, quality=quality)
        entry = Entry(name, set(families), transform, look_alike, [], panel_families or [], copy_inside)
        self.dataset.entries.append(entry)
        self.count += 1

    def filler(self) -> np.ndarray:
        """A fresh picture that appears only once (panels around a reused one)."""
        kind = self.rng.integers(0, 3)
        if kind == 0:
            return fluorescence(self.rng, 500)
        if kind == 1:
            return blot(self.rng, 600)
        return plot(self.rng, 600)

    def family(self, family: str, image: np.ndarray, look_alike: str, transforms: tuple[str, ...]) -> None:
        self.write(image, f"{family}/original", {family}, "original", look_alike)
        for transform in transforms:
            if transform == "panel":
                panels = [image, self.filler(), self.filler(), self.filler()]
                order = self.rng.permutation(4)
                figure = multi_panel([panels[i] for i in order], 420)
                placed = [{family} if i == 0 else set() for i in order]
                self.write(figure, f"{family}/panel", {family}, transform, "figure", placed)
            else:
                self.write(derive(image, transform, self.rng), f"{family}/{transform}", {family}, transform, look_alike)

    def pdf(self, name: str, figures: list[tuple[np.ndarray, set[str]]]) -> None:
        """A PDF with one figure per page; each page's families are its figure's."""
        path = self.dataset.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_pdf(path, [figure for figure, _ in figures])
        pages = [set(families) for _, families in figures]
        self.dataset.entries.append(Entry(name, set().union(*pages), "pdf", "", pages))


def write_pdf(path: Path, figures: list[np.ndarray], width: float = 432) -> Path:
    """A letter-size PDF with one figure per page, embedded as a JPEG `width` points wide below the top margin."""
    document = pdfium.PdfDocument.new()
    for figure in figures:
        page = document.new_page(612, 792)
        buffer = io.BytesIO()
        Image.fromarray(figure).save(buffer, format="JPEG", quality=90)
        buffer.seek(0)
        image = pdfium.PdfImage.new(document)
        image.load_jpeg(buffer, inline=True)
        height = width * figure.shape[0] / figure.shape[1]
        image.set_matrix(pdfium.PdfMatrix().scale(width, height).translate(90, 792 - 90 - height))
        page.insert_obj(image)
        page.gen_content()
    document.save(path)
    return path


def quality_set(root: Path, seed: int = 7, synthetic_per_kind: int = 5) -> Dataset:
    """Originals of every kind with every transform, look-alikes, and PDFs."""
    builder = Builder(root, seed)
    rng = builder.rng
    for name in REAL_IMAGES:
        builder.family(f"real_{name}", real_image(name), "", TRANSFORMS)
    makers = {
        "fluorescence": lambda: fluorescence(rng, 900),
        "blot": lambda: blot(rng, 1000),
        "plot": lambda: plot(rng, 900),
        "faint_fluorescence": lambda: fluorescence(rng, 700, faint=True),
        "faint_blot": lambda: blot(rng, 800, faint=True),
    }
    for kind, make in makers.items():
        look_alike = kind.removeprefix("faint_")
        for number in range(synthetic_per_kind):
            builder.family(f"{kind}_{number}", make(), look_alike, TRANSFORMS)
    # look-alikes that are never duplicated: more fields, blots and plots, and figures
    for number in range(synthetic_per_kind):
        builder.write(
            fluorescence(rng, 900), f"lookalike/fluorescence_{number}", {f"la_fl_{number}"}, "original", "fluorescence"
        )
        builder.write(blot(rng, 1000), f"lookalike/blot_{number}", {f"la_blot_{number}"}, "original", "blot")
        builder.write(plot(rng, 900), f"lookalike/plot_{number}", {f"la_plot_{number}"}, "original", "plot")
        panels = [builder.filler() for _ in range(4)]
        builder.write(
            multi_panel(panels, 420), f"lookalike/figure_{number}", {f"la_fig_{number}"}, "original", "figure"
        )
    # halves of one photograph: alike in colour and texture, sharing no pixels
    for name in ("chelsea", "coffee"):
        image = real_image(name)
        half = image.shape[1] // 2
        builder.write(image[:, : half - 10], f"lookalike/{name}_left", {f"la_{name}_l"}, "original", f"halves_{name}")
        builder.write(image[:, half + 10 :], f"lookalike/{name}_right", {f"la_{name}_r"}, "original", f"halves_{name}")
    copies_inside(builder, synthetic_per_kind)
    charts(builder, synthetic_per_kind)
    # PDFs: a figure reusing a panel from an original, and an unrelated one
    for number, family in enumerate(("real_astronaut", "fluorescence_0", "blot_1")):
        source = next(e for e in builder.dataset.entries if e.name.startswith(f"{family}/original"))
        image = np.asarray(Image.open(root / source.name).convert("RGB"))
        figure = multi_panel([builder.filler(), image, builder.filler()], 420)
        builder.pdf(f"papers/paper_{number}.pdf", [(figure, {family}), (plot(rng, 900), {f"pdf_plot_{number}"})])
    return builder.dataset


def copies_inside(builder: Builder, count: int) -> None:
    """Pictures with a region pasted elsewhere in them, and figures that show one panel twice."""
    rng = builder.rng
    photographs = ("astronaut", "camera", "rocket", "immunohistochemistry", "moon")
    makers = {
        "fluorescence": lambda: fluorescence(rng, 900),
        "faint_fluorescence": lambda: fluorescence(rng, 700, faint=True),
        "blot": lambda: blot(rng, 1000),
    }
    for number in range(count):
        # still a copy of the photograph's other versions in the set
        name = photographs[number % len(photographs)]
        image = cloned(real_image(name), rng)
        builder.write(image, f"inside/photograph_{number}", {f"real_{name}"}, "clone", "", copy_inside="photograph")
    for kind, make in makers.items():
        for number in range(count):
            family = f"inside_{kind}_{number}"
            builder.write(cloned(make(), rng), f"inside/{kind}_{number}", {family}, "clone", "", copy_inside=kind)
    for number in range(2 * count):
        panels = [builder.filler() for _ in range(3)]
        again = derive(panels[0], str(rng.choice(["flip", "rotate180", "contrast", "resize", "crop"])), rng)
        order = [*rng.permutation(3)]
        order.insert(int(rng.integers(0, 4)), 3)
        figure = multi_panel([[*panels, again][i] for i in order], 420)
        family = f"inside_figure_{number}"
        placed = [{family} if i in (0, 3) else set() for i in order]
        builder.write(figure, f"inside/figure_{number}", set(), "reused_panel", "figure", placed, "panel")


def charts(builder: Builder, count: int) -> None:
    """Charts, schematics and micrographs in one house style (axes, legends, fonts, scale bars): look-alikes
    that share no data; and figures that put a different chart beside the same micrograph: duplicates."""
    rng = builder.rng
    for number in range(2 * count):
        builder.write(bar_chart(rng, 900), f"charts/bars_{number}", {f"bars_{number}"}, "original", "bar_chart")
        builder.write(schematic(rng, 900), f"charts/schematic_{number}", {f"scheme_{number}"}, "original", "schematic")
        micrograph = with_scale_bar(fluorescence(rng, 700))
        builder.write(micrograph, f"charts/micrograph_{number}", {f"micro_{number}"}, "original", "scale_bar")
    for number in range(count):
        micrograph = with_scale_bar(fluorescence(rng, 700))
        family = f"chart_figure_{number}"
        for copy in range(2):
            figure = side_by_side(bar_chart(rng, 900), micrograph)
            stem = f"charts/figure_{number}_{copy}"
            builder.write(figure, stem, {family}, "beside_chart", "chart_figure", [set(), {family}])


def scaling_set(root: Path, items: int, seed: int = 11, size: int = 1000) -> Dataset:
    """`items` images of about `size` px: synthetic originals, each with 3 derived copies."""
    builder = Builder(root, seed)
    rng = builder.rng
    makers = (
        lambda: fluorescence(rng, size),
        lambda: blot(rng, size),
        lambda: plot(rng, size),
        lambda: multi_panel([builder.filler() for _ in range(4)], size // 2 - 60),
    )
    number = 0
    while builder.count < items:
        image = makers[number % len(makers)]()
        transforms = tuple(rng.choice(TRANSFORMS[:-1], size=3, replace=False))
        room = items - builder.count - 1
        builder.family(f"f{number:05d}", image, "", transforms[:room])
        number += 1
    return builder.dataset
