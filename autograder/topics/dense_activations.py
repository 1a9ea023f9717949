"""Notebook 02: activations, the Dense layer, its initializer and parameter count, a whole MLP forward pass.

Every expected value comes from live Keras on the same inputs: `keras.activations.*`, a `keras.layers.Dense`
given the same weights with `set_weights`, the limit `keras.initializers.GlorotUniform` actually samples from,
a Dense layer's `count_params()`, and Dense-only Sequential models called on the same input (`model.predict` for the
notebook's trained model). The known mistakes are computed with NumPy on the same inputs, so a failing check
names the mistake ("kernel transposed", "subtract the max before exp", ...).
"""
import functools
import warnings

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograder.checks.runner import (Case, check_cases, check_rejects, compare_once, invalid_inputs,
                                      rejects_tail, report_pass, run_cases)
from autograder.checks.compare import RTOL, Mistake
from autograder.checks.describe import describe_call
from autograder.checks.errors import CheckFailed
from autograder.checks import keras_reference
from autograder.checks.strategies import FLOAT_DTYPES, elementwise_inputs
from autograder.checks.calling import as_number

ACTIVATION_NAMES = ("relu", "sigmoid", "tanh", "softmax", "linear")
"""The activation names `dense` and `predict_mlp` must understand (besides None)."""

# sigmoid's outputs are probabilities, whose natural scale is 1: the library's default absolute floor
# (RTOL x the largest |expected|) is 1e-5 on any input that has an output near 1. A fixed 1e-5 also covers
# inputs whose every output is below float32's smallest normal number (x < -87.3): TensorFlow flushes those to
# 0, NumPy keeps them as subnormals (or, in float64, as ~1e-40), and their relative error means nothing.
SIGMOID_ATOL = RTOL


def _quiet(reference):
    """Run a Keras reference with Python warnings silenced: Keras warns (on stderr, which nbgrader scores zero)
    about legitimate inputs such as a softmax over an axis of size 1."""
    @functools.wraps(reference)
    def quiet(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return reference(*args, **kwargs)

    return quiet


# --- NumPy versions used to compute the known mistakes (never shown to students) -------------------------------

_NP_ACTIVATIONS = {None: lambda z: z, "linear": lambda z: z, "relu": lambda z: np.maximum(z, 0.0),
                   "sigmoid": keras_reference.sigmoid, "tanh": np.tanh,
                   "softmax": keras_reference.softmax}


def _np_activation(activation):
    return activation if callable(activation) else _NP_ACTIVATIONS[activation]


def _in_dtypes(x):
    """The input as float64, and also in its own float dtype when it has one: an overflow (and so where the NaNs
    are) depends on the precision the student computes in."""
    given = np.asarray(x)
    versions = [given.astype(np.float64)]
    if given.dtype.kind == "f" and given.dtype != np.float64:
        versions.append(given)
    return versions


def _mistakes_in_dtypes(description, x, formula):
    with np.errstate(all="ignore"):
        return [Mistake(description, np.asarray(formula(v))) for v in _in_dtypes(x)]


def _with_number_result(fn, name, whole=False):
    """Wrap a student function that returns one number so that the array comparisons apply to it: the wrapper
    runs inside `call_student` (the Keras watch sees the student's code) and accepts only a real number; with
    `whole`, only an int (Python's or NumPy's), as for a count."""
    def wrapped(*args, **kwargs):
        result = fn(*args, **kwargs)
        number = as_number(result, name)
        if whole and np.asarray(result).dtype.kind not in "iu":
            raise CheckFailed(f"{describe_call(name, args, kwargs)} returned {number!r}, a float; a count is a "
                              "whole number: return an int (Keras's count_params() returns one).", exercise=name,
                              kind="wrong_type")
        return np.asarray(number)

    wrapped.__name__ = name
    return wrapped


def _check(student_fn, reference_fn, *, strategy, fixed, cases, max_examples, invalid=(), fixed_reference=None,
           name, reference, **options):
    """One exercise's check: the hidden test cell's hand-picked `cases`, or (the visible check cell)
    `max_examples` Cases drawn from `strategy`, the `fixed` ones every run includes and the `invalid` inputs,
    each of which must raise ValueError (`runner.check_property`). Hand-picked Cases (the hidden and the fixed
    ones) are compared with `fixed_reference` when given: the slower, whole-model reference."""
    hand_picked = {id(case) for case in [*(cases or ()), *fixed]}

    def run_one(case):
        chosen = fixed_reference if fixed_reference and id(case) in hand_picked else reference_fn
        compare_once(student_fn, chosen, case, name=name, **options)

    count = run_cases(run_one, name=name, cases=cases, strategy=strategy, max_examples=max_examples, fixed=fixed)
    invalid = invalid_inputs(cases, None, invalid)
    rejected = check_rejects(student_fn, invalid, name=name, quiet=True) if invalid else 0
    report_pass(name, reference, count, also=rejects_tail(rejected))
    return count


# --- inputs shared by the elementwise activations ------------------------------------------------------------

EXTREME_INPUTS = (
    np.array([-1000.0, -100.0, -88.5, -20.0, -1e-30, 0.0, 1e-30, 1e-6, 20.0, 88.5, 100.0, 1000.0], np.float32),
    np.array([-1000.0, -745.0, -710.0, -1e-30, 0.0, 1e-30, 710.0, 745.0, 1000.0]),
    np.array([[1e-30, -1e-30], [3e-25, 0.0]], np.float32),
    [[-3.0, 0.25], [2.0, -0.5]],
)
"""Inputs every visible elementwise check ends with: exp() overflows at +-1000 in both dtypes, and tiny values."""


# --- relu ----------------------------------------------------------------------------------------------------

@keras_reference.same_for_every_student
@_quiet
def keras_relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """keras.activations.relu (Keras 3 arguments: no `alpha=`)."""
    keras = keras_reference.keras()

    return keras.ops.convert_to_numpy(keras.activations.relu(x, negative_slope=negative_slope,
                                                             max_value=max_value, threshold=threshold))


def _np_relu(x, negative_slope=0.0, max_value=None, threshold=0.0, *, at_threshold=False, clip_low=True,
             shifted_negative=True, clip_last=False):
    """Keras's relu in NumPy, with switches that make each known mistake."""
    x = np.asarray(x, dtype=np.float64)
    kept = (x >= threshold) if at_threshold else (x > threshold)
    out = np.where(kept, x, 0.0)
    negative = negative_slope * ((threshold - x) if shifted_negative else -x) * ~kept
    if max_value is not None and not clip_last:
        out = np.clip(out, 0.0, max_value) if clip_low else np.minimum(out, max_value)
    out = out - negative
    if max_value is not None and clip_last:
        out = np.clip(out, 0.0, max_value)
    return out


def relu_mistakes(x, negative_slope=0.0, max_value=None, threshold=0.0):
    params = dict(negative_slope=negative_slope, max_value=max_value, threshold=threshold)
    found = [Mistake(f"you keep x where x >= threshold; Keras keeps it only where x > threshold (strictly), so "
                     f"x == {threshold:g} gives 0", _np_relu(x, **params, at_threshold=True))]
    if max_value is not None:
        found += [
            Mistake(f"you leave out the max_value clip: outputs above max_value={max_value:g} must become "
                    f"{max_value:g}", _np_relu(x, negative_slope, None, threshold)),
            Mistake("you cap with np.minimum(x, max_value) only; Keras clips to [0, max_value], so values between "
                    "a negative threshold and 0 become 0", _np_relu(x, **params, clip_low=False)),
            Mistake("you clip after subtracting the negative part; clip the positive part to [0, max_value] first, "
                    "then subtract negative_slope * relu(threshold - x)", _np_relu(x, **params, clip_last=True)),
        ]
    if negative_slope and threshold:
        found.append(Mistake("below the threshold you return negative_slope * x; Keras returns "
                             "negative_slope * (x - threshold)", _np_relu(x, **params, shifted_negative=False)))
    found += [Mistake("you ignore threshold", _np_relu(x, negative_slope, max_value)),
              Mistake("you ignore negative_slope", _np_relu(x, 0.0, max_value, threshold))]
    return found


@st.composite
def relu_cases(draw):
    x = draw(elementwise_inputs(allow_list=False))
    kwargs = {}
    if draw(st.booleans()):
        kwargs["negative_slope"] = draw(st.sampled_from([0.0, 0.1, 0.3, 0.5, 1.0]))
    if draw(st.booleans()):
        kwargs["max_value"] = draw(st.sampled_from([None, 6.0, 1.0, 0.5, 20.0]))
    if draw(st.booleans()):
        threshold = draw(st.sampled_from([0.0, 1.0, -1.0, 0.5, -2.5, 2.0]))
        kwargs["threshold"] = threshold
        if x.size:  # put the threshold itself into x: the only place where > and >= differ
            spots = draw(st.lists(st.integers(0, x.size - 1), min_size=1, max_size=3))
            x = x.copy()
            x.flat[spots] = threshold
    return Case((x,), kwargs)


RELU_FIXED = (
    Case((np.array([-2.0, -1.0, 0.0, 0.5, 1.0, 1.5, 3.0], np.float32),), {"threshold": 1.0}),
    Case((np.array([-3.0, -1.0, 0.0, 1.0, 2.0, 4.0]),), {"threshold": 1.0, "negative_slope": 0.5}),
    Case((np.array([[-3.0, -1.5, -0.5], [0.0, 2.0, 9.0]], np.float32),),
         {"threshold": -2.0, "max_value": 6.0}),
    Case((np.array([-4.0, -1.0, 0.0, 2.0, 7.0]),), {"negative_slope": 0.2, "max_value": 5.0}),
    Case((np.array([-1000.0, -1e-30, 0.0, 1e-30, 1000.0], np.float32),)),
)
"""x == threshold (with and without a slope), a negative threshold with a cap, slope with a cap, extremes."""

RELU_INVALID = (
    ((np.array([1.0, -2.0]),), {"max_value": -1.0}, "max_value must be >= 0 (Keras's ReLU layer rejects it)"),
    ((np.array([1.0, -2.0]),), {"negative_slope": -0.1}, "negative_slope must be >= 0"),
)


def check_relu(relu, cases=None, max_examples=40):
    """Compare with keras.activations.relu on drawn inputs and arguments (or on the given Cases)."""
    _check(relu, keras_relu, strategy=relu_cases(), fixed=RELU_FIXED, cases=cases, max_examples=max_examples,
           invalid=RELU_INVALID, name="relu", reference="keras.activations.relu", mistakes_fn=relu_mistakes)


# --- sigmoid, tanh, linear -------------------------------------------------------------------------------------

@keras_reference.same_for_every_student
@_quiet
def keras_sigmoid(x):
    keras = keras_reference.keras()

    return keras.ops.convert_to_numpy(keras.activations.sigmoid(x))


@keras_reference.same_for_every_student
@_quiet
def keras_tanh(x):
    keras = keras_reference.keras()

    return keras.ops.convert_to_numpy(keras.activations.tanh(x))


@keras_reference.same_for_every_student
@_quiet
def keras_linear(x):
    keras = keras_reference.keras()

    return np.asarray(keras.ops.convert_to_numpy(keras.activations.linear(x)))


def sigmoid_mistakes(x):
    return ([Mistake("you compute 1 / (1 + exp(x)): the exponent needs a minus, 1 / (1 + exp(-x))",
                     1.0 - keras_reference.sigmoid(x))]
            + _mistakes_in_dtypes("you compute exp(x) / (1 + exp(x)), which is inf / inf = NaN once exp(x) "
                                  "overflows; 1 / (1 + exp(-x)) only underflows to 0, harmlessly", x,
                                  lambda v: np.exp(v) / (1 + np.exp(v))))


def tanh_mistakes(x):
    return ([Mistake("you compute 2 * sigmoid(x) - 1, which is tanh(x / 2); tanh(x) = 2 * sigmoid(2x) - 1",
                     2.0 * keras_reference.sigmoid(x) - 1.0)]
            + _mistakes_in_dtypes("you compute (exp(x) - exp(-x)) / (exp(x) + exp(-x)): exp overflows to "
                                  "inf / inf = NaN for large |x|, and tiny x gives 0 instead of x; use np.tanh",
                                  x, lambda v: (np.exp(v) - np.exp(-v)) / (np.exp(v) + np.exp(-v))))


def elementwise_cases():
    return elementwise_inputs().map(lambda x: Case((x,)))


def _fixed(inputs):
    return tuple(Case((x,)) for x in inputs)


def check_sigmoid(sigmoid, cases=None, max_examples=30):
    """Compare with keras.activations.sigmoid on drawn inputs, +-1000 and tiny values (or on the given Cases)."""
    _check(sigmoid, keras_sigmoid, strategy=elementwise_cases(), fixed=_fixed(EXTREME_INPUTS), cases=cases,
           max_examples=max_examples, name="sigmoid", reference="keras.activations.sigmoid", atol=SIGMOID_ATOL,
           mistakes_fn=sigmoid_mistakes)


def check_tanh(tanh, cases=None, max_examples=30):
    """Compare with keras.activations.tanh on drawn inputs, +-1000 and tiny values (or on the given Cases)."""
    _check(tanh, keras_tanh, strategy=elementwise_cases(), fixed=_fixed(EXTREME_INPUTS), cases=cases,
           max_examples=max_examples, name="tanh", reference="keras.activations.tanh", mistakes_fn=tanh_mistakes)


def check_linear(linear, cases=None, max_examples=20):
    """Compare with keras.activations.linear (the identity) on drawn arrays and lists (or on the given Cases)."""
    _check(linear, keras_linear, strategy=elementwise_cases(), fixed=_fixed(EXTREME_INPUTS), cases=cases,
           max_examples=max_examples, name="linear", reference="keras.activations.linear", exact=True)


# --- softmax -------------------------------------------------------------------------------------------------

@keras_reference.same_for_every_student
@_quiet
def keras_softmax(x, axis=-1):
    keras = keras_reference.keras()

    return keras.ops.convert_to_numpy(keras.activations.softmax(x, axis=axis))


def softmax_mistakes(x, axis=-1):
    x = np.asarray(x)
    axis_n = axis % x.ndim
    found = _mistakes_in_dtypes(
        "you compute exp(x) without subtracting the max: exp(1000) overflows to inf and inf / inf is NaN. "
        "Subtract the max before exp (softmax(x) == softmax(x - max))", x,
        lambda v: np.exp(v) / np.exp(v).sum(axis=axis, keepdims=True))
    found += _mistakes_in_dtypes(
        "you subtract the max of the whole array; subtract the max of each slice along the axis "
        "(x.max(axis=axis, keepdims=True)), or slices far below the global max underflow to 0 / 0", x,
        lambda v: np.exp(v - v.max()) / np.exp(v - v.max()).sum(axis=axis, keepdims=True))
    for other in range(x.ndim):
        if other != axis_n:
            found.append(Mistake(f"you apply softmax over axis {other} instead of axis {axis}",
                                 keras_reference.softmax(x, axis=other)))
    found.append(Mistake(f"you normalise over the whole array; each slice along axis {axis} must sum to 1",
                         keras_reference.softmax(x.reshape(-1)).reshape(x.shape)))
    e = np.exp(x.astype(np.float64) - x.max(axis=axis, keepdims=True))
    try:
        no_keepdims = e / e.sum(axis=axis)
    except ValueError:
        no_keepdims = None
    if no_keepdims is not None and no_keepdims.shape == x.shape:
        found.append(Mistake("you divide by the sums without keepdims=True, so they are broadcast along the "
                             "wrong axis", no_keepdims))
    return found


def softmax_error_hint(case, error):
    if isinstance(error, ValueError) and "broadcast" in str(error):
        return ("take the sum with keepdims=True, so that it keeps a size-1 axis and broadcasts along the "
                "softmax axis.")
    return None


@st.composite
def softmax_cases(draw):
    """Arrays of 1 to 3 axes (sides 1 to 4, often square) of moderate values, scaled to tiny or huge, with
    offsets of +-1000 that differ between slices; the axis is usually -1."""
    dtype = np.dtype(draw(st.sampled_from(FLOAT_DTYPES)))
    ndim = draw(st.integers(1, 3))
    side = draw(st.integers(1, 4))
    shape = tuple(draw(st.sampled_from([side, draw(st.integers(1, 4))])) for _ in range(ndim))
    width = 32 if dtype == np.float32 else 64
    base = draw(hnp.arrays(np.float64, shape, elements=st.floats(-5, 5, width=width, allow_subnormal=False)))
    axis = draw(st.sampled_from([-1, -1, -1] + list(range(-ndim, ndim))))
    scale = draw(st.sampled_from([1.0, 1.0, 1e-30, 200.0]))
    offsets_shape = tuple(1 if i == axis % ndim else n for i, n in enumerate(shape))
    offsets = draw(hnp.arrays(np.float64, offsets_shape, elements=st.sampled_from([0.0, 0.0, 1000.0, -1000.0])))
    x = (base * scale + offsets).astype(dtype)
    return Case((x,), {} if axis == -1 and draw(st.booleans()) else {"axis": axis})


SOFTMAX_FIXED = (
    Case((np.array([[1000.0, -1000.0, 0.0], [-1000.0, -999.0, -1001.0]], np.float32),)),
    Case((np.array([[800.0, 0.0, 799.0]]),)),
    Case((np.array([[1e-30, -1e-30, 0.0]], np.float32),)),
    Case((np.array([[[1.0, 2.0], [3.0, 5.0], [0.0, -1.0]]]),), {"axis": 1}),
    Case((np.array([2.0, 1.0, 0.1], np.float32),)),
)
"""+-1000 (naive exp overflows), rows far apart (global-max mistake), float64 overflow, tiny, another axis, 1-D."""

SOFTMAX_INVALID = (
    ((np.array([[1.0, 2.0]]),), {"axis": 2}, "axis 2 does not exist for an array with 2 axes"),
    ((np.array(3.0),), {}, "a 0-d array has no axis to normalise over"),
)


def check_softmax(softmax, cases=None, max_examples=40):
    """Compare with keras.activations.softmax on drawn arrays and axes (or on the given Cases)."""
    _check(softmax, keras_softmax, strategy=softmax_cases(), fixed=SOFTMAX_FIXED, cases=cases,
           max_examples=max_examples, invalid=SOFTMAX_INVALID, name="softmax", reference="keras.activations.softmax",
           mistakes_fn=softmax_mistakes, error_hint=softmax_error_hint)


# --- dense -----------------------------------------------------------------------------------------------------

def _dense_layer(input_dim, units, use_bias, dtype):
    """A built keras.layers.Dense for (input_dim, units, use_bias, dtype), kept by `keras_reference.built_layer`
    (each call gives it its weights with set_weights)."""
    dtype = np.dtype(dtype).name

    def make():
        layer = keras_reference.keras().layers.Dense(units, use_bias=use_bias, dtype=dtype)
        layer.build((None, input_dim))
        return layer

    return keras_reference.built_layer(("dense_activations.Dense", input_dim, units, use_bias, dtype), make)


def _call_dense(x, kernel, bias, activation, dtype):
    keras = keras_reference.keras()

    kernel = np.asarray(kernel)
    layer = _dense_layer(kernel.shape[0], kernel.shape[1], bias is not None, dtype)
    layer.set_weights([kernel] if bias is None else [kernel, bias])
    layer.activation = keras.activations.get(activation)  # what Dense(units, activation=...) stores
    return keras.ops.convert_to_numpy(layer(np.asarray(x, dtype=dtype)))


@keras_reference.same_for_every_student
@_quiet
def keras_dense(x, kernel, bias=None, activation=None):
    """A keras.layers.Dense with the same weights (set_weights) and activation, in the input's dtype, called on
    x. A callable activation (a NumPy function) is applied to the output of the layer without activation."""
    x = np.asarray(x)
    out = _call_dense(x, kernel, bias, None if callable(activation) else activation, x.dtype)
    return activation(out) if callable(activation) else out


def dense_mistakes(x, kernel, bias=None, activation=None):
    act = _np_activation(activation)
    x, kernel = np.asarray(x, np.float64), np.asarray(kernel, np.float64)
    b = 0.0 if bias is None else np.asarray(bias, np.float64)
    found = []
    if kernel.shape[0] == kernel.shape[1]:
        found.append(Mistake("the kernel is transposed: Dense computes x @ kernel (kernel has shape "
                             "(input_dim, units)), not x @ kernel.T", act(x @ kernel.T + b)))
    if bias is not None:
        found.append(Mistake("the bias is missing: add it before the activation", act(x @ kernel)))
        found.append(Mistake("you apply the activation before adding the bias; Dense computes "
                             "activation(x @ kernel + bias)", act(x @ kernel) + b))
    if activation not in (None, "linear"):
        found.append(Mistake(f"you leave out the activation {activation!r}", x @ kernel + b))
    return found


def dense_error_hint(case, error):
    x, kernel = np.asarray(case.args[0]), np.asarray(case.args[1])
    activation = case.args[3] if len(case.args) > 3 else case.kwargs.get("activation")
    if isinstance(error, TypeError) and isinstance(activation, str) and "callable" in str(error):
        return (f"activation may be a name such as {activation!r}: look the name up and call your own "
                f"{activation} function.")
    if isinstance(error, ValueError) and x.shape[-1] == kernel.shape[0]:
        return (f"this input is valid: x has {x.shape[-1]} features and kernel has shape {kernel.shape} "
                f"(input_dim, units), so x @ kernel has shape {x.shape[:-1] + kernel.shape[1:]}. "
                "Is your kernel transposed (x @ kernel.T)?")
    return None


def _small_floats(width):
    # No subnormals: TensorFlow flushes them to zero on CPU, NumPy does not.
    return st.floats(-3, 3, width=width, allow_subnormal=False)


@st.composite
def dense_cases(draw):
    """x of shape (n, input_dim) or (n, m, input_dim); kernel often square (a transposed kernel then has the
    right shape and wrong values); bias or None; activation None, a name or np.tanh."""
    dtype = np.dtype(draw(st.sampled_from(FLOAT_DTYPES)))
    width = 32 if dtype == np.float32 else 64
    input_dim = draw(st.integers(1, 5))
    units = draw(st.sampled_from([input_dim, draw(st.integers(1, 5))]))
    batch = draw(st.sampled_from([(draw(st.integers(1, 4)),), (draw(st.integers(1, 3)), draw(st.integers(1, 3)))]))
    x = draw(hnp.arrays(dtype, batch + (input_dim,), elements=_small_floats(width)))
    kernel = draw(hnp.arrays(dtype, (input_dim, units), elements=_small_floats(width)))
    bias = draw(st.one_of(st.none(), hnp.arrays(dtype, (units,), elements=_small_floats(width))))
    activation = draw(st.sampled_from((None,) + ACTIVATION_NAMES + (np.tanh,)))
    style = draw(st.integers(0, 2))  # how the arguments are passed
    if style == 0:
        return Case((x, kernel, bias, activation))
    kwargs = {} if bias is None and draw(st.booleans()) else {"bias": bias}
    if activation is not None or draw(st.booleans()):
        kwargs["activation"] = activation
    return Case((x, kernel), kwargs)


_RNG = np.random.default_rng(2)
DENSE_FIXED = (
    Case((_RNG.normal(size=(4, 3)).astype(np.float32), _RNG.normal(size=(3, 5)).astype(np.float32),
          _RNG.normal(size=5).astype(np.float32)), {"activation": "relu"}),
    Case((_RNG.normal(size=(3, 4)), _RNG.normal(size=(4, 4)), _RNG.normal(size=4)), {"activation": "softmax"}),
    Case((_RNG.normal(size=(2, 3, 4)).astype(np.float32), _RNG.normal(size=(4, 2)).astype(np.float32)),
         {"activation": "sigmoid"}),
    Case((_RNG.normal(size=(5, 2)), _RNG.normal(size=(2, 3)), np.array([0.5, -1.0, 2.0])), {"activation": None}),
)
"""A typical relu layer, a square kernel with softmax, a 3-D input without bias, no activation."""

DENSE_INVALID = (
    ((np.ones((2, 5)), np.ones((4, 3))), {}, "x has 5 features but kernel expects 4"),
    ((np.ones((2, 4)), np.ones((4, 3)), np.ones(4)), {}, "the bias has 4 entries but the layer has 3 units"),
    ((np.ones((2, 4)), np.ones((4, 3))), {"activation": "swish_please"}, "'swish_please' is not an activation name"),
    ((np.ones((2, 4)), np.ones(4)), {}, "the kernel must have 2 axes (input_dim, units)"),
)


def check_dense(dense, cases=None, max_examples=20):
    """Compare with a keras.layers.Dense holding the same weights, on drawn inputs (or on the given Cases)."""
    _check(dense, keras_dense, strategy=dense_cases(), fixed=DENSE_FIXED, cases=cases, max_examples=max_examples,
           name="dense", reference="keras.layers.Dense with the same weights", mistakes_fn=dense_mistakes,
           error_hint=dense_error_hint)


def check_dense_rejects(dense, bad_inputs=DENSE_INVALID):
    """Each (args, kwargs, reason) in `bad_inputs` must raise ValueError with a message."""
    check_rejects(dense, bad_inputs, name="dense")


# --- glorot_uniform_limit --------------------------------------------------------------------------------------

@_quiet
def keras_glorot_uniform_limit(fan_in, fan_out):
    """The limit keras.initializers.GlorotUniform really samples from, for a (fan_in, fan_out) kernel.

    It draws the kernel with a seed, draws u ~ U[0, 1) with the same seed, and solves w = -limit + 2 * limit * u
    for limit at the sample with |2u - 1| largest (TensorFlow scales one uniform draw into [minval, maxval)).
    """
    keras = keras_reference.keras()

    for seed in range(100):
        w = keras.ops.convert_to_numpy(keras.initializers.GlorotUniform(seed=seed)((fan_in, fan_out)))
        u = keras.ops.convert_to_numpy(keras.random.uniform((fan_in, fan_out), 0.0, 1.0, seed=seed))
        spread = (2.0 * u.astype(np.float64) - 1.0).ravel()
        best = int(np.argmax(np.abs(spread)))
        if abs(spread[best]) > 0.5:
            limit = float(w.ravel()[best]) / spread[best]
            if not np.all(np.abs(w) <= limit * (1 + 1e-6)):  # the sampling changed: this reference is wrong
                raise RuntimeError("keras_glorot_uniform_limit: Keras's samples exceed the recovered limit")
            return np.asarray(limit)
    raise RuntimeError("keras_glorot_uniform_limit: no usable sample")  # pragma: no cover


def glorot_mistakes(fan_in, fan_out):
    fi, fo = float(fan_in), float(fan_out)
    return [Mistake(f, np.asarray(v)) for f, v in (
        ("you use fan_in * fan_out; the limit is sqrt(6 / (fan_in + fan_out))", np.sqrt(6 / (fi * fo))),
        ("you leave out the 6: the limit is sqrt(6 / (fan_in + fan_out))", np.sqrt(1 / (fi + fo))),
        ("you use sqrt(2 / (fan_in + fan_out)), the standard deviation of glorot_normal; the uniform limit is "
         "sqrt(6 / (fan_in + fan_out))", np.sqrt(2 / (fi + fo))),
        ("you leave out the square root", 6 / (fi + fo)),
        ("you use 3 / (fan_in + fan_out): with fan_avg = (fan_in + fan_out) / 2 the limit is sqrt(3 / fan_avg) = "
         "sqrt(6 / (fan_in + fan_out))", np.sqrt(3 / (fi + fo))),
        ("you use only fan_in (sqrt(6 / fan_in) is He uniform's limit)", np.sqrt(6 / fi)),
    )]


@st.composite
def fan_cases(draw):
    small, large = st.integers(1, 12), st.integers(1, 1024)
    return Case((draw(st.one_of(small, large)), draw(st.one_of(small, large))))


GLOROT_FIXED = (Case((784, 64)), Case((20, 64)), Case((64, 10)), Case((1, 1)), Case((3, 7)))
"""The layers of the Keras 2 tutorials' MLPs, the smallest kernel, a small asymmetric one."""

GLOROT_INVALID = (
    ((0, 10), {}, "fan_in must be at least 1"),
    ((10, -3), {}, "fan_out must be at least 1"),
)


def check_glorot_uniform_limit(glorot_uniform_limit, cases=None, max_examples=25):
    """Compare with the limit of keras.initializers.GlorotUniform on drawn fans (or on the given Cases)."""
    _check(_with_number_result(glorot_uniform_limit, "glorot_uniform_limit"), keras_glorot_uniform_limit,
           strategy=fan_cases(), fixed=GLOROT_FIXED, cases=cases, max_examples=max_examples, invalid=GLOROT_INVALID,
           name="glorot_uniform_limit", reference="the limit of keras.initializers.GlorotUniform",
           mistakes_fn=glorot_mistakes)


# --- count_params ----------------------------------------------------------------------------------------------

@keras_reference.same_for_every_student
@_quiet
def keras_count_params(input_dim, units):
    """count_params() of a keras.layers.Dense(units) built on input_dim features (what model.count_params()
    adds up over the layers; a layer alone is much faster to build than a model)."""
    keras = keras_reference.keras()

    layer = keras.layers.Dense(units)
    layer.build((None, input_dim))
    return np.asarray(float(layer.count_params()))


def count_params_mistakes(input_dim, units):
    i, u = float(input_dim), float(units)
    return [Mistake(f, np.asarray(v)) for f, v in (
        ("you leave out the biases: a Dense layer has one bias per unit, input_dim * units + units", i * u),
        ("you count one bias per input instead of one per unit", i * u + i),
        ("you count (input_dim + 1) * (units + 1); the bias adds one row to the kernel, not a row and a column",
         (i + 1) * (u + 1)),
        ("you add input_dim and units; the kernel has input_dim * units entries", i + u),
    )]


def count_cases():
    sizes = st.one_of(st.integers(1, 16), st.integers(1, 1024))  # Keras initialises every kernel it builds
    return st.tuples(sizes, sizes).map(lambda pair: Case(pair))


COUNT_FIXED = (Case((784, 64)), Case((64, 64)), Case((64, 10)), Case((1, 1)), Case((20, 3)))

COUNT_INVALID = (
    ((0, 10), {}, "input_dim must be at least 1"),
    ((10, 0), {}, "units must be at least 1"),
)


def check_count_params(count_params, cases=None, max_examples=20):
    """Compare with model.count_params() of a one-Dense model (or on the given Cases)."""
    _check(_with_number_result(count_params, "count_params", whole=True), keras_count_params,
           strategy=count_cases(), fixed=COUNT_FIXED, cases=cases, max_examples=max_examples, invalid=COUNT_INVALID,
           name="count_params", reference="keras.layers.Dense(units).count_params()", exact=True,
           mistakes_fn=count_params_mistakes)


# --- predict_mlp -----------------------------------------------------------------------------------------------

def keras_mlp(weights, activations):
    """A Dense-only Sequential model with these weights (get_weights order) and activation names."""
    keras = keras_reference.keras()

    layers = [keras.Input(shape=(np.asarray(weights[0]).shape[0],))]
    layers += [keras.layers.Dense(np.asarray(k).shape[1], activation=a) for k, a in zip(weights[::2], activations)]
    model = keras.Sequential(layers)
    model.set_weights([np.asarray(w) for w in weights])
    return model


@keras_reference.same_for_every_student
@_quiet
def keras_predict_mlp_model(x, weights, activations):
    """keras_mlp(weights, activations) called on x. (Eagerly: model.predict would trace a new tf.function for
    every new model, ~100 ms each, and TensorFlow warns on stderr about the retracing.)"""
    keras = keras_reference.keras()

    model = keras_mlp(weights, activations)
    return keras.ops.convert_to_numpy(model(np.asarray(x, dtype=np.float32), training=False))


@keras_reference.same_for_every_student
@_quiet
def keras_predict_mlp(x, weights, activations):
    """What a Dense-only Sequential model computes, layer by layer: each keras.layers.Dense (float32, like a
    model's layers) gets its kernel and bias with set_weights and is called on the previous output. Building a
    whole Sequential per drawn case would cost ~60 ms; keras_predict_mlp_model does that for the fixed cases."""
    out = np.asarray(x, dtype=np.float32)
    for kernel, bias, activation in zip(weights[::2], weights[1::2], activations):
        out = _call_dense(out, kernel, bias, activation, np.float32)
    return out


def _np_mlp(x, weights, activations):
    out = np.asarray(x, dtype=np.float64)
    for kernel, bias, activation in zip(weights[::2], weights[1::2], activations):
        out = _np_activation(activation)(out @ np.asarray(kernel, np.float64) + np.asarray(bias, np.float64))
    return out


def predict_mlp_mistakes(x, weights, activations):
    activations = list(activations)
    found = []
    if activations and activations[-1] not in (None, "linear"):
        found.append(Mistake(f"you leave out the last layer's activation ({activations[-1]!r}): that returns the "
                             "logits", _np_mlp(x, weights, activations[:-1] + [None])))
    if len(activations) > 1 and activations[::-1] != activations:
        found.append(Mistake("you apply the activations in reverse order", _np_mlp(x, weights, activations[::-1])))
    if len(set(map(str, activations))) > 1:
        found.append(Mistake(f"you apply {activations[0]!r} after every layer; layer i uses activations[i]",
                             _np_mlp(x, weights, [activations[0]] * len(activations))))
    if activations and activations[0] not in (None, "linear"):
        found.append(Mistake("you start with an activation on the input x; each activation comes after its "
                             "layer's x @ kernel + bias",
                             _np_mlp(_np_activation(activations[0])(np.asarray(x, np.float64)), weights,
                                     [None] + activations[1:])))
    return found


@st.composite
def predict_mlp_cases(draw):
    """1 to 3 Dense layers of 1 to 6 units (float32 weights, as get_weights gives), an activation name per
    layer, and x of shape (n, input_dim) in float32 or float64."""
    n_layers = draw(st.integers(1, 3))
    sizes = [draw(st.integers(1, 6)) for _ in range(n_layers + 1)]
    weights = []
    def values(bound):  # no subnormals: TensorFlow flushes them to zero on CPU
        return st.floats(-bound, bound, width=32, allow_subnormal=False)

    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        weights.append(draw(hnp.arrays(np.float32, (fan_in, fan_out), elements=values(2))))
        weights.append(draw(hnp.arrays(np.float32, (fan_out,), elements=values(1))))
    activations = [draw(st.sampled_from(ACTIVATION_NAMES + (None,))) for _ in range(n_layers)]
    dtype = np.dtype(draw(st.sampled_from(FLOAT_DTYPES)))
    x = draw(hnp.arrays(dtype, (draw(st.integers(1, 5)), sizes[0]), elements=values(3)))
    return Case((x, weights, activations))


def _mlp_weights(sizes, seed):
    rng = np.random.default_rng(seed)
    weights = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        weights += [rng.normal(size=(fan_in, fan_out)).astype(np.float32),
                    rng.normal(scale=0.5, size=fan_out).astype(np.float32)]
    return weights


PREDICT_MLP_FIXED = (
    Case((np.random.default_rng(3).normal(size=(6, 20)).astype(np.float32), _mlp_weights([20, 64, 64, 10], 4),
          ["relu", "relu", "softmax"])),
    Case((np.random.default_rng(5).normal(size=(3, 4)), _mlp_weights([4, 4, 4], 6), ["tanh", "sigmoid"])),
)
"""The shape of the Keras 2 tutorials' MLP (20 -> 64 -> 64 -> 10), and a square two-layer net (reversed
activations fit)."""

PREDICT_MLP_INVALID = (
    ((np.ones((2, 3)), _mlp_weights([3, 4, 2], 7)[:3], ["relu", "softmax"]), {},
     "the weights list has 3 arrays; it must hold a kernel and a bias per layer"),
    ((np.ones((2, 3)), _mlp_weights([3, 4, 2], 7), ["relu"]), {},
     "there are 2 layers (4 weight arrays) but 1 activation"),
    ((np.ones((2, 3)), _mlp_weights([3, 4, 2], 7)[:2] + _mlp_weights([5, 2], 8), ["relu", "softmax"]), {},
     "layer 1 outputs 4 values but layer 2's kernel expects 5"),
    ((np.ones((2, 5)), _mlp_weights([3, 4, 2], 7), ["relu", "softmax"]), {}, "x has 5 features but kernel expects 3"),
)


def check_predict_mlp(predict_mlp, cases=None, max_examples=10):
    """Compare with Keras Dense layers holding the same weights, applied in turn, on drawn cases; then with a
    real Sequential model on the fixed ones and on the given Cases."""
    _check(predict_mlp, keras_predict_mlp, strategy=predict_mlp_cases(), fixed=PREDICT_MLP_FIXED, cases=cases,
           max_examples=max_examples, fixed_reference=keras_predict_mlp_model, name="predict_mlp",
           reference="a Keras model with the same weights", mistakes_fn=predict_mlp_mistakes)


def check_predict_mlp_rejects(predict_mlp, bad_inputs=PREDICT_MLP_INVALID):
    """Each (args, kwargs, reason) in `bad_inputs` must raise ValueError with a message."""
    check_rejects(predict_mlp, bad_inputs, name="predict_mlp")


def cluster_mlp(seed=0, n=300):
    """The notebook's MLP from the Keras 2 tutorials (20 -> 64 relu -> 64 relu -> 10 softmax) with Keras's
    initial weights, and n samples of ten Gaussian clusters like the notebook's: (model, x). Built here, in the
    checks, so that grading never depends on the notebook's demo cells (they do not run when it is graded)."""
    keras = keras_reference.keras()

    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(10, 20))
    y = rng.integers(0, 10, size=n)
    x = (centres[y] + rng.normal(scale=0.6, size=(n, 20))).astype("float32")
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input(shape=(20,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10, activation="softmax")])
    return model, x


def check_predict_mlp_on_model(predict_mlp, model=None, x=None):
    """predict_mlp(x, model.get_weights(), <the model's activation names>) against model.predict(x, verbose=0);
    by default on `cluster_mlp()`.

    model.predict computes in float32 (about 1.2e-7 relative error per operation, a few hundred operations per
    output through three layers of at most 64 inputs), so RTOL = 1e-5 holds for a correct float32 or float64
    answer while any real mistake is off by far more. Measured on the notebook's model trained from four seeds:
    the largest difference of a float64 answer is 1.5 % of the tolerance.
    """
    keras = keras_reference.keras()

    if model is None:
        model, x = cluster_mlp()
    names = []
    for layer in model.layers:
        if not isinstance(layer, keras.layers.Dense):
            raise ValueError(f"check_predict_mlp_on_model needs a Dense-only model, found {type(layer).__name__}")
        names.append(keras.activations.serialize(layer.activation))
    expected = model.predict(x, verbose=0)
    check_cases(predict_mlp, lambda *args: expected, [Case((x, model.get_weights(), names))], name="predict_mlp",
                reference="model.predict(x)", quiet=True, mistakes_fn=predict_mlp_mistakes)
    report_pass(f"predict_mlp(x, model.get_weights(), {names})", "model.predict(x)", len(x), noun="samples")
