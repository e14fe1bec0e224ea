"""Plotting utilities for regression models and small networks.

Introduced in the chapter *From linear regression to neural networks*
(``book/regression_to_nn.md``).

The code that teaches (the model, the mean squared error, the gradient-descent
loop) is written out in the chapters; this module only holds the pieces that
draw pictures of it:

* :func:`loss_grid` evaluates the mean squared error of the straight line
  ``y = w * x + b`` for every ``(w, b)`` on a grid, for a contour plot of the
  loss surface;
* :func:`draw_network` draws a diagram of a fully connected network (circles
  for neurons, lines for weights).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

__all__ = ["draw_network", "loss_grid"]


def loss_grid(x, y, w_values, b_values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean squared error of ``y ~ w * x + b`` on a grid of slopes ``w`` and intercepts ``b``.

    Returns ``(W, B, L)``, three arrays of shape ``(len(b_values), len(w_values))``
    ready for ``ax.contour(W, B, L)``: ``L[i, j]`` is the mean of
    ``(w_values[j] * x + b_values[i] - y) ** 2`` over all samples.

    The grid is computed from five averages of the data (the mean squared error
    is a quadratic in ``w`` and ``b``), so its cost does not grow with the number
    of samples times the number of grid points.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim != 1 or y.ndim != 1 or len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x and y must be non-empty 1-D arrays of the same length, got shapes {x.shape} and {y.shape}")
    W, B = np.meshgrid(np.asarray(w_values, dtype=float), np.asarray(b_values, dtype=float))
    # Expand mean((w x + b - y)^2); centring y keeps the cancellation small.
    y_mean = y.mean()
    yc = y - y_mean
    Bc = B - y_mean
    L = W**2 * np.mean(x * x) + 2 * W * Bc * x.mean() + Bc**2 - 2 * W * np.mean(x * yc) + np.mean(yc * yc)
    return W, B, np.maximum(L, 0.0)


def draw_network(
    ax,
    layer_sizes: Sequence[int],
    layer_labels: Sequence[str] | None = None,
    node_labels: Sequence[Sequence[str] | None] | None = None,
    colors: Sequence[str] | None = None,
    radius: float = 0.3,
    spacing: float = 2.0,
):
    """Draw a fully connected network on ``ax``: one column of circles per layer.

    ``layer_sizes`` lists the number of neurons per layer, inputs first, e.g.
    ``[4, 3, 1]``. ``layer_labels`` are written under the columns,
    ``node_labels`` (one list per layer, or ``None``) inside the circles.
    Every neuron is joined by a line to every neuron of the next layer: each
    line stands for one weight. ``radius`` is the size of a circle and ``spacing`` the
    distance between layers, both in units of the vertical distance between neurons.
    Returns ``ax``.
    """
    from matplotlib.patches import Circle

    from .plotting import COLORS

    sizes = [int(n) for n in layer_sizes]
    if not sizes or min(sizes) < 1:
        raise ValueError(f"layer_sizes must be positive integers, got {list(layer_sizes)!r}")
    for name, seq in (("layer_labels", layer_labels), ("node_labels", node_labels), ("colors", colors)):
        if seq is not None and len(seq) != len(sizes):
            raise ValueError(f"{name} needs one entry per layer ({len(sizes)}), got {len(seq)}")
    if colors is None:
        # inputs blue, hidden layers green, output orange-red
        colors = [COLORS[0]] + [COLORS[2]] * (len(sizes) - 2) + [COLORS[3]] * (len(sizes) > 1)
    tallest = max(sizes)
    positions = [[(i * spacing, (n - 1) / 2 - k) for k in range(n)] for i, n in enumerate(sizes)]
    for left, right in itertools.pairwise(positions):
        for x0, y0 in left:
            for x1, y1 in right:
                ax.plot([x0, x1], [y0, y1], color="0.6", linewidth=0.8, zorder=1)
    for i, column in enumerate(positions):
        labels = node_labels[i] if node_labels is not None else None
        if labels is not None and len(labels) != len(column):
            raise ValueError(f"node_labels[{i}] needs {len(column)} entries, got {len(labels)}")
        for k, (x0, y0) in enumerate(column):
            ax.add_patch(Circle((x0, y0), radius, facecolor=colors[i], edgecolor="black", linewidth=0.8, zorder=2))
            if labels is not None:
                ax.text(x0, y0, labels[k], ha="center", va="center", fontsize=8, color="white", zorder=3)
        if layer_labels is not None:
            ax.text(i * spacing, -(tallest - 1) / 2 - radius - 0.2, layer_labels[i], ha="center", va="top", fontsize=10)
    ax.set_xlim(-spacing / 2, (len(sizes) - 0.5) * spacing)
    ax.set_ylim(-(tallest - 1) / 2 - 1.1, (tallest - 1) / 2 + 0.5)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return ax
