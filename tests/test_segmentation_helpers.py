"""heicadlearn.segmentation: masks, label images and their scores, against brute force and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from heicadlearn.data import load_bbbc039
from heicadlearn.segmentation import (
    dice,
    iou,
    label_objects,
    labels_from_probabilities,
    match_instances,
    merged_objects,
    merges_and_splits,
    otsu_threshold,
    outlines,
    three_class_target,
    watershed_split,
)
from scipy import ndimage as ndi
from sklearn.metrics import f1_score, jaccard_score


def two_touching_discs(radius=15, gap=25, shape=(60, 100)):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    left = (yy - 30) ** 2 + (xx - 35) ** 2 < radius**2
    right = ((yy - 30) ** 2 + (xx - 35 - gap) ** 2 < radius**2) & ~left
    labels = np.zeros(shape, dtype=np.int32)
    labels[left], labels[right] = 1, 2
    return labels


@pytest.fixture(scope="module")
def bbbc():
    return load_bbbc039()


# ------------------------------------------------------------------------------ masks


def test_dice_and_iou_equal_scikit_learn():
    rng = np.random.default_rng(3)
    for density in (0.05, 0.3, 0.7):
        a, b = rng.random((40, 50)) < density, rng.random((40, 50)) < density
        assert abs(dice(a, b) - f1_score(b.ravel(), a.ravel())) < 1e-12
        assert abs(iou(a, b) - jaccard_score(b.ravel(), a.ravel())) < 1e-12
        d, j = dice(a, b), iou(a, b)
        assert abs(d - 2 * j / (1 + j)) < 1e-12  # Dice and IoU are two scales of one quantity


def test_dice_and_iou_edge_cases_and_bad_input():
    empty = np.zeros((4, 4), dtype=bool)
    assert dice(empty, empty) == 1.0 and iou(empty, empty) == 1.0
    assert dice(~empty, empty) == 0.0 and iou(~empty, empty) == 0.0
    with pytest.raises(TypeError, match="boolean mask"):
        dice(np.ones((4, 4)), empty)
    with pytest.raises(ValueError, match="different shapes"):
        iou(empty, np.zeros((4, 5), dtype=bool))


def brute_force_otsu(image) -> float:
    values = np.unique(image)
    best, best_t = -1.0, None
    for t in values[:-1]:
        low, high = image[image <= t], image[image > t]
        w0, w1 = low.size / image.size, high.size / image.size
        between = w0 * w1 * (low.mean() - high.mean()) ** 2
        if between > best + 1e-12:
            best, best_t = between, t
    return float(best_t)


def test_otsu_equals_brute_force_on_integer_images():
    rng = np.random.default_rng(0)
    for _ in range(5):
        image = np.concatenate([rng.normal(100, 15, 300), rng.normal(180, 25, 200)]).clip(0, 4095)
        image = image.astype(np.uint16).reshape(20, 25)
        assert otsu_threshold(image) == brute_force_otsu(image)


def test_otsu_on_real_microscopy_separates_dim_background_from_nuclei(bbbc):
    image, labels = bbbc.images[0], bbbc.labels[0]
    t = otsu_threshold(image)
    assert np.median(image[labels == 0]) < t < np.median(image[labels > 0])
    assert dice(image > t, labels > 0) > 0.9


def test_otsu_rejects_flat_or_empty_images():
    with pytest.raises(ValueError, match="single grey value"):
        otsu_threshold(np.full((5, 5), 7, dtype=np.uint8))
    with pytest.raises(ValueError, match="2-D"):
        otsu_threshold(np.array([], dtype=float))
    with pytest.raises(ValueError, match="NaN"):
        otsu_threshold(np.array([[0.0, np.nan]]))
    floats = np.array([[0.0, 0.1, 0.9, 1.0]] * 3)
    assert ((floats > otsu_threshold(floats)) == (floats > 0.5)).all()
    rng = np.random.default_rng(2)
    noisy = np.concatenate([rng.normal(0.2, 0.05, 500), rng.normal(0.7, 0.1, 500)])
    assert abs(otsu_threshold(noisy.reshape(20, 50)) - brute_force_otsu(noisy)) < 0.01  # 256 bins: close


# -------------------------------------------------------------------------- label images


def test_label_objects_uses_edges_not_corners_and_removes_small_ones():
    mask = np.zeros((6, 6), dtype=bool)
    mask[0:2, 0:2] = True  # 4 px
    mask[2, 2] = True  # touches the first square only at a corner: its own object
    mask[4:6, 3:6] = True  # 6 px
    labels = label_objects(mask)
    assert labels.max() == 3 and labels.dtype == np.int32
    kept = label_objects(mask, min_size=4)
    assert kept.max() == 2 and set(np.unique(kept)) == {0, 1, 2} and kept[2, 2] == 0


def test_three_class_target_separates_touching_nuclei():
    labels = two_touching_discs()
    for width in (1, 2, 3):
        target = three_class_target(labels, width)
        assert set(np.unique(target)) == {0, 1, 2}
        np.testing.assert_array_equal(target > 0, labels > 0)  # interior + boundary = the nuclei
        assert (target[labels == 0] == 0).all()
        _, n_interiors = ndi.label(target == 1)
        assert n_interiors == 2  # the two discs touch, their interiors do not
        ring = outlines(labels, width)
        np.testing.assert_array_equal(ring, target == 2)
    assert (three_class_target(labels, 1) == 2).sum() < (three_class_target(labels, 2) == 2).sum()


def test_three_class_target_on_real_annotations(bbbc):
    labels = bbbc.labels[0]
    target = three_class_target(labels, 1)
    interiors = np.where(target == 1, labels, 0)
    # No interior pixel has a 4-neighbour in the interior of another nucleus.
    for shift in ((0, 1), (1, 0)):
        a, b = interiors, np.roll(interiors, shift, axis=(0, 1))
        assert not ((a > 0) & (b > 0) & (a != b))[1:, 1:].any()
    with pytest.raises(ValueError, match="width"):
        outlines(labels, 0)


def test_labels_from_a_perfect_prediction_give_back_the_nuclei(bbbc):
    labels = bbbc.labels[5]
    one_hot = np.eye(3)[three_class_target(labels, 2)]
    recovered = labels_from_probabilities(one_hot, min_size=0, grow=2)
    m = match_instances(labels, recovered)
    big = np.bincount(labels.ravel())[1:] >= 30
    assert m.true_matched[big].mean() > 0.98, "nearly every nucleus of normal size is recovered"
    assert m.f1 > 0.98 and m.fp <= 2
    assert dice(recovered > 0, labels > 0) > 0.97


def test_boundary_weight_cuts_more_and_validates():
    rng = np.random.default_rng(1)
    p = rng.dirichlet([1, 1, 1], size=(30, 30))
    light = labels_from_probabilities(p, boundary_weight=0.5, grow=0)
    heavy = labels_from_probabilities(p, boundary_weight=3.0, grow=0)
    assert (heavy > 0).sum() < (light > 0).sum()
    with pytest.raises(ValueError, match="shape"):
        labels_from_probabilities(p[..., :2])
    with pytest.raises(ValueError, match="positive"):
        labels_from_probabilities(p, boundary_weight=0)


def test_watershed_cuts_two_touching_discs_at_the_waist():
    labels = two_touching_discs()
    split = watershed_split(labels > 0, min_distance=5, smooth=1.0)
    assert split.max() == 2
    np.testing.assert_array_equal(split > 0, labels > 0)  # every mask pixel, nothing outside
    m = match_instances(labels, split)
    assert m.tp == 2 and min(m.true_iou) > 0.9
    assert label_objects(labels > 0).max() == 1  # connected components alone merge them


def test_watershed_leaves_single_objects_alone():
    labels = two_touching_discs(gap=45)  # two separate discs
    split = watershed_split(labels > 0)
    assert split.max() == 2 and match_instances(labels, split).f1 == 1.0
    with pytest.raises(ValueError, match="min_distance"):
        watershed_split(labels > 0, min_distance=0)


# ------------------------------------------------------------------------ instance scores


def brute_force_match(true, pred, threshold):
    tp = 0
    for t in np.unique(true[true > 0]):
        for p in np.unique(pred[pred > 0]):
            inter = ((true == t) & (pred == p)).sum()
            union = ((true == t) | (pred == p)).sum()
            tp += inter / union > threshold
    return tp, len(np.unique(pred[pred > 0])) - tp, len(np.unique(true[true > 0])) - tp


def test_matching_equals_brute_force(bbbc):
    true = bbbc.labels[11][:200, :200]
    pred = watershed_split(bbbc.images[11][:200, :200] > otsu_threshold(bbbc.images[11]))
    for threshold in (0.5, 0.7, 0.9):
        m = match_instances(true, pred, threshold)
        assert (m.tp, m.fp, m.fn) == brute_force_match(true, pred, threshold)
        assert abs(m.f1 - 2 * m.tp / (2 * m.tp + m.fp + m.fn)) < 1e-12
        assert m.n_true == len(np.unique(true)) - 1 and m.n_pred == len(np.unique(pred)) - 1


def test_matching_special_cases():
    labels = two_touching_discs()
    same = match_instances(labels, labels * 7)  # label numbers need not be consecutive
    assert (same.tp, same.fp, same.fn, same.f1, same.precision, same.recall) == (2, 0, 0, 1.0, 1.0, 1.0)
    merged = match_instances(labels, (labels > 0).astype(np.int32))
    assert merged.tp <= 1 and merged.fn >= 1
    nothing = match_instances(labels, np.zeros_like(labels))
    assert (nothing.tp, nothing.fn, nothing.f1, nothing.precision) == (0, 2, 0.0, 1.0)
    with pytest.raises(ValueError, match="at least 0.5"):
        match_instances(labels, labels, threshold=0.3)
    with pytest.raises(TypeError, match="integer label image"):
        match_instances(labels > 0, labels)
    with pytest.raises(ValueError, match="negative"):
        match_instances(labels, -labels)


def test_merges_and_splits_are_counted():
    labels = two_touching_discs()
    assert merges_and_splits(labels, labels) == (0, 0)
    assert merges_and_splits(labels, (labels > 0).astype(np.int32)) == (1, 0)
    halves = labels.copy()
    halves[(labels == 1) & (np.arange(100)[None, :] < 35)] = 3  # cut the left disc in two
    assert merges_and_splits(labels, halves) == (0, 1)


def test_merged_objects_flags_the_merges_in_the_order_of_the_matching():
    labels = two_touching_discs()
    merged = (labels > 0).astype(np.int32) * 7  # one object, label 7: both discs in one blob
    speck = merged.copy()
    speck[0, 0] = 3  # a second predicted object, labelled lower, that covers nothing
    flags = merged_objects(labels, speck)
    assert flags.tolist() == [False, True]  # label 3 first, then label 7, as in match_instances
    assert len(flags) == len(match_instances(labels, speck).pred_matched)
    assert merged_objects(labels, labels).tolist() == [False, False]
    assert int(merged_objects(labels, merged).sum()) == merges_and_splits(labels, merged)[0] == 1
