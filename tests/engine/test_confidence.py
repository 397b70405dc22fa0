import numpy as np

from analysis.engine.confidence import band, confidence, features, fit, reliability


def test_strong_evidence_gives_high_confidence_and_none_gives_low():
    strong = features(True, 300, 0.98, 40, (0, 0, 1, 1), (0, 0, 1, 1), None, -1000.0)
    none = features(False, 0, None, 0, None, None, None, None)
    assert confidence(strong) > 0.99 and band(confidence(strong)) == "high"
    assert confidence(none) < 0.05 and band(confidence(none)) == "low"
    assert band(0.7) == "medium"


def test_the_fit_recovers_the_rate_of_truth_by_evidence():
    rng = np.random.default_rng(0)
    content = rng.uniform(0, 1, 4000)
    truth = (rng.uniform(0, 1, 4000) < content).astype(float)  # the true rate is the content itself
    rows = np.column_stack([np.ones_like(content), content])
    coefficients = fit(rows, truth)
    predicted = np.array([confidence(row, coefficients) for row in rows])
    for _, _, count, mean, share in reliability(predicted, truth):
        if count > 200:
            assert abs(mean - share) < 0.06


def test_a_match_with_little_to_spare_beyond_chance_is_not_highly_confident():
    # two blots of one layout (growth set seed 302 at 3,000 pictures): 6 inliers, 92% of 12 blocks alike,
    # whole frames aligned, 10^-3.8 false alarms among the run's comparisons
    whole = (0, 0, 1, 1)
    weak = features(True, 6, 0.92, 12, whole, whole, None, -3.8)
    strong = features(True, 6, 0.92, 12, whole, whole, None, -300.0)
    assert band(confidence(weak)) != "high"
    assert band(confidence(strong)) == "high"
