"""How likely a match is to arise by chance, weighed against how many comparisons were made.

The a-contrario test of AC-RANSAC / ORSA (Moisan & Stival 2004; Moisan, Moulon & Monasse 2012): under a
background model where unrelated keypoint matches land anywhere, the number of false alarms of a fit is

    NFA = tests * (n - s) * C(n, k) * C(k, s) * p ** (k - s)

for k inliers among n putative matches, a model fixed by s = 2 matches (a similarity), and p the chance that
one unrelated match agrees with the model. A run of N pictures implicitly tries about N^2 / 2 pairs (and
each mirrored), so evidence that is rare for one pair is common in a large run: a match is significant only
when its NFA is below the number of false alarms allowed per run, whatever N is.

The dense path (whole pictures compared block by block, without keypoints) is weighed the same way: the
chance that m of B aligned blocks agree when each unrelated block agrees with probability q, times the tests.
"""

from __future__ import annotations

import math

import numpy as np

SAMPLE = 2  # matches that fix a similarity transform


def log10_binomial(n: int, k: int) -> float:
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)) / math.log(10)


def match_probability(
    radius: float,
    width: int,
    height: int,
    angle_tolerance: float,
    points1: np.ndarray | None = None,
    points2: np.ndarray | None = None,
    matrix: np.ndarray | None = None,
) -> float:
    """The chance that one unrelated match agrees with a model: its point falls within `radius` pixels of
    where the model puts it, and its orientation within +-`angle_tolerance` degrees of the model's turn.

    Keypoints are not spread evenly: a blot's lie on its bands, a chart's on its marks, in rows and columns
    that a model aligning two pictures of one layout lays onto each other. Given both pictures' keypoints
    (x, y first) and the model carrying the second's onto the first, the chance of landing is the share of
    all (first, second) keypoint pairs that the model puts within the radius, less one at each first point,
    when that is above an even spread's."""
    spot = min(1.0, math.pi * radius * radius / (width * height))
    if points1 is not None and points2 is not None and matrix is not None and len(points1) and len(points2):
        mapped = points2[:, :2].astype(np.float64) @ matrix[:, :2].T + matrix[:, 2]
        # leave one out: the one point a true copy puts there is what is being tested, not background
        near = np.maximum(_neighbours(points1[:, :2].astype(np.float64), mapped, radius) - 1, 0)
        spot = max(spot, float(near.sum()) / (len(points1) * len(points2)))
    return spot * min(1.0, 2 * angle_tolerance / 360.0)


def _neighbours(points: np.ndarray, others: np.ndarray, radius: float) -> np.ndarray:
    """For each point, how many of the others lie within `radius` of it."""
    others = others[np.argsort(others[:, 0])]
    low = np.searchsorted(others[:, 0], points[:, 0] - radius)
    counts = np.searchsorted(others[:, 0], points[:, 0] + radius, side="right") - low
    # every (point, other) pair within the radius along x, then checked in full
    point = np.repeat(np.arange(len(points)), counts)
    other = np.repeat(low - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    close = ((points[point] - others[other]) ** 2).sum(axis=1) < radius * radius
    return np.bincount(point[close], minlength=len(points))


def log10_nfa_fit(tests: float, matches: int, inliers: int, probability: float) -> float:
    """log10 of the number of false alarms of a fit with `inliers` of `matches` agreeing with its model."""
    if inliers <= SAMPLE or matches < inliers:
        return math.inf
    return (
        math.log10(max(tests, 1.0))
        + math.log10(matches - SAMPLE)
        + log10_binomial(matches, inliers)
        + log10_binomial(inliers, SAMPLE)
        + (inliers - SAMPLE) * math.log10(probability)
    )


def log10_nfa_blocks(tests: float, blocks: int, agreeing: int, probability: float) -> float:
    """log10 of the number of false alarms of `agreeing` of `blocks` aligned blocks agreeing: the binomial tail."""
    if agreeing <= 0:
        return math.log10(max(tests, 1.0))
    terms = [
        log10_binomial(blocks, m) + m * math.log10(probability) + (blocks - m) * math.log10(1 - probability)
        for m in range(agreeing, blocks + 1)
    ]
    top = max(terms)
    return math.log10(max(tests, 1.0)) + top + math.log10(sum(10 ** (t - top) for t in terms))


def pair_tests(units: int, views: int) -> float:
    """How many comparisons a run of `units` pictures implicitly makes, each under `views` views."""
    return max(1.0, units * (units - 1) / 2) * views
