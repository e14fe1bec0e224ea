"""Unit tests of heicadlearn.visualise (fast: no TensorFlow, no book build)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from heicadlearn import visualise  # noqa: E402

CLASSES = ("a", "b", "c")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _images_in(fig):
    return [im for ax in fig.axes for im in ax.get_images()]


def test_show_filters_draws_one_image_per_filter_with_symmetric_scale():
    rng = np.random.default_rng(0)
    kernels = rng.normal(size=(5, 5, 1, 10))
    fig = visualise.show_filters(kernels, ncols=4)
    images = _images_in(fig)
    assert len(images) == 10
    assert len(fig.axes) == 12  # 3 rows x 4 columns, two left empty
    limit = np.abs(kernels).max()
    for i, image in enumerate(images):
        assert image.get_clim() == pytest.approx((-limit, limit))
        np.testing.assert_allclose(image.get_array(), kernels[:, :, 0, i])


def test_show_filters_rejects_wrong_shape():
    with pytest.raises(ValueError, match="Conv2D weights"):
        visualise.show_filters(np.zeros((5, 5, 4)))


def test_show_image_rows_handles_ragged_rows_and_labels():
    rows = [[np.zeros((4, 4))] * 3, [np.ones((4, 4, 1))] * 2]
    fig = visualise.show_image_rows(rows, row_labels=["first", "second"], col_labels=["x", "y", "z"])
    assert len(fig.axes) == 6
    assert len(_images_in(fig)) == 5
    assert fig.axes[0].get_ylabel() == "first"
    assert fig.axes[3].get_ylabel() == "second"
    assert fig.axes[2].get_title() == "z"
    with pytest.raises(ValueError, match="row labels"):
        visualise.show_image_rows(rows, row_labels=["only one"])


def test_plot_probabilities_colours_wrong_prediction_and_bolds_truth():
    fig, ax = plt.subplots()
    visualise.plot_probabilities(ax, [0.1, 0.7, 0.2], CLASSES, true_label=2)
    bars = ax.patches
    assert [b.get_width() for b in bars] == pytest.approx([0.1, 0.7, 0.2])
    assert matplotlib.colors.to_hex(bars[1].get_facecolor()) == "#d55e00"  # wrong: orange
    assert ax.get_yticklabels()[2].get_fontweight() == "bold"
    assert ax.get_xlim() == (0, 1)


def test_plot_probabilities_blue_when_right_and_checks_length():
    fig, ax = plt.subplots()
    visualise.plot_probabilities(ax, [0.1, 0.7, 0.2], CLASSES, true_label=1)
    assert matplotlib.colors.to_hex(ax.patches[1].get_facecolor()) == "#0072b2"
    with pytest.raises(ValueError, match="probabilities for 3 classes"):
        visualise.plot_probabilities(ax, [0.5, 0.5], CLASSES)


def test_show_predictions_titles_name_prediction_and_truth():
    images = [np.zeros((28, 28)), np.ones((28, 28))]
    probs = np.array([[0.8, 0.1, 0.1], [0.2, 0.3, 0.5]])
    fig = visualise.show_predictions(images, probs, CLASSES, true_labels=[0, 1], ncols=2)
    titles = [ax.get_title() for ax in fig.axes if ax.get_images()]
    assert titles == ["a (80%)", "c (50%)\ntrue: b"]
    with pytest.raises(ValueError, match="rows of probabilities"):
        visualise.show_predictions(images, probs[:1], CLASSES)


def test_plot_confusion_matrix_writes_every_count():
    cm = np.array([[5, 1, 0], [2, 7, 0], [0, 0, 9]])
    ax = visualise.plot_confusion_matrix(cm, CLASSES)
    texts = [t.get_text() for t in ax.texts]
    assert texts == [str(v) for v in cm.ravel()]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    with pytest.raises(ValueError, match="for 2 classes"):
        visualise.plot_confusion_matrix(cm, CLASSES[:2])


def test_plot_history_draws_training_and_validation():
    history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8], "val_accuracy": [0.4, 0.7]}
    fig = visualise.plot_history(history)
    assert len(fig.axes) == 2
    lines = fig.axes[1].get_lines()
    assert [list(line.get_ydata()) for line in lines] == [[0.5, 0.8], [0.4, 0.7]]
    with pytest.raises(KeyError, match="auc"):
        visualise.plot_history(history, metrics=("auc",))
