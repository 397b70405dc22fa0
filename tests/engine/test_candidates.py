import cv2
import numpy as np
import torch

from analysis.engine.candidates import CandidateOptions, clip_pairs, global_pairs, local_pairs
from analysis.engine.features import FeatureOptions, dihedral, extract, inverse_view
from analysis.engine.sources import Decoded, ItemRef
from tests.images import scene

CPU = torch.device("cpu")


def units(images: list[np.ndarray]):
    found = []
    for number, rgb in enumerate(images):
        rgb = np.ascontiguousarray(rgb)
        ref = ItemRef(f"{number}.png", "", "image")
        found.append(extract(Decoded(ref, rgb, (rgb.shape[1], rgb.shape[0])), FeatureOptions())[0])
    return found


def test_local_search_pairs_a_crop_with_its_source_among_distractors():
    source = scene(100, 640, 480)
    images = [source] + [scene(seed) for seed in range(101, 109)] + [source[100:340, 150:500]]
    pairs = local_pairs(units(images), CandidateOptions())
    assert (0, 9) in pairs
    best = max(pairs, key=pairs.get)
    assert best == (0, 9)


def test_local_search_keeps_a_linear_number_of_pairs_with_each_items_best():
    images = [scene(seed) for seed in range(12)]
    unbounded = local_pairs(
        units(images), CandidateOptions(local_partners=99, local_max_partners=99, local_min_votes=1)
    )
    options = CandidateOptions(local_partners=2, local_max_partners=3, local_min_votes=1)
    pairs = local_pairs(units(images), options)
    assert len(pairs) <= len(images) * options.local_max_partners < len(unbounded)
    for item in range(len(images)):
        best = max((pair for pair in unbounded if item in pair), key=unbounded.get, default=None)
        assert best is None or best in pairs


def test_clip_pairs_are_each_items_nearest_neighbours():
    embeddings = np.eye(4, dtype=np.float32)
    embeddings[3] = embeddings[0] * 0.96 + embeddings[1] * 0.28
    pairs = clip_pairs(embeddings, CandidateOptions(clip_neighbours=1, clip_min_score=0.5), CPU)
    assert pairs == {(0, 3): np.float32(0.96).item()}


def test_global_pairs_find_whole_copies_and_the_view_that_maps_them():
    image = scene(7)
    copies = [image, np.rot90(image, 3), scene(8)]
    found, views = global_pairs(units(copies), CandidateOptions(), CPU)
    assert (0, 1) in found and found[(0, 1)] > 0.95
    assert (0, 2) not in found
    # view v of the second item matches the first
    assert np.array_equal(dihedral(np.rot90(image, 3))[views[(0, 1)]], image)


def test_inverse_views_undo_each_other():
    image = scene(1, 60, 40)
    for view, transformed in enumerate(dihedral(image)):
        assert np.array_equal(dihedral(transformed)[inverse_view(view)], image)


def test_local_search_gives_the_same_votes_whatever_ran_before_and_in_any_number_of_threads():
    # the k-d forest is drawn at random: unseeded, it depends on what OpenCV drew before in the thread
    found = units([scene(seed) for seed in range(12)])
    options = CandidateOptions(local_partners=99, local_max_partners=99, local_min_votes=1)
    runs = []
    for earlier_seed, threads in ((1, 1), (2, 1), (3, 2)):
        cv2.setRNGSeed(earlier_seed)
        cv2.randu(np.zeros((1000, 1), np.float32), 0, 1)
        runs.append(local_pairs(found, options, threads=threads))
    assert runs[0] and runs[0] == runs[1] == runs[2]
