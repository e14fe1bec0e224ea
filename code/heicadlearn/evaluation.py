"""Evaluating a binary classifier the way medical papers do: ROC, F1 and bootstrap intervals.

Introduced in the chapter *Medical example: CheXNet* (``book/chexnet.md``), which
explains every function here before using it.

Everything is plain NumPy, so the functions work the same for a neural network's
probabilities, a logistic regression's scores or a radiologist's yes/no calls:

* :func:`confusion_counts`, :func:`f1_score`, :func:`sensitivity_specificity` for
  decisions (0/1 predictions);
* :func:`roc_curve` and :func:`roc_auc` for scores (higher means "more likely positive");
* :func:`best_threshold` to choose a decision threshold on a validation set;
* :func:`bootstrap_ci`, the percentile bootstrap of any metric (Efron & Tibshirani 1993),
  as used by CheXNet (Rajpurkar et al. 2017) to put 95 % intervals on F1 scores;
* :func:`forest_plot`, estimates with their intervals, one row per method or reader.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .seeds import course_seed

__all__ = [
    "BootstrapResult",
    "ConfusionCounts",
    "best_threshold",
    "bootstrap_ci",
    "confusion_counts",
    "f1_score",
    "forest_plot",
    "roc_auc",
    "roc_curve",
    "sensitivity_specificity",
]


def _binary(y, name: str) -> np.ndarray:
    y = np.asarray(y).reshape(-1)
    if y.size and not np.isin(y, (0, 1)).all():
        raise ValueError(f"{name} must contain only 0 and 1 (got values {np.unique(y)[:5]}...)")
    return y.astype(bool)


@dataclass(frozen=True)
class ConfusionCounts:
    """The four cells of a 2x2 confusion matrix (positives are label 1)."""

    tp: int
    fp: int
    tn: int
    fn: int

    def as_matrix(self) -> np.ndarray:
        """``[[tn, fp], [fn, tp]]``: rows are the truth (0, 1), columns the prediction, as in scikit-learn."""
        return np.array([[self.tn, self.fp], [self.fn, self.tp]])


def confusion_counts(y_true, y_pred) -> ConfusionCounts:
    """Count true/false positives and negatives of 0/1 predictions against 0/1 labels."""
    t, p = _binary(y_true, "y_true"), _binary(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred differ in length ({t.size} vs {p.size})")
    return ConfusionCounts(
        tp=int(np.sum(t & p)), fp=int(np.sum(~t & p)), tn=int(np.sum(~t & ~p)), fn=int(np.sum(t & ~p))
    )


def f1_score(y_true, y_pred) -> float:
    """F1 = 2 TP / (2 TP + FP + FN), the harmonic mean of precision and recall (0 if undefined)."""
    c = confusion_counts(y_true, y_pred)
    denominator = 2 * c.tp + c.fp + c.fn
    return 2 * c.tp / denominator if denominator else 0.0


def sensitivity_specificity(y_true, y_pred) -> tuple[float, float]:
    """Sensitivity TP/(TP+FN) and specificity TN/(TN+FP); NaN where a class is absent."""
    c = confusion_counts(y_true, y_pred)
    sens = c.tp / (c.tp + c.fn) if c.tp + c.fn else float("nan")
    spec = c.tn / (c.tn + c.fp) if c.tn + c.fp else float("nan")
    return sens, spec


def _labels_and_scores(y_true, y_score):
    """Validated boolean labels and float scores, with the number of positives and negatives."""
    t = _binary(y_true, "y_true")
    s = np.asarray(y_score, dtype=float).reshape(-1)
    if t.shape != s.shape:
        raise ValueError(f"y_true and y_score differ in length ({t.size} vs {s.size})")
    return t, s, int(t.sum()), int((~t).sum())


def roc_curve(y_true, y_score) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False-positive rate, true-positive rate and thresholds of the ROC curve.

    One point per distinct score, from the strictest threshold (``inf``: nothing called
    positive, the point (0, 0)) to the most lenient (everything positive, the point (1, 1)).
    A case counts as positive when ``score >= threshold``. Requires both classes.
    """
    t, s, n_pos, n_neg = _labels_and_scores(y_true, y_score)
    if n_pos == 0 or n_neg == 0:
        raise ValueError("the ROC curve needs at least one positive and one negative case")
    order = np.argsort(-s, kind="mergesort")
    s_sorted, t_sorted = s[order], t[order]
    # Last index of each group of tied scores: the curve moves once per distinct score.
    last = np.r_[np.flatnonzero(np.diff(s_sorted)), s_sorted.size - 1]
    tps = np.cumsum(t_sorted)[last]
    fps = (last + 1) - tps
    fpr = np.r_[0.0, fps / n_neg]
    tpr = np.r_[0.0, tps / n_pos]
    thresholds = np.r_[np.inf, s_sorted[last]]
    return fpr, tpr, thresholds


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n, tied values sharing the mean of their ranks."""
    order = np.argsort(x, kind="mergesort")
    _, first, counts = np.unique(x[order], return_index=True, return_counts=True)
    ranks = np.empty(x.size, dtype=float)
    ranks[order] = np.repeat(first + (counts + 1) / 2, counts)
    return ranks


def roc_auc(y_true, y_score) -> float:
    """Area under the ROC curve: the probability that a random positive case scores higher
    than a random negative one (ties count one half). NaN if only one class is present.

    Computed from ranks (the Mann-Whitney U statistic); equal to the trapezoidal area
    under :func:`roc_curve` and to scikit-learn's ``roc_auc_score``.
    """
    t, s, n_pos, n_neg = _labels_and_scores(y_true, y_score)
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = _average_ranks(s)
    return float((ranks[t].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def best_threshold(y_true, y_score, criterion: str = "f1") -> float:
    """The score threshold (``score >= threshold`` means positive) that maximises a criterion.

    ``criterion`` is ``"f1"`` or ``"youden"`` (sensitivity + specificity - 1). Use it on a
    validation set, never on the test set you report. Ties go to the highest threshold.
    """
    if criterion not in ("f1", "youden"):
        raise ValueError(f"criterion must be 'f1' or 'youden', not {criterion!r}")
    fpr, tpr, thresholds = roc_curve(y_true, y_score)
    t = _binary(y_true, "y_true")
    n_pos, n_neg = t.sum(), (~t).sum()
    if criterion == "youden":
        values = tpr - fpr
    else:
        tp, fp = tpr * n_pos, fpr * n_neg
        fn = n_pos - tp
        values = 2 * tp / np.maximum(2 * tp + fp + fn, 1)
    values, thresholds = values[1:], thresholds[1:]  # drop the "nothing positive" point
    return float(thresholds[int(np.argmax(values))])


@dataclass(frozen=True)
class BootstrapResult:
    """A statistic on the full data and its percentile bootstrap interval."""

    estimate: float
    low: float
    high: float
    level: float
    samples: np.ndarray  # the statistic on each bootstrap sample (NaN samples removed)

    def __str__(self) -> str:
        return f"{self.estimate:.3f} ({self.level:.0%} CI {self.low:.3f}, {self.high:.3f})"


def bootstrap_ci(
    metric: Callable[..., float],
    *arrays,
    n_boot: int = 10_000,
    level: float = 0.95,
    seed: int | None = None,
) -> BootstrapResult:
    """Percentile bootstrap confidence interval of ``metric(*arrays)``.

    Draws ``n_boot`` samples of the cases *with replacement* (the same rows of every array,
    so a metric of labels and predictions stays paired), computes the metric on each, and
    returns the ``(1 - level) / 2`` and ``(1 + level) / 2`` percentiles of those values.
    A metric of several predictions, e.g. ``lambda y, a, b: f1(y, a) - f1(y, b)``, gives
    the paired bootstrap of a difference, as CheXNet used to compare itself with radiologists.
    Samples on which the metric is NaN (e.g. AUC with one class only) are left out.
    Without ``seed``, the samples follow the course's seed (:func:`heicadlearn.seeds.course_seed`).
    """
    if not arrays:
        raise ValueError("bootstrap_ci needs at least one array of cases")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, not {level}")
    arrays = [np.asarray(a) for a in arrays]
    n = len(arrays[0])
    if n == 0 or any(len(a) != n for a in arrays):
        raise ValueError("all arrays must have the same, non-zero number of cases")
    rng = np.random.default_rng(course_seed() if seed is None else seed)
    values = np.empty(n_boot)
    for b in range(n_boot):
        idx = rng.integers(0, n, size=n)
        values[b] = metric(*(a[idx] for a in arrays))
    values = values[~np.isnan(values)]
    if values.size == 0:
        raise ValueError("the metric was undefined (NaN) on every bootstrap sample")
    alpha = (1 - level) / 2
    low, high = np.percentile(values, [100 * alpha, 100 * (1 - alpha)])
    return BootstrapResult(float(metric(*arrays)), float(low), float(high), level, values)


def forest_plot(
    labels: Sequence[str],
    estimates: Sequence[float],
    lows: Sequence[float],
    highs: Sequence[float],
    *,
    ax=None,
    reference: float | None = None,
    colors: Sequence[str] | None = None,
    xlabel: str = "estimate (95% CI)",
    annotate: bool = True,
):
    """Draw estimates with their confidence intervals, one row per label, first label on top.

    ``reference`` draws a dashed vertical line (e.g. the radiologists' average);
    ``annotate`` writes "0.435 (0.387, 0.481)" at the right of each row. Returns the axes.
    """
    import matplotlib.pyplot as plt

    estimates, lows, highs = (np.asarray(v, dtype=float) for v in (estimates, lows, highs))
    n = len(labels)
    if not (estimates.size == lows.size == highs.size == n):
        raise ValueError("labels, estimates, lows and highs must have the same length")
    if np.any(lows > estimates) or np.any(highs < estimates):
        raise ValueError("every estimate must lie inside its interval (low <= estimate <= high)")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 0.45 * n + 1.2))
    colors = list(colors) if colors is not None else ["#0072B2"] * n
    y = np.arange(n)[::-1]
    for yi, est, lo, hi, color in zip(y, estimates, lows, highs, colors, strict=True):
        ax.plot([lo, hi], [yi, yi], color=color, linewidth=2, solid_capstyle="butt")
        ax.plot([est], [yi], marker="s", markersize=7, color=color, linestyle="none")
    if reference is not None:
        ax.axvline(reference, color="0.4", linestyle="--", linewidth=1)
    ax.set_yticks(y, list(labels))
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlabel(xlabel)
    if annotate:
        span = highs.max() - lows.min()
        ax.set_xlim(lows.min() - 0.05 * span, highs.max() + 0.6 * span)
        for yi, est, lo, hi in zip(y, estimates, lows, highs, strict=True):
            ax.text(highs.max() + 0.08 * span, yi, f"{est:.3f} ({lo:.3f}, {hi:.3f})", va="center", fontsize=9)
    return ax
