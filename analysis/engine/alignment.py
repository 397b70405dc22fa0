"""What a verified match is: how the second picture maps onto the first (the transform), and the evidence
for it. Kept apart from verify.py, which finds them, so that features (a picture's copy inside itself) and
verification each import it without importing each other."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class Alignment:
    """How the second item maps onto the first, with its evidence."""

    inliers: int
    mirrored: bool
    matrix: np.ndarray  # 2x3, second item's (possibly mirrored) pixels -> first item's pixels, original sizes
    points1: np.ndarray  # (n, 2) inlier positions in the first item, in [0, 1]
    points2: np.ndarray  # (n, 2) in the second item, in [0, 1]
    region1: tuple[float, float, float, float]  # x0, y0, x1, y1 in [0, 1]
    region2: tuple[float, float, float, float]
    content: float  # share of textured blocks that agree once aligned, 0..1 (a chart confirmed by its marks: marks too)
    blocks: int  # textured blocks compared
    matches: int = 0  # ratio-test matches the inliers were found among
    # log10 of its number of false alarms in one comparison (significance.py): under both mirrorings for
    # keypoints, the 8 dihedral views for a whole-image match
    chance: float = 0.0
    # log10 of its expected false alarms among all the comparisons of its run (chance, times the run's tests):
    # set where the run weighs it; what the verdict and the confidence read
    false_alarms: float | None = None
    tone: float | None = None  # tone_agreement, where it was measured
    pattern: float | None = None  # pattern_agreement, where it was measured
    contradictions: int | None = None  # verify.contradictions, where it was counted
    solid: float | None = None  # verify.solid_differences, where it was measured

    @property
    def transform(self) -> Transform:
        return Transform.from_matrix(self.matrix, self.mirrored)


@dataclass(frozen=True)
class Transform:
    """The second image relative to the first: mirror first, then rotate, then scale."""

    mirrored: bool
    rotation: float  # degrees, counter-clockwise as seen, in (-180, 180]
    scale: float

    @classmethod
    def from_matrix(cls, matrix: np.ndarray, mirrored: bool) -> Transform:
        # matrix maps image2 (mirrored if so) into image1; invert to describe image2.
        linear = np.linalg.inv(matrix[:, :2])
        scale = math.sqrt(abs(np.linalg.det(linear)))
        # Pixel rows grow downwards, so a positive matrix angle is clockwise as seen.
        angle = -math.degrees(math.atan2(linear[1, 0], linear[0, 0]))
        angle = (angle + 180.0) % 360.0 - 180.0
        if angle <= -180.0 + 1e-9:
            angle = 180.0
        return cls(mirrored, angle, scale)

    def describe(self) -> str:
        parts = []
        rotation = self.rotation
        quarter = round(rotation / 90.0) * 90
        if abs(rotation - quarter) < 2.0:
            rotation = float(quarter)
        if self.mirrored and abs(abs(rotation) - 180.0) < 1e-9:
            parts.append("flipped vertically")
        else:
            if self.mirrored:
                parts.append("flipped horizontally")
            if rotation:
                parts.append(f"rotated {rotation:g}°" if rotation == int(rotation) else f"rotated {rotation:.1f}°")
        scale = f"{self.scale:.2f}".rstrip("0").rstrip(".")
        parts.append(f"{scale}x")
        return ", ".join(parts) if len(parts) > 1 or scale != "1" else "same orientation, 1x"
