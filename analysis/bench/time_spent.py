"""Where an analysis spends its time: per stage, per picture read, per pair verified, and, for reading, per
function in one process (`python -m analysis.bench --profile`)."""

from __future__ import annotations

import cProfile
import pstats
import time
from pathlib import Path

import cv2
import numpy as np
from threadpoolctl import threadpool_limits

from analysis.bench.dataset import scaling_set
from analysis.engine.pipeline import Options, Result, find_duplicates
from analysis.engine.readers import ReaderOptions, read_file
from analysis.engine.sources import collect_files

SLOWEST = 5
FUNCTIONS = 12
SAMPLE = 40  # files read again in this process under the profiler


def profile(folder: Path, size: int, options: Options) -> None:
    dataset = scaling_set(folder / f"profile_{size}", size)
    files, _ = collect_files([dataset.root])
    started = time.perf_counter()
    result = find_duplicates(files, options)
    elapsed = time.perf_counter() - started
    stages = ", ".join(f"{stage} {seconds:.1f}" for stage, seconds in result.timings.items())
    print(f"profile of the scaling set of {size} pictures (CLIP {'on' if options.use_clip else 'off'}):")
    print(f"  per stage, seconds: total {elapsed:.1f} ({stages})")
    _per_item(result)
    _per_pair(result)
    _reading_functions(files[:: max(1, len(files) // SAMPLE)][:SAMPLE], options)


def _spread(seconds: list[float], unit: float = 1.0) -> str:
    values = np.array(seconds) * unit
    mean, median, high, most = values.mean(), np.median(values), np.percentile(values, 95), values.max()
    return f"mean {mean:.3f}, median {median:.3f}, 95% {high:.3f}, most {most:.3f}"


def _per_item(result: Result) -> None:
    """Reading time by what a picture is (each in one reader process, beside the others)."""
    kinds = {
        "figures cut into panels": [item for item in result.items if item.panels],
        "charts": [item for item in result.items if item.chart and not item.panels],
        "other pictures": [item for item in result.items if not item.chart and not item.panels],
    }
    print("  per picture read, seconds:")
    for kind, items in kinds.items():
        if items:
            print(f"    {kind:<24} {len(items):>5}: {_spread([item.seconds for item in items])}")
    for item in sorted(result.items, key=lambda item: -item.seconds)[:SLOWEST]:
        print(
            f"    slow: {item.name} ({item.original_size[0]}x{item.original_size[1]}, {item.keypoints} keypoints, "
            f"{len(item.panels)} panels): {item.seconds:.2f}"
        )


def _per_pair(result: Result) -> None:
    """Verification time by verdict (each pair in one of the verifying threads)."""
    print("  per pair verified, milliseconds:")
    for verdict in sorted({pair.verdict for pair in result.pairs}):
        pairs = [pair for pair in result.pairs if pair.verdict == verdict and not pair.within]
        if pairs:
            print(f"    {verdict or 'not a copy':<24} {len(pairs):>5}: {_spread([p.seconds for p in pairs], 1000)}")
    for pair in sorted(result.pairs, key=lambda pair: -pair.seconds)[:SLOWEST]:
        a = pair.alignment
        evidence = f"{a.inliers} inliers of {a.matches}, {a.blocks} blocks" if a else "no alignment"
        print(
            f"    slow: {result.place_name(pair.places[0])} ~ {result.place_name(pair.places[1])} "
            f"({pair.verdict or 'not a copy'}, {evidence}): {pair.seconds * 1000:.0f}"
        )


def _reading_functions(files: list, options: Options) -> None:
    """The functions that reading spends its time in, for a sample of files read in this process alone."""
    reader = ReaderOptions(options.limits, options.features, options.verify, options.clones)
    profiler = cProfile.Profile()
    cv2.setNumThreads(1)  # as in a reader process
    with threadpool_limits(1):
        profiler.runcall(lambda: [read_file(source, reader) for source in files])
    stats = pstats.Stats(profiler)
    total = sum(row[2] for row in stats.stats.values())  # own time of every function
    print(f"  reading {len(files)} files in one process: {total / len(files):.3f} s a file; most own time in:")
    rows = sorted(stats.stats.items(), key=lambda row: -row[1][2])[:FUNCTIONS]
    for (path, line, function), (_, calls, own, _, _) in rows:
        where = function if path == "~" else f"{Path(path).name}:{line} {function}"
        print(f"    {own / total:>5.1%}  {own / len(files) * 1000:>6.1f} ms a file  {calls:>6} calls  {where}")
