"""Shared hypothesis strategies: the inputs every check and every test draws from.

Each strategy yields plain NumPy arrays or Python lists, never anything a student could not be handed.
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


LABEL_DTYPES = (np.int64, np.int32, np.uint8, np.float64, np.float32)
FLOAT_DTYPES = (np.float32, np.float64)


def shapes(min_dims=0, max_dims=3, min_side=0, max_side=4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


@st.composite
def float_arrays(draw, shape=None, dtypes=FLOAT_DTYPES, max_magnitude=None, allow_nonfinite=False):
    """A float32 or float64 array of up to 3 dimensions (0-d and empty included unless `shape` says otherwise)."""
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    bounds = {} if max_magnitude is None else {"min_value": -max_magnitude, "max_value": max_magnitude}
    elements = hnp.from_dtype(dtype, allow_nan=allow_nonfinite, allow_infinity=allow_nonfinite,
                              allow_subnormal=False, **bounds)
    return draw(hnp.arrays(dtype, shape if shape is not None else shapes(), elements=elements))


@st.composite
def class_labels(draw, max_classes=12, max_samples=20, allow_empty=False):
    """(labels, num_classes): integer-valued labels of shape (n,), (n, 1) or (n, m), as an int or float array
    or a Python list, and the number of classes they come from (every label is < num_classes)."""
    num_classes = draw(st.integers(1, max_classes))
    n = draw(st.integers(0 if allow_empty else 1, max_samples))
    shape = draw(st.sampled_from([(n,), (n, 1), (n, draw(st.integers(1, 3)))]))
    labels = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, num_classes - 1)))
    container = draw(st.sampled_from(LABEL_DTYPES + (list,)))
    return (labels.tolist() if container is list else labels.astype(container)), num_classes


@st.composite
def class_scores(draw, max_classes=8, max_samples=12):
    """Arrays of shape (n, C) or (n, m, C) whose last axis holds one-hot rows or probabilities without ties."""
    num_classes = draw(st.integers(1, max_classes))
    batch = draw(st.sampled_from([(draw(st.integers(1, max_samples)),),
                                  (draw(st.integers(1, 4)), draw(st.integers(1, 4)))]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):
        return np.eye(num_classes)[rng.integers(0, num_classes, size=batch)]
    scores = rng.dirichlet(np.ones(num_classes), size=batch)
    return scores.astype(draw(st.sampled_from([np.float32, np.float64])))


SPECIAL_VALUES = (-1000.0, 1000.0, -745.0, 710.0, -100.0, 100.0, -89.0, 89.0, -20.0, 20.0, 0.0, -0.0,
                  1e-30, -1e-30, 1e-6, 0.5, -0.5, 1.0, -1.0, 2.0, -2.5, 6.0)
"""Values an elementwise check mixes into its inputs: where exp() overflows in float32 (> 88.7) and in float64
(> 709.8), tiny values, and small thresholds and caps (0.5, 1, 2, -2.5, 6)."""


def special_floats(dtype):
    """Elements of `dtype` (float32 or float64): ordinary values in [-30, 30] or one of SPECIAL_VALUES (as that
    dtype rounds it); no subnormals (TensorFlow flushes them to zero on CPU, NumPy does not)."""
    dtype = np.dtype(dtype)
    width = 32 if dtype == np.float32 else 64
    special = [float(dtype.type(v)) for v in SPECIAL_VALUES]
    return st.one_of(st.floats(-30, 30, width=width, allow_subnormal=False), st.sampled_from(special))


@st.composite
def elementwise_inputs(draw, min_side=0, max_side=5, max_dims=3, allow_list=True):
    """The input of an elementwise function: a float32 or float64 array (1 to `max_dims` axes, possibly empty)
    mixing ordinary values with SPECIAL_VALUES; with `allow_list`, now and then the same numbers as a nested
    Python list."""
    dtype = np.dtype(draw(st.sampled_from(FLOAT_DTYPES)))
    shape = draw(shapes(min_dims=1, max_dims=max_dims, min_side=min_side, max_side=max_side))
    x = draw(hnp.arrays(dtype, shape, elements=special_floats(dtype)))
    if allow_list and draw(st.integers(0, 5)) == 0:
        return x.tolist()
    return x
