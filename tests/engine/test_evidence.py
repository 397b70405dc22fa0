import cv2
import numpy as np

from analysis.engine.evidence import describe_change, describe_crop, intensity_change, second_onto_first
from tests.images import scene


def mean_difference(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16))[where].mean())


def test_a_half_size_copy_is_laid_back_onto_the_original():
    first = scene(3, 400, 300)
    second = cv2.resize(first, (200, 150), interpolation=cv2.INTER_AREA)
    matrix = [[2.0, 0, 0], [0, 2.0, 0]]  # second's pixels -> first's
    warped, covered = second_onto_first(first, second, matrix, False, (400, 300), (200, 150))
    assert covered.mean() > 0.98
    assert mean_difference(first, warped, covered) < 12
    unrelated = second_onto_first(
        first, cv2.resize(scene(4, 400, 300), (200, 150)), matrix, False, (400, 300), (200, 150)
    )
    assert mean_difference(first, unrelated[0], covered) > 40


def test_a_mirrored_copy_shown_at_another_scale_is_laid_back():
    first = scene(5, 400, 300)
    second = first[:, ::-1].copy()
    # both pictures given as half-size views of items of 800 x 600
    first_view = cv2.resize(first, (200, 150), interpolation=cv2.INTER_AREA)
    second_view = cv2.resize(second, (200, 150), interpolation=cv2.INTER_AREA)
    identity = [[1.0, 0, 0], [0, 1.0, 0]]  # once the second is mirrored, the items are the same
    warped, covered = second_onto_first(first_view, second_view, identity, True, (800, 600), (800, 600))
    assert covered.mean() > 0.95
    assert mean_difference(first_view, warped, covered) < 12


def test_it_measures_a_contrast_change_and_says_it():
    first = scene(6, 400, 300)
    second = np.clip(first.astype(np.float32) * 0.6 + 30, 0, 255).astype(np.uint8)
    covered = np.ones(first.shape[:2], bool)
    gain, offset = intensity_change(first, second, covered)
    assert abs(gain - 0.6) < 0.02 and abs(offset - 30) < 3
    assert describe_change((gain, offset)) == "contrast 0.60x, brightness +30 of 255"
    assert describe_change(intensity_change(first, first, covered)) == "same contrast and brightness"
    assert describe_change(intensity_change(first, first, np.zeros_like(covered))) == "contrast change not measurable"


def test_it_says_how_much_of_each_image_is_shared():
    assert describe_crop([0, 0, 0.5, 0.5], [0, 0, 1, 1]) == (
        "the shared part is 25% of the first image and 100% of the second"
    )
