"""Shared fixtures: Keras and TensorFlow, imported once and only by the tests that need them."""
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
