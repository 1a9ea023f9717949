"""What notebook 03's two halves (losses and metrics; optimizer steps) share: float64 inputs, Keras tensors as
NumPy arrays, messages that print tiny numbers as they are, and a yes/no comparison."""
import numpy as np

from autograder.checks.compare import compare_arrays
from autograder.checks.describe import describe_call, describe_value
from autograder.checks.errors import CheckFailed
from autograder.checks.keras_reference import keras


def f64(x):
    """`x` as a float64 array."""
    return np.asarray(x, dtype=np.float64)


def to_numpy(tensor):
    """A Keras tensor (or variable) as a NumPy array."""
    return np.asarray(keras().ops.convert_to_numpy(tensor))


def describe_precisely(name, args, kwargs):
    """describe_call, but tiny numbers (1e-9 probabilities, 1e-6 gradients) are not printed as 0."""
    with np.printoptions(suppress=False):
        return describe_call(name, args, kwargs)


def show(value):
    """describe_value, with tiny numbers printed as they are (see `describe_precisely`)."""
    with np.printoptions(suppress=False):
        return describe_value(value)


def agrees(got, expected, *, rtol, atol, exact):
    """Whether `got` passes compare_arrays against `expected` (same shape, kind of number and values)."""
    try:
        compare_arrays(got, expected, what="", rtol=rtol, atol=atol, exact=exact)
    except CheckFailed:
        return False
    return True
