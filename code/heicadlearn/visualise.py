"""Figures for looking at trained image classifiers: filters, image grids, class
probabilities, confusion matrices and learning curves.

Introduced in the chapter *Feature visualisation: how a network builds up its
understanding of images* (``book/feature_visualisation.md``), which uses
:func:`show_filters` and :func:`show_image_rows`; the chapter *Homework: classifying
Fashion-MNIST* (``book/fashion_mnist_homework.md``) uses :func:`plot_probabilities`,
:func:`show_predictions`, :func:`plot_confusion_matrix` and :func:`plot_history`.

These are drawing helpers only: the code that teaches (training a network, gradient
ascent on an image, counting confusions) stays in the chapters. Every function
returns the matplotlib figure (or axes) it drew on and prints nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = [
    "plot_confusion_matrix",
    "plot_history",
    "plot_probabilities",
    "show_filters",
    "show_image_rows",
    "show_predictions",
]

_BLUE, _ORANGE, _GREY = "#0072B2", "#D55E00", "#BBBBBB"


def show_filters(kernels: np.ndarray, ncols: int = 8, size: float = 0.9, input_channel: int = 0, cmap: str = "RdBu_r"):
    """Draw the filters of a convolution layer as small images; returns the figure.

    ``kernels`` has the shape Keras uses for ``Conv2D`` weights,
    ``(height, width, input_channels, filters)``. One input channel is shown
    (``input_channel``). The colour scale is symmetric around zero and shared by all
    filters, so that red means a positive weight, blue a negative one, white zero.
    """
    import matplotlib.pyplot as plt

    kernels = np.asarray(kernels)
    if kernels.ndim != 4:
        raise ValueError(f"expected Conv2D weights of shape (h, w, in, out), got shape {kernels.shape}")
    weights = kernels[:, :, input_channel, :]
    n = weights.shape[-1]
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    limit = float(np.abs(weights).max()) or 1.0
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.2), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for i in range(n):
        ax = axes.ravel()[i]
        ax.imshow(weights[:, :, i], cmap=cmap, vmin=-limit, vmax=limit)
        ax.set_title(str(i), fontsize=8)
    fig.tight_layout()
    return fig


def show_image_rows(
    rows: Sequence[Sequence[np.ndarray]],
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    size: float = 0.9,
    cmap: str = "gray",
    vmin: float | None = None,
    vmax: float | None = None,
):
    """Draw rows of images (rows may differ in length), with an optional label per row
    and per column; returns the figure.

    Each image is scaled on its own unless ``vmin``/``vmax`` are given.
    """
    import matplotlib.pyplot as plt

    if not rows:
        raise ValueError("need at least one row of images")
    if row_labels is not None and len(row_labels) != len(rows):
        raise ValueError(f"{len(row_labels)} row labels for {len(rows)} rows")
    ncols = max(len(r) for r in rows)
    figsize = (size * ncols + 0.8 * bool(row_labels), size * len(rows) + 0.2)
    fig, axes = plt.subplots(len(rows), ncols, figsize=figsize, squeeze=False)
    for r, images in enumerate(rows):
        for c in range(ncols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if c < len(images):
                ax.imshow(np.squeeze(images[c]), cmap=cmap, vmin=vmin, vmax=vmax)
            if c == 0 and row_labels is not None:
                ax.set_ylabel(row_labels[r], rotation=0, ha="right", va="center", fontsize=9)
            if r == 0 and col_labels is not None and c < len(col_labels):
                ax.set_title(col_labels[c], fontsize=8)
    fig.tight_layout()
    return fig


def plot_probabilities(ax, probabilities: Sequence[float], class_names: Sequence[str], true_label: int | None = None):
    """Horizontal bars of one image's class probabilities on ``ax``; returns ``ax``.

    The predicted class (largest probability) is drawn in blue if it equals
    ``true_label`` and in orange if not; the true class's name is printed in bold.
    """
    probabilities = np.asarray(probabilities, dtype=float)
    if probabilities.shape != (len(class_names),):
        raise ValueError(f"{probabilities.size} probabilities for {len(class_names)} classes")
    predicted = int(np.argmax(probabilities))
    colors = [_GREY] * len(class_names)
    colors[predicted] = _BLUE if true_label is None or predicted == true_label else _ORANGE
    positions = np.arange(len(class_names))
    ax.barh(positions, probabilities, color=colors)
    ax.set_yticks(positions, labels=list(class_names), fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability", fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    if true_label is not None:
        ax.get_yticklabels()[true_label].set_fontweight("bold")
    return ax


def show_predictions(
    images: Sequence[np.ndarray],
    probabilities: np.ndarray,
    class_names: Sequence[str],
    true_labels: Sequence[int] | None = None,
    ncols: int = 2,
    size: float = 1.6,
):
    """Each image beside the bars of its predicted class probabilities; returns the figure.

    The image's title gives the predicted class and its probability, and the true
    class when it differs.
    """
    import matplotlib.pyplot as plt

    probabilities = np.asarray(probabilities, dtype=float)
    n = len(images)
    if len(probabilities) != n:
        raise ValueError(f"{n} images but {len(probabilities)} rows of probabilities")
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(
        nrows,
        2 * ncols,
        figsize=(size * 2.6 * ncols, size * nrows + 0.3),
        squeeze=False,
        gridspec_kw={"width_ratios": [1, 1.5] * ncols},
    )
    for ax in axes.ravel():
        ax.set_axis_off()
    for i in range(n):
        r, c = divmod(i, ncols)
        ax_img, ax_bar = axes[r, 2 * c], axes[r, 2 * c + 1]
        truth = None if true_labels is None else int(true_labels[i])
        predicted = int(np.argmax(probabilities[i]))
        ax_img.imshow(np.squeeze(images[i]), cmap="gray")
        title = f"{class_names[predicted]} ({probabilities[i, predicted]:.0%})"
        if truth is not None and truth != predicted:
            title += f"\ntrue: {class_names[truth]}"
        ax_img.set_title(title, fontsize=8, color=_BLUE if truth in (None, predicted) else _ORANGE)
        ax_bar.set_axis_on()
        plot_probabilities(ax_bar, probabilities[i], class_names, truth)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(confusion: np.ndarray, class_names: Sequence[str], ax=None, cmap: str = "Blues"):
    """Draw a confusion matrix (rows: true class, columns: predicted class) with the
    count in every cell; returns the axes."""
    import matplotlib.pyplot as plt

    confusion = np.asarray(confusion)
    k = len(class_names)
    if confusion.shape != (k, k):
        raise ValueError(f"confusion matrix of shape {confusion.shape} for {k} classes")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.55 * k + 2, 0.55 * k + 1.5))
    ax.imshow(confusion, cmap=cmap)
    ticks = np.arange(k)
    ax.set_xticks(ticks, labels=list(class_names), rotation=45, ha="right", fontsize=8)
    ax.set_yticks(ticks, labels=list(class_names), fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    threshold = confusion.max() / 2 if confusion.size else 0
    for i in range(k):
        for j in range(k):
            ax.text(
                j,
                i,
                f"{confusion[i, j]:g}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if confusion[i, j] > threshold else "black",
            )
    for spine in ax.spines.values():
        spine.set_visible(False)
    return ax


def plot_history(history: Mapping[str, Sequence[float]], metrics: Sequence[str] = ("loss", "accuracy")):
    """Learning curves from a Keras ``History.history`` dict: one panel per metric,
    training and (if present) validation values per epoch; returns the figure."""
    import matplotlib.pyplot as plt

    missing = [m for m in metrics if m not in history]
    if missing:
        raise KeyError(f"history has no {missing}; it has {sorted(history)}")
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.2), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        values = list(history[metric])
        epochs = np.arange(1, len(values) + 1)
        ax.plot(epochs, values, marker="o", markersize=3, label="training")
        if f"val_{metric}" in history:
            ax.plot(epochs, list(history[f"val_{metric}"]), marker="s", markersize=3, label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.legend()
    fig.tight_layout()
    return fig
