"""Hypothesis strategies and settings shared by the tests of the checks library."""
import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograder.checks.strategies import FLOAT_DTYPES, float_arrays, shapes  # noqa: F401 (re-exported for the tests)


# Fast, file-free settings: the whole test suite must stay well under 20 s.
FAST = settings(max_examples=60, deadline=None, database=None)


def float32_range_values():
    """float64 numbers that float32 represents to full relative precision: 0 or 1e-30 <= |x| <= 1e30."""
    magnitude = st.floats(1e-30, 1e30)
    return st.one_of(st.just(0.0), magnitude, magnitude.map(lambda v: -v))


def float64_arrays_in_float32_range(shape=None):
    return hnp.arrays(np.float64, shape if shape is not None else shapes(), elements=float32_range_values())


def non_square_shapes():
    """2-D and 3-D shapes that differ from their reverse, so a transposed array has the wrong shape."""
    return shapes(min_dims=2, max_dims=3, min_side=1, max_side=5).filter(lambda s: s != s[::-1])
