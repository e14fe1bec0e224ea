"""Unit tests of heicadlearn.evaluation (fast: NumPy, scikit-learn for reference values)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from heicadlearn import evaluation as ev
from sklearn import metrics


@pytest.fixture
def scored():
    """Labels and scores with many ties (scores rounded to one decimal)."""
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, size=300)
    score = np.round(np.clip(0.3 * y + rng.normal(0.4, 0.2, size=300), 0, 1), 1)
    return y, score


def test_confusion_counts_and_f1_match_sklearn(scored):
    y, score = scored
    pred = (score >= 0.5).astype(int)
    c = ev.confusion_counts(y, pred)
    np.testing.assert_array_equal(c.as_matrix(), metrics.confusion_matrix(y, pred))
    assert ev.f1_score(y, pred) == pytest.approx(metrics.f1_score(y, pred))
    sens, spec = ev.sensitivity_specificity(y, pred)
    assert sens == pytest.approx(metrics.recall_score(y, pred))
    assert spec == pytest.approx(metrics.recall_score(1 - y, 1 - pred))


def test_f1_without_positives_is_zero():
    assert ev.f1_score([0, 0, 0], [0, 0, 0]) == 0.0


def test_labels_must_be_binary():
    with pytest.raises(ValueError, match="only 0 and 1"):
        ev.confusion_counts([0, 2], [0, 1])


def test_roc_auc_equals_sklearn_with_ties(scored):
    y, score = scored
    assert ev.roc_auc(y, score) == pytest.approx(metrics.roc_auc_score(y, score), abs=1e-12)


def test_roc_curve_equals_sklearn_and_its_area_is_the_auc(scored):
    y, score = scored
    fpr, tpr, thr = ev.roc_curve(y, score)
    sk_fpr, sk_tpr, sk_thr = metrics.roc_curve(y, score, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr)
    np.testing.assert_allclose(tpr, sk_tpr)
    np.testing.assert_allclose(thr[1:], sk_thr[1:])
    assert np.trapezoid(tpr, fpr) == pytest.approx(ev.roc_auc(y, score), abs=1e-12)


def test_roc_auc_of_perfect_and_reversed_scores():
    y = np.array([0, 0, 1, 1])
    assert ev.roc_auc(y, [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert ev.roc_auc(y, [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert np.isnan(ev.roc_auc([1, 1], [0.2, 0.3]))


def test_best_threshold_matches_brute_force(scored):
    y, score = scored
    th = ev.best_threshold(y, score, "f1")
    brute = max(np.unique(score), key=lambda t: (ev.f1_score(y, score >= t), t))
    assert th == pytest.approx(brute)
    th_j = ev.best_threshold(y, score, "youden")
    youden = {t: sum(ev.sensitivity_specificity(y, score >= t)) - 1 for t in np.unique(score)}
    assert youden[th_j] == pytest.approx(max(youden.values()))


def test_bootstrap_ci_of_a_mean_contains_the_truth_and_has_the_right_width():
    rng = np.random.default_rng(0)
    x = rng.normal(loc=5.0, scale=2.0, size=400)
    res = ev.bootstrap_ci(np.mean, x, n_boot=2000, seed=0)
    assert res.low < 5.0 < res.high
    assert res.estimate == pytest.approx(x.mean())
    # Normal theory: width about 2 * 1.96 * sigma / sqrt(n) = 0.392.
    assert res.high - res.low == pytest.approx(2 * 1.96 * 2.0 / 20, rel=0.15)
    assert res.samples.shape == (2000,)


def test_bootstrap_ci_of_auc_contains_the_full_data_auc_and_is_reproducible(scored):
    y, score = scored
    a = ev.bootstrap_ci(ev.roc_auc, y, score, n_boot=500, seed=3)
    b = ev.bootstrap_ci(ev.roc_auc, y, score, n_boot=500, seed=3)
    assert a.low < a.estimate < a.high
    assert (a.low, a.high) == (b.low, b.high)
    assert "95% CI" in str(a)


def test_paired_bootstrap_of_a_difference():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, size=500)
    good = np.where(rng.random(500) < 0.9, y, 1 - y)  # right 90 % of the time
    poor = np.where(rng.random(500) < 0.6, y, 1 - y)  # right 60 % of the time
    diff = ev.bootstrap_ci(lambda t, a, b: ev.f1_score(t, a) - ev.f1_score(t, b), y, good, poor, n_boot=1000)
    assert diff.low > 0  # the interval of the difference excludes zero


def test_bootstrap_ci_checks_its_input():
    with pytest.raises(ValueError, match="same"):
        ev.bootstrap_ci(ev.f1_score, [0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="level"):
        ev.bootstrap_ci(np.mean, [1.0, 2.0], level=95)


def test_forest_plot_draws_one_row_per_label():
    fig, ax = plt.subplots()
    ev.forest_plot(["A", "B", "C"], [0.4, 0.5, 0.6], [0.3, 0.45, 0.5], [0.5, 0.55, 0.7], ax=ax, reference=0.5)
    rows = sorted(zip(ax.get_yticks(), (t.get_text() for t in ax.get_yticklabels()), strict=True), reverse=True)
    assert [label for _, label in rows] == ["A", "B", "C"]  # first label on top
    assert any("0.400 (0.300, 0.500)" == t.get_text() for t in ax.texts)
    plt.close(fig)
    with pytest.raises(ValueError, match="inside"):
        ev.forest_plot(["A"], [0.9], [0.3], [0.5])
