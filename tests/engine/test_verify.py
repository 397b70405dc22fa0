import cv2
import numpy as np
import pytest
import torch

from analysis.engine.alignment import Transform
from analysis.engine.features import FeatureOptions, extract, mirror_descriptors, root_sift
from analysis.engine.sources import Decoded, ItemRef
from analysis.engine.verify import RootSift, VerifyOptions, align_by_keypoints, solid_differences
from tests.images import scene

CPU = torch.device("cpu")


def features(rgb: np.ndarray):
    rgb = np.ascontiguousarray(rgb)
    ref = ItemRef("x.png", "x.png", "image")
    return extract(Decoded(ref, rgb, (rgb.shape[1], rgb.shape[0])), FeatureOptions())[0]


def align(first: np.ndarray, second: np.ndarray):
    return align_by_keypoints(features(first), features(second), VerifyOptions(), RootSift(CPU))


@pytest.mark.parametrize(
    ("make_copy", "description"),
    [
        (lambda im: np.rot90(im), "rotated 90°, 1x"),
        (lambda im: np.rot90(im, 2), "rotated 180°, 1x"),
        (lambda im: im[:, ::-1], "flipped horizontally, 1x"),
        (lambda im: im[::-1], "flipped vertically, 1x"),
        (lambda im: cv2.resize(im, (240, 180), interpolation=cv2.INTER_AREA), "0.5x"),
    ],
)
def test_it_finds_and_describes_the_transform(make_copy, description):
    image = scene(11)
    alignment = align(image, make_copy(image))
    assert alignment is not None
    assert alignment.inliers > 50
    assert alignment.content > 0.9
    assert alignment.transform.describe() == description


def test_it_locates_a_crop_in_the_original():
    image = scene(12, 640, 480)
    alignment = align(image, image[120:360, 200:520])
    assert alignment.region2 == pytest.approx((0, 0, 1, 1), abs=0.08)
    assert alignment.region1 == pytest.approx((200 / 640, 120 / 480, 520 / 640, 360 / 480), abs=0.06)
    assert alignment.transform.describe() == "same orientation, 1x"


def test_a_small_rotation_is_reported_in_degrees():
    image = scene(13)
    matrix = cv2.getRotationMatrix2D((240, 180), 10, 1.0)
    rotated = cv2.warpAffine(image, matrix, (480, 360))
    alignment = align(image, rotated)
    assert alignment.transform.rotation == pytest.approx(10, abs=1.0)


def test_unrelated_images_do_not_align():
    alignment = align(scene(1), scene(2))
    assert alignment is None or alignment.content < 0.5


def test_repeated_noise_does_not_count_as_many_inliers():
    # one keypoint-rich patch pasted many times: many-to-one matches must not inflate the count
    patch = scene(3, 40, 40)
    tiled = np.tile(patch, (9, 12, 1))
    other = np.tile(scene(4, 40, 40), (9, 12, 1))
    other[160:200, 200:240] = patch
    alignment = align(tiled, other)
    assert alignment is None or alignment.inliers < 12


@pytest.mark.parametrize(
    ("matrix", "mirrored", "text"),
    [
        (np.array([[0.0, -1.0, 0], [1.0, 0.0, 0]]), False, "rotated 90°, 1x"),
        (np.array([[0.0, 1.0, 0], [-1.0, 0.0, 0]]), False, "rotated -90°, 1x"),
        (np.array([[2.0, 0.0, 0], [0.0, 2.0, 0]]), True, "flipped horizontally, 0.5x"),
        (np.array([[-1.0, 0.0, 0], [0.0, -1.0, 0]]), True, "flipped vertically, 1x"),
        (np.array([[1.0, 0.0, 0], [0.0, 1.0, 0]]), False, "same orientation, 1x"),
    ],
)
def test_transform_descriptions(matrix, mirrored, text):
    assert Transform.from_matrix(matrix, mirrored).describe() == text


def test_root_sift_descriptors_are_made_once_per_unit_and_view_and_the_oldest_dropped_first():
    units = [features(scene(seed)) for seed in (1, 2, 3)]
    descriptors = RootSift(CPU, capacity=2)
    upright = descriptors(units[0])
    assert descriptors(units[0]) is upright
    mirrored = descriptors(units[0], mirrored=True)
    expected = root_sift(mirror_descriptors(units[0].descriptors))
    assert np.array_equal(mirrored.numpy(), expected) and not np.array_equal(mirrored.numpy(), upright.numpy())
    descriptors(units[0])  # used again: the mirrored view is now the oldest
    descriptors(units[1])
    assert descriptors(units[0]) is upright
    assert descriptors(units[0], mirrored=True) is not mirrored


def bar_chart(heights: list[float]) -> np.ndarray:
    """A bar chart drawn plainly: axes, a grid, bars of these heights (0..1 of the axis) in one colour each."""
    picture = np.full((420, 640, 3), 255, np.uint8)
    colours = [(27, 158, 119), (117, 112, 179), (102, 166, 30), (166, 118, 29)]
    for y in range(40, 380, 68):
        cv2.line(picture, (60, y), (620, y), (200, 200, 200), 1)
    for number, height in enumerate(heights):
        x = 90 + number * 135
        cv2.rectangle(picture, (x, int(380 - 330 * height)), (x + 100, 380), colours[number], -1)
        cv2.rectangle(picture, (x, int(380 - 330 * height)), (x + 100, 380), (0, 0, 0), 1)
    cv2.line(picture, (60, 380), (620, 380), (0, 0, 0), 2)
    cv2.line(picture, (60, 20), (60, 380), (0, 0, 0), 2)
    return picture


def solid_difference(first: np.ndarray, second: np.ndarray) -> float:
    identity = np.array([[1, 0, 0], [0, 1, 0]], np.float64)
    return solid_differences(features(first), features(second), identity, False, VerifyOptions())


def test_a_bar_standing_at_another_height_is_a_solid_difference():
    original = bar_chart([0.9, 0.6, 0.55, 0.8])
    assert solid_difference(original, bar_chart([0.9, 0.75, 0.55, 0.8])) > 0.01
    assert solid_difference(original, bar_chart([0.9, 0.6, 0.55, 0.8])) == 0.0


def test_an_annotation_new_levels_and_noise_are_not_solid_differences():
    original = bar_chart([0.9, 0.6, 0.55, 0.8])
    annotated = original.copy()
    cv2.putText(annotated, "n.s.", (230, 60), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 0, 0), 2)
    cv2.arrowedLine(annotated, (400, 90), (340, 150), (255, 0, 0), 3)
    cv2.line(annotated, (460, 400), (600, 400), (0, 0, 0), 6)
    assert solid_difference(original, annotated) == 0.0
    levelled = (255 * (original / 255.0) ** 1.6).astype(np.uint8)
    noisy = np.clip(levelled + np.random.default_rng(1).normal(0, 12, original.shape), 0, 255).astype(np.uint8)
    assert solid_difference(original, noisy) == 0.0
