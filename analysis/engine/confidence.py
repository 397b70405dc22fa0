"""One number per pair: how likely it is a true duplicate, given its evidence.

A logistic model over the evidence (verdict, inliers, content agreement, blocks compared, the shared
share of the images, CLIP score, and how far beyond chance the match is among all the comparisons of its
run: a fit that passes the significance test with little to spare is as likely a look-alike's), fitted on
the benchmark's verified pairs (`python -m analysis.bench.calibrate` prints new coefficients), so that "95%"
means about 95% of such pairs were true there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

FEATURES = ["bias", "duplicate", "log_inliers", "content", "log_blocks", "shared", "clip", "has_clip", "significance"]
# fitted by `python -m analysis.bench.calibrate` (CLIP off): see the README
COEFFICIENTS = [-6.3246, 6.7176, -0.4244, 10.0263, -0.4372, -10.1362, 0.0, 0.0, 1.9443]
BANDS = ((0.9, "high"), (0.5, "medium"), (0.0, "low"))


def features(
    verdict_is_duplicate: bool,
    inliers: int,
    content: float | None,
    blocks: int,
    region1: Sequence[float] | None,
    region2: Sequence[float] | None,
    clip_score: float | None,
    false_alarms: float | None,
) -> list[float]:
    """`false_alarms`: log10 of the match's expected false alarms among its run's comparisons (None: not weighed)."""

    def share(region: Sequence[float] | None) -> float:
        return 0.0 if region is None else max(0.0, region[2] - region[0]) * max(0.0, region[3] - region[1])

    return [
        1.0,
        float(verdict_is_duplicate),
        math.log1p(inliers),
        content or 0.0,
        math.log1p(blocks),
        min(share(region1), share(region2)),
        clip_score or 0.0,
        float(clip_score is not None),
        math.log1p(max(0.0, -false_alarms)) if false_alarms is not None else 0.0,
    ]


def confidence(values: Sequence[float], coefficients: Sequence[float] = COEFFICIENTS) -> float:
    score = float(np.dot(values, coefficients))
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, score))))


def band(probability: float) -> str:
    return next(name for floor, name in BANDS if probability >= floor)


def fit(rows: np.ndarray, truth: np.ndarray, l2: float = 1e-2, steps: int = 60) -> list[float]:
    """Logistic regression by Newton's method, with a little L2 so that separable data stays finite."""
    weights = np.zeros(rows.shape[1])
    for _ in range(steps):
        predicted = 1.0 / (1.0 + np.exp(-np.clip(rows @ weights, -30, 30)))
        curvature = predicted * (1.0 - predicted)
        hessian = rows.T @ (rows * curvature[:, None]) + l2 * np.eye(rows.shape[1])
        gradient = rows.T @ (predicted - truth) + l2 * weights
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.abs(step).max() < 1e-8:
            break
    return [round(float(w), 4) for w in weights]


def reliability(probabilities: np.ndarray, truth: np.ndarray, edges=(0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 1.0001)):
    """(low, high, pairs, mean predicted, share true) per bin of predicted probability."""
    table = []
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (probabilities >= low) & (probabilities < high)
        if inside.any():
            table.append(
                (
                    low,
                    min(high, 1.0),
                    int(inside.sum()),
                    float(probabilities[inside].mean()),
                    float(truth[inside].mean()),
                )
            )
    return table
