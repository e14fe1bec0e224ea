"""Quiet, reproducible TensorFlow.

Introduced in the chapter *Working on JupyterHub and Colab* (``book/jupyterhub_colab.md``).

TensorFlow prints C++ log lines and oneDNN notices when it is imported unless two
environment variables are set *before* the import. :func:`import_tensorflow` sets
them, imports TensorFlow, fixes every random seed and asks for deterministic
kernels, so that two runs print the same numbers.
"""

from __future__ import annotations

import os

__all__ = ["import_tensorflow", "set_seed"]


def set_seed(seed: int = 0) -> None:
    """Fix Python's, NumPy's and TensorFlow's random seeds (``keras.utils.set_random_seed``)."""
    import keras

    keras.utils.set_random_seed(seed)


def import_tensorflow(seed: int = 0):
    """Import TensorFlow without log noise, with fixed seeds and deterministic ops; return it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    set_seed(seed)
    tf.config.experimental.enable_op_determinism()
    return tf
