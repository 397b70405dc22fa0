"""The original tool's recipe beside this engine, on the second generator's quality set.

python -m analysis.bench.all_pairs [--seed 201] [--sample 3000]

The recipe: SIFT (OpenCV's, at the engine's 800 px and 1,200 keypoints), Lowe's ratio test (0.75) with a
brute-force matcher, a RANSAC homography (5 px), a duplicate at 15 inliers or more, tried on every pair.
Every true pair is tried, and a random sample of the other pairs; the time and the false duplicates of all
pairs are extrapolated from that sample, and its time for 1,000 pictures from its time per picture and per
pair. The engine runs on the same set, CLIP off, as in the scaling table.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from analysis.bench.score import same_page, score
from analysis.bench.second.sets import quality_set
from analysis.engine.features import FeatureOptions, resize_longest
from analysis.engine.pipeline import Options, find_duplicates
from analysis.engine.sources import Limits, UnreadableItem, collect_files, decode, expand

RATIO = 0.75
RANSAC_PIXELS = 5.0
MIN_INLIERS = 15
PICTURES = 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=201)
    parser.add_argument("--sample", type=int, default=3000, help="pairs of different sources to try")
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="deepchecker-all-pairs-") as folder:
        dataset = quality_set(Path(folder) / "set", args.seed)
        files, _ = collect_files([dataset.root])

        started = time.perf_counter()
        result = find_duplicates(files, Options(use_clip=False, workers=args.workers))
        engine_seconds = time.perf_counter() - started
        engine = score(result, dataset)

        started = time.perf_counter()
        names, features = read(files)
        reading = (time.perf_counter() - started) / len(names)

    families = [dataset.item_families(name) for name in names]
    pairs = [(i, j) for i, j in itertools.combinations(range(len(names)), 2) if not same_page(names[i], names[j])]
    truth = [(i, j) for i, j in pairs if families[i] & families[j]]
    others = [(i, j) for i, j in pairs if not families[i] & families[j]]
    rng = np.random.default_rng(args.seed)
    sample = [others[k] for k in rng.choice(len(others), min(args.sample, len(others)), replace=False)]
    matcher = cv2.BFMatcher(cv2.NORM_L2)
    started = time.perf_counter()
    found_true = sum(is_duplicate(features[i], features[j], matcher) for i, j in truth)
    found_false = sum(is_duplicate(features[i], features[j], matcher) for i, j in sample)
    per_pair = (time.perf_counter() - started) / (len(truth) + len(sample))

    false = found_false / len(sample) * len(others)
    precision = found_true / (found_true + false) if found_true + false else 1.0
    recall = found_true / len(truth)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    recipe_seconds = len(names) * reading + len(pairs) * per_pair
    thousand = PICTURES * reading + PICTURES * (PICTURES - 1) / 2 * per_pair
    print(f"second generator, seed {args.seed}: {len(names)} pictures, {len(pairs)} pairs, {len(truth)} true")
    print(
        f"  all-pairs recipe: {reading:.3f} s a picture, {per_pair * 1000:.1f} ms a pair ({len(truth)} true pairs "
        f"and {len(sample)} others tried); false duplicates {found_false} of {len(sample)} sampled, "
        f"about {false:.0f} over all {len(others)}"
    )
    print(f"    precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}  about {recipe_seconds:.0f} s")
    print(
        f"  this engine:      precision {engine.precision:.3f}  recall {engine.recall:.3f}  F1 {engine.f1:.3f}  "
        f"{engine_seconds:.0f} s measured"
    )
    print(f"  all-pairs recipe on {PICTURES} pictures: about {thousand:.0f} s (the engine's: the scaling table)")


def read(files: list) -> tuple[list[str], list[tuple[np.ndarray, np.ndarray]]]:
    """Every picture's keypoint positions and SIFT descriptors, as the recipe takes them."""
    options, limits = FeatureOptions(), Limits()
    sift = cv2.SIFT_create(options.sift_max_keypoints)
    names, features = [], []
    for source in files:
        try:
            refs = expand(source, limits)
        except UnreadableItem:
            continue
        for ref in refs:
            try:
                decoded = decode(ref, options.sift_max_side, limits)
            except UnreadableItem:
                continue
            gray = resize_longest(cv2.cvtColor(decoded.rgb, cv2.COLOR_RGB2GRAY), options.sift_max_side)
            keypoints, descriptors = sift.detectAndCompute(gray, None)
            points = np.array([k.pt for k in keypoints], np.float32).reshape(-1, 2)
            names.append(ref.name)
            features.append((points, descriptors if descriptors is not None else np.zeros((0, 128), np.float32)))
    return names, features


def is_duplicate(first: tuple, second: tuple, matcher: cv2.BFMatcher) -> bool:
    (points1, descriptors1), (points2, descriptors2) = first, second
    if len(descriptors1) < 2 or len(descriptors2) < 2:
        return False
    matches = [m for m, n in matcher.knnMatch(descriptors1, descriptors2, k=2) if m.distance < RATIO * n.distance]
    if len(matches) < MIN_INLIERS:
        return False
    source = points1[[m.queryIdx for m in matches]]
    target = points2[[m.trainIdx for m in matches]]
    _, mask = cv2.findHomography(source, target, cv2.RANSAC, RANSAC_PIXELS)
    return mask is not None and int(mask.sum()) >= MIN_INLIERS


if __name__ == "__main__":  # readers are spawned and import this file again
    main()
