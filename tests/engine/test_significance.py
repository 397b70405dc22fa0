import math

import numpy as np

from analysis.engine.significance import (
    log10_binomial,
    log10_nfa_blocks,
    log10_nfa_fit,
    match_probability,
    pair_tests,
)

ONE_IN_A_HUNDRED = math.log10(0.01)


def test_binomial_coefficients_are_exact_in_log():
    assert math.isclose(10 ** log10_binomial(10, 3), 120, rel_tol=1e-9)
    assert log10_binomial(7, 0) == 0


def test_a_match_probability_is_the_chance_of_landing_near_and_turning_alike():
    p = match_probability(radius=5, width=100, height=100, angle_tolerance=18)
    assert math.isclose(p, math.pi * 25 / 10_000 * 0.1)


def test_a_fit_significant_among_10_pictures_is_not_among_10000():
    p = match_probability(6, 800, 600, 25)
    chance = log10_nfa_fit(2, matches=60, inliers=6, probability=p)
    assert chance + math.log10(pair_tests(10, 1)) < ONE_IN_A_HUNDRED
    assert chance + math.log10(pair_tests(10_000, 1)) > ONE_IN_A_HUNDRED


def test_more_inliers_among_as_many_matches_are_rarer_and_more_matches_for_as_many_inliers_commoner():
    p = match_probability(6, 800, 600, 25)
    assert log10_nfa_fit(1, 100, 12, p) < log10_nfa_fit(1, 100, 6, p)
    assert log10_nfa_fit(1, 400, 6, p) > log10_nfa_fit(1, 40, 6, p)


def test_a_fit_with_no_more_inliers_than_its_sample_proves_nothing():
    assert log10_nfa_fit(1, 50, 2, 0.001) == math.inf


def test_agreeing_blocks_need_more_evidence_in_a_larger_run():
    few = log10_nfa_blocks(8, blocks=12, agreeing=11, probability=0.3)
    many = log10_nfa_blocks(8, blocks=60, agreeing=55, probability=0.3)
    assert few + math.log10(pair_tests(10, 1)) < ONE_IN_A_HUNDRED
    assert few + math.log10(pair_tests(10_000, 1)) > ONE_IN_A_HUNDRED
    assert many + math.log10(pair_tests(10_000, 1)) < ONE_IN_A_HUNDRED


def test_the_block_tail_is_a_probability():
    assert math.isclose(log10_nfa_blocks(1, 10, 0, 0.3), 0.0)
    assert math.isclose(10 ** log10_nfa_blocks(1, 2, 1, 0.5), 0.75)


def lattice(rows: int, columns: int, pitch: float, per_spot: int) -> np.ndarray:
    """Keypoints on a grid (bands in lanes), `per_spot` of them a pixel apart on each spot."""
    spots = [(20 + c * pitch, 20 + r * pitch) for r in range(rows) for c in range(columns)]
    return np.array([(x + k, y, 4.0, 0.0) for x, y in spots for k in range(per_spot)], np.float32)


def test_keypoints_that_two_pictures_of_one_layout_share_spots_on_are_likelier_to_land_by_chance():
    identity = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    even = match_probability(6, 800, 600, 25)
    blots = lattice(4, 10, 60, per_spot=3)
    # a model laying one blot's band spots onto another's: each spot holds other keypoints than the one tested
    assert match_probability(6, 800, 600, 25, blots, blots, identity) > 20 * even
    # a copy's keypoints are spread out: each spot holds the tested keypoint only, and chance stays about even
    rng = np.random.default_rng(0)
    spread = np.column_stack([rng.uniform(0, 800, 300), rng.uniform(0, 600, 300), np.full(300, 4.0), np.zeros(300)])
    assert even <= match_probability(6, 800, 600, 25, spread, spread, identity) < 2 * even
