"""The checks of notebook 09 (backpropagation through the convnet): the student's gradients against
`tf.GradientTape` on Keras layers and models holding the same weights, and the student's training loop against
`model.fit(..., shuffle=False)`.

Reused, not copied: notebook 07's forward layers and spec format (`autograder.topics.cnn`: the Keras layers a
spec describes, `cnn_case`, the spec's output shapes; the learner's 07 functions are re-checked with 07's
`check_*`), notebook 04's loss/optimizer formats and given helpers (`autograder.topics.fit`: `loss_and_gradient`,
`regularization`, `make_optimizer`, their stand-ins and callbacks for split grading) and notebook 10's
comparison of several gradient arrays at once (`autograder.topics.lstm_backprop`).

The named mistakes are computed by `np_conv2d_backward` / `np_max_pooling2d_backward` / `np_cnn_gradients` /
`np_train`, a float64 NumPy model with each mistake behind a flag; the tests prove that without a flag it gives
Keras's numbers.
"""
import numpy as np
from hypothesis import strategies as st

from autograder.checks.runner import Case, check_rejects, report_pass, run_cases
from autograder.checks.compare import RTOL, Mistake, compare_arrays
from autograder.checks.describe import describe_call
from autograder.checks.errors import CheckFailed
from autograder.checks.calling import as_array, call_student
from autograder.checks.keras_reference import built_layer, keras, same_for_every_student, sigmoid, softmax
from autograder.topics import cnn as _cnn
from autograder.topics import fit as _fit
from autograder.topics.cnn import cnn_case, keras_layers_from_spec
from autograder.topics.fit import (  # noqa: F401  (the given helpers, and their stand-ins for split grading)
    GIVEN_STAND_INS, loss_and_gradient, make_optimizer, regularization)
from autograder.topics.lstm_backprop import _compare_all, _unpack

__all__ = ["CALLBACKS", "GIVEN_STAND_INS", "loss_and_gradient", "make_optimizer", "regularization"]

FLOAT_DTYPES = (np.float32, np.float64)
_seeds = st.integers(0, 2**31 - 1)


def _f32(value):
    return np.asarray(value, dtype=np.float32)


def _cached(key, make):
    return built_layer(("cnn_backprop",) + key, make)


_pair = _cnn._pair


# --- numerical_gradient -------------------------------------------------------------------------------------

class ScalarFunction:
    """A scalar function of an array, written twice: in NumPy (what the student's numerical_gradient calls) and in
    TensorFlow (what tf.GradientTape differentiates exactly)."""

    def __init__(self, text, numpy_fn, tf_fn):
        self.text, self.numpy_fn, self.tf_fn = text, numpy_fn, tf_fn

    def __call__(self, x):
        return float(self.numpy_fn(np.asarray(x, dtype=np.float64)))

    def __repr__(self):
        return f"<f(x) = {self.text}>"


def _weights_like(x, seed=0):
    return np.random.default_rng(seed).normal(size=np.shape(x))


def _functions():
    import tensorflow as tf

    return {
        "cubic": ScalarFunction("sum(x**3)", lambda x: np.sum(x ** 3), lambda x: tf.reduce_sum(x ** 3)),
        "tanh": ScalarFunction("sum(w * tanh(2x)) for a fixed w shaped like x",
                               lambda x: np.sum(_weights_like(x) * np.tanh(2 * x)),
                               lambda x: tf.reduce_sum(_weights_like(x) * tf.tanh(2 * x))),
        "softmax_ce": ScalarFunction("-log softmax(x.ravel())[0]",
                                     lambda x: -np.log(softmax(x.ravel())[0]),
                                     lambda x: -tf.math.log(tf.nn.softmax(tf.reshape(x, [-1]))[0])),
        "exp_mix": ScalarFunction("sum(exp(x) * x[::-1]) along the first axis",
                                  lambda x: np.sum(np.exp(x) * x[::-1]),
                                  lambda x: tf.reduce_sum(tf.exp(x) * tf.reverse(x, [0]))),
    }


FUNCTION_NAMES = ("cubic", "tanh", "softmax_ce", "exp_mix")


def scalar_function(name):
    return _functions()[name]


def exact_gradient(f, x, h=1e-5):
    """tf.GradientTape of f's TensorFlow twin at x, in float64 (the exact derivative that centred differences
    approximate to O(h^2))."""
    import tensorflow as tf

    xt = tf.constant(np.asarray(x, dtype=np.float64))
    with tf.GradientTape() as tape:
        tape.watch(xt)
        value = f.tf_fn(xt)
    return np.asarray(tape.gradient(value, xt))


def np_numerical_gradient(f, x, h=1e-5, mistake=None):
    """Centred differences in float64 (or one of NUMERICAL_MISTAKES)."""
    dtype = np.float32 if mistake == "float32" else np.float64
    x = np.array(x, dtype=dtype, copy=True)
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        plus = f(x.copy())
        x[index] = old - h
        minus = f(x.copy())
        x[index] = old
        if mistake == "forward":
            grad[index] = (plus - f(x.copy())) / h
        elif mistake == "no_half":
            grad[index] = (plus - minus) / h
        else:
            grad[index] = (plus - minus) / (2 * h)
    return grad


NUMERICAL_MISTAKES = {
    "forward": "you used the forward difference (f(x + h) - f(x)) / h; the centred difference "
               "(f(x + h) - f(x - h)) / (2h) is accurate to O(h^2) instead of O(h)",
    "no_half": "you divided by h instead of 2h: x + h and x - h are 2h apart",
    "float32": "you computed in float32 (as x was given): with h = 1e-5, float32's rounding (1e-7 of x) swamps "
               "the difference; copy x to float64 first",
}


def numerical_case(name, shape, seed, h=None, dtype=np.float64):
    x = np.random.default_rng(seed).uniform(-1.2, 1.2, size=shape).astype(dtype)
    return Case((scalar_function(name), x), {} if h is None else {"h": h})


@st.composite
def numerical_cases(draw):
    shape = draw(st.sampled_from([(3,), (2, 3), (2, 2, 2), (1, 3, 2, 1)]))
    return numerical_case(draw(st.sampled_from(FUNCTION_NAMES)), shape, draw(_seeds),
                          h=draw(st.sampled_from([None, 1e-4, 1e-3])), dtype=draw(st.sampled_from(FLOAT_DTYPES)))


NUMERICAL_RTOL = 1e-6
"""Centred differences with h <= 1e-3 on these functions (third derivatives below ~50 on [-1.2, 1.2]) are off by
at most h^2 * f''' / 6 ~ 1e-5 absolute for h = 1e-3 and ~1e-9 for h = 1e-5, plus float64 rounding
(1e-16 / h); the check's atol scales with h^2 (see `_numerical_atol`). A forward difference is off by
h * f'' / 2 (~1e-6 at h = 1e-5), a float32 computation by ~1e-7 / h = 1e-2."""


STEP_RTOL = 1e-3
"""How far the largest move of x where f is called may be from h: x is float64 (the answer was asked to copy it),
so x + h is h to about 1e-16 / h relative; float32 rounding would be ~1e-7 / h, but that answer has already
failed the comparison."""


def _numerical_atol(expected, h):
    scale = max(float(np.abs(expected).max()), 1.0)
    return scale * (NUMERICAL_RTOL + 20 * h ** 2)


def check_numerical_gradient(numerical_gradient, cases=None, max_examples=10):
    """Compare with the exact derivative (tf.GradientTape in float64 of the same function); the caller's x must
    come back unchanged and f must be called with arrays shaped like x."""
    name = "numerical_gradient"

    def run_one(case):
        f, x = case.args
        h = case.kwargs.get("h", 1e-5)
        call = describe_call(name, case.args, case.kwargs)
        # call_student hands over a private copy of x and fails the check if the function changes it in place
        watched = _Watched(f)
        try:
            got = as_array(call_student(numerical_gradient, watched, x, name=name, **case.kwargs), name)
        finally:
            watched.close()
        shapes = sorted({np.shape(p) for p in watched.points} - {np.shape(x)})
        if shapes:
            raise CheckFailed(f"{call} called f with arrays of shape {shapes}; f takes an array shaped like x, "
                              f"{np.shape(x)}.", exercise=name)
        expected = exact_gradient(f, x, h)
        mistakes = [Mistake(text, np_numerical_gradient(f, x, h, mistake=key))
                    for key, text in NUMERICAL_MISTAKES.items()]
        compare_arrays(got, expected, what=call, rtol=NUMERICAL_RTOL, atol=_numerical_atol(expected, h),
                       mistakes=mistakes)
        step = max((float(np.abs(p - np.asarray(x, np.float64)).max()) for p in watched.points), default=0.0)
        if not abs(step - h) <= STEP_RTOL * h:
            raise CheckFailed(f"{call} called f at points up to {step:.3g} away from x; with h={h!r} it calls f at "
                              f"x + h e_k and x - h e_k, one element moved by exactly h. (Ignoring h still gives "
                              f"nearly the derivative here, but not the centred difference asked for.)",
                              exercise=name)

    first = [numerical_case("cubic", (2, 3), 1), numerical_case("softmax_ce", (4,), 2, dtype=np.float32)]
    count = run_cases(run_one, name=name, cases=cases, strategy=numerical_cases(), max_examples=max_examples,
                      first=first)
    report_pass(name, "the exact derivative (tf.GradientTape, float64)", count)


_LIVE_FUNCTIONS = {}  # key -> the _Watched function a running check handed to the student
_FUNCTION_KEYS = iter(range(1, 2**62))


class _Watched:
    """The scalar function handed to the student, recording the points it is called at.

    Under split grading the student's numerical_gradient runs in the answer kernel, which cannot receive a
    function: the wire sends this one as a stub (`wire.FUNCTION_STUB`) that calls back into the checker, where
    `_call_function` calls this object on the plain-data array the student passed."""

    def __init__(self, f):
        self._f, self.points = f, []
        self._key = next(_FUNCTION_KEYS)
        _LIVE_FUNCTIONS[self._key] = self

    @property
    def _kbh_grader_function(self):
        return ("cnn_backprop.call_function", self._key)

    def close(self):
        _LIVE_FUNCTIONS.pop(self._key, None)

    def __call__(self, x):
        self.points.append(np.array(x, copy=True))
        return self._f(x)

    def __repr__(self):
        return repr(self._f)


def _call_function(key, x):
    function = _LIVE_FUNCTIONS.get(key)
    if function is None:
        raise ValueError("f can only be called while the check that gave it runs")
    return function(np.asarray(x))


CALLBACKS = {**_fit.CALLBACKS, "cnn_backprop.call_function": _call_function}


# --- conv2d_backward ---------------------------------------------------------------------------------------

CONV_MISTAKES = {
    "batch_mean": "the kernel and bias gradients are averaged over the batch instead of summed (dout already "
                  "holds each sample's gradient)",
    "extra_before": "the odd extra row/column of 'same' padding is put at the top/left; Keras (and the forward "
                    "pass) puts it at the bottom/right, so the gradient lands one pixel off",
    "flipped_kernel": "dx is computed with the kernel flipped (as in a true convolution); the forward pass is a "
                      "cross-correlation, so each output position sends dout * kernel back to exactly the pixels "
                      "it read, unflipped",
    "kernel_transposed": "the kernel gradient's last two axes are swapped: dkernel has the kernel's layout "
                         "(kh, kw, in_channels, filters)",
    "no_bias_sum_over_positions": "dbias is summed over the batch only at the first output position; it is the "
                                  "sum of dout over batch, height and width",
}


def np_conv2d_backward(dout, x, kernel, strides=(1, 1), padding="valid", mistake=None):
    """(dx, dkernel, dbias) in float64, or with one of CONV_MISTAKES."""
    dout, x, kernel = (np.asarray(a, dtype=np.float64) for a in (dout, x, kernel))
    kh, kw = kernel.shape[:2]
    sh, sw = _pair(strides)
    _, height, width, _ = x.shape
    extra_before = mistake == "extra_before"
    (top, bottom), (left, right) = (_cnn._pads(height, kh, sh, padding, extra_before),
                                    _cnn._pads(width, kw, sw, padding, extra_before))
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    dpadded = np.zeros_like(padded)
    dkernel = np.zeros_like(kernel)
    used = kernel[::-1, ::-1] if mistake == "flipped_kernel" else kernel
    for i in range(dout.shape[1]):
        for j in range(dout.shape[2]):
            rows, cols = slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)
            g = dout[:, i, j, :]
            dkernel += np.einsum("bhwc,bf->hwcf", padded[:, rows, cols, :], g)
            dpadded[:, rows, cols, :] += np.einsum("hwcf,bf->bhwc", used, g)
    dx = dpadded[:, top:top + height, left:left + width, :]
    dbias = dout.sum(axis=(0, 1, 2))
    if mistake == "batch_mean":
        dkernel, dbias = dkernel / len(x), dbias / len(x)
    if mistake == "kernel_transposed" and kernel.shape[2] == kernel.shape[3]:
        dkernel = dkernel.transpose(0, 1, 3, 2)
    if mistake == "no_bias_sum_over_positions":
        dbias = dout[:, 0, 0, :].sum(axis=0)
    return dx, dkernel, dbias


def _conv_layer(kernel_shape, strides, padding):
    def make():
        layer = keras().layers.Conv2D(kernel_shape[-1], kernel_shape[:2], strides=strides, padding=padding)
        layer.build((None, None, None, kernel_shape[2]))
        return layer

    return _cached(("conv2d", tuple(kernel_shape), strides, padding), make)


@same_for_every_student
def keras_conv2d_backward(dout, x, kernel, strides=(1, 1), padding="valid"):
    """tf.GradientTape on keras.layers.Conv2D(filters, kernel.shape[:2], strides, padding) with weights
    [kernel, zeros]: the gradients of sum(layer(x) * dout) with respect to x, the kernel and the bias."""
    import tensorflow as tf

    kernel = _f32(kernel)
    layer = _conv_layer(kernel.shape, _pair(strides), padding)
    layer.set_weights([kernel, np.zeros(kernel.shape[-1], np.float32)])
    xt = tf.constant(_f32(x))
    with tf.GradientTape() as tape:
        tape.watch(xt)
        total = tf.reduce_sum(layer(xt) * _f32(dout))
    return tuple(np.asarray(g) for g in tape.gradient(total, [xt, layer.kernel, layer.bias]))


def conv_backward_case(seed, batch=2, size=(5, 5), channels=2, kernel_size=(3, 3), filters=2, strides=(1, 1),
                       padding="valid", dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch,) + tuple(size) + (channels,)).astype(dtype)
    kernel = rng.normal(size=tuple(kernel_size) + (channels, filters)).astype(dtype)
    out = _cnn._output_shape("conv2d", {"strides": strides, "padding": padding}, kernel.shape, x.shape[1:])
    dout = rng.normal(size=(batch,) + out).astype(dtype)
    kwargs = {}
    if tuple(_pair(strides)) != (1, 1):
        kwargs["strides"] = strides
    if padding != "valid":
        kwargs["padding"] = padding
    return Case((dout, x, kernel), kwargs)


@st.composite
def conv_backward_cases(draw):
    padding = draw(st.sampled_from(["valid", "same"]))
    strides = draw(st.sampled_from([(1, 1), (2, 2), (1, 2), (2, 1), 2]))
    kernel_size = draw(st.sampled_from([(1, 1), (2, 2), (3, 3), (2, 3), (4, 4)]))
    low = 1 if padding == "same" else max(kernel_size)
    size = (draw(st.integers(low, 7)), draw(st.integers(low, 7)))
    return conv_backward_case(draw(_seeds), draw(st.integers(1, 3)), size, draw(st.integers(1, 3)), kernel_size,
                              draw(st.integers(1, 3)), strides, padding, draw(st.sampled_from(FLOAT_DTYPES)))


def conv_backward_rule_cases():
    """Strides 1 and 2, 'valid' and 'same', an odd 'same' padding (a 2x2 kernel, an even kernel with stride 2),
    in_channels == filters (so a transposed kernel gradient has the right shape)."""
    return [conv_backward_case(11, batch=2, size=(5, 5), channels=2, kernel_size=(3, 3), filters=2),
            conv_backward_case(12, batch=2, size=(6, 7), channels=2, kernel_size=(3, 3), filters=3, strides=(2, 2),
                               padding="same"),
            conv_backward_case(13, batch=1, size=(5, 6), channels=2, kernel_size=(2, 2), filters=2,
                               padding="same"),
            conv_backward_case(14, batch=2, size=(6, 6), channels=1, kernel_size=(4, 4), filters=2, strides=(2, 2),
                               padding="same")]


CONV_LABELS = ("dx", "dkernel", "dbias")


def check_conv2d_backward(conv2d_backward, cases=None, max_examples=15):
    """Compare (dx, dkernel, dbias) with tf.GradientTape on keras.layers.Conv2D with the same kernel."""
    name = "conv2d_backward"

    def run_one(case):
        call = describe_call(name, case.args, case.kwargs)
        got = _unpack(call_student(conv2d_backward, *case.args, name=name, **case.kwargs), call, CONV_LABELS)
        expected = keras_conv2d_backward(*case.args, **case.kwargs)
        mistakes = [(text, np_conv2d_backward(*case.args, **case.kwargs, mistake=key))
                    for key, text in CONV_MISTAKES.items()]
        _compare_all(got, expected, mistakes, call, CONV_LABELS)

    count = run_cases(run_one, name=name, cases=cases, strategy=conv_backward_cases(), max_examples=max_examples,
                      first=conv_backward_rule_cases())
    report_pass(name, "tf.GradientTape on keras.layers.Conv2D", count)


def conv2d_backward_invalid():
    rng = np.random.default_rng(15)
    x, kernel = rng.normal(size=(1, 4, 4, 3)), rng.normal(size=(3, 3, 1, 2))
    good_kernel = rng.normal(size=(3, 3, 3, 2))
    return [((np.ones((1, 2, 2, 2)), x, kernel), {}, "x has 3 channels but the kernel expects 1", ("channel",)),
            ((np.ones((1, 2, 2, 2)), x, good_kernel), {"padding": "full"}, "padding must be 'valid' or 'same'",
             ("padding",)),
            ((np.ones((1, 3, 3, 2)), x, good_kernel), {},
             "dout must have the conv output's shape (1, 2, 2, 2), not (1, 3, 3, 2)", ("dout",))]


def check_conv2d_backward_rejects(conv2d_backward, invalid=None):
    """A channel mismatch, an unknown padding and a dout of the wrong shape raise ValueError."""
    check_rejects(conv2d_backward, conv2d_backward_invalid() if invalid is None else invalid,
                  name="conv2d_backward")


# --- max_pooling2d_backward ----------------------------------------------------------------------------------

POOL_MISTAKES = {
    "every_maximum": "on a tie the gradient is sent to every maximum of the window; TensorFlow sends it to ONE, "
                     "the first maximum in row-major order (top row first, then leftmost)",
    "last_maximum": "on a tie the gradient goes to the last maximum of the window; TensorFlow picks the first in "
                    "row-major order (a strict > scan keeps the first)",
    "overwrite": "overlapping windows overwrite each other's gradient (dx[...] = ...); a pixel that is the maximum "
                 "of several windows gets the sum (+=)",
    "extra_before": "the odd extra row/column of 'same' padding is put at the top/left; Keras puts it at the "
                    "bottom/right",
    "split_ties": "on a tie the gradient is split equally between the maxima; TensorFlow sends all of it to the "
                  "first maximum in row-major order",
}


def np_max_pooling2d_backward(dout, x, pool_size=(2, 2), strides=None, padding="valid", mistake=None):
    """dx in float64, or with one of POOL_MISTAKES."""
    dout, x = np.asarray(dout, dtype=np.float64), np.asarray(x, dtype=np.float64)
    ph, pw = _pair(pool_size)
    sh, sw = (ph, pw) if strides is None else _pair(strides)
    _, height, width, _ = x.shape
    extra_before = mistake == "extra_before"
    (top, bottom), (left, right) = (_cnn._pads(height, ph, sh, padding, extra_before),
                                    _cnn._pads(width, pw, sw, padding, extra_before))
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=-np.inf)
    dpadded = np.zeros_like(padded)
    for i in range(dout.shape[1]):
        for j in range(dout.shape[2]):
            window = padded[:, i * sh:i * sh + ph, j * sw:j * sw + pw, :]
            flat = window.reshape(len(x), -1, x.shape[-1])
            is_max = flat == flat.max(axis=1, keepdims=True)
            if mistake in ("every_maximum", "split_ties"):
                share = is_max / (is_max.sum(axis=1, keepdims=True) if mistake == "split_ties" else 1.0)
            else:
                position = (flat.shape[1] - 1 - np.argmax(is_max[:, ::-1], axis=1) if mistake == "last_maximum"
                            else np.argmax(is_max, axis=1))
                share = (np.arange(flat.shape[1])[None, :, None] == position[:, None, :]).astype(float)
            contribution = (share * dout[:, i:i + 1, j, :]).reshape(window.shape)
            target = dpadded[:, i * sh:i * sh + ph, j * sw:j * sw + pw, :]
            if mistake == "overwrite":
                np.copyto(target, contribution, where=contribution != 0)
            else:
                target += contribution
    return dpadded[:, top:top + height, left:left + width, :]


@same_for_every_student
def keras_max_pooling2d_backward(dout, x, pool_size=(2, 2), strides=None, padding="valid"):
    """tf.GradientTape on keras.layers.MaxPooling2D(pool_size, strides, padding): the gradient of
    sum(layer(x) * dout) with respect to x."""
    import tensorflow as tf

    strides = None if strides is None else _pair(strides)
    layer = _cnn._layer("MaxPooling2D", (None, None, None, np.shape(x)[-1]), pool_size=_pair(pool_size),
                        strides=strides, padding=padding)
    xt = tf.constant(_f32(x))
    with tf.GradientTape() as tape:
        tape.watch(xt)
        total = tf.reduce_sum(layer(xt) * _f32(dout))
    return np.asarray(tape.gradient(total, xt))


def pool_backward_case(seed, batch=2, size=(4, 4), channels=2, pool_size=(2, 2), strides=None, padding="valid",
                       ties=True, dtype=np.float64):
    """Integer-valued x (many ties) when `ties`, else distinct normal values."""
    rng = np.random.default_rng(seed)
    shape = (batch,) + tuple(size) + (channels,)
    x = (rng.integers(-1, 3, size=shape) if ties else rng.normal(size=shape)).astype(dtype)
    options = {"pool_size": pool_size, "strides": strides, "padding": padding}
    out = _cnn._output_shape("max_pooling2d", options, None, x.shape[1:])
    dout = rng.normal(size=(batch,) + out).astype(dtype)
    kwargs = {}
    if tuple(_pair(pool_size)) != (2, 2):
        kwargs["pool_size"] = pool_size
    if strides is not None:
        kwargs["strides"] = strides
    if padding != "valid":
        kwargs["padding"] = padding
    return Case((dout, x), kwargs)


@st.composite
def pool_backward_cases(draw):
    padding = draw(st.sampled_from(["valid", "same"]))
    pool = draw(st.sampled_from([(2, 2), (3, 3), (2, 3), (1, 2), 2]))
    strides = draw(st.sampled_from([None, (1, 1), (2, 2), (1, 2), 3]))
    low = 1 if padding == "same" else max(_pair(pool))
    size = (draw(st.integers(low, 7)), draw(st.integers(low, 7)))
    return pool_backward_case(draw(_seeds), draw(st.integers(1, 2)), size, draw(st.integers(1, 3)), pool, strides,
                              padding, ties=draw(st.booleans()), dtype=draw(st.sampled_from(FLOAT_DTYPES)))


def pool_backward_rule_cases():
    """Ties in every window; overlapping windows (strides 1); an odd 'same' padding; a flat region."""
    flat = np.ones((1, 4, 4, 1))
    flat[0, 2:, 2:, 0] = 2.0
    return [pool_backward_case(21, size=(4, 4)),
            Case((np.arange(1.0, 5.0).reshape(1, 2, 2, 1), flat)),
            pool_backward_case(22, size=(5, 5), pool_size=(3, 3), strides=(1, 1)),
            pool_backward_case(23, size=(5, 6), pool_size=(2, 2), padding="same"),
            pool_backward_case(24, size=(5, 5), pool_size=(3, 3), strides=(2, 2), padding="same")]


def check_max_pooling2d_backward(max_pooling2d_backward, cases=None, max_examples=15):
    """Compare dx with tf.GradientTape on keras.layers.MaxPooling2D (ties in most inputs)."""
    name = "max_pooling2d_backward"

    def run_one(case):
        got = as_array(call_student(max_pooling2d_backward, *case.args, name=name, **case.kwargs), name)
        mistakes = [Mistake(text, np_max_pooling2d_backward(*case.args, **case.kwargs, mistake=key))
                    for key, text in POOL_MISTAKES.items()]
        compare_arrays(got, keras_max_pooling2d_backward(*case.args, **case.kwargs),
                       what=describe_call(name, case.args, case.kwargs), mistakes=mistakes)

    count = run_cases(run_one, name=name, cases=cases, strategy=pool_backward_cases(), max_examples=max_examples,
                      first=pool_backward_rule_cases())
    report_pass(name, "tf.GradientTape on keras.layers.MaxPooling2D", count)


def max_pooling2d_backward_invalid():
    x3, x1 = np.ones((1, 5, 5, 3)), np.ones((1, 2, 2, 1))
    return [((np.ones((1, 1, 1, 1)), x1), {"pool_size": (3, 3)},
             "a 3x3 pool does not fit in a 2x2 input with padding='valid'", ("pool",)),
            ((np.ones((1, 3, 3, 3)), x3), {"padding": "full"}, "padding must be 'valid' or 'same'", ("padding",)),
            ((np.ones((1, 3, 3, 3)), x3), {}, "dout must have the layer output's shape (1, 2, 2, 3), not "
             "(1, 3, 3, 3)", ("dout",))]


def check_max_pooling2d_backward_rejects(max_pooling2d_backward, invalid=None):
    """A pool that does not fit with 'valid', an unknown padding and a dout of the wrong shape raise
    ValueError."""
    check_rejects(max_pooling2d_backward, max_pooling2d_backward_invalid() if invalid is None else invalid,
                  name="max_pooling2d_backward")


# --- cnn_gradients: the whole convnet ----------------------------------------------------------------------

_DERIVATIVES = {None: lambda out: np.ones_like(out), "linear": lambda out: np.ones_like(out),
                "relu": lambda out: (out > 0).astype(float), "tanh": lambda out: 1 - out ** 2,
                "sigmoid": lambda out: out * (1 - out)}
_APPLY = {None: lambda z: z, "linear": lambda z: z, "relu": lambda z: np.maximum(z, 0.0), "tanh": np.tanh,
          "sigmoid": sigmoid, "softmax": softmax}

GRADIENT_MISTAKES = {
    "loss_summed": "you used the SUM of the per-sample losses; fit's batch loss is their MEAN, so every gradient "
                   "is divided by the batch size",
    "no_activation_derivative": "the hidden layers' activation derivative is left out (relu'(z) = 1 where z > 0, "
                                "else 0; tanh'(z) = 1 - tanh(z)^2): multiply the gradient by it before the "
                                "layer's backward pass",
    "flatten_channels_first": "the Flatten gradient is reshaped in channels-first order; undo Flatten with "
                              "dflat.reshape(the input's shape), (height, width, channels) as Keras flattens",
    "l2_forgotten": "the L2 penalty's gradient (2 * l2 * kernel, for every conv and dense kernel) is left out",
}


def _output_activation(spec):
    return spec[-1][1].get("activation")


def _np_cnn_forward(x, weights, spec):
    """Forward pass in float64 keeping what the backward pass needs: [(kind, options, input, output, params)]."""
    out = np.asarray(x, np.float64)
    weights = iter([np.asarray(w, np.float64) for w in weights])
    tape = []
    for position, (kind, options) in enumerate(spec):
        inp, params = out, ()
        activation = options.get("activation")
        padding = options.get("padding", "valid")
        if kind == "conv2d":
            params = (next(weights), next(weights))
            out = _cnn._np_conv2d(inp, params[0], params[1], _pair(options.get("strides", 1)), padding)
        elif kind == "dense":
            params = (next(weights), next(weights))
            out = inp @ params[0] + params[1]
        elif kind == "max_pooling2d":
            pool = _pair(options.get("pool_size", 2))
            strides = options.get("strides")
            out = _cnn._np_pool2d(inp, pool, pool if strides is None else _pair(strides), padding)
        elif kind == "flatten":
            out = inp.reshape(len(inp), -1)
        elif kind == "dropout":
            out = inp  # a Keras model called in a GradientTape (and predict_cnn) runs Dropout in inference mode
        else:
            raise ValueError(f"cnn_gradients handles conv2d, max_pooling2d, flatten, dense and dropout; got {kind!r}")
        logits = out
        if kind in ("conv2d", "dense") and position < len(spec) - 1:
            out = _APPLY[activation](out)
        tape.append((kind, options, inp, out, params))
    return tape, logits


def np_cnn_gradients(x, y, weights, spec, loss, mistake=None):
    """(gradients in get_weights() order, the batch loss including the penalty, the output probabilities)."""
    name, l2 = _fit._parse_loss(loss)
    tape, logits = _np_cnn_forward(x, weights, spec)
    per_sample, dlogits = loss_and_gradient(name, y, logits, _output_activation(spec) or "linear")
    n = len(x)
    grad = np.asarray(dlogits, np.float64) / (1 if mistake == "loss_summed" else n)
    penalty, penalty_grads = regularization(loss, weights)
    grads = []
    for position in range(len(tape) - 1, -1, -1):
        kind, options, inp, out, params = tape[position]
        if kind in ("conv2d", "dense") and position < len(tape) - 1 and mistake != "no_activation_derivative":
            grad = grad * _DERIVATIVES[options.get("activation")](out)
        if kind == "dense":
            grads = [inp.T @ grad, grad.sum(axis=0)] + grads
            grad = grad @ params[0].T
        elif kind == "conv2d":
            dx, dkernel, dbias = np_conv2d_backward(grad, inp, params[0], options.get("strides", (1, 1)),
                                                    options.get("padding", "valid"))
            grads = [dkernel, dbias] + grads
            grad = dx
        elif kind == "max_pooling2d":
            grad = np_max_pooling2d_backward(grad, inp, options.get("pool_size", (2, 2)), options.get("strides"),
                                             options.get("padding", "valid"))
        elif kind == "flatten":
            if mistake == "flatten_channels_first":
                b, h, w, c = inp.shape
                grad = np.moveaxis(grad.reshape(b, c, h, w), 1, -1)
            else:
                grad = grad.reshape(inp.shape)
    if mistake != "l2_forgotten":
        grads = [g + np.asarray(p, np.float64) for g, p in zip(grads, penalty_grads)]
    value = float(np.mean(per_sample)) + penalty
    probabilities = _APPLY[_output_activation(spec)](logits)
    return grads, value, probabilities


def _keras_model(x_shape, weights, spec, l2):
    """A Sequential of the layers `spec` describes (kernels with L2(l2) when l2), one per configuration."""
    def make():
        k = keras()
        options = []
        for kind, opts in spec:
            opts = dict(opts)
            if kind in ("conv2d", "dense") and l2:
                opts["kernel_regularizer"] = k.regularizers.L2(l2)
            options.append((kind, opts))
        return k.Sequential([k.Input(shape=tuple(x_shape[1:]))] + keras_layers_from_spec(weights, options))

    key = ("model", tuple(x_shape[1:]), tuple(np.shape(w) for w in weights), repr(spec), float(l2))
    model = _cached(key, make)
    model.set_weights([_f32(w) for w in weights])
    return model


@same_for_every_student
def keras_cnn_gradients(x, y, weights, spec, loss):
    """tf.GradientTape of the batch loss as fit computes it (the compiled loss, mean over the batch, plus the L2
    penalties in model.losses) on the Sequential model `spec` describes, with these weights."""
    import tensorflow as tf

    name, l2 = _fit._parse_loss(loss)
    model = _keras_model(np.shape(x), weights, spec, l2)
    with tf.GradientTape() as tape:
        value = tf.reduce_mean(keras().losses.get(name)(_f32(y), model(_f32(x))))
        if model.losses:
            value = value + tf.add_n(model.losses)
    return [np.asarray(g) for g in tape.gradient(value, model.trainable_weights)]


SMALL_CNN = [("conv2d", {"filters": 3, "kernel_size": (3, 3), "activation": "relu"}),
             ("max_pooling2d", {"pool_size": (2, 2)}),
             ("conv2d", {"filters": 4, "kernel_size": (2, 2), "activation": "tanh", "padding": "same",
                         "strides": (2, 2)}),
             ("flatten", {}),
             ("dense", {"units": 5, "activation": "relu"}),
             ("dense", {"units": 3, "activation": "softmax"})]
"""The Keras 2 tutorial's VGG-like convnet scaled down (sizes for `cnn_case`): a relu conv, a pool, a strided
'same' conv with an odd padding, Flatten, two Dense layers."""


def gradient_problem(seed, n=4, size=(8, 8), channels=1, layers=SMALL_CNN, loss="categorical_crossentropy"):
    """(x, y, weights, spec): 07's cnn_case for the model, labels from a fixed rule on the image."""
    case = cnn_case(tuple(size) + (channels,), layers, batch=n, seed=seed)
    x, weights, spec = case.args
    rng = np.random.default_rng(seed + 1)
    units = np.shape(weights[-1])[0]
    score = x.reshape(n, -1) @ rng.normal(size=(x[0].size, max(units, 2)))
    if units == 1:
        y = (score[:, :1] > 0).astype(np.float32)
    elif _fit._parse_loss(loss)[0] == "mse":
        y = np.tanh(score[:, :units]).astype(np.float32)
    else:
        y = np.eye(units, dtype=np.float32)[np.argmax(score[:, :units], axis=1)]
    return x, y, weights, spec


_MSE_LAYERS = [("conv2d", {"filters": 2, "kernel_size": (2, 2), "activation": "relu", "padding": "same"}),
               ("max_pooling2d", {"pool_size": (2, 2), "padding": "same"}),
               ("flatten", {}), ("dense", {"units": 2, "activation": "linear"})]


def gradient_case(kind):
    if kind == "small_cnn":
        return Case(gradient_problem(31, n=3) + ("categorical_crossentropy",))
    if kind == "l2_binary":
        layers = SMALL_CNN[:-1] + [("dense", {"units": 1, "activation": "sigmoid"})]
        return Case(gradient_problem(32, n=4, size=(7, 8), channels=2, layers=layers)
                    + ({"name": "binary_crossentropy", "l2": 0.01},))
    if kind == "mse_same":
        return Case(gradient_problem(33, n=2, size=(5, 5), layers=_MSE_LAYERS, loss="mse") + ("mse",))
    raise ValueError(f"unknown gradient case {kind!r}")


GRADIENT_KINDS = ("small_cnn", "l2_binary", "mse_same")


def _weight_labels(spec):
    labels = []
    for position, (kind, _) in enumerate(spec):
        if kind in ("conv2d", "dense"):
            labels += [f"gradient of layer {position}'s ({kind}) kernel", f"gradient of layer {position}'s ({kind}) bias"]
    return labels


def check_cnn_gradients(cnn_gradients, cases=None, kinds=GRADIENT_KINDS):
    """Compare the gradients of every weight with tf.GradientTape on the Keras model with the same weights."""
    name = "cnn_gradients"
    cases = [gradient_case(k) for k in kinds] if cases is None else cases

    def run_one(case):
        call = f"{name}(x, y, weights, spec, {case.args[4]!r}) with x of shape {np.shape(case.args[0])}"
        labels = _weight_labels(case.args[3])
        got = _unpack(call_student(cnn_gradients, *case.args, name=name), call, labels)
        expected = keras_cnn_gradients(*case.args)
        keys = [k for k in GRADIENT_MISTAKES if k != "l2_forgotten" or _fit._parse_loss(case.args[4])[1]]
        mistakes = [(GRADIENT_MISTAKES[k], np_cnn_gradients(*case.args, mistake=k)[0]) for k in keys]
        _compare_all(got, expected, mistakes, call, labels)

    count = run_cases(run_one, name=name, cases=cases)
    report_pass(name, "tf.GradientTape on the Keras model", count, noun="model")


# --- train_cnn ------------------------------------------------------------------------------------------------

TRAIN_MISTAKES = {
    "loss_summed": GRADIENT_MISTAKES["loss_summed"],
    "new_optimizer_each_epoch": "a new optimizer is made every epoch: its state (momentum, Adam's moments and "
                                "step count) must carry on across epochs, one optimizer for the whole run",
    "history_after_update": "the history's loss is computed after each batch's update; fit records each batch's "
                            "loss from its own forward pass, before the update",
}


def _accuracy(name, y, prob):
    y = np.asarray(y)
    if name == "binary_crossentropy":
        return ((prob > 0.5) == (y > 0.5)).astype(float).mean(axis=-1)
    return (np.argmax(prob, axis=-1) == np.argmax(y, axis=-1)).astype(float)


def np_train(x, y, weights, spec, loss, optimizer, batch_size=32, epochs=1, mistake=None):
    """The training loop in NumPy (Keras's optimizer via make_optimizer), or with one of TRAIN_MISTAKES."""
    name, _ = _fit._parse_loss(loss)
    weights = [np.asarray(w, np.float64) for w in weights]
    history = {"loss": []}
    if name != "mse":
        history["accuracy"] = []
    opt = make_optimizer(optimizer)
    for _ in range(epochs):
        if mistake == "new_optimizer_each_epoch":
            opt = make_optimizer(optimizer)
        losses, sizes, correct = [], [], []
        for start in range(0, len(x), batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            grads, value, prob = np_cnn_gradients(xb, yb, weights, spec, loss,
                                                  mistake="loss_summed" if mistake == "loss_summed" else None)
            weights = [np.asarray(w, np.float64) for w in opt.step(weights, grads)]
            if mistake == "history_after_update":
                _, value, prob = np_cnn_gradients(xb, yb, weights, spec, loss)
            losses.append(value)
            sizes.append(len(xb))
            correct.append(_accuracy(name, yb, prob))
        history["loss"].append(float(np.dot(losses, sizes) / np.sum(sizes)))
        if "accuracy" in history:
            history["accuracy"].append(float(np.concatenate(correct).mean()))
    return weights, history


@same_for_every_student
def keras_train(x, y, weights, spec, loss, optimizer, batch_size=32, epochs=1):
    """model.fit(x, y, batch_size, epochs, shuffle=False) on the Sequential model `spec` describes, starting from
    these weights (run eagerly: no tracing for a few steps). Returns (final weights, history.history)."""
    name, l2 = _fit._parse_loss(loss)
    model = _keras_model(np.shape(x), weights, spec, l2)
    metrics = ["accuracy"] if name != "mse" else []
    model.compile(optimizer=_fit._optimizer_from_spec(optimizer), loss=name, metrics=metrics, run_eagerly=True)
    history = model.fit(_f32(x), _f32(y), batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0)
    return [np.asarray(w) for w in model.get_weights()], {k: list(map(float, v)) for k, v in history.history.items()}


TRAIN_RTOL = RTOL


def train_case(kind):
    """The training runs the checks use: a dozen 8x8 images, a partial last batch, a few epochs."""
    x, y, weights, spec = gradient_problem(41, n=10)
    if kind == "momentum":
        return Case((x, y, weights, spec, "categorical_crossentropy",
                     {"name": "sgd", "learning_rate": 0.1, "momentum": 0.9}), {"batch_size": 4, "epochs": 3})
    if kind == "adam":
        return Case((x, y, weights, spec, {"name": "categorical_crossentropy", "l2": 0.001},
                     {"name": "adam", "learning_rate": 0.01}), {"batch_size": 4, "epochs": 3})
    if kind == "mse":
        xm, ym, wm, specm = gradient_problem(42, n=5, size=(5, 5), layers=_MSE_LAYERS, loss="mse")
        return Case((xm, ym, wm, specm, "mse", {"name": "sgd", "learning_rate": 0.05}),
                    {"batch_size": 2, "epochs": 2})
    raise ValueError(f"unknown train case {kind!r}")


def _check_train_case(train, case):
    name = "train_cnn"
    x, y, weights, spec, loss, optimizer = case.args
    call = (f"train_cnn(x, y, weights, spec, {loss!r}, {optimizer!r}, "
            + ", ".join(f"{k}={v!r}" for k, v in case.kwargs.items()) + f") with x of shape {np.shape(x)}")
    result = call_student(train, *case.args, name=name, **case.kwargs)
    if not isinstance(result, (tuple, list)) or len(result) != 2 or not isinstance(result[1], dict):
        raise CheckFailed(f"{call} should return (new_weights, history_dict).", kind="wrong_type")
    labels = [label.replace("gradient of", "final") for label in _weight_labels(spec)]
    got = _unpack(result[0], f"{call}[0]", labels)
    expected, expected_history = keras_train(*case.args, **case.kwargs)
    try:
        _compare_all(got, expected, [], f"{call}, final weights", labels, rtol=TRAIN_RTOL)
    except CheckFailed:  # only now run the mistaken loops (each a whole training run) to name the mistake
        mistakes = [(text, np_train(*case.args, **case.kwargs, mistake=key)[0])
                    for key, text in TRAIN_MISTAKES.items() if key != "history_after_update"]
        _compare_all(got, expected, mistakes, f"{call}, final weights", labels, rtol=TRAIN_RTOL)
    def explain(key, epoch, got):
        after = np_train(*case.args, **case.kwargs, mistake="history_after_update")[1]
        if abs(got - after[key][epoch]) <= TRAIN_RTOL * abs(got) + 1e-7:
            return "Hint: your result is what you get if " + TRAIN_MISTAKES["history_after_update"] + "."
        return ("Your final weights match, so training is right: the epoch's value is the batch values (each "
                "computed before that batch's update, the L2 penalty included) weighted by batch size.")

    _fit.compare_history(result[1], expected_history, call=call, name=name, rtol=TRAIN_RTOL, explain=explain)


def check_train_cnn(train_cnn, cases=None, kinds=("momentum",)):
    """Compare final weights and history with model.fit(..., shuffle=False) from the same starting weights."""
    cases = [train_case(k) for k in kinds] if cases is None else cases
    count = run_cases(lambda case: _check_train_case(train_cnn, case), name="train_cnn", cases=cases)
    report_pass("train_cnn", "model.fit (history and final weights)", count, noun="training run")
