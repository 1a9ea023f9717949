"""`setup_notebook()`: the first code cell of every notebook calls it once."""
import logging
import os
import platform
import random
import warnings

import numpy as np

DEFAULT_SEED = 0


def quiet_tensorflow():
    """Keep TensorFlow's and Keras's log lines and routine warnings off stderr.

    Must run before TensorFlow is imported for the C++ part; the Python loggers can be quietened any time.
    """
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    for name in ("tensorflow", "absl", "keras", "h5py"):
        logging.getLogger(name).setLevel(logging.ERROR)
    # Keras and TF announce deprecations of their own internals through DeprecationWarning/FutureWarning;
    # they say nothing about the learner's code.
    for category in (DeprecationWarning, FutureWarning, PendingDeprecationWarning):
        warnings.filterwarnings("ignore", category=category, module=r"(tensorflow|keras|absl|google|h5py)")


def seed_everything(seed=DEFAULT_SEED):
    """Seed Python, NumPy, TensorFlow and Keras, and ask TensorFlow for deterministic kernels."""
    import keras
    import tensorflow as tf

    # In a Jupyter kernel TF's logger resets itself to INFO (with a stdout handler) the first time it logs;
    # setting its level once TF is imported keeps retracing warnings and the like out of the notebook.
    tf.get_logger().setLevel(logging.ERROR)
    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def versions():
    """Versions that matter for this course, as a dict of name -> version string."""
    import keras
    import tensorflow as tf

    return {
        "Python": ".".join(platform.python_version_tuple()[:2]),
        "NumPy": np.__version__,
        "TensorFlow": tf.__version__,
        "Keras": keras.__version__,
    }


def setup_notebook(seed=DEFAULT_SEED):
    """Prepare a notebook: quiet logs, seeded RNGs, compact NumPy printing; print the versions in use.

    Args:
        seed: int, the seed for Python's `random`, NumPy's global RNG, TensorFlow and Keras.
    """
    quiet_tensorflow()
    seed_everything(seed)
    np.set_printoptions(precision=4, suppress=True, linewidth=110)
    try:
        import matplotlib.pyplot as plt

        plt.rcParams.update({"figure.dpi": 80, "figure.figsize": (6.4, 3.6), "axes.grid": True})
    except ImportError:  # plots are optional for the checks themselves
        pass
    from autograder.checks.runner import warm_up

    warm_up()
    shown = " | ".join(f"{name} {version}" for name, version in versions().items())
    print(f"Keras by Hand | {shown} | seed {seed}")
