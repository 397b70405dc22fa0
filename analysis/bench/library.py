"""Library benchmark: a new run checked against a library of earlier uploads, as the library grows.

python -m analysis.bench.library                       # libraries of 1,000, 10,000 and 100,000 entries
python -m analysis.bench.library --sizes 1000 10000    # other sizes

The quality set (python -m analysis.bench) is split in two: its originals, look-alikes, charts and other
pictures that are not copies are kept in a library by a first run; the copies made from the originals
(crops, rotations, figure panels, PDFs...) are the new run, checked against the library and itself.

The library is then filled up to each size with distractors. Reading 100,000 generated pictures would take
hours on this machine, so distractors are made from the features of a few hundred real generated pictures
of another seed (micrographs, blots, plots, figures): each distractor indexes another random part of one
such picture's descriptors, each moved by noise (a RootSIFT distance of about 0.3 from where it was, where
copies match below 0.2), and a thumbnail signature moved likewise. Its stored features are that picture's
own (a hard link to its file), so a distractor that comes up as a candidate is loaded and verified like any
entry. They make the index as large and its lists as full as a real library's; whether real libraries hold
pictures closer to the new ones than these is what they cannot tell.

For each size it prints the recall of the pairs (new copy, its original in the library), the findings
against entries that are not the copy's original, the seconds of the library stage (index search and
loading the candidate entries) and of the whole run, and the index's size.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from functools import partial
from pathlib import Path
from unittest import mock

import numpy as np

from analysis.bench.dataset import TRANSFORMS, Dataset, quality_set, scaling_set
from analysis.engine import library as library_module
from analysis.engine.library import Entry, Library
from analysis.engine.pipeline import DUPLICATE, Options, Result, find_duplicates
from analysis.engine.sources import SourceFile

DISTRACTOR_BATCH = 5000
DESCRIPTOR_NOISE = 9.0  # on SIFT's 0-255 scale: RootSIFT distance about 0.3 from the real descriptor
SIGNATURE_NOISE = 0.06  # per value of a signature (576 values): correlation about 0.6 with the real one


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000, 100000])
    parser.add_argument("--pictures", type=int, default=300, help="real pictures the distractors are made from")
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()
    options = Options(use_clip=False, workers=args.workers)

    with tempfile.TemporaryDirectory(prefix="deepchecker-bench-library-") as folder:
        root = Path(folder)
        started = time.perf_counter()
        dataset = quality_set(root / "quality", args.seed)
        copies = {e.name for e in dataset.entries if e.transform in TRANSFORMS or e.transform == "pdf"}
        kept_files = [_source(dataset, e.name) for e in dataset.entries if e.name not in copies]
        new_files = [_source(dataset, name) for name in sorted(copies)]
        library = Library(root / "library")
        kept = find_duplicates(kept_files, options)
        _keep(library, kept, "q")
        names = {entry.key: item.name for entry, item in zip(kept.kept, kept.items, strict=True)}
        pool_set = scaling_set(root / "pool", 4 * args.pictures, seed=args.seed + 1000)
        pool_files = [_source(pool_set, e.name) for e in pool_set.entries if e.transform == "original"]
        pool = find_duplicates(pool_files, options)
        _keep(library, pool, "p")
        print(
            f"library: {len(kept.items)} pictures of the quality set (seed {args.seed}) and {len(pool.items)} other "
            f"generated pictures; new run: {len(new_files)} files of copies; {time.perf_counter() - started:.0f} s"
        )
        for lost in kept.skipped + pool.skipped:
            print(f"  skipped {lost.name}: {lost.reason}")
        print("entries  descriptors  library s  run s  keep s  pairs with entries  recall           findings not true")
        rng = np.random.default_rng(args.seed)
        for size in args.sizes:
            started = time.perf_counter()
            _fill(library, pool.kept, size, rng)
            filled = time.perf_counter() - started
            started = time.perf_counter()
            result = find_duplicates(new_files, options, library=library)
            elapsed = time.perf_counter() - started
            hits, truth, false, per_transform = _score(result, dataset, names)
            vectors = library.vectors("descriptors")
            # what keeping the new run's pictures costs at this size; taken out again for the next size
            started = time.perf_counter()
            _keep(library, result, "n")
            kept_in = time.perf_counter() - started
            library.remove([entry.key for entry in result.kept])
            print(
                f"{library.size:7d}  {vectors:11d}  {result.timings['library']:9.1f}  {elapsed:5.0f}  {kept_in:6.1f}  "
                f"{sum(p.second >= len(result.own_items) for p in result.pairs):18d}  "
                f"{hits / truth:.3f} ({hits}/{truth})  {false}"
                f"   (filled in {filled:.0f} s)"
            )
        print("recall per transform at the largest size (copy vs its original in the library):")
        for transform, found in per_transform.items():
            print(f"  {transform:<13} {sum(found) / len(found):.3f}  ({sum(found)}/{len(found)})")
    return 0


def _source(dataset: Dataset, name: str) -> SourceFile:
    return SourceFile(str(dataset.root / name), name)


def _keep(library: Library, result: Result, prefix: str) -> None:
    for number, entry in enumerate(result.kept):
        entry.key = f"{prefix}{number:06d}"
    library.add(result.kept)


def _fill(library: Library, pool: list[Entry], size: int, rng: np.random.Generator) -> None:
    """Distractors up to `size` entries, each indexing a moved part of a real picture's features (see above)."""
    count = library.size
    templates: dict[str, str] = {}
    while count < size:
        batch = []
        for number in range(count, min(count + DISTRACTOR_BATCH, size)):
            template = pool[number % len(pool)]
            moved = [
                replace(
                    unit, descriptors=_moved(unit.descriptors, rng), signature=_moved_signature(unit.signature, rng)
                )
                for unit in template.units
            ]
            batch.append(Entry(f"d{number:07d}", moved))
            templates[batch[-1].key] = template.key
        # their stored features are the real picture's own: a hard link, not a copy (see above)
        with mock.patch.object(library_module, "_save_entry", partial(_link, templates, library)):
            library.add(batch)
        count += len(batch)


def _link(templates: dict[str, str], library: Library, path: Path, entry: Entry) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.link(library.entry_path(templates.pop(entry.key)), path)


def _moved(descriptors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    order = rng.permutation(len(descriptors))
    noise = rng.normal(0.0, DESCRIPTOR_NOISE, (len(descriptors), descriptors.shape[1]))
    return np.clip(descriptors[order] + noise, 0, 255).astype(np.uint8)


def _moved_signature(signature: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    moved = signature + rng.normal(0.0, SIGNATURE_NOISE, signature.shape)
    moved -= moved.mean(axis=1, keepdims=True)
    return (moved / np.linalg.norm(moved, axis=1, keepdims=True)).astype(np.float32)


def _score(result: Result, dataset: Dataset, names: dict[str, str]) -> tuple[int, int, int, dict[str, list[bool]]]:
    """Hits, true pairs and false findings among (new item, library entry) pairs; recall per transform."""
    own = result.own_items
    kept = {key: dataset.item_families(name) for key, name in names.items()}
    truth = {
        (item.name, key)
        for item in own
        for key, families in kept.items()
        if dataset.item_families(item.name) & families
    }
    found = {
        (result.items[p.first].name, result.items[p.second].library)
        for p in result.pairs
        if p.verdict == DUPLICATE and p.second >= len(own)
    }
    per_transform: dict[str, list[bool]] = defaultdict(list)
    for pair in sorted(truth):
        per_transform[dataset.entry(pair[0]).transform].append(pair in found)
    return len(truth & found), len(truth), len(found - truth), per_transform


if __name__ == "__main__":
    raise SystemExit(main())
