"""Fit the confidence model (analysis/engine/confidence.py) on sets that the benchmark does not report on.

python -m analysis.bench.calibrate                      # prints the coefficients and each set's calibration
python -m analysis.bench.calibrate --growth-size 1000   # a smaller growth set, for a quick look

Its rows are the verified pairs of three sets, each chosen for what the others lack: the first generator's
seed 7 (where the thresholds were chosen: every kind of edit), the second generator's seed 101 (its chart and
lab styles, copies edited twice, panels) and the growth set's seed 302 (look-alikes by the thousand, whose
false duplicates pass the significance test with little to spare: the only rows that teach the model how far
beyond chance a duplicate has to be). The benchmark reports the first generator's seeds 8-10, the second's
201-203 and the growth set's seed 301, none of them fitted on.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from analysis.bench import growth
from analysis.bench.dataset import quality_set
from analysis.bench.score import evidence_rows, print_calibration, score
from analysis.bench.second.sets import growth_set
from analysis.bench.second.sets import quality_set as second_quality_set
from analysis.engine import confidence
from analysis.engine.pipeline import Options, compare, find_duplicates
from analysis.engine.sources import collect_files

Rows = tuple[np.ndarray, np.ndarray]  # score.evidence_rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--growth-size", type=int, default=3000)
    parser.add_argument("--cache", type=Path, default=Path("data/bench-cache/growth"))
    args = parser.parse_args()
    options = Options(use_clip=False)
    sets: dict[str, Rows] = {}
    with tempfile.TemporaryDirectory(prefix="deepchecker-calibrate-") as folder:
        for name, generate, seed in (("first, seed 7", quality_set, 7), ("second, seed 101", second_quality_set, 101)):
            dataset = generate(Path(folder) / name.replace(", ", "_"), seed)
            result = find_duplicates(collect_files([dataset.root])[0], options)
            sets[name] = evidence_rows(result, score(result, dataset).truth)
            print(f"{name}: {len(sets[name][1])} verified pairs, {int(sets[name][1].sum())} true", flush=True)
    sets[f"growth, seed 302 at {args.growth_size}"] = growth_rows(args.cache, args.growth_size, options)
    evidence = np.concatenate([rows for rows, _ in sets.values()])
    truth = np.concatenate([true for _, true in sets.values()])
    coefficients = confidence.fit(evidence, truth)
    print("confidence coefficients (" + ", ".join(confidence.FEATURES) + "):")
    print(f"  {coefficients}")
    for name, (rows_of_set, true) in sets.items():
        print(f"{name}:")
        print_calibration(rows_of_set, true, coefficients)
    return 0


def growth_rows(cache: Path, size: int, options: Options) -> Rows:
    folder = cache / "seed_302"
    dataset = growth_set(folder / "files", size, 302)
    units = growth.features(dataset, folder / "features", options)
    result = compare([unit for file in units for unit in file], [], options)
    found = evidence_rows(result, growth.truth(result, dataset))
    print(f"growth, seed 302 at {size}: {len(found[1])} verified pairs, {int(found[1].sum())} true", flush=True)
    return found


if __name__ == "__main__":
    sys.exit(main())
