"""Precision as collections grow: look-alikes of the second generator (charts, blots, cells in shared house
styles) at rising sizes, one picture in 25 a true copy of an earlier one; within one analysis, and against
a lab library holding the look-alikes.

python -m analysis.bench.growth                          # 300 1000 3000 10000, within one analysis
python -m analysis.bench.growth --sizes 300 1000 --library

False duplicates grow with the number of look-alike pairs, not of pictures: the table prints, per size and
kind, the look-alike pairs (two pictures of one style from different originals), the false duplicates among
them, that count per million look-alike pairs, the false findings of a copy inside one picture (no picture
of the set holds one), and each false duplicate's confidence. The pictures of a
smaller size are the first of a larger one, so files and features are drawn and read once and kept in
--cache between sizes and between runs (a size that does not fit in one sitting can be run later on the same
cache: only what is missing is drawn and read).
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from analysis.bench.dataset import Dataset
from analysis.bench.score import report_confidence
from analysis.bench.second.sets import GROWTH_KINDS, growth_set
from analysis.engine.confidence import band
from analysis.engine.features import ItemFeatures
from analysis.engine.library import Entry, Library
from analysis.engine.pipeline import DUPLICATE, Options, Result, compare
from analysis.engine.readers import ReaderOptions, read_in_processes
from analysis.engine.sources import SourceFile


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[300, 1000, 3000, 10000])
    parser.add_argument("--seed", type=int, default=301)
    parser.add_argument("--cache", type=Path, default=Path("data/bench-cache/growth"))
    parser.add_argument("--library", action="store_true", help="also check new copies against a library of them")
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()
    options = Options(use_clip=False, workers=args.workers)
    folder = args.cache / f"seed_{args.seed}"
    started = time.perf_counter()
    # against a library, 300 look-alikes beyond the largest size are the new run's fresh pictures
    dataset = growth_set(folder / "files", max(args.sizes) + (300 if args.library else 0), args.seed)
    units = features(dataset, folder / "features", options)
    print(
        f"growth set (seed {args.seed}): {len(dataset.entries)} pictures ready in {time.perf_counter() - started:.0f} s"
    )
    print("within one analysis:")
    print(_HEADER)
    for size in sorted(args.sizes):
        started = time.perf_counter()
        result = compare([unit for file in units[:size] for unit in file], [], options)
        _report(size, result, dataset, time.perf_counter() - started, _look_alike_pairs(dataset.entries[:size]))
    print(f"confidence at {size} pictures, within one analysis:")
    report_confidence(result, truth(result, dataset))
    if args.library:
        print("against a library holding the look-alikes (the copies and 300 fresh look-alikes are the new run):")
        print(_HEADER)
        for size in sorted(args.sizes):
            _against_library(size, units, dataset, options)
    return 0


_HEADER = (
    f"  {'size':>6} {'kind':<6} {'look-alike pairs':>16} {'false':>5} {'per million':>11} {'inside':>6}  "
    f"{'copies found':<14} seconds  confidence of each false duplicate"
)


def features(dataset: Dataset, folder: Path, options: Options) -> list[list[ItemFeatures]]:
    """Each file's units (the picture, then its panels), read once and kept in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{entry.name}.pickle" for entry in dataset.entries]
    missing = [index for index, path in enumerate(paths) if not path.exists()]
    reader = ReaderOptions(options.limits, options.features, options.verify, options.clones, None)
    batch = 500  # kept as read, so that an interrupted run resumes
    for start in range(0, len(missing), batch):
        chosen = missing[start : start + batch]
        files = [SourceFile(dataset.root / dataset.entries[i].name, dataset.entries[i].name) for i in chosen]
        results = read_in_processes(files, reader, options.workers or 2, lambda done: None)
        for index, (found, _) in zip(chosen, results, strict=True):
            paths[index].write_bytes(pickle.dumps(found))
    return [pickle.loads(path.read_bytes()) for path in paths]


def _kind(label: str) -> str:
    return label.split("_", 1)[0]


def _look_alike_pairs(first: list, second: list | None = None) -> dict[str, int]:
    """Per kind, pairs of entries of one style from different originals: within `first`, or across the two."""
    counts: dict[str, int] = defaultdict(int)

    def styles(entries: list) -> dict[str, dict[str, int]]:
        found: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for entry in entries:
            found[entry.look_alike][next(iter(entry.families))] += 1
        return found

    one = styles(first)
    if second is None:
        for style, families in one.items():
            total = sum(families.values())
            counts[_kind(style)] += total * (total - 1) // 2 - sum(n * (n - 1) // 2 for n in families.values())
        return counts
    other = styles(second)
    for style, families in one.items():
        theirs = other.get(style, {})
        total = sum(theirs.values())
        counts[_kind(style)] += sum(n * (total - theirs.get(family, 0)) for family, n in families.items())
    return counts


def _report(size: int, result: Result, dataset: Dataset, elapsed: float, pairs_by_kind: dict[str, int]) -> None:
    """Per kind: the look-alike pairs compared, the false duplicates among them, and the true copies found."""
    entries = [dataset.entry(item.name) for item in result.items]
    true_pairs = truth(result, dataset)
    found = {(p.first, p.second): p for p in result.pairs if p.verdict == DUPLICATE and not p.within}
    false: dict[str, list[float]] = defaultdict(list)
    for (i, j), pair in found.items():
        if (i, j) not in true_pairs:
            false[_kind(entries[i].look_alike)].append(pair.confidence)
    # no picture of the set holds a copy of a part of itself: every finding inside one is false
    inside: dict[str, int] = defaultdict(int)
    for pair in result.pairs:
        if pair.verdict == DUPLICATE and pair.within:
            inside[_kind(entries[pair.first].look_alike)] += 1
    hits = len(true_pairs & set(found))
    for kind in GROWTH_KINDS:
        pairs = pairs_by_kind[kind]
        confidences = sorted(false[kind], reverse=True)
        per_million = 1e6 * len(confidences) / pairs if pairs else 0.0
        shown = " ".join(f"{c:.3f} ({band(c)})" for c in confidences[:12]) + (" ..." if len(confidences) > 12 else "")
        first = kind == GROWTH_KINDS[0]
        copies, seconds = (f"{hits}/{len(true_pairs)}", f"{elapsed:.0f}") if first else ("", "")
        print(
            f"  {size:>6} {kind:<6} {pairs:>16} {len(confidences):>5} {per_million:>11.2f} {inside[kind]:>6}  "
            f"{copies:<14} {seconds:>7}  {shown}"
        )
    sys.stdout.flush()


def truth(result: Result, dataset: Dataset) -> set[tuple[int, int]]:
    """The pairs of the result's items that hold one original, but for two library entries."""
    by_family: dict[str, list[int]] = defaultdict(list)
    for index, item in enumerate(result.items):
        for family in dataset.entry(item.name).families:
            by_family[family].append(index)
    items = result.items
    return {
        (i, j)
        for members in by_family.values()
        for i, j in itertools.combinations(members, 2)
        if items[i].library is None or items[j].library is None
    }


def _against_library(size: int, units: list[list[ItemFeatures]], dataset: Dataset, options: Options) -> None:
    """A library of the look-alikes among the first `size` pictures; a new run of the copies among them and
    the 300 look-alikes after them."""
    entries = dataset.entries
    copies = [i for i in range(size) if entries[i].transform != "original"]
    kept = [i for i in range(size) if entries[i].transform == "original"]
    fresh = [i for i in range(size, size + 300) if entries[i].transform == "original"]
    with tempfile.TemporaryDirectory(prefix="deepchecker-growth-library-") as folder:
        library = Library(folder)
        library.add([Entry(f"g{i}", units[i], None, options.model) for i in kept])  # keys: letters and digits
        started = time.perf_counter()
        result = compare([unit for i in copies + fresh for unit in units[i]], [], options, library=library)
        new_entries = [entries[i] for i in copies + fresh]
        pairs = _look_alike_pairs(new_entries, [entries[i] for i in kept])
        for kind, count in _look_alike_pairs(new_entries).items():  # the new pictures among themselves too
            pairs[kind] += count
        _report(size, result, dataset, time.perf_counter() - started, pairs)


if __name__ == "__main__":
    sys.exit(main())
