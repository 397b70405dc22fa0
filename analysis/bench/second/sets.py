"""The second generator's data sets: a quality set, and a growth set of look-alikes for precision at scale.

Written apart from analysis/bench/dataset.py (other drawing libraries, other kinds, other edits and
figure layouts); only the bookkeeping (Entry, Dataset: which originals each file holds) is shared, so that
one scorer reads both.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from analysis.bench.dataset import Dataset, Entry

from .charts import KINDS as CHART_KINDS
from .charts import Style, chart, style
from .edits import COMBINED, EDITS, JPEG_QUALITY, Layout, edit, figure, layout, saved_quality
from .lab import LabStyle, lab_picture, lab_style, photographs

Look = Style | LabStyle
LAB_LOOKS = ("western", "western", "gel", "cells", "cells", "histology")


def draw(look: Look, rng: np.random.Generator) -> np.ndarray:
    return chart(rng, look) if isinstance(look, Style) else lab_picture(rng, look)


class Writer:
    def __init__(self, root: Path):
        self.dataset = Dataset(root)

    def write(self, picture: np.ndarray, entry: Entry, quality: int = 92) -> None:
        path = self.dataset.root / entry.name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.ascontiguousarray(picture)).save(path, quality=quality)
        self.dataset.entries.append(entry)

    def pdf(self, pages: list[np.ndarray], entry: Entry) -> None:
        path = self.dataset.root / entry.name
        path.parent.mkdir(parents=True, exist_ok=True)
        images = [Image.fromarray(page) for page in pages]
        images[0].save(path, "PDF", resolution=150, save_all=True, append_images=images[1:], quality=90)
        self.dataset.entries.append(entry)


def quality_set(root: Path, seed: int) -> Dataset:
    """Sources of every kind, each with five edits (cycled over single and combined edits), a panel in a
    figure of fresh pictures of its style, and two copies edited differently; look-alikes of every style
    that are never copied; photographs; PDFs whose figures reuse a source."""
    rng = np.random.default_rng(seed)
    writer = Writer(root)
    cycle = [*EDITS, *COMBINED]
    turn = 0
    looks: list[tuple[Look, int, int]] = [(style(rng, kind), 1, 4) for kind in CHART_KINDS]
    looks += [(lab_style(rng, kind), 2, 4) for kind in LAB_LOOKS]
    sources: list[tuple[str, np.ndarray, Look | None, str]] = []  # family, picture, style, look-alike class
    for number, (look, copied, alike) in enumerate(looks):
        label = f"{look.kind}_{number}"
        for index in range(copied + alike):
            family = f"{label}/{index}"
            picture = draw(look, rng)
            writer.write(picture, Entry(f"{family}/original.png", {family}, "original", label))
            if index < copied:
                sources.append((family, picture, look, label))
    for name, picture in photographs().items():
        family = f"photo_{name}"
        writer.write(picture, Entry(f"{family}/original.jpg", {family}, "original", ""))
        sources.append((family, picture, None, ""))

    for family, picture, look, label in sources:
        for _ in range(5):
            name = cycle[turn % len(cycle)]
            turn += 1
            entry = Entry(f"{family}/{name}.jpg", {family}, name, label)
            writer.write(edit(picture, name, rng), entry, saved_quality(name))
        twice = rng.choice(len(EDITS), 2, replace=False)
        for copy, which in enumerate(twice):
            entry = Entry(f"{family}/twice_{copy}.jpg", {family}, "twice", label)
            writer.write(edit(picture, EDITS[which], rng), entry, saved_quality(EDITS[which]))
        fresh = look or lab_style(rng, "cells")
        panel, placed = _panel_figure(picture, family, fresh, rng)
        panel_jpeg = rng.random() < 0.5
        name = "panel+jpeg" if panel_jpeg else "panel"
        entry = Entry(f"{family}/{name}.jpg", {family}, name, label, panel_families=placed)
        writer.write(panel, entry, JPEG_QUALITY if panel_jpeg else 92)

    for number in range(3):
        family, picture, look, _ = sources[int(rng.integers(len(sources)))]
        page, placed = _panel_figure(picture, family, look or lab_style(rng, "cells"), rng)
        other = draw(style(rng, str(rng.choice(CHART_KINDS))), rng)
        name = f"papers/paper_{number}.pdf"
        writer.pdf([page, other], Entry(name, {family}, "pdf", "", page_families=[{family}, set()]))
    return writer.dataset


def _panel_figure(
    picture: np.ndarray, family: str, look: Look, rng: np.random.Generator
) -> tuple[np.ndarray, list[set[str]]]:
    """The picture, or a 70-100% crop of it, as one panel of a figure whose other panels are fresh pictures of
    the same style; each panel's families in reading order."""
    grid: Layout = layout(rng)
    count = grid.rows * grid.columns
    height, width = picture.shape[:2]
    keep = rng.uniform(0.7, 1.0, 2)
    y, x = (
        int(rng.integers(0, height - int(height * keep[1]) + 1)),
        int(rng.integers(0, width - int(width * keep[0]) + 1)),
    )
    part = picture[y : y + int(height * keep[1]), x : x + int(width * keep[0])]
    where = int(rng.integers(count))
    pictures = [part if k == where else draw(look, rng) for k in range(count)]
    placed = [{family} if k == where else set() for k in range(count)]
    return figure(pictures, grid, int(rng.choice([300, 380, 460])), rng)[0], placed


GROWTH_KINDS = ("chart", "blot", "cells")
GROWTH_STYLES = 8  # per kind: every look-alike shares its style with an eighth of its kind
GROWTH_COPY_EVERY = 25  # one picture in 25 is a copy of an earlier one


def growth_entry(seed: int, index: int) -> tuple[Entry, Callable[[], tuple[np.ndarray, int]]]:
    """The growth set's picture number `index`: what it is, and how to draw it (picture, JPEG quality).

    It depends only on the seed and the index, so a smaller set is the start of a larger one and its files
    can be kept between sizes."""
    kind = GROWTH_KINDS[index % len(GROWTH_KINDS)]
    look_number = (index // len(GROWTH_KINDS)) % GROWTH_STYLES
    label = f"{kind}_{look_number}"
    if index % GROWTH_COPY_EVERY == GROWTH_COPY_EVERY - 1:
        source = index - 3 * int(1 + _rng(seed, "source", index).integers(0, GROWTH_COPY_EVERY // 3 - 1))
        source_entry, draw_source = growth_entry(seed, source)
        family = next(iter(source_entry.families))
        name = [*EDITS, *COMBINED][(index // GROWTH_COPY_EVERY) % (len(EDITS) + len(COMBINED))]

        def draw_copy() -> tuple[np.ndarray, int]:
            picture, _ = draw_source()
            return edit(picture, name, _rng(seed, "edit", index)), saved_quality(name)

        entry = Entry(f"{index:05d}_{name}.jpg", {family}, name, source_entry.look_alike)
        return entry, draw_copy

    def draw_original() -> tuple[np.ndarray, int]:
        return draw(_growth_look(seed, kind, look_number), _rng(seed, "picture", index)), 92

    return Entry(f"{index:05d}.png", {f"g{index}"}, "original", label), draw_original


def _growth_look(seed: int, kind: str, number: int) -> Look:
    rng = _rng(seed, "style", kind, number)
    if kind == "chart":
        return style(rng, CHART_KINDS[number % len(CHART_KINDS)])
    if kind == "blot":
        return lab_style(rng, "western" if number % 3 else "gel")
    return lab_style(rng, "cells")


def _rng(seed: int, *key) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(repr(key).encode())])


def growth_set(root: Path, size: int, seed: int, processes: int = 2) -> Dataset:
    """The first `size` pictures of the growth set, drawing only those not already in `root`."""
    entries = [growth_entry(seed, index)[0] for index in range(size)]
    missing = [index for index, entry in enumerate(entries) if not (root / entry.name).exists()]
    root.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(processes) as pool:
        list(pool.map(_draw_growth, [(root, seed, index) for index in missing], chunksize=16))
    return Dataset(root, entries)


def _draw_growth(job: tuple[Path, int, int]) -> None:
    root, seed, index = job
    entry, make = growth_entry(seed, index)
    picture, quality = make()
    partial = root / f".{entry.name}"
    file_format = "PNG" if entry.name.endswith(".png") else "JPEG"
    Image.fromarray(np.ascontiguousarray(picture)).save(partial, format=file_format, quality=quality)
    partial.rename(root / entry.name)
