"""The course's figure style and small plotting helpers.

Introduced in the chapter *Welcome and AI in practice* (``book/welcome.md``).
Nothing here runs at import time: call :func:`use_course_style` once per chapter.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["COLORS", "show_images", "use_course_style"]

#: Colour-blind-safe palette (Okabe & Ito), used for lines and bars across the book.
COLORS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")


def use_course_style() -> None:
    """Set matplotlib defaults shared by every chapter: size, fonts, palette, no top/right spines."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update(
        {
            "figure.figsize": (6.4, 4.0),
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "font.size": 11,
            "axes.titlesize": 12,
            "axes.labelsize": 11,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.prop_cycle": cycler(color=list(COLORS)),
            "image.cmap": "gray",
            "legend.frameon": False,
        }
    )


def show_images(
    images: Sequence[np.ndarray] | np.ndarray,
    titles: Sequence[str] | None = None,
    ncols: int = 5,
    size: float = 2.0,
    cmap: str = "gray",
    vmin: float | None = None,
    vmax: float | None = None,
):
    """Draw images in a grid without axes; returns the matplotlib figure.

    Introduced in *How does a computer see a picture?*.
    """
    import matplotlib.pyplot as plt

    n = len(images)
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3 * bool(titles)), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i, image in enumerate(images):
        ax = axes.ravel()[i]
        ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax)
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    fig.tight_layout()
    return fig
