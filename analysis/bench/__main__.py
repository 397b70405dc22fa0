"""Benchmark: quality on two independently written data generators, and how time grows with N.

python -m analysis.bench                      # both generators on unseen seeds (worst seed), then scaling
python -m analysis.bench --no-scaling         # quality only
python -m analysis.bench --detail 7 --no-scaling --show-errors   # the first generator's seed 7 in detail
python -m analysis.bench --scaling 250 500    # other sizes
python -m analysis.bench --no-quality --scaling 1000 --against 191e35b   # this code beside that version
python -m analysis.bench --no-quality --profile --scaling 300   # where the time goes

Thresholds are chosen on the first generator's seed 7 (analysis/bench/dataset.py); the quality table is
reported on other seeds of it and on the second generator (analysis/bench/second/), which shares no drawing,
editing or layout code with the first.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from analysis.bench.dataset import REPEATED_INSIDE, TRANSFORMS, Dataset, quality_set, scaling_set
from analysis.bench.processes import ROOT
from analysis.bench.score import Score, report_confidence, score
from analysis.bench.second.sets import quality_set as second_quality_set
from analysis.bench.time_spent import profile
from analysis.engine.pipeline import DUPLICATE, Options, Result, find_duplicates
from analysis.engine.sources import collect_files

GENERATORS = {"first": quality_set, "second": second_quality_set}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--first-seeds", type=int, nargs="*", default=[8, 9, 10])
    parser.add_argument("--second-seeds", type=int, nargs="*", default=[201, 202, 203])
    parser.add_argument("--detail", type=int, metavar="SEED", help="the first generator's set of this seed in detail")
    parser.add_argument("--scaling", type=int, nargs="*", default=[250, 500, 1000, 2000])
    parser.add_argument("--no-scaling", action="store_true")
    parser.add_argument("--no-quality", action="store_true")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--profile", action="store_true", help="where the time goes, on the first scaling size")
    parser.add_argument("--against", metavar="GIT_REF", help="time this git version beside this code when scaling")
    parser.add_argument("--clip", action="store_true", help="run CLIP too (needs downloaded weights)")
    parser.add_argument("--show-errors", action="store_true", help="list missed and false pairs")
    parser.add_argument("--dump", type=Path, help="write every verified pair with its evidence to this TSV")
    args = parser.parse_args()
    options = Options(use_clip=args.clip, workers=args.workers)

    with tempfile.TemporaryDirectory(prefix="deepchecker-bench-") as folder:
        if args.detail is not None:
            quality(Path(folder) / "detail", args.detail, options, args.show_errors, args.dump)
        elif not args.no_quality:
            seeds = [("first", seed) for seed in args.first_seeds] + [("second", seed) for seed in args.second_seeds]
            unseen(Path(folder), seeds, options)
        if args.profile:
            profile(Path(folder), args.scaling[0], options)
        elif not args.no_scaling:
            scaling(Path(folder), args.scaling, args.workers, args.against)
    return 0


def unseen(folder: Path, seeds: list[tuple[str, int]], options: Options) -> None:
    """Quality per generator and seed, and the worst seed of each figure."""
    print("quality on seeds the thresholds were not chosen on (chosen on the first generator's seed 7):")
    header = f"  {'generator':<9} {'seed':>4} {'items':>5}  precision  recall  F1     panels       copies of copies"
    print(header + "  false (high band)  seconds")
    scores: list[tuple[str, int, Score]] = []
    per_edit: dict[str, list[bool]] = defaultdict(list)
    for generator, seed in seeds:
        dataset = GENERATORS[generator](folder / f"{generator}_{seed}", seed)
        result, elapsed = run(dataset, options)
        found = score(result, dataset)
        scores.append((generator, seed, found))
        if generator == "second":
            for edit, hits in found.per_transform.items():
                per_edit[edit] += hits
        panels, twice = found.panel_recall, found.transform_recall("twice")
        print(
            f"  {generator:<9} {seed:>4} {found.items:>5}  {found.precision:.3f}      {found.recall:.3f}   "
            f"{found.f1:.3f}  {_share(panels):<12} {_share(twice):<16}  {len(found.found - found.truth):>5} "
            f"({found.false_high})        {elapsed:>6.0f}"
        )
        for pair in found.false_pairs:
            a = pair.alignment
            print(
                f"      false: {result.items[pair.first].name} ~ {result.items[pair.second].name}: {a.inliers} inliers "
                f"of {a.matches}, content {a.content:.2f} over {a.blocks} blocks, confidence {pair.confidence:.3f}"
            )
        sys.stdout.flush()
    for figure, value in (
        ("precision", lambda s: s.precision),
        ("recall", lambda s: s.recall),
        ("panels", lambda s: _rate(s.panel_recall)),
        ("copies of copies", lambda s: _rate(s.transform_recall("twice"))),
    ):
        generator, seed, worst = min(scores, key=lambda row: value(row[2]))
        print(f"worst seed for {figure}: {value(worst):.3f} ({generator} generator, seed {seed})")
    print("recall per edit on the second generator, all its seeds:")
    for edit, hits in sorted(per_edit.items()):
        print(f"  {edit:<18} {_share((sum(hits), len(hits)))}")


def _rate(hits: tuple[int, int]) -> float:
    return hits[0] / hits[1] if hits[1] else 1.0


def _share(hits: tuple[int, int]) -> str:
    return f"{_rate(hits):.3f} ({hits[0]}/{hits[1]})" if hits[1] else "-"


def run(dataset: Dataset, options: Options) -> tuple[Result, float]:
    files, _ = collect_files([dataset.root])
    started = time.perf_counter()
    result = find_duplicates(files, options)
    return result, time.perf_counter() - started


def quality(root: Path, seed: int, options: Options, show_errors: bool, dump: Path | None) -> None:
    started = time.perf_counter()
    dataset = quality_set(root, seed)
    print(f"quality set: {len(dataset.entries)} files generated in {time.perf_counter() - started:.0f} s (seed {seed})")
    result, elapsed = run(dataset, options)
    names = [item.name for item in result.items]
    scored = score(result, dataset)
    truth, found = scored.truth, scored.found
    print(f"items {len(names)}, skipped {len(result.skipped)}, true pairs {len(truth)}, verified {len(result.pairs)}")
    print(f"duplicate pairs: precision {scored.precision:.3f}  recall {scored.recall:.3f}  F1 {scored.f1:.3f}")
    print("recall per transform (original vs derived):")
    for transform in (*TRANSFORMS, "pdf"):
        print(f"  {transform:<13} {_share(scored.transform_recall(transform))}")
    hard = set().union(*scored.hard.values())
    print(f"false positives among {len(hard)} hard-negative pairs: {len(hard & found)}")
    for kind, pairs_of_kind in sorted(scored.hard.items()):
        print(f"  {kind:<18} {len(pairs_of_kind & found)} of {len(pairs_of_kind)}")
    print(f"false positives in all: {len(found - truth)}")
    report_panels(result, dataset, truth & found)
    report_copies_inside(result, dataset)
    print_timings(result, elapsed)
    report_confidence(result, truth)
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


def scaling(folder: Path, sizes: list[int], workers: int, against: str | None) -> None:
    """Time per size, each version in a process of its own; with `against`, that git version first."""
    versions = {"this code": ROOT}
    if against:
        versions = {against: checkout(against, folder / "against"), **versions}
    print("scaling (synthetic images of about 1000 px, 3 derived copies per original; CLIP off):")
    print(
        f"  {'N':>5} {'version':<12} {'items':>6} {'pairs verified':>15} {'seconds':>8} {'x previous':>10}  per stage"
    )
    previous: dict[str, float] = {}
    for size in sizes:
        dataset = scaling_set(folder / f"scaling_{size}", size)
        found = {}
        for version, root in versions.items():
            found[version] = timed(root, dataset.root, workers)
            seconds = found[version]["seconds"]
            growth = f"{seconds / previous[version]:.2f}" if version in previous else "-"
            stages = " ".join(f"{stage} {value:.0f}" for stage, value in found[version]["timings"].items())
            print(
                f"  {size:>5} {version[:12]:<12} {found[version]['items']:>6} {found[version]['pairs']:>15} "
                f"{seconds:>8.1f} {growth:>10}  {stages}"
            )
            sys.stdout.flush()
            previous[version] = seconds
        if against:
            old, new = (set(found[version]["duplicates"]) for version in versions)
            print(
                f"        this code takes {found['this code']['seconds'] / found[against]['seconds']:.2f}x the time of "
                f"{against}; duplicates found by both {len(old & new)}, by {against} alone {len(old - new)}, "
                f"by this code alone {len(new - old)}"
            )


def checkout(ref: str, folder: Path) -> Path:
    """The `analysis` package of a git version of this repository, unpacked into the folder."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "analysis"], capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def timed(code: Path, dataset: Path, workers: int) -> dict:
    """timed.py's figures for the dataset, with the engine imported from the `code` folder."""
    environment = {**os.environ, "PYTHONPATH": str(code)}
    script = Path(__file__).with_name("timed.py")
    done = subprocess.run(
        [sys.executable, "-P", str(script), str(dataset), str(workers)], env=environment, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"timing {code} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def print_timings(result: Result, elapsed: float) -> None:
    stages = ", ".join(f"{stage} {seconds:.1f}" for stage, seconds in result.timings.items())
    print(f"seconds: total {elapsed:.1f} ({stages})")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
