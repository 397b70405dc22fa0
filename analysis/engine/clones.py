"""Copies inside one picture: a region cloned elsewhere in the same image.

Two searches, as for pairs of pictures:
- keypoints: the picture's keypoints matched against themselves and their own
  mirror images, leaving out each keypoint's own neighbourhood; RANSAC finds a
  transform that carries one region onto another (rotated and scaled copies);
- correlation: for pictures with few keypoints (blots, sparse fluorescence; not
  charts, whose repeated marks match themselves moved with no keypoint agreeing),
  the band-passed picture correlated with itself and with its flips by FFT;
  each strong offset is checked block by block, and the agreeing blocks that
  hang together are the copy.
Either way the picture must agree with itself, moved, inside the region but
not around it: a repeating texture (a brick wall, a grid, a lattice) matches
itself under its period everywhere, a clone only where it was pasted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .alignment import Alignment
from .features import (
    ItemFeatures,
    mirror_descriptors,
    mirror_keypoints,
    resize_longest,
    root_sift,
)
from .significance import log10_nfa_blocks
from .verify import (
    VerifyOptions,
    band_pass,
    block_agreement,
    block_correlations,
    fit_chance,
    fit_similarity,
    spread,
    to_check,
    to_original,
)


@dataclass(frozen=True)
class CloneOptions:
    ratio: float = 0.8
    min_offset: float = 0.05  # of the picture's diagonal: a nearer copy is one structure, not two
    min_inliers: int = 8
    min_content: float = 0.75
    # a chart's marks repeat (boxes, violins, bars of like height): a copy inside a chart is held to a chart's
    # standard, as a chart's pair is (VerdictOptions.chart_content), and found by its keypoints, which a chart
    # has plenty of; the growth set's box and violin charts showed such repeats agreeing in 75-93% of their
    # blocks, three of four with no keypoint agreeing
    chart_min_content: float = 0.9
    min_blocks: int = 6
    region_margin: float = 0.02  # of the picture's size, around the inliers' bounding box, as shown
    # the ring around the region, in multiples of its size: a pasted patch may bring some surroundings along
    surround_inner: float = 1.4
    surround_outer: float = 2.2
    max_surround_content: float = 0.4  # agreement in the ring above this: a repeating pattern
    min_surround_blocks: int = 4
    correlation_side: int = 384
    correlation_band: tuple[float, float] = (1.5, 6.0)  # band-pass sigmas, in pixels
    correlation_block: int = 12
    correlation_peaks: int = 3  # offsets checked per flip
    correlation_agreement: float = 0.92  # a copy's blocks correlate almost perfectly, re-encoded or not
    correlation_min_blocks: int = 14
    separation: float = 1.5  # the regions grown this much about their centres ...
    max_overlap: float = 0.1  # ... may overlap this share of the smaller one at most
    min_noise_correlation: float = 0.3  # of the finest detail: pasted copies 0.3-0.97, look-alike cells 0-0.37
    # the finest detail is compared where both sides are smooth: at edges it is the edges' own, and a framed
    # blot strip's mirrored edges agree in it (growth sets: 0.53-0.79 over the region, -0.01-0.02 off edges)
    noise_max_gradient: float = 3.0  # grey levels per pixel, once blurred
    noise_min_pixels: int = 200  # fewer smooth pixels than this (a dense texture): compared everywhere


def find_clone(item: ItemFeatures, rgb: np.ndarray, verify: VerifyOptions, options: CloneOptions) -> Alignment | None:
    """The largest region of the picture found copied elsewhere in it (the copy is `region1`), or None."""
    if item.chart:
        found = _by_keypoints(item, verify, options)
        return found if found is not None and found.content >= options.chart_min_content else None
    found = [_by_keypoints(item, verify, options), _by_correlation(item, rgb, verify, options)]
    return max((a for a in found if a is not None), key=lambda a: a.blocks, default=None)


def _apart(found: Alignment, options: CloneOptions) -> bool:
    """A copy beside or over its source is more likely one structure: a symmetric cell, a band, a lattice."""
    first, second = _grown(found.region1, options.separation), _grown(found.region2, options.separation)
    return _overlap(first, second) <= options.max_overlap


def _grown(box: tuple[float, ...], factor: float) -> tuple[float, ...]:
    centre_x, centre_y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half_w, half_h = (box[2] - box[0]) / 2 * factor, (box[3] - box[1]) / 2 * factor
    return (centre_x - half_w, centre_y - half_h, centre_x + half_w, centre_y + half_h)


def _overlap(first: tuple[float, ...], second: tuple[float, ...]) -> float:
    width = min(first[2], second[2]) - max(first[0], second[0])
    height = min(first[3], second[3]) - max(first[1], second[1])
    smaller = min((b[2] - b[0]) * (b[3] - b[1]) for b in (first, second))
    return max(width, 0.0) * max(height, 0.0) / max(smaller, 1e-9)


def _by_keypoints(item: ItemFeatures, verify: VerifyOptions, options: CloneOptions) -> Alignment | None:
    keypoints, descriptors = _one_per_spot(item.keypoints, item.descriptors)
    if len(keypoints) < options.min_inliers:
        return None
    width, height = item.sift_size
    positions = keypoints[:, :2]
    apart = np.linalg.norm(positions[:, None] - positions[None], axis=2) >= options.min_offset * math.hypot(
        width, height
    )
    query = root_sift(descriptors)
    best: Alignment | None = None
    for mirrored in (False, True):
        train_descriptors = mirror_descriptors(descriptors) if mirrored else descriptors
        train_keypoints = mirror_keypoints(keypoints, width) if mirrored else keypoints
        pairs = _ratio_matches(query, root_sift(train_descriptors), apart, options.ratio)
        if len(pairs) < options.min_inliers:
            continue
        found = _aligned(item, keypoints[pairs[:, 0]], train_keypoints[pairs[:, 1]], mirrored, verify, options)
        if found is not None and _apart(found, options) and (best is None or found.inliers > best.inliers):
            best = found
    return best


def _one_per_spot(keypoints: np.ndarray, descriptors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SIFT gives one spot several orientations: matched to each other they would be copies of themselves."""
    _, first = np.unique(keypoints[:, :2].round(), axis=0, return_index=True)
    first.sort()
    return keypoints[first], descriptors[first]


def _ratio_matches(query: np.ndarray, train: np.ndarray, allowed: np.ndarray, ratio: float) -> np.ndarray:
    """(n, 2) index pairs whose best allowed partner passes the ratio test against the second best."""
    similarity = np.where(allowed, query @ train.T, -1.0)
    top = np.argpartition(-similarity, 1, axis=1)[:, :2]  # the best two, best first
    best = np.take_along_axis(similarity, top, axis=1)
    distance = np.sqrt(np.clip(2.0 - 2.0 * best, 0.0, None))
    keep = (best[:, 0] > -1.0) & (distance[:, 0] < ratio * distance[:, 1])
    rows = np.nonzero(keep)[0]
    return np.stack([rows, top[rows, 0]], axis=1)


def _aligned(
    item: ItemFeatures,
    keypoints1: np.ndarray,
    keypoints2: np.ndarray,
    mirrored: bool,
    verify: VerifyOptions,
    options: CloneOptions,
) -> Alignment | None:
    # every copy is matched both ways; RANSAC keeps one direction, the other falls out as outliers
    found = fit_similarity(keypoints1, keypoints2, item.sift_size, verify)
    if found is None or len(found[1]) < options.min_inliers:
        return None
    matrix, points1, points2 = found
    if not (spread(points1, item.sift_size, verify) and spread(points2, item.sift_size, verify)):
        return None
    original = to_original(matrix, item, item)
    if mirrored:
        points2 = points2.copy()
        points2[:, 0] = item.sift_size[0] - 1 - points2[:, 0]
    norm1 = (points1 / item.sift_size).astype(np.float32)
    norm2 = (points2 / item.sift_size).astype(np.float32)
    # checked inside the inliers' own box: a pasted patch may end just beyond them
    inside, surround = _agreement(item, original, mirrored, _box(norm1, 0.0), verify, options)
    content, blocks = inside
    if content < options.min_content or blocks < options.min_blocks:
        return None
    surround_content, surround_blocks = surround
    if surround_blocks >= options.min_surround_blocks and surround_content > options.max_surround_content:
        return None
    region1, region2 = _box(norm1, options.region_margin), _box(norm2, options.region_margin)
    chance = fit_chance(item.sift_size, len(keypoints1), len(points1), keypoints1, keypoints2, matrix, verify)
    return Alignment(
        len(points1), mirrored, original, norm1, norm2, region1, region2, content, blocks, len(keypoints1), chance
    )


def _box(points: np.ndarray, margin: float) -> tuple[float, float, float, float]:
    low = np.clip(points.min(axis=0) - margin, 0.0, 1.0)
    high = np.clip(points.max(axis=0) + margin, 0.0, 1.0)
    return (float(low[0]), float(low[1]), float(high[0]), float(high[1]))


def _agreement(
    item: ItemFeatures,
    matrix: np.ndarray,
    mirrored: bool,
    region: tuple[float, float, float, float],
    verify: VerifyOptions,
    options: CloneOptions,
) -> tuple[tuple[float, int], tuple[float, int]]:
    """Block agreement of the picture with itself moved by the transform: inside the region, and around it."""
    gray, content = item.check_gray, item.check_content
    moving, moving_content = (gray[:, ::-1], content[:, ::-1]) if mirrored else (gray, content)
    height, width = gray.shape
    full = to_check(matrix, item, item)
    warped = cv2.warpAffine(np.ascontiguousarray(moving), full, (width, height), flags=cv2.INTER_LINEAR)
    landed = cv2.warpAffine(
        np.ascontiguousarray(moving_content).astype(np.uint8), full, (width, height), flags=cv2.INTER_NEAREST
    )
    valid = (cv2.erode(landed, np.ones((5, 5), np.uint8)) > 0) & content
    inside = _box_mask((height, width), region, 1.0)
    ring = _box_mask((height, width), region, options.surround_outer) & ~_box_mask(
        (height, width), region, options.surround_inner
    )
    return (
        block_agreement(gray, warped, valid & inside, verify),
        block_agreement(gray, warped, valid & ring, verify),
    )


def _box_mask(shape: tuple[int, int], box: tuple[float, float, float, float], grow: float) -> np.ndarray:
    """The box (fractions of width and height) grown `grow` times about its centre, as a pixel mask."""
    height, width = shape
    centre_x, centre_y = (box[0] + box[2]) / 2 * width, (box[1] + box[3]) / 2 * height
    half_w, half_h = (box[2] - box[0]) / 2 * width * grow, (box[3] - box[1]) / 2 * height * grow
    mask = np.zeros(shape, bool)
    y0, y1 = max(0, round(centre_y - half_h)), min(height, round(centre_y + half_h))
    x0, x1 = max(0, round(centre_x - half_w)), min(width, round(centre_x + half_w))
    mask[y0:y1, x0:x1] = True
    return mask


# The views correlated with the picture: (mirrored, turned half round); mirrored and turned is flipped
# vertically. Pasted copies are mostly moved or mirrored; turned ones, at any angle, are left to the
# keypoint search, which finds them in all but the plainest pictures, and so is the time of two more FFTs.
_VIEWS = ((False, False), (True, False))


def _by_correlation(
    item: ItemFeatures, rgb: np.ndarray, verify: VerifyOptions, options: CloneOptions
) -> Alignment | None:
    # not contrast-normalised: its local equalisation would map a copy and its source differently
    gray = resize_longest(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), options.correlation_side)
    height, width = gray.shape
    # labels, ticks and scale bars repeat in every figure: they take no part
    # (the stored mask has a wide margin for the dense check of pairs, which band-passes wider)
    marks = cv2.erode((~item.check_content).astype(np.uint8), np.ones((7, 7), np.uint8))
    content = cv2.resize(marks, (width, height), interpolation=cv2.INTER_NEAREST) == 0
    band = band_pass(gray, options.correlation_band)
    # faded out, not cut, so that the outlines of the marks do not correlate instead
    faded = band * cv2.GaussianBlur(content.astype(np.float32), (0, 0), 3.0)
    shape = (2 * height, 2 * width)  # zero padding: offsets do not wrap around
    spectrum = np.fft.rfft2(faded, shape)
    offset_y = np.fft.fftfreq(shape[0], 1.0 / shape[0])[:, None]
    offset_x = np.fft.fftfreq(shape[1], 1.0 / shape[1])[None, :]
    # the picture is its own trivial copy at no offset; flipped views have no such offset
    far = np.hypot(offset_y, offset_x) >= options.min_offset * math.hypot(width, height)
    best: Alignment | None = None
    for mirrored, turned in _VIEWS:
        turn = _half_turn(width, height) if turned else np.eye(3)
        view_of = turn @ (_mirror(width) if mirrored else np.eye(3))
        view = cv2.warpAffine(faded, view_of[:2], (width, height), flags=cv2.INTER_NEAREST)
        cross = spectrum * np.conj(np.fft.rfft2(view, shape))
        magnitude = np.abs(cross)
        # phase correlation: whitened, so that a small exact copy peaks sharply over large smooth shapes
        correlation = np.fft.irfft2(cross / (magnitude + 1e-3 * magnitude.max()), shape)
        if not (mirrored or turned):
            correlation[~far] = -np.inf
        for row, col in _peaks(correlation, options.correlation_peaks):
            # a pixel q of the source shows at view_of(q) + offset in the copy
            offset = np.array([[1.0, 0, offset_x[0, col]], [0, 1, offset_y[row, 0]], [0, 0, 1]])
            found = _copied_region(item, band, content, (offset @ turn)[:2], mirrored, verify, options)
            if (
                found is not None
                and _apart(found, options)
                and (best is None or found.blocks > best.blocks)
                and _noise_copied(rgb, item, found, options)
            ):
                best = found
    return best


def _noise_copied(rgb: np.ndarray, item: ItemFeatures, found: Alignment, options: CloneOptions) -> bool:
    """Whether the finest detail (sensor noise, grain) agrees too: a pasted copy brings its source's along;
    two look-alike cells or bands have only their shapes in common.
    """
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    height, width = gray.shape
    x0, y0 = round(found.region1[0] * width), round(found.region1[1] * height)
    x1, y1 = round(found.region1[2] * width), round(found.region1[3] * height)
    if min(x1 - x0, y1 - y0) < 16:
        return False
    # the source laid onto the copy's crop, in this picture's pixels
    scale = np.diag([width / item.original_size[0], height / item.original_size[1], 1.0])
    matrix = scale @ np.vstack([found.matrix, [0, 0, 1]]) @ np.linalg.inv(scale)
    moving = np.ascontiguousarray(gray[:, ::-1]) if found.mirrored else gray
    onto_crop = (np.array([[1.0, 0, -x0], [0, 1, -y0], [0, 0, 1]]) @ matrix)[:2]
    copy = gray[y0:y1, x0:x1]
    source = cv2.warpAffine(moving, onto_crop, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR)
    # the offset was found on a smaller picture: align to the pixel here before comparing pixel noise
    (dx, dy), _ = cv2.phaseCorrelate(band_pass(copy, (0.7, 3.0)), band_pass(source, (0.7, 3.0)))
    shifted = cv2.warpAffine(source, np.array([[1.0, 0, -dx], [0, 1, -dy]]), (x1 - x0, y1 - y0))
    first, second = (values - cv2.GaussianBlur(values, (0, 0), 1.0) for values in (copy, shifted))
    where = (_smooth(copy, options) & _smooth(shifted, options))[4:-4, 4:-4]
    if where.sum() < options.noise_min_pixels:
        where = np.ones_like(where)
    if min(float(first[4:-4, 4:-4][where].std()), float(second[4:-4, 4:-4][where].std())) < 0.3:
        return True  # no noise to compare (a clean rendering): the shape agreement has to do

    def agreement(dx: int, dy: int) -> float:
        a = first[4:-4, 4:-4][where]
        b = second[4 + dy : second.shape[0] - 4 + dy, 4 + dx : second.shape[1] - 4 + dx][where]
        return float(np.corrcoef(a, b)[0, 1])

    # noise is white: a copy's agrees in place, and best in place, where smooth shapes agree as well one pixel off
    aligned = agreement(0, 0)
    off = max(agreement(dx, dy) for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)))
    return aligned >= options.min_noise_correlation and aligned >= off


def _smooth(gray: np.ndarray, options: CloneOptions) -> np.ndarray:
    """Where the picture is smooth, a few pixels away from any edge."""
    blurred = cv2.GaussianBlur(gray, (0, 0), 2.0)
    gradient = cv2.magnitude(cv2.Sobel(blurred, cv2.CV_32F, 1, 0), cv2.Sobel(blurred, cv2.CV_32F, 0, 1)) / 8
    return cv2.erode((gradient < options.noise_max_gradient).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0


def _mirror(width: int) -> np.ndarray:
    return np.array([[-1.0, 0, width - 1], [0, 1, 0], [0, 0, 1]])


def _half_turn(width: int, height: int) -> np.ndarray:
    return np.array([[-1.0, 0, width - 1], [0, -1, height - 1], [0, 0, 1]])


def _copied_region(
    item: ItemFeatures,
    band: np.ndarray,
    content: np.ndarray,
    matrix: np.ndarray,
    mirrored: bool,
    verify: VerifyOptions,
    options: CloneOptions,
) -> Alignment | None:
    """The copy under one transform (mirrored source -> copy, in picture pixels): agreeing blocks that hang together."""
    height, width = band.shape
    moving, moving_content = (band[:, ::-1], content[:, ::-1]) if mirrored else (band, content)
    warped = cv2.warpAffine(np.ascontiguousarray(moving), matrix, (width, height), flags=cv2.INTER_LINEAR)
    landed = cv2.warpAffine(
        np.ascontiguousarray(moving_content).astype(np.uint8), matrix, (width, height), flags=cv2.INTER_NEAREST
    )
    block = options.correlation_block
    correlation = block_correlations(band, warped, (landed > 0) & content, block, verify)
    agree = np.nan_to_num(correlation, nan=0.0) >= options.correlation_agreement
    # a copy's flat parts (background, a band's smooth middle) say nothing: bridge them
    joined = cv2.morphologyEx(agree.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    if count < 2:
        return None
    largest = 1 + int(np.argmax([(agree & (labels == k)).sum() for k in range(1, count)]))
    blocks = int((agree & (labels == largest)).sum())
    if blocks < options.correlation_min_blocks:
        return None
    x, y, w, h = stats[largest, :4]
    inside = correlation[y : y + h, x : x + w]
    textured = inside[~np.isnan(inside)]
    content_share = float((textured >= options.correlation_agreement).mean())
    if content_share < options.min_content:
        return None
    rows, cols = correlation.shape
    grid = (x / cols, y / rows, (x + w) / cols, (y + h) / rows)
    ring = _box_mask((rows, cols), grid, options.surround_outer) & ~_box_mask(
        (rows, cols), grid, options.surround_inner
    )
    around = correlation[ring & ~np.isnan(correlation)]
    if len(around) >= options.min_surround_blocks and (around >= verify.check_block_agreement).mean() > (
        options.max_surround_content
    ):
        return None
    region1 = (x * block / width, y * block / height, (x + w) * block / width, (y + h) * block / height)
    # from correlation pixels to the item's own
    scale = np.diag([item.original_size[0] / width, item.original_size[1] / height, 1.0])
    original = (scale @ np.vstack([matrix, [0, 0, 1]]) @ np.linalg.inv(scale))[:2]
    corners = np.array([[region1[0] * width, region1[1] * height, 1], [region1[2] * width, region1[3] * height, 1]])
    source = (np.linalg.inv(np.vstack([matrix, [0, 0, 1]])) @ corners.T)[:2].T
    if mirrored:
        source[:, 0] = width - 1 - source[:, 0]
    low, high = source.min(axis=0) / (width, height), source.max(axis=0) / (width, height)
    region2 = (float(low[0]), float(low[1]), float(high[0]), float(high[1]))
    empty = np.zeros((0, 2), np.float32)
    # the offsets tried: a few peaks under each view
    tests = len(_VIEWS) * options.correlation_peaks
    chance = log10_nfa_blocks(tests, blocks, round(content_share * blocks), verify.block_chance)
    return Alignment(0, mirrored, original, empty, empty, region1, region2, content_share, blocks, chance=chance)


def _peaks(correlation: np.ndarray, count: int) -> list[tuple[int, int]]:
    """The places (row, col) of the strongest positive maxima, each apart from the others; clears them."""
    found = []
    for _ in range(count):
        row, col = np.unravel_index(int(np.argmax(correlation)), correlation.shape)
        if not correlation[row, col] > 0:
            break
        found.append((int(row), int(col)))
        correlation[max(0, row - 3) : row + 4, max(0, col - 3) : col + 4] = -np.inf
    return found
