"""Small image helpers: windowing, resizing and a fast 2-D cross-correlation.

Introduced in the chapter *How does a computer see a picture?* (``book/computer_vision.md``),
which first writes each operation out by hand; later chapters reuse these versions.
"""

from __future__ import annotations

import numpy as np

__all__ = ["correlate2d", "max_pool", "resize", "window"]


def window(image: np.ndarray, center: float, width: float) -> np.ndarray:
    """Map grey values to [0, 1] through a display window (``center`` ± ``width`` / 2).

    Values below ``center - width / 2`` become 0, values above ``center + width / 2``
    become 1, and the values in between are stretched linearly over the full range.
    This is the "window level / window width" control of radiology viewers.
    Introduced in *How does a computer see a picture?*.
    """
    if width <= 0:
        raise ValueError(f"the window width must be positive, got {width!r}")
    low = center - width / 2
    return np.clip((np.asarray(image, dtype=np.float64) - low) / width, 0.0, 1.0)


def resize(image: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Resize a 2-D grey image to ``size`` pixels (an int for a square, or (rows, columns)).

    Uses box (area) averaging, so shrinking an image averages the pixels that fall
    into each new pixel. Returns a float32 array on the scale of the input.
    Introduced in *How does a computer see a picture?*.
    """
    from PIL import Image

    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"resize expects a 2-D grey image, got shape {image.shape}")
    rows, cols = (size, size) if isinstance(size, int) else size
    pil = Image.fromarray(image.astype(np.float32))  # a float32 array gives a 32-bit float ("F") image
    return np.asarray(pil.resize((cols, rows), resample=Image.Resampling.BOX), dtype=np.float32)


def correlate2d(image: np.ndarray, kernel: np.ndarray, mode: str = "valid") -> np.ndarray:
    """Slide ``kernel`` over ``image`` and sum the products: the "convolution" of a CNN layer.

    Like :func:`scipy.signal.correlate2d` (no kernel flip). ``mode="valid"`` keeps only
    positions where the kernel lies fully inside the image (output shrinks by the kernel
    size minus one); ``mode="same"`` pads with zeros so the output has the input's shape.
    Vectorised over the image: one array operation per kernel entry.
    Introduced in *How does a computer see a picture?*.
    """
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError("correlate2d expects a 2-D image and a 2-D kernel")
    kh, kw = kernel.shape
    if mode == "same":
        top, left = (kh - 1) // 2, (kw - 1) // 2
        image = np.pad(image, ((top, kh - 1 - top), (left, kw - 1 - left)))
    elif mode != "valid":
        raise ValueError(f"mode must be 'valid' or 'same', got {mode!r}")
    rows, cols = image.shape[0] - kh + 1, image.shape[1] - kw + 1
    if rows < 1 or cols < 1:
        raise ValueError(f"kernel {kernel.shape} is larger than the image {image.shape}")
    out = np.zeros((rows, cols))
    for i in range(kh):
        for j in range(kw):
            out += kernel[i, j] * image[i : i + rows, j : j + cols]
    return out


def max_pool(image: np.ndarray, size: int = 2) -> np.ndarray:
    """Keep the largest value of each ``size`` x ``size`` block (rows/columns left over are dropped).

    Introduced in *How does a computer see a picture?*.
    """
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"max_pool expects a 2-D array, got shape {image.shape}")
    rows, cols = image.shape[0] // size, image.shape[1] // size
    if rows < 1 or cols < 1:
        raise ValueError(f"image {image.shape} is smaller than the pooling size {size}")
    blocks = image[: rows * size, : cols * size].reshape(rows, size, cols, size)
    return blocks.max(axis=(1, 3))
