"""Unit tests of heicadlearn.regression (loss surfaces and network diagrams); no book build."""

import numpy as np
import pytest
from heicadlearn.regression import draw_network, loss_grid
from matplotlib.figure import Figure
from matplotlib.patches import Circle


def test_loss_grid_matches_direct_computation():
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 1.5, size=200)
    y = 40 + 3 * x + rng.normal(0, 5, size=200)
    w_values = np.linspace(-5, 10, 7)
    b_values = np.linspace(0, 80, 5)
    W, B, L = loss_grid(x, y, w_values, b_values)
    assert W.shape == B.shape == L.shape == (5, 7)
    direct = np.array([[np.mean((w * x + b - y) ** 2) for w in w_values] for b in b_values])
    np.testing.assert_allclose(L, direct, rtol=1e-10, atol=1e-8)
    assert np.all(W[0] == w_values) and np.all(B[:, 0] == b_values)


def test_loss_grid_minimum_is_least_squares_line():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=100)
    y = 2 * x - 1 + rng.normal(0, 0.1, size=100)
    w_ls, b_ls = np.linalg.lstsq(np.column_stack([x, np.ones_like(x)]), y, rcond=None)[0]
    w_values = w_ls + np.linspace(-1, 1, 21)
    b_values = b_ls + np.linspace(-1, 1, 21)
    _, _, L = loss_grid(x, y, w_values, b_values)
    assert np.unravel_index(np.argmin(L), L.shape) == (10, 10)
    assert np.all(L >= 0)


def test_loss_grid_rejects_mismatched_data():
    with pytest.raises(ValueError, match="same length"):
        loss_grid([1.0, 2.0], [1.0], [0.0], [0.0])


def test_draw_network_draws_one_circle_per_neuron_and_one_line_per_weight():
    fig = Figure()
    ax = fig.add_subplot()
    out = draw_network(ax, [3, 4, 1], layer_labels=["in", "hidden", "out"], node_labels=[["a", "b", "c"], None, ["y"]])
    assert out is ax
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    assert len(circles) == 3 + 4 + 1
    assert len(ax.lines) == 3 * 4 + 4 * 1
    texts = {t.get_text() for t in ax.texts}
    assert {"in", "hidden", "out", "a", "b", "c", "y"} <= texts


def test_draw_network_single_layer_and_bad_input():
    fig = Figure()
    ax = fig.add_subplot()
    draw_network(ax, [2])
    assert len(ax.patches) == 2 and len(ax.lines) == 0
    with pytest.raises(ValueError):
        draw_network(fig.add_subplot(), [2, 0])
    with pytest.raises(ValueError, match="one entry per layer"):
        draw_network(fig.add_subplot(), [2, 1], layer_labels=["only one"])
