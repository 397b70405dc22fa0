import cv2
import numpy as np
import pytest

from analysis.bench.dataset import fluorescence
from analysis.engine.clones import CloneOptions, find_clone
from analysis.engine.features import FeatureOptions, extract
from analysis.engine.sources import Decoded, ItemRef
from analysis.engine.verify import VerifyOptions
from tests.engine.test_verdicts import growth_picture
from tests.images import scene


def clone_in(rgb: np.ndarray):
    rgb = np.ascontiguousarray(rgb)
    item = extract(Decoded(ItemRef("x.png", "x.png", "image"), rgb, (rgb.shape[1], rgb.shape[0])), FeatureOptions())[0]
    return find_clone(item, rgb, VerifyOptions(), CloneOptions())


def pasted(image: np.ndarray, source: tuple[int, int, int, int], at: tuple[int, int], mirrored=False) -> np.ndarray:
    x0, y0, x1, y1 = source
    patch = image[y0:y1, x0:x1]
    copy = image.copy()
    copy[at[1] : at[1] + y1 - y0, at[0] : at[0] + x1 - x0] = patch[:, ::-1] if mirrored else patch
    return copy


def fraction(box, width, height):
    return (box[0] / width, box[1] / height, box[2] / width, box[3] / height)


@pytest.mark.parametrize(
    ("mirrored", "description"), [(False, "same orientation, 1x"), (True, "flipped horizontally, 1x")]
)
def test_a_region_pasted_elsewhere_is_found_with_both_places(mirrored, description):
    image = pasted(scene(31, 640, 480), (40, 60, 240, 220), (400, 280), mirrored)
    found = clone_in(image)
    assert found is not None
    assert found.transform.describe() == description
    # which of the two is the copy no picture can tell
    source, copy = sorted((found.region1, found.region2))
    assert source == pytest.approx(fraction((40, 60, 240, 220), 640, 480), abs=0.06)
    assert copy == pytest.approx(fraction((400, 280, 600, 440), 640, 480), abs=0.06)
    assert found.content >= 0.75
    assert found.chance < -5  # its agreeing blocks, weighed against the offsets tried: the confidence reads it


def test_a_copy_among_sparse_cells_is_found_by_correlation():
    cells = fluorescence(np.random.default_rng(3), 700)
    height, width = cells.shape[:2]
    bright = cv2.GaussianBlur(cells.max(axis=2).astype(np.float32), (0, 0), 25)
    y, x = np.unravel_index(int(np.argmax(bright[120:-120, 120 : width // 2 - 60])), (height - 240, width // 2 - 180))
    x0, y0 = int(x) + 120 - 90, int(y) + 120 - 90  # 180 px around the brightest cluster of the left half
    image = pasted(cells, (x0, y0, x0 + 180, y0 + 180), (width - 220, 30))
    found = clone_in(image)
    assert found is not None and found.inliers == 0  # no keypoint evidence: the correlation search found it
    source, copy = sorted((found.region1, found.region2))
    assert source == pytest.approx(fraction((x0, y0, x0 + 180, y0 + 180), width, height), abs=0.08)
    assert copy == pytest.approx(fraction((width - 220, 30, width - 40, 210), width, height), abs=0.08)


@pytest.mark.parametrize("seed", range(4))
def test_untouched_pictures_have_no_copy(seed):
    assert clone_in(scene(40 + seed, 640, 480)) is None
    assert clone_in(fluorescence(np.random.default_rng(seed), 700)) is None


def test_a_repeating_pattern_is_not_a_copy():
    tile = scene(50, 96, 96)
    assert clone_in(np.tile(tile, (5, 7, 1))) is None


@pytest.mark.parametrize(("seed", "index"), [(301, 607), (302, 589), (301, 60), (301, 255), (301, 1164)])
def test_a_blot_whose_framed_strips_mirror_onto_themselves_or_a_chart_whose_marks_repeat_holds_no_copy(seed, index):
    # the growth set's blots: a strip's frame and its bands' ends are mirror images of each other, so the
    # mirrored picture agreed with itself in 19-21 blocks, and in the finest detail too where edges are; a
    # pasted copy's grain agrees off the edges as well (the tests above). Boxes of like size in box charts 60
    # and 1164 (75% and 93% of blocks alike, no keypoint agreeing) and violins in chart 255 (88%, 9 inliers):
    # a copy inside a chart must be found by its keypoints and agree in 90% of its blocks
    assert clone_in(growth_picture(index, seed)[1]) is None
