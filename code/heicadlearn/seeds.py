"""The course's random seed, one number for every chapter and helper.

Introduced in the chapter *Working on JupyterHub and Colab* (``book/jupyterhub_colab.md``).

Every random choice in the book (weight initialisation, shuffling, data splits, bootstrap
samples) starts from :func:`course_seed`. It is 0 unless the environment variable
``HEICADLEARN_SEED`` says otherwise, so the published book always shows the seed-0 run, and
``make robustness`` can re-run the chapters with other seeds to check that the text's claims
do not depend on one lucky run.
"""

from __future__ import annotations

import os

__all__ = ["SEED_ENV", "THREADS_ENV", "course_seed", "thread_count"]

SEED_ENV = "HEICADLEARN_SEED"
# The standard OpenMP variable: NumPy's BLAS reads it, and import_tensorflow passes it on to TensorFlow.
THREADS_ENV = "OMP_NUM_THREADS"


def course_seed(offset: int = 0) -> int:
    """The course's seed plus ``offset`` (for a second, independent random stream).

    >>> import os; os.environ.pop("HEICADLEARN_SEED", None) and None
    >>> course_seed(), course_seed(1)
    (0, 1)
    """
    raw = os.environ.get(SEED_ENV, "").strip()
    if not raw:
        return offset
    try:
        seed = int(raw)
    except ValueError:
        raise ValueError(f"{SEED_ENV} must be a whole number such as 0 or 3, not {raw!r}") from None
    if seed < 0:
        raise ValueError(f"{SEED_ENV} must be 0 or larger, not {seed}")
    return seed + offset


def thread_count() -> int | None:
    """The number of CPU threads asked for with ``OMP_NUM_THREADS``, or None (use all)."""
    raw = os.environ.get(THREADS_ENV, "").strip()
    if not raw:
        return None
    try:
        threads = int(raw)
    except ValueError:
        raise ValueError(f"{THREADS_ENV} must be a whole number such as 1 or 2, not {raw!r}") from None
    if threads < 1:
        raise ValueError(f"{THREADS_ENV} must be 1 or larger, not {threads}")
    return threads
