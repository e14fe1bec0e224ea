"""Quiet, reproducible TensorFlow.

Introduced in the chapter *Working on JupyterHub and Colab* (``book/jupyterhub_colab.md``).

TensorFlow prints C++ log lines and oneDNN notices when it is imported unless two
environment variables are set *before* the import. :func:`import_tensorflow` sets
them, imports TensorFlow, fixes every random seed (the course's seed, see
:mod:`heicadlearn.seeds`) and asks for deterministic kernels, so that two runs on
the same machine print the same numbers.
"""

from __future__ import annotations

import os

from .seeds import course_seed, thread_count

__all__ = ["QUIET_ENV", "import_tensorflow", "set_seed"]

# Set before TensorFlow is imported: no C++ log lines, no oneDNN notice in cell outputs.
QUIET_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}


def set_seed(seed: int | None = None) -> None:
    """Fix Python's, NumPy's and TensorFlow's random seeds (``keras.utils.set_random_seed``).

    Without ``seed``, the course's seed (:func:`heicadlearn.seeds.course_seed`).
    """
    import keras

    keras.utils.set_random_seed(course_seed() if seed is None else seed)


def import_tensorflow(seed: int | None = None):
    """Import TensorFlow without log noise, with fixed seeds and deterministic ops; return it.

    Without ``seed``, the course's seed (0 unless ``HEICADLEARN_SEED`` is set). Where
    ``OMP_NUM_THREADS`` is set, TensorFlow uses that many threads too.
    """
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    threads = thread_count()
    if threads is not None:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # TensorFlow already started its thread pools in this process
            pass
    set_seed(seed)
    tf.config.experimental.enable_op_determinism()
    return tf
