"""The panel splitter on the second generator's figures: the share of panels it finds, per style, and the
single pictures it cuts.

python -m analysis.bench.panels                          # seeds 2001-2005, never looked at
python -m analysis.bench.panels --seeds 1001 1002 1003   # seeds the frame rule was tuned on (1001-1007)

Each seed draws, for every style of the second generator (its charts and lab pictures), a lettered figure of
fresh pictures of that style in a random layout (1x2 to 2x3, gutters of 0 to 24 px, frames or none, letters
outside, inside or none), saved as JPEG at quality 60 or 92, and one picture of the style alone. Each is
read as a run reads it. A panel is found when one of the boxes the reader gives the figure overlaps the
picture's inked box (where it differs from the page, its frame included) by an intersection over union of
0.7 or more; a single picture is cut when the reader gives it two boxes or more (a western's antibody strips
are its panels, by design).
"""

from __future__ import annotations

import argparse
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

from analysis.bench.second.charts import style
from analysis.bench.second.edits import JPEG_QUALITY, figure, layout
from analysis.bench.second.lab import lab_style
from analysis.bench.second.sets import CHART_KINDS, LAB_LOOKS, Look, draw
from analysis.engine.features import FeatureOptions, extract
from analysis.engine.sources import ItemRef, Limits, decode

Box = tuple[int, int, int, int]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[2001, 2002, 2003, 2004, 2005])
    args = parser.parse_args()
    found: dict[str, list[bool]] = defaultdict(list)
    cut: dict[str, list[bool]] = defaultdict(list)
    with tempfile.TemporaryDirectory(prefix="deepchecker-panels-") as folder:
        for seed in args.seeds:
            rng = np.random.default_rng(seed)
            looks: list[Look] = [style(rng, kind) for kind in CHART_KINDS]
            looks += [lab_style(rng, kind) for kind in LAB_LOOKS]
            for look in looks:
                hits, alone = _figure_and_picture(look, rng, Path(folder))
                found[look.kind] += hits
                cut[look.kind].append(alone > 1)
    print(f"panel splitter on seeds {' '.join(map(str, args.seeds))}:")
    print(f"  {'style':<14} {'panels found':<16} single pictures cut")
    for kind in sorted(found):
        print(f"  {kind:<14} {_share(found[kind]):<16} {sum(cut[kind])}/{len(cut[kind])}")
    every = [hit for hits in found.values() for hit in hits]
    cuts = [one for ones in cut.values() for one in ones]
    print(f"  {'all':<14} {_share(every):<16} {sum(cuts)}/{len(cuts)}")
    return 0


def _figure_and_picture(look: Look, rng: np.random.Generator, folder: Path) -> tuple[list[bool], int]:
    """Whether each panel of a fresh figure of the style is found, and how many boxes one picture alone gets."""
    grid = layout(rng)
    pictures = [draw(look, rng) for _ in range(grid.rows * grid.columns)]
    page, placed = figure(pictures, grid, int(rng.choice([300, 380, 460])), rng)
    quality = JPEG_QUALITY if rng.random() < 0.5 else 92
    return panels_found(page, placed, quality, folder), len(_boxes(pictures[0], folder / "picture.jpg", quality))


def panels_found(page: np.ndarray, placed: list[Box], quality: int, folder: Path) -> list[bool]:
    """Whether the reader finds each picture placed on the figure's page, saved as JPEG at `quality`."""
    boxes = _boxes(page, folder / "figure.jpg", quality)
    return [any(_overlap(box, _inked(page, where)) >= 0.7 for box in boxes) for where in placed]


def _boxes(picture: np.ndarray, path: Path, quality: int) -> list[Box]:
    Image.fromarray(picture).save(path, quality=quality)
    options = FeatureOptions()
    decoded = decode(ItemRef(path.name, str(path), "image"), options.sift_max_side, Limits())
    return extract(decoded, options)[0].panels


def _inked(page: np.ndarray, box: Box) -> Box:
    x0, y0, x1, y1 = box
    ys, xs = np.nonzero(np.abs(page[y0:y1, x0:x1].astype(np.int16) - 255).max(axis=2) > 8)
    return (x0 + int(xs.min()), y0 + int(ys.min()), x0 + int(xs.max()) + 1, y0 + int(ys.max()) + 1)


def _overlap(a: Box, b: Box) -> float:
    inside = max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
    return inside / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inside)


def _share(hits: list[bool]) -> str:
    return f"{np.mean(hits):.3f} ({sum(hits)}/{len(hits)})" if hits else "-"


if __name__ == "__main__":
    raise SystemExit(main())
