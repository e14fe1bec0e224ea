"""heicadlearn.check: the right answer passes; typical slips get the hint that names them."""

from __future__ import annotations

import numpy as np
import pytest
from heicadlearn.check import check_close, check_function, hint

RNG = np.random.default_rng(0)
X = RNG.normal(size=(5, 3))
Y = RNG.normal(size=5)
W = np.linalg.lstsq(X, Y, rcond=None)[0]


def test_correct_answer_passes_and_says_so(capsys):
    assert check_close(X.T @ (X @ W - Y) / len(Y), X.T @ (X @ W - Y) / 5, name="grad") is True
    assert capsys.readouterr().out.strip() == "Correct: grad matches."


@pytest.mark.parametrize(
    ("answer", "expected", "words"),
    [
        (..., W, "still `...`"),
        (None, W, "still `...`"),
        ("half", 0.5, "a str"),
        (X, X.T, "missing (or an extra) transpose"),
        (W[:, None], W, "extra or a missing axis of length 1"),
        (X.ravel(), X, "the right number of values"),
        (X.sum(), X.sum(axis=0), "sum or average over an axis too many"),
        (-W, W, "wrong sign"),
        (5 * W, W, "5 times too large"),
        (W / 2, W, "0.5 times too small"),
        (W + 1e-4, W, "close"),
        (np.array([np.nan, 1.0, 2.0]), W, "NaN"),
        (W[::-1] + 3, W, "not right yet"),
    ],
)
def test_typical_slips_get_the_hint_that_names_them(answer, expected, words):
    message = hint(answer, expected, name="w")
    assert message is not None and words in message, message


@pytest.mark.parametrize("answer", [-W, 5 * W, W + 1e-4, X, W[:, None]])
def test_hints_never_print_the_expected_values(answer, capsys):
    assert check_close(answer, W, name="w") is False
    out = capsys.readouterr().out
    for value in W:
        assert f"{value:.3g}" not in out and f"{value:.2g}" not in out


def test_check_function_compares_with_a_reference_and_reports_errors(capsys):
    def mean_by_hand(x):
        return sum(x) / len(x)

    def broken(x):
        return x.undefined

    assert check_function(mean_by_hand, np.mean, np.arange(10.0)) is True
    assert check_function(lambda x: sum(x) / (len(x) - 1), np.mean, np.arange(10.0), name="mean") is False
    assert "times too large" in capsys.readouterr().out
    assert check_function(broken, np.mean, np.arange(3.0)) is False
    assert "raised AttributeError" in capsys.readouterr().out
    assert check_function(..., np.mean, np.arange(3.0)) is False
    assert "still `...`" in capsys.readouterr().out
