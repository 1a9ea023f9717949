"""Shared fixtures: Keras and TensorFlow, imported once and only by the tests that need them."""
import sys

import pytest

import autograder  # noqa: F401  (sets TF_CPP_MIN_LOG_LEVEL=3 before TensorFlow is imported)


@pytest.fixture(scope="session")
def tf():
    import tensorflow

    return tensorflow


@pytest.fixture(scope="session")
def keras(tf):
    import keras

    return keras


def pytest_configure(config):
    """absl's logging handler (TensorFlow's) writes to the sys.stderr of the moment it was made: under pytest's
    capture, a stream of pytest's. Code that calls logging.config.fileConfig in this process (nbgrader's gradebook
    runs alembic's, e.g. in tests/test_grade_class.py) closes every handler, and absl's closes its stream unless it
    is the *current* sys.stderr: pytest then writes to a closed file and the session dies ("lost sys.stderr").
    The real stderr, which absl never closes, avoids that."""
    try:
        import absl.logging
    except ImportError:
        return
    absl.logging.get_absl_handler().python_handler.stream = sys.__stderr__
