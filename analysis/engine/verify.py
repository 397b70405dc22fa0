"""Geometric and photometric verification of one candidate pair.

Ratio-test matches (one-to-one) feed RANSAC for a similarity transform, tried
against the second image as it is and mirrored. A found transform counts
only if its inliers are spread over a real region and agree in keypoint
scale and orientation, and if the images, aligned by it, actually look alike
outside text and lines (a dense band-pass correlation, block by block).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import cv2
import numpy as np

from .alignment import Alignment
from .features import (
    DIHEDRAL_NAMES,
    ItemFeatures,
    mirror_descriptors,
    mirror_keypoints,
    root_sift,
)
from .significance import log10_nfa_blocks, log10_nfa_fit, match_probability

if TYPE_CHECKING:  # readers use the dense checks (clones.py) and must not load torch
    import torch


@dataclass(frozen=True)
class VerifyOptions:
    ratio: float = 0.8
    ransac_threshold: float = 0.006  # of the first image's diagonal
    min_keypoint_matches: int = 5
    enough_inliers: int = 30
    max_scale: float = 8.0
    min_region_side: float = 0.08  # of the image's shorter side, in both images
    check_block: int = 16
    check_min_blocks: int = 4
    check_block_agreement: float = 0.5  # band-pass correlation for a block to count as alike
    check_max_coherence: float = 0.9  # blocks more one-directional than this are edges, not content
    # a block with structure on one side only (a bar's top, a band, a data point the other picture lacks)
    # is a disagreement, even a straight edge: layout agrees in look-alikes, data marks do not
    check_structure: float = 30.0  # band-passed variance of a block with structure
    check_one_sided: float = 0.1  # the other side's variance, as a share of it, below which it lacks it
    angle_tolerance: float = 25.0  # degrees by which an inlier's keypoint orientation may differ from the turn
    # the chance that an aligned block of two unrelated pictures agrees, for the dense path's significance
    block_chance: float = 0.3
    tone_structure: float = 25.0  # variance of a block's tone with structure to compare
    tone_error: float = 0.25  # mean squared tone difference, as a share of that variance, of a block that agrees
    pattern_sigmas: tuple[float, float] = (1.5, 12.0)  # band-pass of the tone: a band's width, a background's
    pattern_structure: float = 4.0  # mean band-passed tone, over the noise floor, of a block that shows something
    pattern_min_blocks: int = 5
    solid_tone: float = 30.0  # grey levels by which a pixel of one picture differs from all around it in the other
    solid_side: int = 5  # check pixels: the side of the smallest square a solid difference holds
    solid_linking_tone: float = 10.0  # weaker differences that link a solid one to the shared region's edge


def best_device() -> torch.device:
    import torch

    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


class RootSift:
    """Units' RootSIFT descriptors as tensors on one device, as they are and mirrored, each made once for the
    many pairs a unit is in. Bounded, the least recently used out first: a run's pairs come sorted by their
    first unit. Units are known by identity, so a cache serves one run, whose units live as long as it does.
    """

    def __init__(self, device: torch.device, capacity: int = 512):
        self.device, self.capacity = device, capacity
        self._kept: OrderedDict[tuple[int, bool], torch.Tensor] = OrderedDict()
        self._lock = threading.Lock()  # verifying threads share it

    def __call__(self, unit: ItemFeatures, mirrored: bool = False) -> torch.Tensor:
        import torch

        key = (id(unit), mirrored)
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
        descriptors = mirror_descriptors(unit.descriptors) if mirrored else unit.descriptors
        found = torch.from_numpy(root_sift(descriptors)).to(self.device)
        with self._lock:
            self._kept[key] = found
            if len(self._kept) > self.capacity:
                self._kept.popitem(last=False)
        return found


def align_by_keypoints(
    first: ItemFeatures, second: ItemFeatures, options: VerifyOptions, descriptors: RootSift
) -> Alignment | None:
    if len(first.keypoints) < options.min_keypoint_matches or len(second.keypoints) < options.min_keypoint_matches:
        return None
    query = descriptors(first)
    best: Alignment | None = None
    for mirrored in (False, True):
        keypoints = mirror_keypoints(second.keypoints, second.sift_size[0]) if mirrored else second.keypoints
        pairs = _ratio_matches(query, descriptors(second, mirrored), options.ratio)
        if len(pairs) < options.min_keypoint_matches:
            continue
        matched1, matched2 = first.keypoints[pairs[:, 0]], keypoints[pairs[:, 1]]
        found = _ransac(first, second, matched1, matched2, keypoints, mirrored, options)
        if found is not None and (best is None or found.inliers > best.inliers):
            best = found
        if best is not None and best.inliers >= options.enough_inliers:
            break  # a mirrored match would not be better
    return best


def align_whole(first: ItemFeatures, second: ItemFeatures, view: int, options: VerifyOptions) -> Alignment | None:
    """Alignment of the whole second image onto the whole first under one of the 8 dihedral views."""
    mirrored, turns = DIHEDRAL_NAMES[view]
    w2, h2 = second.original_size
    w1, h1 = first.original_size
    # the view's pixel mapping: mirror (x -> w-1-x), then `turns` counter-clockwise quarter turns
    corners = np.array([[0, 0], [w2, 0], [0, h2]], np.float64)
    if mirrored:
        corners[:, 0] = w2 - corners[:, 0]
    width, height = w2, h2
    for _ in range(turns):
        corners = np.stack([corners[:, 1], width - corners[:, 0]], axis=1)
        width, height = height, width
    scaled = corners * [w1 / width, h1 / height]
    source = np.array([[0, 0], [w2, 0], [0, h2]], np.float32)
    if mirrored:
        source[:, 0] = w2 - source[:, 0]  # matrices act on the mirrored second image
    matrix = cv2.getAffineTransform(source, scaled.astype(np.float32))
    content, blocks = _content_agreement(first, second, matrix, mirrored, options)
    if blocks < options.check_min_blocks:
        return None
    full = (0.0, 0.0, 1.0, 1.0)
    empty = np.zeros((0, 2), np.float32)
    chance = log10_nfa_blocks(8, blocks, round(content * blocks), options.block_chance)
    return Alignment(0, mirrored, matrix, empty, empty, full, full, content, blocks, chance=chance)


def _ratio_matches(query: torch.Tensor, train: torch.Tensor, ratio: float) -> np.ndarray:
    """(n, 2) index pairs passing the ratio test, at most one per keypoint on either side."""
    import torch

    if train.shape[0] < 2:
        return np.zeros((0, 2), np.int64)
    # RootSIFT vectors have unit length: distance = sqrt(2 - 2 * similarity)
    similarity, index = torch.topk(query @ train.T, 2, dim=1)
    distance = torch.sqrt(torch.clamp(2.0 - 2.0 * similarity, min=0.0))
    keep = distance[:, 0] < ratio * distance[:, 1]
    rows = torch.nonzero(keep).squeeze(1)
    cols = index[rows, 0]
    # many-to-one matches: keep the closest query for each train keypoint
    order = torch.argsort(distance[rows, 0])
    rows, cols = rows[order].cpu().numpy(), cols[order].cpu().numpy()
    _, first = np.unique(cols, return_index=True)
    return np.stack([rows[first], cols[first]], axis=1)


def _ransac(
    first: ItemFeatures,
    second: ItemFeatures,
    keypoints1: np.ndarray,
    keypoints2: np.ndarray,
    all_keypoints2: np.ndarray,
    mirrored: bool,
    options: VerifyOptions,
) -> Alignment | None:
    found = fit_similarity(keypoints1, keypoints2, first.sift_size, options)
    if found is None:
        return None
    matrix, points1, points2 = found
    count = len(points1)
    if not (spread(points1, first.sift_size, options) and spread(points2, second.sift_size, options)):
        return None

    original = to_original(matrix, first, second)
    content, blocks = _content_agreement(first, second, original, mirrored, options)
    if mirrored:
        points2 = points2.copy()
        points2[:, 0] = second.sift_size[0] - 1 - points2[:, 0]
    norm1 = (points1 / first.sift_size).astype(np.float32)
    norm2 = (points2 / second.sift_size).astype(np.float32)
    region1, region2 = _footprints(original, mirrored, first.original_size, second.original_size)
    chance = fit_chance(first.sift_size, len(keypoints1), count, first.keypoints, all_keypoints2, matrix, options)
    return Alignment(
        count, mirrored, original, norm1, norm2, region1, region2, content, blocks, len(keypoints1), chance=chance
    )


def fit_chance(
    size: tuple[int, int],
    matches: int,
    inliers: int,
    points1: np.ndarray,
    points2: np.ndarray,
    matrix: np.ndarray,
    options: VerifyOptions,
) -> float:
    """log10 of the number of false alarms of a fit of `inliers` among `matches` in an image of `size`, given
    the keypoints (x, y first) on both sides and the matrix carrying the second's onto the first; two tests,
    as every search is made as it is and mirrored."""
    probability = match_probability(
        _inlier_radius(size, options), *size, options.angle_tolerance, points1, points2, matrix
    )
    return log10_nfa_fit(2, matches, inliers, probability)


def _inlier_radius(size: tuple[int, int], options: VerifyOptions) -> float:
    return max(2.0, options.ransac_threshold * math.hypot(*size))


def fit_similarity(
    keypoints1: np.ndarray, keypoints2: np.ndarray, size: tuple[int, int], options: VerifyOptions
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """RANSAC for the similarity transform carrying matched keypoints2 onto keypoints1 in an image of `size`:
    the 2x3 matrix and the inliers' positions on both sides (consistent_inliers), or None."""
    threshold = _inlier_radius(size, options)
    matrix, mask = cv2.estimateAffinePartial2D(
        np.ascontiguousarray(keypoints2[:, :2]),
        np.ascontiguousarray(keypoints1[:, :2]),
        method=cv2.RANSAC,
        ransacReprojThreshold=threshold,
        maxIters=2000,
        confidence=0.995,
        refineIters=10,
    )
    if matrix is None:
        return None
    found = consistent_inliers(matrix, mask, keypoints1, keypoints2, options)
    return None if found is None else (matrix, *found)


def consistent_inliers(
    matrix: np.ndarray, mask: np.ndarray, keypoints1: np.ndarray, keypoints2: np.ndarray, options: VerifyOptions
) -> tuple[np.ndarray, np.ndarray] | None:
    """The RANSAC inliers' positions that also agree with the transform in keypoint size and orientation.

    None when the transform's scale is out of range or too few distinct positions are left.
    """
    inlier = mask.ravel().astype(bool)
    scale = math.sqrt(abs(np.linalg.det(matrix[:, :2])))
    if not 1.0 / options.max_scale <= scale <= options.max_scale:
        return None
    angle = math.degrees(math.atan2(matrix[1, 0], matrix[0, 0]))
    size_ratio = keypoints1[:, 2] / np.maximum(keypoints2[:, 2], 1e-3)
    turn = (keypoints1[:, 3] - keypoints2[:, 3] - angle + 180.0) % 360.0 - 180.0
    inlier &= (np.abs(np.log(size_ratio / scale)) < math.log(1.6)) & (np.abs(turn) < options.angle_tolerance)
    # SIFT puts several orientations on one spot: count each position once, on both sides
    points1, points2 = _distinct(keypoints1[inlier, :2], keypoints2[inlier, :2])
    points1, points2 = _distinct(points1, points2, side=1)
    if len(points1) < options.min_keypoint_matches:
        return None
    return points1, points2


def _distinct(points1: np.ndarray, points2: np.ndarray, side: int = 0) -> tuple[np.ndarray, np.ndarray]:
    _, first = np.unique((points1, points2)[side].round(), axis=0, return_index=True)
    first.sort()
    return points1[first], points2[first]


def spread(points: np.ndarray, size: tuple[int, int], options: VerifyOptions) -> bool:
    """False for inliers collapsed onto a point or a line, or in a tiny patch."""
    minimum = options.min_region_side * min(size)
    extent = points.max(axis=0) - points.min(axis=0)
    if extent.min() < minimum:
        return False
    spread = np.sqrt(np.linalg.eigvalsh(np.cov(points.T)))
    return bool(spread[0] >= minimum / 4)


def _footprints(
    matrix: np.ndarray, mirrored: bool, size1: tuple[int, int], size2: tuple[int, int]
) -> tuple[tuple[float, float, float, float], tuple[float, float, float, float]]:
    """The region each image shares with the other: the other's outline mapped onto it, clipped."""
    full = np.vstack([matrix, [0, 0, 1]])

    def outline(size: tuple[int, int]) -> np.ndarray:
        return np.array([[0, 0, 1], [size[0], 0, 1], [0, size[1], 1], [size[0], size[1], 1]], np.float64).T

    in_first = (full @ outline(size2))[:2].T
    in_second = (np.linalg.inv(full) @ outline(size1))[:2].T
    if mirrored:
        in_second[:, 0] = size2[0] - in_second[:, 0]

    def box(points: np.ndarray, size: tuple[int, int]) -> tuple[float, float, float, float]:
        low = np.clip(points.min(axis=0) / size, 0, 1)
        high = np.clip(points.max(axis=0) / size, 0, 1)
        return (float(low[0]), float(low[1]), float(high[0]), float(high[1]))

    return box(in_first, size1), box(in_second, size2)


def to_original(matrix: np.ndarray, first: ItemFeatures, second: ItemFeatures) -> np.ndarray:
    """A sift-pixel matrix re-expressed between the items' original pixel sizes."""
    to_first = _scaling(first.original_size, first.sift_size)
    from_second = _scaling(second.sift_size, second.original_size)
    return (to_first @ np.vstack([matrix, [0, 0, 1]]) @ from_second)[:2]


def _scaling(target: tuple[int, int], source: tuple[int, int]) -> np.ndarray:
    return np.diag([target[0] / source[0], target[1] / source[1], 1.0])


def _content_agreement(
    first: ItemFeatures, second: ItemFeatures, matrix: np.ndarray, mirrored: bool, options: VerifyOptions
) -> tuple[float, int]:
    """Share of textured blocks whose band-passed pixels correlate once aligned, and their count (strict)."""
    target, warped, valid = _overlaid(first, second, matrix, mirrored, "check_gray")
    return block_agreement(target, warped, valid, options, strict=True)


def marked_agreement(
    first: ItemFeatures, second: ItemFeatures, matrix: np.ndarray, mirrored: bool, options: VerifyOptions
) -> tuple[float, int]:
    """As the content agreement, but with text and lines compared too (strict): for charts, whose data marks
    the content check masks with the labels."""
    target, warped, valid = _overlaid(first, second, matrix, mirrored, "check_gray", marks=True)
    return block_agreement(target, warped, valid, options, strict=True)


def tone_agreement(
    first: ItemFeatures, second: ItemFeatures, matrix: np.ndarray, mirrored: bool, options: VerifyOptions
) -> float | None:
    """Share of the aligned blocks with tonal structure whose tones agree, once the second picture's levels
    are mapped onto the first's; None when either picture was kept without its tone or no block has any.

    Equalised pictures of one layout agree block by block even where their bands or bars differ in strength;
    their tones do not. The levels are matched as distributions, because a copy's levels or gamma may have
    been changed; a pixel agrees when it lies within the range of the other picture's pixels around it,
    because an alignment may be off by a pixel.
    """
    if first.check_tone is None or second.check_tone is None:
        return None
    target, warped, valid = _overlaid(first, second, matrix, mirrored, "check_tone")
    target, warped = (cv2.GaussianBlur(picture, (0, 0), 1.0) for picture in (target, warped))
    levels = _matched_levels(warped[valid], target[valid])
    matched = levels[warped]
    off = _outside_range(target, matched)
    block = options.check_block

    def blocks(values: np.ndarray) -> np.ndarray:
        return as_blocks(values.astype(np.float32), block)

    weight, count, covered = block_weights(valid, block)
    spread = np.maximum(block_variance(blocks(target), weight, count), block_variance(blocks(matched), weight, count))
    toned = covered & (spread > options.tone_structure)
    if not toned.any():
        return None
    error = (blocks(off) ** 2 * weight).sum(axis=1) / count
    return float((error[toned] < options.tone_error * spread[toned]).mean())


def pattern_agreement(
    first: ItemFeatures, second: ItemFeatures, matrix: np.ndarray, mirrored: bool, options: VerifyOptions
) -> float | None:
    """Correlation, over the aligned blocks where either picture shows something, of how strongly each shows
    it; None when either picture was kept without its tone or too few blocks show anything.

    Blots of one layout have their bands in the same places, so their blocks agree in shape; what tells
    them apart is which bands are strong and which faint. A copy keeps that order whatever its levels or JPEG;
    another blot's lanes are strong and faint at random. Each picture's noise floor (its median block) is
    taken off first, so that noise added to a copy does not drown a faint blot's order.
    """
    if first.check_tone is None or second.check_tone is None:
        return None
    target, warped, valid = _overlaid(first, second, matrix, mirrored, "check_tone")
    weight, count, covered = block_weights(valid, options.check_block)
    if not covered.any():
        return None
    strengths = []
    for picture in (target, warped):
        structure = np.abs(as_blocks(band_pass(picture, options.pattern_sigmas), options.check_block))
        strength = ((structure * weight).sum(axis=1) / count)[covered]
        strengths.append(np.maximum(strength - np.median(strength), 0.0))
    one, other = strengths
    shown = np.maximum(one, other) > options.pattern_structure
    if shown.sum() < options.pattern_min_blocks or one[shown].std() == 0 or other[shown].std() == 0:
        return None
    return float(np.corrcoef(one[shown], other[shown])[0, 1])


def contradictions(
    first: ItemFeatures, second: ItemFeatures, matrix: np.ndarray, mirrored: bool, options: VerifyOptions
) -> int:
    """How many aligned blocks show structure in both pictures that differs, text and lines included.

    Charts of one house style agree in their axes, grids, labels and the feet of their bars; where their data
    differ, a bar's top, an error bar or a data point stands in one picture where the other shows another mark
    or a grid line. A copy shows nothing else at the same place but where an annotation covers a mark.
    Structure on one side only (an added label or arrow, a border) is what annotating does, to one side: only
    as many such blocks count as the other side has of its own. Look-alikes' data points, jittered apart, stand
    alone on both sides (growth set seed 302 at 3,000 pictures: up to 9 blocks each way); an annotated copy's
    stand on one side only (6 and 0), and of 40 chart copies only crops-and-tilts have any both ways (1-4).
    """
    target, warped, valid = _overlaid(first, second, matrix, mirrored, "check_gray", marks=True)
    bands = band_pass(target), band_pass(warped)
    correlation = block_correlations(*bands, valid, options.check_block, options).reshape(-1)
    weight, count, _ = block_weights(valid, options.check_block)
    one, other = (block_variance(as_blocks(band, options.check_block), weight, count) for band in bands)
    strong, weak = np.maximum(one, other), np.minimum(one, other)
    one_sided = (strong > options.check_structure) & (weak < options.check_one_sided * strong)
    differing = int(((correlation < options.check_block_agreement) & ~one_sided).sum())
    return differing + int(min((one_sided & (one > other)).sum(), (one_sided & (other > one)).sum()))


def solid_differences(
    first: ItemFeatures, second: ItemFeatures, matrix: np.ndarray, mirrored: bool, options: VerifyOptions
) -> float | None:
    """The largest region where the aligned pictures differ in tone throughout, as a share of the region they
    share; None when either picture was kept without its tone.

    A bar that stands higher in one chart than in the other fills a flat area with its colour where the other
    shows the background: no block there has structure, so no block comparison sees it. A copy differs from
    its original only in thin strokes (a label, an arrow: gone once the differences are opened to `solid_side`
    pixels), in noise, and in what an edit filled in at its edges (a turned copy's corners): a difference linked
    to the shared region's edge by weaker differences is left out. The tones are compared after mapping each
    level of the second picture to the first's median level where it lies, which follows any change of levels.
    """
    if first.check_tone is None or second.check_tone is None:
        return None
    target, warped, valid = _overlaid(first, second, matrix, mirrored, "check_tone", marks=True)
    if not valid.any():
        return None
    target, warped = (cv2.GaussianBlur(picture, (0, 0), 1.0) for picture in (target, warped))
    matched = _paired_levels(warped[valid], target[valid])[warped]
    target = target.astype(np.float32)
    apart = np.minimum(_outside_range(target, matched), _outside_range(matched, target))
    around = np.ones((3, 3), np.uint8)
    side = np.ones((options.solid_side, options.solid_side), np.uint8)
    solid = cv2.morphologyEx(((apart > options.solid_tone) & valid).astype(np.uint8), cv2.MORPH_OPEN, side) > 0
    linked = (apart > options.solid_linking_tone) & valid | solid
    count, regions = cv2.connectedComponents(linked.astype(np.uint8))
    edge = cv2.dilate(np.pad(~valid, 1, constant_values=True).astype(np.uint8), around)[1:-1, 1:-1] > 0
    at_edge = np.zeros(count, bool)
    at_edge[regions[edge & linked]] = True
    inner = solid & ~at_edge[regions]
    if not inner.any():
        return 0.0
    stats = cv2.connectedComponentsWithStats(inner.astype(np.uint8))[2]
    return float(stats[1:, cv2.CC_STAT_AREA].max() / valid.sum())


def _outside_range(values: np.ndarray, other: np.ndarray) -> np.ndarray:
    """How far each pixel of `values` lies outside the range of `other`'s pixels around it (3 x 3): an
    alignment may be off by a pixel."""
    around = np.ones((3, 3), np.uint8)
    return np.maximum(cv2.erode(other, around) - values, 0) + np.maximum(values - cv2.dilate(other, around), 0)


def _paired_levels(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """A uint8 -> float32 table: each level of `values`, the median of the `reference` pixels where it lies;
    levels not seen are interpolated."""
    order = np.argsort(values, kind="stable")
    values, reference = values[order], reference[order]
    starts = np.searchsorted(values, np.arange(257))
    seen = np.nonzero(np.diff(starts))[0]
    medians = [np.median(reference[starts[level] : starts[level + 1]]) for level in seen]
    return np.interp(np.arange(256), seen, medians).astype(np.float32)


def _matched_levels(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """A uint8 -> float32 table that gives `values` the distribution of `reference` (histogram matching)."""
    quantiles = []
    for data in (values, reference):
        counts = np.bincount(data, minlength=256).astype(np.float64)
        quantiles.append((np.cumsum(counts) - counts / 2) / max(counts.sum(), 1.0))
    return np.interp(quantiles[0], quantiles[1], np.arange(256)).astype(np.float32)


def _overlaid(
    first: ItemFeatures, second: ItemFeatures, matrix: np.ndarray, mirrored: bool, layer: str, marks: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One layer of the two pictures' check images, the second warped onto the first (or the other way), and
    where both show content (with `marks`, where both are, text and lines included).

    The comparison is made in the frame of whichever image shows the shared
    region at the higher resolution, so that nothing is compared aliased.
    """
    content1, content2 = first.check_content, second.check_content
    if marks:
        content1, content2 = np.ones_like(content1), np.ones_like(content2)
    picture2 = getattr(second, layer)
    if mirrored:
        picture2, content2 = picture2[:, ::-1], content2[:, ::-1]
    full = to_check(matrix, first, second)
    images = [
        (getattr(first, layer), content1),
        (np.ascontiguousarray(picture2), np.ascontiguousarray(content2)),
    ]
    if abs(np.linalg.det(full[:2, :2])) < 1.0:
        full = np.linalg.inv(np.vstack([full, [0, 0, 1]]))[:2]
        images.reverse()
    (target, target_content), (moving, moving_content) = images
    size = (target.shape[1], target.shape[0])
    warped = cv2.warpAffine(moving, full, size, flags=cv2.INTER_LINEAR)
    valid = cv2.warpAffine(moving_content.astype(np.uint8), full, size, flags=cv2.INTER_NEAREST) > 0
    valid = cv2.erode(valid.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    valid &= target_content
    return target, warped, valid


def block_agreement(
    target: np.ndarray, warped: np.ndarray, valid: np.ndarray, options: VerifyOptions, strict: bool = False
) -> tuple[float, int]:
    """Share of the textured blocks (where valid) whose band-passed pixels correlate, and their count;
    `strict` as in block_correlations."""
    correlation = block_correlations(band_pass(target), band_pass(warped), valid, options.check_block, options, strict)
    textured = correlation[~np.isnan(correlation)]
    if not len(textured):
        return 0.0, 0
    return float((textured >= options.check_block_agreement).mean()), len(textured)


def block_correlations(
    band1: np.ndarray, band2: np.ndarray, valid: np.ndarray, block: int, options: VerifyOptions, strict: bool = False
) -> np.ndarray:
    """(rows, cols) correlation of each block of two aligned, band-passed pictures; NaN where it says nothing.

    With `strict`, a block with structure in one picture and next to none in the other is -1."""
    rows, cols = band1.shape[0] // block, band1.shape[1] // block
    result = np.full((rows, cols), np.nan, np.float32)
    if rows == 0 or cols == 0:
        return result

    def blocks(values: np.ndarray) -> np.ndarray:
        return as_blocks(values, block)

    (weight, count, covered), a, b = block_weights(valid, block), blocks(band1), blocks(band2)
    gx, gy = blocks(cv2.Sobel(band1, cv2.CV_32F, 1, 0)), blocks(cv2.Sobel(band1, cv2.CV_32F, 0, 1))
    # A block holding one straight edge (a frame, an axis, a panel border) says nothing about whether
    # two figures share content: only blocks with structure in two directions count.
    xx, yy, xy = (gx * gx * weight).sum(axis=1), (gy * gy * weight).sum(axis=1), (gx * gy * weight).sum(axis=1)
    coherence = ((xx - yy) ** 2 + 4 * xy**2) / np.maximum((xx + yy) ** 2, 1e-6)
    usable = covered & (coherence < options.check_max_coherence)
    a = a - (a * weight).sum(axis=1, keepdims=True) / count[:, None]
    b = b - (b * weight).sum(axis=1, keepdims=True) / count[:, None]
    var_a = (a * a * weight).sum(axis=1) / count
    var_b = (b * b * weight).sum(axis=1) / count
    textured = usable & (var_a > 4.0) & (var_b > 4.0)
    covariance = (a * b * weight).sum(axis=1) / count
    flat = result.reshape(-1)
    flat[textured] = covariance[textured] / np.sqrt(var_a[textured] * var_b[textured])
    if strict:
        strong, weak = np.maximum(var_a, var_b), np.minimum(var_a, var_b)
        lacking = covered & (strong > options.check_structure)
        flat[lacking & (weak < options.check_one_sided * strong)] = -1.0
    return result


def as_blocks(values: np.ndarray, block: int) -> np.ndarray:
    """(blocks, block * block): the picture's whole blocks of `block` pixels, row by row."""
    rows, cols = values.shape[0] // block, values.shape[1] // block
    crop = values[: rows * block, : cols * block]
    return crop.reshape(rows, block, cols, block).transpose(0, 2, 1, 3).reshape(rows * cols, -1)


def block_variance(blocks: np.ndarray, weight: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Each block's variance over its valid pixels (as_blocks, block_weights)."""
    mean = (blocks * weight).sum(axis=1, keepdims=True) / count[:, None]
    return ((blocks - mean) ** 2 * weight).sum(axis=1) / count


def block_weights(valid: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per whole block: its pixels' weights (1 where valid), their count, and whether enough of it is valid
    to be compared (60%)."""
    weight = as_blocks(valid.astype(np.float32), block)
    count = np.maximum(weight.sum(axis=1), 1e-6)
    return weight, count, count >= 0.6 * block * block


def to_check(matrix: np.ndarray, first: ItemFeatures, second: ItemFeatures) -> np.ndarray:
    check1 = (first.check_gray.shape[1], first.check_gray.shape[0])
    check2 = (second.check_gray.shape[1], second.check_gray.shape[0])
    full = (
        _scaling(check1, first.original_size) @ np.vstack([matrix, [0, 0, 1]]) @ _scaling(second.original_size, check2)
    )
    return full[:2]


def band_pass(gray: np.ndarray, sigmas: tuple[float, float] = (1.5, 6.0)) -> np.ndarray:
    values = gray.astype(np.float32)
    return cv2.GaussianBlur(values, (0, 0), sigmas[0]) - cv2.GaussianBlur(values, (0, 0), sigmas[1])


def lift(
    alignment: Alignment,
    first_box: tuple[int, int, int, int],
    first_size: tuple[int, int],
    second_box: tuple[int, int, int, int],
    second_size: tuple[int, int],
) -> Alignment:
    """An alignment found between two panels, re-expressed between the items they were cut from.

    A box is the panel's place in its item's pixels; an item's own box is (0, 0, width, height).
    """
    x0, y0 = first_box[:2]
    # mirrored coordinates count from the right edge, of the panel and of the item
    x1 = second_size[0] - second_box[2] if alignment.mirrored else second_box[0]
    y1 = second_box[1]
    to_first = np.array([[1, 0, x0], [0, 1, y0], [0, 0, 1]], np.float64)
    from_second = np.array([[1, 0, -x1], [0, 1, -y1], [0, 0, 1]], np.float64)
    matrix = (to_first @ np.vstack([alignment.matrix, [0, 0, 1]]) @ from_second)[:2]

    def place(points: np.ndarray, box: tuple[int, int, int, int], size: tuple[int, int]) -> np.ndarray:
        span = np.array([box[2] - box[0], box[3] - box[1]], np.float32)
        return ((points * span + np.array(box[:2], np.float32)) / np.array(size, np.float32)).astype(np.float32)

    def place_box(region, box, size):
        corners = place(np.array([region[:2], region[2:]], np.float32), box, size)
        return (float(corners[0, 0]), float(corners[0, 1]), float(corners[1, 0]), float(corners[1, 1]))

    return replace(
        alignment,
        matrix=matrix,
        points1=place(alignment.points1, first_box, first_size),
        points2=place(alignment.points2, second_box, second_size),
        region1=place_box(alignment.region1, first_box, first_size),
        region2=place_box(alignment.region2, second_box, second_size),
    )
