"""Unit tests of heicadlearn.images (introduced in the chapter computer_vision)."""

import numpy as np
import pytest
from heicadlearn.images import correlate2d, max_pool, resize, window
from scipy import signal


def test_window_maps_range_to_unit_interval():
    image = np.array([[0, 50, 100], [150, 200, 255]], dtype=np.uint8)
    out = window(image, center=100, width=100)
    assert out.dtype == np.float64
    assert out.min() == 0.0 and out.max() == 1.0
    np.testing.assert_allclose(out, [[0, 0, 0.5], [1, 1, 1]])


def test_window_is_monotone_and_rejects_bad_width():
    values = np.arange(256)
    out = window(values, center=128, width=64)
    assert np.all(np.diff(out) >= 0)
    with pytest.raises(ValueError, match="positive"):
        window(values, center=128, width=0)


def test_resize_block_average_and_shape():
    image = np.arange(16, dtype=np.float64).reshape(4, 4)
    small = resize(image, 2)
    assert small.shape == (2, 2) and small.dtype == np.float32
    expected = image.reshape(2, 2, 2, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(small, expected, rtol=1e-6)
    assert resize(np.zeros((10, 20), dtype=np.uint8), (5, 7)).shape == (5, 7)
    with pytest.raises(ValueError, match="2-D"):
        resize(np.zeros((4, 4, 3)), 2)


@pytest.mark.parametrize("mode", ["valid", "same"])
@pytest.mark.parametrize("kshape", [(3, 3), (2, 4), (5, 1)])
def test_correlate2d_matches_scipy(mode, kshape):
    rng = np.random.default_rng(0)
    image = rng.normal(size=(12, 15))
    kernel = rng.normal(size=kshape)
    expected = signal.correlate2d(image, kernel, mode=mode)
    np.testing.assert_allclose(correlate2d(image, kernel, mode=mode), expected, atol=1e-12)


def test_correlate2d_errors():
    with pytest.raises(ValueError, match="mode"):
        correlate2d(np.ones((4, 4)), np.ones((2, 2)), mode="full")
    with pytest.raises(ValueError, match="larger"):
        correlate2d(np.ones((2, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="2-D"):
        correlate2d(np.ones(4), np.ones((1, 1)))


def test_max_pool():
    image = np.array([[1, 2, 5, 0, 9], [3, 4, 1, 1, 9], [0, 0, 7, 8, 9]])
    np.testing.assert_array_equal(max_pool(image), [[4, 5]])
    assert max_pool(np.ones((28, 28)), size=2).shape == (14, 14)
    with pytest.raises(ValueError, match="smaller"):
        max_pool(np.ones((1, 1)), size=2)
