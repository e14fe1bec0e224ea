"""Segmenting and counting objects in microscopy images: masks, instances and how to score them.

Introduced in the chapter *Finding and counting cell nuclei with a U-Net*
(``book/nuclei_segmentation.md``), which explains every function here before using it.

Two kinds of result are scored differently:

* a **mask** (semantic segmentation) says for every pixel "nucleus or not":
  :func:`dice` and :func:`iou` compare two masks pixel by pixel;
* a **label image** (instance segmentation) gives every object its own number
  (0 = background, 1, 2, ... = objects): :func:`match_instances` pairs predicted and
  true objects that overlap with an intersection over union above 0.5 and counts
  detections, misses and false objects; :func:`merges_and_splits` counts the two
  typical errors on touching nuclei.

The classical pipeline, as a baseline: :func:`otsu_threshold` (Otsu 1979),
:func:`label_objects` (connected components) and :func:`watershed_split`, a
distance-transform watershed that cuts touching objects apart. For a U-Net with three
output classes (background, interior, boundary; as in Caicedo et al. 2019):
:func:`three_class_target` makes the training target from a label image, and
:func:`labels_from_probabilities` turns the network's output back into objects.
Everything is NumPy and :mod:`scipy.ndimage`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "InstanceMatch",
    "dice",
    "iou",
    "label_objects",
    "labels_from_probabilities",
    "match_instances",
    "merged_objects",
    "merges_and_splits",
    "otsu_threshold",
    "outlines",
    "three_class_target",
    "watershed_split",
]

# 4-connectivity: pixels are neighbours if they share an edge (the BBBC039 decoding uses it).
_CROSS = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=bool)


def _mask(x, name: str) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype != bool:
        raise TypeError(f"{name} must be a boolean mask (e.g. image > threshold), not {x.dtype}")
    return x


def _labels(x, name: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2 or not np.issubdtype(x.dtype, np.integer):
        raise TypeError(f"{name} must be a 2-D integer label image (0 = background), not {x.dtype} {x.shape}")
    if x.size and x.min() < 0:
        raise ValueError(f"{name} has negative labels; use 0 for background and 1, 2, ... for objects")
    return x


def _same_shape(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(f"the two images have different shapes {a.shape} and {b.shape}")


# ------------------------------------------------------------------------------ masks


def dice(pred, true) -> float:
    """Dice coefficient of two boolean masks: 2 |A and B| / (|A| + |B|); 1.0 if both are empty.

    It is the F1 score of the pixels: every pixel is a case, "nucleus" the positive class.
    """
    pred, true = _mask(pred, "pred"), _mask(true, "true")
    _same_shape(pred, true)
    total = int(pred.sum()) + int(true.sum())
    return 1.0 if total == 0 else 2.0 * int((pred & true).sum()) / total


def iou(pred, true) -> float:
    """Intersection over union (Jaccard index) of two boolean masks; 1.0 if both are empty."""
    pred, true = _mask(pred, "pred"), _mask(true, "true")
    _same_shape(pred, true)
    union = int((pred | true).sum())
    return 1.0 if union == 0 else int((pred & true).sum()) / union


def otsu_threshold(image) -> float:
    """Otsu's threshold (Otsu 1979): the grey value that best splits the pixels into two groups.

    It maximises the between-class variance ``w0 * w1 * (mean0 - mean1) ** 2`` of the
    pixels at or below the threshold (``w0``, ``mean0``) and above it. Use
    ``image > otsu_threshold(image)``. Integer images (such as 12-bit microscopy) are
    searched exactly, over every grey level; float images over 256 bins.
    """
    image = np.asarray(image)
    if image.size == 0 or image.ndim < 2:
        raise ValueError("otsu_threshold needs an image (a 2-D array with pixels)")
    if np.issubdtype(image.dtype, np.integer):
        low = int(image.min())
        counts = np.bincount((image.ravel() - low).astype(np.int64))
        levels = np.arange(low, low + len(counts), dtype=float)
    else:
        if not np.isfinite(image).all():
            raise ValueError("the image contains NaN or infinite values")
        counts, edges = np.histogram(image, bins=256)
        levels = edges[1:]  # a bin's pixels are "at or below" its upper edge
    if np.count_nonzero(counts) < 2:
        raise ValueError("the image has a single grey value: there is nothing to split")
    p = counts / counts.sum()
    values = levels if np.issubdtype(image.dtype, np.integer) else (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(p)[:-1]  # share of pixels at or below each candidate level
    m0 = np.cumsum(p * values)[:-1]
    total_mean = float((p * values).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total_mean * w0 - m0) ** 2 / (w0 * (1 - w0))
    between[~np.isfinite(between)] = -1
    return float(levels[int(np.argmax(between))])


# -------------------------------------------------------------------------- label images


def label_objects(mask, min_size: int = 0) -> np.ndarray:
    """Connected components of a boolean mask (4-connectivity), numbered 1, 2, ...

    Components with fewer than ``min_size`` pixels are removed (set to background), and
    the rest are renumbered without gaps. Returns an int32 label image.
    """
    from scipy import ndimage as ndi

    mask = _mask(mask, "mask")
    labels, n = ndi.label(mask, structure=_CROSS)
    return _remove_small(labels.astype(np.int32), n, min_size)


def _remove_small(labels: np.ndarray, n: int, min_size: int) -> np.ndarray:
    if min_size <= 1 or n == 0:
        return labels
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    keep = sizes >= min_size
    keep[0] = False
    new_ids = np.zeros(n + 1, dtype=np.int32)
    new_ids[keep] = np.arange(1, int(keep.sum()) + 1, dtype=np.int32)
    return new_ids[labels]


def _diamond(radius: int) -> np.ndarray:
    """The pixels within ``radius`` 4-neighbour steps of the centre."""
    r = np.arange(-radius, radius + 1)
    return (np.abs(r)[:, None] + np.abs(r)[None, :]) <= radius


def outlines(labels, width: int = 1) -> np.ndarray:
    """Boolean mask of the object pixels within ``width`` pixels of another label or the background."""
    from scipy import ndimage as ndi

    labels = _labels(labels, "labels")
    if width < 1:
        raise ValueError("width must be at least 1 pixel")
    footprint = _diamond(width)
    hi = ndi.grey_dilation(labels, footprint=footprint, mode="nearest")
    lo = ndi.grey_erosion(labels, footprint=footprint, mode="nearest")
    return (labels > 0) & ((hi != labels) | (lo != labels))


def three_class_target(labels, width: int = 1) -> np.ndarray:
    """Training target for a three-class U-Net: 0 background, 1 nucleus interior, 2 boundary.

    The boundary class is the outer ring, ``width`` pixels wide, of every object
    (:func:`outlines`): the pixels near the background or another object. Where two
    nuclei touch, their two rings lie side by side, so removing the boundary leaves
    interiors that no longer touch and can be counted; interior and boundary together
    are exactly the nuclei.
    """
    labels = _labels(labels, "labels")
    target = np.where(labels > 0, 1, 0).astype(np.uint8)
    target[outlines(labels, width)] = 2
    return target


def _grow(seeds: np.ndarray, allowed: np.ndarray, max_steps: int) -> np.ndarray:
    """Grow labelled seeds into ``allowed`` pixels, one 4-neighbour ring per step."""
    from scipy import ndimage as ndi

    labels = seeds.copy()
    for _ in range(max_steps):
        grown = ndi.grey_dilation(labels, footprint=_CROSS, mode="constant", cval=0)
        new = (labels == 0) & allowed & (grown > 0)
        if not new.any():
            break
        labels[new] = grown[new]
    return labels


def labels_from_probabilities(probabilities, boundary_weight: float = 1.0, min_size: int = 0, grow: int = 2):
    """Objects from a three-class prediction (H, W, 3: background, interior, boundary).

    Each pixel gets the class with the highest probability, after multiplying the boundary
    probability by ``boundary_weight`` (above 1: more boundary, objects are cut apart more
    readily). The connected interior regions with at least ``min_size`` pixels are the
    objects; each is then grown back by up to ``grow`` pixels into the pixels predicted as
    nucleus (interior or boundary, compared without the weight), to give back the boundary
    ring that was cut off.
    Returns an int32 label image.
    """
    probabilities = np.asarray(probabilities, dtype=float)
    if probabilities.ndim != 3 or probabilities.shape[-1] != 3:
        raise ValueError(f"probabilities must have shape (height, width, 3), not {probabilities.shape}")
    if boundary_weight <= 0:
        raise ValueError("boundary_weight must be positive")
    weighted = probabilities * np.array([1.0, 1.0, boundary_weight])
    seeds = label_objects(np.argmax(weighted, axis=-1) == 1, min_size=min_size)
    nucleus = np.argmax(probabilities, axis=-1) > 0  # interior or boundary, without the weight
    return _grow(seeds, nucleus, grow)


def watershed_split(mask, min_distance: int = 5, smooth: float = 1.0) -> np.ndarray:
    """Cut touching objects of a boolean mask apart with a distance-transform watershed.

    The classical recipe: the distance of each mask pixel to the background is largest in
    the middle of each round object; every local maximum of this distance map (after a
    Gaussian blur of width ``smooth``; maxima closer than ``min_distance`` pixels are
    merged) becomes a marker; the markers are then flooded outwards in order of decreasing
    distance until they meet, so a narrow waist between two nuclei becomes the cut.
    Components without a marker keep their own label. Returns an int32 label image.
    """
    from scipy import ndimage as ndi

    mask = _mask(mask, "mask")
    if min_distance < 1:
        raise ValueError("min_distance must be at least 1 pixel")
    distance = ndi.distance_transform_edt(mask)
    if smooth > 0:
        distance = ndi.gaussian_filter(distance, smooth) * mask
    size = 2 * min_distance + 1
    peaks = mask & (distance == ndi.maximum_filter(distance, size=size)) & (distance > 0)
    markers, _ = ndi.label(peaks, structure=np.ones((3, 3)))
    components, n_components = ndi.label(mask, structure=_CROSS)
    result = np.zeros(mask.shape, dtype=np.int32)
    n = 0
    for index, box in enumerate(ndi.find_objects(components), start=1):
        inside = components[box] == index
        ids = np.unique(markers[box][inside])
        ids = ids[ids > 0]
        if len(ids) < 2:  # nothing to split: the component is one object
            n += 1
            result[box][inside] = n
            continue
        local = np.zeros(inside.shape, dtype=np.int32)
        for k, marker_id in enumerate(ids, start=1):
            local[inside & (markers[box] == marker_id)] = k
        # Flood level by level, from the centre (large distance) to the edge (small distance).
        depth = distance[box]
        for level in np.unique(np.floor(depth[inside] * 2) / 2)[::-1]:
            local = _grow(local, inside & (depth >= level), max_steps=sum(inside.shape))
        local = _grow(local, inside, max_steps=sum(inside.shape))
        result[box][local > 0] = local[local > 0] + n
        n += len(ids)
    return result


# ------------------------------------------------------------------------ instance scores


@dataclass(frozen=True)
class InstanceMatch:
    """Objects of a prediction matched one-to-one to the true objects at an IoU threshold.

    ``true_iou[i]`` is the best IoU of true object ``i + 1`` with any predicted object;
    ``true_matched`` / ``pred_matched`` say which objects found a partner.
    """

    threshold: float
    tp: int
    fp: int
    fn: int
    true_iou: np.ndarray
    true_matched: np.ndarray
    pred_matched: np.ndarray

    @property
    def n_true(self) -> int:
        return self.tp + self.fn

    @property
    def n_pred(self) -> int:
        return self.tp + self.fp

    @property
    def precision(self) -> float:
        """Share of predicted objects that match a true object (1.0 if nothing was predicted)."""
        return self.tp / self.n_pred if self.n_pred else 1.0

    @property
    def recall(self) -> float:
        """Share of true objects that were found (1.0 if there are none)."""
        return self.tp / self.n_true if self.n_true else 1.0

    @property
    def f1(self) -> float:
        """2 TP / (2 TP + FP + FN); 1.0 if both images are empty."""
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else 1.0


def _overlaps(true: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Pixel counts of every (true label, predicted label) pair, background included."""
    n_true, n_pred = int(true.max(initial=0)), int(pred.max(initial=0))
    pairs = true.astype(np.int64).ravel() * (n_pred + 1) + pred.astype(np.int64).ravel()
    return np.bincount(pairs, minlength=(n_true + 1) * (n_pred + 1)).reshape(n_true + 1, n_pred + 1)


def match_instances(true_labels, pred_labels, threshold: float = 0.5) -> InstanceMatch:
    """Match predicted to true objects: a pair counts as a detection if its IoU exceeds ``threshold``.

    For thresholds of 0.5 and above a true object can overlap at most one predicted object
    that much (and the other way round), so the matching is unique: true positives (TP)
    are matched pairs, false positives (FP) unmatched predictions, false negatives (FN)
    unmatched true objects. Label numbers need not be consecutive; 0 is background.
    """
    true, pred = _labels(true_labels, "true_labels"), _labels(pred_labels, "pred_labels")
    _same_shape(true, pred)
    if not 0.5 <= threshold < 1:
        raise ValueError("threshold must be at least 0.5 (so that matches are unique) and below 1")
    true = _consecutive(true)
    pred = _consecutive(pred)
    inter = _overlaps(true, pred)
    area_true, area_pred = inter.sum(axis=1)[1:], inter.sum(axis=0)[1:]
    inter = inter[1:, 1:].astype(float)
    union = area_true[:, None] + area_pred[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        ious = np.where(union > 0, inter / union, 0.0)
    hit = ious > threshold
    tp = int(hit.sum())
    true_iou = ious.max(axis=1) if ious.shape[1] else np.zeros(ious.shape[0])
    return InstanceMatch(
        threshold=threshold,
        tp=tp,
        fp=ious.shape[1] - tp,
        fn=ious.shape[0] - tp,
        true_iou=true_iou,
        true_matched=hit.any(axis=1),
        pred_matched=hit.any(axis=0),
    )


def _consecutive(labels: np.ndarray) -> np.ndarray:
    ids = np.unique(labels)
    ids = ids[ids > 0]
    if len(ids) == 0 or ids[-1] == len(ids):
        return labels
    lookup = np.zeros(int(ids[-1]) + 1, dtype=np.int32)
    lookup[ids] = np.arange(1, len(ids) + 1, dtype=np.int32)
    return lookup[labels]


def _covering(true_labels, pred_labels) -> tuple[np.ndarray, np.ndarray]:
    """(mostly_covered, mostly_inside): true i lies mostly inside predicted j, and the other way round."""
    true, pred = _labels(true_labels, "true_labels"), _labels(pred_labels, "pred_labels")
    _same_shape(true, pred)
    inter = _overlaps(_consecutive(true), _consecutive(pred))
    area_true, area_pred = inter.sum(axis=1), inter.sum(axis=0)
    inter = inter[1:, 1:]
    return inter * 2 > area_true[1:, None], inter * 2 > area_pred[None, 1:]


def merged_objects(true_labels, pred_labels) -> np.ndarray:
    """For each predicted object, in label order: is it a **merge**?

    A merge covers more than half of each of two or more true objects. The order is that
    of :class:`InstanceMatch`'s ``pred_matched``, so ``merged & ~match.pred_matched``
    picks the merges that match no true object. Introduced in the chapter *Finding and
    counting cell nuclei with a U-Net*, in its exercise on stricter matching.
    """
    mostly_covered, _ = _covering(true_labels, pred_labels)
    return mostly_covered.sum(axis=0) >= 2


def merges_and_splits(true_labels, pred_labels) -> tuple[int, int]:
    """Count the two typical errors on touching objects: ``(merges, splits)``.

    A **merge** is a predicted object that covers more than half of each of two or more
    true objects (two touching nuclei came out as one; :func:`merged_objects` says which).
    A **split** is a true object of which two or more predicted objects each lie more than
    half inside it (one nucleus came out as several pieces).
    """
    mostly_covered, mostly_inside = _covering(true_labels, pred_labels)
    return int((mostly_covered.sum(axis=0) >= 2).sum()), int((mostly_inside.sum(axis=1) >= 2).sum())
