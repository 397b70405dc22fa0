"""What a found transform shows a person: the second picture laid onto the first, and what else changed."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np


def second_onto_first(
    first: np.ndarray,
    second: np.ndarray,
    matrix: Sequence[Sequence[float]],
    mirrored: bool,
    first_size: tuple[int, int],
    second_size: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """The second picture warped into the first picture's frame, and the mask of where it lands.

    The pictures may be scaled views of the items; matrix maps the second item's (mirrored, if so) pixels to
    the first item's pixels, at their original sizes, as alignment.Alignment does.
    """
    (h1, w1), (h2, w2) = first.shape[:2], second.shape[:2]
    view_to_second = np.diag([second_size[0] / w2, second_size[1] / h2, 1.0])
    mirror = np.array([[-1.0, 0, second_size[0]], [0, 1, 0], [0, 0, 1]]) if mirrored else np.eye(3)
    first_to_view = np.diag([w1 / first_size[0], h1 / first_size[1], 1.0])
    mapping = (first_to_view @ np.vstack([np.asarray(matrix, np.float64), [0, 0, 1]]) @ mirror @ view_to_second)[:2]
    warped = cv2.warpAffine(second, mapping, (w1, h1), flags=cv2.INTER_LINEAR, borderValue=0)
    covered = cv2.warpAffine(np.full((h2, w2), 255, np.uint8), mapping, (w1, h1), flags=cv2.INTER_NEAREST) > 0
    return warped, covered


def intensity_change(first: np.ndarray, warped: np.ndarray, covered: np.ndarray) -> tuple[float, float] | None:
    """Gain and offset taking the first's grey levels to the second's where both show the same place;
    None where too little overlaps or the overlap is flat."""
    if np.count_nonzero(covered) < 400:
        return None
    grey1 = cv2.cvtColor(first, cv2.COLOR_RGB2GRAY)[covered].astype(np.float64)
    grey2 = cv2.cvtColor(warped, cv2.COLOR_RGB2GRAY)[covered].astype(np.float64)
    if grey1.std() < 4:
        return None
    gain, offset = np.polyfit(grey1, grey2, 1)
    return float(gain), float(offset)


def describe_change(change: tuple[float, float] | None) -> str:
    if change is None:
        return "contrast change not measurable"
    gain, offset = change
    if abs(gain - 1) < 0.08 and abs(offset) < 8:
        return "same contrast and brightness"
    return f"contrast {gain:.2f}x, brightness {offset:+.0f} of 255"


def describe_crop(
    region1: Sequence[float], region2: Sequence[float], names: tuple[str, str] = ("the first image", "the second")
) -> str:
    """How much of each picture (or panel: `names` say which) the shared part is."""

    def share(region: Sequence[float]) -> float:
        return max(0.0, region[2] - region[0]) * max(0.0, region[3] - region[1])

    return f"the shared part is {share(region1):.0%} of {names[0]} and {share(region2):.0%} of {names[1]}"
