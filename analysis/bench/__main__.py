"""Benchmark: quality on a generated data set, and how time grows with N.

python -m analysis.bench                      # quality, then scaling at 250 500 1000 2000
python -m analysis.bench --scaling 250 500    # other sizes
python -m analysis.bench --no-scaling         # quality only
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from analysis.bench.dataset import REPEATED_INSIDE, TRANSFORMS, Dataset, quality_set, scaling_set
from analysis.engine import confidence
from analysis.engine.pipeline import DUPLICATE, Options, Result, find_duplicates
from analysis.engine.sources import collect_files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scaling", type=int, nargs="*", default=[250, 500, 1000, 2000])
    parser.add_argument("--no-scaling", action="store_true")
    parser.add_argument("--no-quality", action="store_true")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--clip", action="store_true", help="run CLIP too (needs downloaded weights)")
    parser.add_argument("--show-errors", action="store_true", help="list missed and false pairs")
    parser.add_argument("--dump", type=Path, help="write every verified pair with its evidence to this TSV")
    parser.add_argument("--calibrate", action="store_true", help="fit the confidence model on the quality set")
    args = parser.parse_args()
    options = Options(use_clip=args.clip, workers=args.workers)

    with tempfile.TemporaryDirectory(prefix="deepchecker-bench-") as folder:
        if not args.no_quality:
            quality(Path(folder) / "quality", args.seed, options, args.show_errors, args.dump, args.calibrate)
        if not args.no_scaling:
            scaling(Path(folder), args.scaling, options)
    return 0


def run(dataset: Dataset, options: Options) -> tuple[Result, float]:
    files, _ = collect_files([dataset.root])
    started = time.perf_counter()
    result = find_duplicates(files, options)
    return result, time.perf_counter() - started


def quality(
    root: Path, seed: int, options: Options, show_errors: bool, dump: Path | None, calibrate: bool = False
) -> None:
    started = time.perf_counter()
    dataset = quality_set(root, seed)
    print(f"quality set: {len(dataset.entries)} files generated in {time.perf_counter() - started:.0f} s (seed {seed})")
    result, elapsed = run(dataset, options)
    names = [item.name for item in result.items]
    families = [dataset.item_families(name) for name in names]
    truth = {
        (i, j)
        for i, j in itertools.combinations(range(len(names)), 2)
        if families[i] & families[j] and not _same_page(names[i], names[j])
    }
    found = {(p.first, p.second) for p in result.pairs if p.verdict == DUPLICATE and not p.within}
    hits = len(truth & found)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    print(f"items {len(names)}, skipped {len(result.skipped)}, true pairs {len(truth)}, verified {len(result.pairs)}")
    print(f"duplicate pairs: precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}")

    index = {name: i for i, name in enumerate(names)}
    per_transform: dict[str, list[bool]] = defaultdict(list)
    for entry in dataset.entries:
        if entry.transform in TRANSFORMS:
            family = next(iter(entry.families))
            original = next(e.name for e in dataset.entries if e.families == {family} and e.transform == "original")
            pair = tuple(sorted((index[original], index[entry.name])))
            per_transform[entry.transform].append(pair in found)
        elif entry.transform == "pdf":
            for i, name in enumerate(names):
                if name.startswith(entry.name + "#"):
                    for j, other in enumerate(names):
                        if dataset.entry(other).transform == "original" and families[i] & families[j]:
                            per_transform["pdf"].append(tuple(sorted((i, j))) in found)
    print("recall per transform (original vs derived):")
    for transform, hits_ in per_transform.items():
        print(f"  {transform:<13} {sum(hits_) / len(hits_):.3f}  ({sum(hits_)}/{len(hits_)})")

    look = [dataset.entry(name).look_alike for name in names]
    hard = {
        (i, j)
        for i, j in itertools.combinations(range(len(names)), 2)
        if look[i] and look[i] == look[j] and not families[i] & families[j]
    }
    false_hard = hard & found
    print(f"false positives among {len(hard)} hard-negative pairs: {len(false_hard)}")
    for kind in sorted({look[i] for i, _ in hard}):
        pairs_of_kind = {(i, j) for i, j in hard if look[i] == kind}
        print(f"  {kind:<18} {len(pairs_of_kind & found)} of {len(pairs_of_kind)}")
    print(f"false positives in all: {len(found - truth)}")
    report_panels(result, dataset, truth & found)
    report_copies_inside(result, dataset)
    print_timings(result, elapsed)
    report_confidence(result, truth, calibrate)
    if dump:
        with dump.open("w") as out:
            out.write("truth\tverdict\tinliers\tcontent\tblocks\tclip\timage1\timage2\n")
            for p in result.pairs:
                a = p.alignment
                evidence = f"{a.inliers}\t{a.content:.3f}\t{a.blocks}" if a else "0\t\t0"
                true = int((p.first, p.second) in truth)
                out.write(
                    f"{true}\t{p.verdict}\t{evidence}\t{p.clip_score or ''}\t{names[p.first]}\t{names[p.second]}\n"
                )
    if show_errors:
        for i, j in sorted(truth - found):
            pair = next((p for p in result.pairs if (p.first, p.second) == (i, j)), None)
            detail = (
                f"{pair.local_matches} matches, content {pair.alignment.content:.2f}"
                if pair and pair.alignment
                else ("verified, no alignment" if pair else "not a candidate")
            )
            print(f"  missed: {names[i]} ~ {names[j]}: {detail}")
        for i, j in sorted(found - truth):
            pair = next(p for p in result.pairs if (p.first, p.second) == (i, j))
            print(
                f"  false: {names[i]} ~ {names[j]}: {pair.local_matches} matches, content {pair.alignment.content:.2f}"
            )


def report_panels(result: Result, dataset: Dataset, hits: set[tuple[int, int]]) -> None:
    """Of the true pairs found with a figure on one side, how many name the panel that holds the copy."""
    by_items = {(p.first, p.second): p for p in result.pairs if not p.within}
    named, total = 0, 0
    for i, j in sorted(hits):
        pair = by_items[(i, j)]
        sides = [(result.items[k].name, panel) for k, panel in ((i, pair.first_panel), (j, pair.second_panel))]
        if not any(dataset.entry(name).panel_families for name, _ in sides):
            continue
        total += 1
        first, second = (dataset.panel_families(name, panel) for name, panel in sides)
        at_panel = all(panel is not None for (name, panel) in sides if dataset.entry(name).panel_families)
        named += bool(first & second) and at_panel
    print(f"pairs with a figure, named at the panel that holds the copy: {named}/{total}")


def report_copies_inside(result: Result, dataset: Dataset) -> None:
    """Recall of copies inside one picture or figure, by kind, and such findings in pictures that hold none."""
    findings: dict[int, list] = defaultdict(list)
    for pair in result.pairs:
        if pair.within and pair.verdict == DUPLICATE:
            findings[pair.first].append(pair)
    hits: dict[str, list[bool]] = defaultdict(list)
    false, in_textures = [], 0
    for index, item in enumerate(result.items):
        entry = dataset.entry(item.name)
        if entry.families & REPEATED_INSIDE:
            in_textures += bool(findings[index])
            continue
        if not entry.copy_inside or "#" in item.name:
            false.extend(findings[index])
            continue
        if entry.copy_inside == "panel":
            shown_twice = {k + 1 for k, families in enumerate(entry.panel_families) if families}
            hits["panel"].append(any({p.first_panel, p.second_panel} == shown_twice for p in findings[index]))
        else:
            hits[entry.copy_inside].append(bool(findings[index]))
    print("copies inside one picture (a region pasted elsewhere) or one figure (a panel shown twice): recall")
    for kind, found in hits.items():
        print(f"  {kind:<18} {sum(found) / len(found):.3f}  ({sum(found)}/{len(found)})")
    clean = sum(1 for item in result.items if not dataset.entry(item.name).copy_inside)
    print(f"  found in pictures that hold no copy: {len(false)} (of {clean} such pictures)")
    print(f"  found in versions of the grass and gravel textures, which repeat regions of themselves: {in_textures}")
    for pair in false:
        print(f"    {result.items[pair.first].name}: {pair.alignment.region1} ~ {pair.alignment.region2}")


def report_confidence(result: Result, truth: set[tuple[int, int]], calibrate: bool) -> None:
    pairs = [pair for pair in result.pairs if not pair.within]  # fitted on pairs of pictures
    rows = np.array([pair.evidence for pair in pairs])
    true = np.array([(pair.first, pair.second) in truth for pair in pairs], dtype=float)
    if calibrate:
        coefficients = confidence.fit(rows, true)
        print("confidence coefficients (" + ", ".join(confidence.FEATURES) + "):")
        print(f"  {coefficients}")
    else:
        coefficients = confidence.COEFFICIENTS
    predicted = np.array([confidence.confidence(row, coefficients) for row in rows])
    print("confidence calibration (predicted -> share truly duplicated, over verified pairs):")
    for low, high, count, mean, share in confidence.reliability(predicted, true):
        print(f"  {low:.2f}-{high:.2f}  {count:6d} pairs  predicted {mean:.3f}  true {share:.3f}")


def _same_page(first: str, second: str) -> bool:
    """A PDF page and an image embedded in it: the same pixels by construction, never a finding."""
    return first.startswith(second + "&image=") or second.startswith(first + "&image=")


def scaling(folder: Path, sizes: list[int], options: Options) -> None:
    print("scaling (synthetic images of about 1000 px, 3 derived copies per original):")
    print(f"  {'N':>5} {'items':>6} {'pairs verified':>15} {'seconds':>8} {'x previous':>10}  per stage")
    previous = None
    for size in sizes:
        dataset = scaling_set(folder / f"scaling_{size}", size)
        result, elapsed = run(dataset, options)
        growth = f"{elapsed / previous:.2f}" if previous else "-"
        stages = " ".join(f"{stage} {seconds:.0f}" for stage, seconds in result.timings.items())
        print(f"  {size:>5} {len(result.items):>6} {len(result.pairs):>15} {elapsed:>8.1f} {growth:>10}  {stages}")
        sys.stdout.flush()
        previous = elapsed


def print_timings(result: Result, elapsed: float) -> None:
    stages = ", ".join(f"{stage} {seconds:.1f}" for stage, seconds in result.timings.items())
    print(f"seconds: total {elapsed:.1f} ({stages})")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
