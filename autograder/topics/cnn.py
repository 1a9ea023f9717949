"""The checks of notebook 07 (convolutional networks by hand): the student's layers against live Keras layers.

Checks for `conv2d_loops`, `conv2d`, `max_pooling2d`, `flatten`, `conv1d`, `max_pooling1d`,
`global_average_pooling1d` and `predict_cnn`. Every expected value comes from a live Keras layer (Conv2D,
MaxPooling2D, Flatten, Conv1D, MaxPooling1D, GlobalAveragePooling1D) given the same weights, or from the Keras
layers of a Sequential model built from the same spec and weights. The NumPy code here only computes the
*wrong* answers students typically give (flipped kernel, "same" padding split the wrong way, strides ignored,
channels-first flatten, pooling over the channel axis, average over the wrong axis, ...), so that a failure
message can name the mistake.

Shapes follow Keras's channels_last format: images (batch, height, width, channels), sequences
(batch, steps, channels); Conv2D kernels (kh, kw, in_channels, filters), Conv1D kernels (k, in_channels, filters).
"""
import warnings

import numpy as np
from hypothesis import strategies as st

from autograder.checks.runner import Case, check_property, check_rejects, compare_once, report_pass, run_cases
from autograder.checks.compare import Mistake
from autograder.checks.describe import describe_call
from autograder.checks.errors import CheckFailed
from autograder.checks.keras_reference import built_layer, keras, same_for_every_student, sigmoid, softmax

FLOAT_DTYPES = (np.float32, np.float64)


def _pair(value):
    """(a, b) from an int or a pair, as Keras's layers read `strides` and `pool_size`."""
    return (int(value), int(value)) if np.ndim(value) == 0 else tuple(int(v) for v in value)


def _float32(x):
    return np.asarray(x, dtype=np.float32)


# --- references: live Keras layers --------------------------------------------------------------------------

def _layer(class_name, input_shape, **config):
    """A built Keras layer, made once per configuration and input signature (keras_reference.built_layer)."""
    def make():
        layer = getattr(keras().layers, class_name)(**config)
        layer.build(input_shape)
        return layer

    return built_layer(("cnn", class_name, input_shape, tuple(sorted((k, repr(v)) for k, v in config.items()))),
                       make)


def _keras_conv(class_name, x, kernel, bias, strides, padding):
    kernel = np.asarray(kernel)
    spatial = kernel.ndim - 2
    layer = _layer(class_name, (None,) * (spatial + 1) + (kernel.shape[-2],), filters=kernel.shape[-1],
                   kernel_size=kernel.shape[:spatial], strides=strides, padding=padding, use_bias=bias is not None)
    layer.set_weights([kernel] + ([np.asarray(bias)] if bias is not None else []))
    return np.asarray(layer(_float32(x)))


@same_for_every_student
def keras_conv2d(x, kernel, bias=None, strides=(1, 1), padding="valid"):
    """keras.layers.Conv2D(filters, kernel.shape[:2], strides, padding) with weights [kernel, bias], on x."""
    return _keras_conv("Conv2D", x, kernel, bias, _pair(strides), padding)


def keras_conv2d_one_image(image, kernel):
    """keras.layers.Conv2D(filters, kernel.shape[:2]) without bias, strides 1, 'valid', on one image."""
    return keras_conv2d(np.asarray(image)[None], kernel)[0]


@same_for_every_student
def keras_conv1d(x, kernel, bias=None, strides=1, padding="valid"):
    """keras.layers.Conv1D(filters, kernel.shape[0], strides, padding) with weights [kernel, bias], on x."""
    return _keras_conv("Conv1D", x, kernel, bias, int(strides), padding)


@same_for_every_student
def keras_max_pooling2d(x, pool_size=(2, 2), strides=None, padding="valid"):
    """keras.layers.MaxPooling2D(pool_size, strides, padding) on x."""
    strides = None if strides is None else _pair(strides)
    layer = _layer("MaxPooling2D", (None, None, None, np.shape(x)[-1]), pool_size=_pair(pool_size),
                   strides=strides, padding=padding)
    return np.asarray(layer(_float32(x)))


@same_for_every_student
def keras_max_pooling1d(x, pool_size=2, strides=None, padding="valid"):
    """keras.layers.MaxPooling1D(pool_size, strides, padding) on x."""
    strides = None if strides is None else int(strides)
    layer = _layer("MaxPooling1D", (None, None, np.shape(x)[-1]), pool_size=int(pool_size), strides=strides,
                   padding=padding)
    return np.asarray(layer(_float32(x)))


@same_for_every_student
def keras_flatten(x):
    """keras.layers.Flatten() on x."""
    return np.asarray(_layer("Flatten", (None,) + np.shape(x)[1:])(_float32(x)))


@same_for_every_student
def keras_global_average_pooling1d(x):
    """keras.layers.GlobalAveragePooling1D() on x."""
    return np.asarray(_layer("GlobalAveragePooling1D", (None, None, np.shape(x)[-1]))(_float32(x)))


# --- predict_cnn: the spec, and the Keras model it describes ------------------------------------------------

WEIGHTED_LAYERS = ("conv2d", "conv1d", "dense")
SPEC_LAYERS = WEIGHTED_LAYERS + ("max_pooling2d", "max_pooling1d", "flatten", "global_average_pooling1d",
                                 "dropout")


def keras_layers_from_spec(model_weights, spec):
    """The Keras layers that `spec` describes, sized from `model_weights` (the model's get_weights()).

    Each (kind, options) pair becomes one layer: "conv2d" -> Conv2D, "conv1d" -> Conv1D, "dense" -> Dense
    (filters, kernel size and units read from the next [kernel, bias] in model_weights), "max_pooling2d" ->
    MaxPooling2D, "max_pooling1d" -> MaxPooling1D, "flatten" -> Flatten, "global_average_pooling1d" ->
    GlobalAveragePooling1D, "dropout" -> Dropout. Options are passed on as keyword arguments.
    """
    layers = keras().layers
    weights = iter(model_weights)
    made = []
    for kind, options in spec:
        options = dict(options)
        if kind in ("conv2d", "conv1d"):
            kernel, _ = next(weights), next(weights)
            cls = layers.Conv2D if kind == "conv2d" else layers.Conv1D
            made.append(cls(kernel.shape[-1], kernel.shape[:-2], **options))
        elif kind == "dense":
            kernel, _ = next(weights), next(weights)
            made.append(layers.Dense(kernel.shape[-1], **options))
        elif kind == "dropout":
            made.append(layers.Dropout(options.pop("rate", 0.5), **options))
        else:
            made.append({"max_pooling2d": layers.MaxPooling2D, "max_pooling1d": layers.MaxPooling1D,
                         "flatten": layers.Flatten,
                         "global_average_pooling1d": layers.GlobalAveragePooling1D}[kind](**options))
    return made


@same_for_every_student
def keras_predict_cnn(x, model_weights, spec):
    """The Keras layers `spec` describes, given `model_weights`, applied to x in turn in inference mode.

    That is what a Sequential model of these layers computes in `model.predict(x)` (the notebook shows
    `predict_cnn` reproducing `model.predict` of a trained model); calling the layers one by one avoids
    building a model and a prediction function for every drawn model (~0.5 s each).
    """
    weights = iter(model_weights)
    out = _float32(x)
    with warnings.catch_warnings():  # e.g. a softmax over one unit: the check's business, not a stderr line
        warnings.simplefilter("ignore")
        for layer, (kind, _) in zip(keras_layers_from_spec(model_weights, spec), spec):
            layer.build(out.shape)
            if kind in WEIGHTED_LAYERS:
                layer.set_weights([np.asarray(next(weights)), np.asarray(next(weights))])
            out = layer(out, training=False)
        return np.asarray(out)


def _output_shape(kind, options, kernel_shape, shape):
    """The shape of one sample after a spec layer (the output-size formulas of keras/src/ops/operation_utils.py)."""
    if kind == "dense":
        return shape[:-1] + (kernel_shape[-1],)
    if kind == "flatten":
        return (int(np.prod(shape)),)
    if kind == "global_average_pooling1d":
        return shape[-1:]
    if kind == "dropout":
        return shape
    spatial = len(shape) - 1
    if kind in ("conv2d", "conv1d"):
        window, channels = kernel_shape[:spatial], kernel_shape[-1]
        strides = options.get("strides", 1)
    else:
        default = 2 if spatial == 1 else (2, 2)
        window, channels = options.get("pool_size", default), shape[-1]
        strides = options.get("strides") or window
    window = (window,) * spatial if np.ndim(window) == 0 else tuple(window)
    strides = (strides,) * spatial if np.ndim(strides) == 0 else tuple(strides)
    if options.get("padding", "valid") == "same":
        sizes = [-(-n // s) for n, s in zip(shape[:-1], strides)]
    else:
        sizes = [(n - k) // s + 1 for n, k, s in zip(shape[:-1], window, strides)]
    return tuple(sizes) + (channels,)


def cnn_case(input_shape, layers, *, batch=2, seed=0):
    """A Case (x, model_weights, spec) for `predict_cnn`: random input and weights for the described model.

    Args:
        input_shape: shape of one sample, e.g. (12, 12, 3) or (20, 5).
        layers: list of (kind, options) like a spec, where "conv2d"/"conv1d" options also hold "filters" and
            "kernel_size", and "dense" options hold "units"; those sizes are removed from the spec handed to
            the student (they are in the weight shapes).
        batch: number of samples.
        seed: seed of the NumPy generator for x and the weights.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch,) + tuple(input_shape)).astype(np.float32)
    shape = tuple(input_shape)
    weights, spec = [], []
    for kind, options in layers:
        options = dict(options)
        if kind in ("conv2d", "conv1d"):
            filters, kernel_size = options.pop("filters"), options.pop("kernel_size")
            kernel_size = (kernel_size,) if np.ndim(kernel_size) == 0 else tuple(kernel_size)
            fan_in = int(np.prod(kernel_size)) * shape[-1]
            weights += [rng.normal(scale=1.5 / np.sqrt(fan_in), size=kernel_size + (shape[-1], filters)),
                        rng.normal(scale=0.3, size=filters)]
        elif kind == "dense":
            units = options.pop("units")
            weights += [rng.normal(scale=1.5 / np.sqrt(shape[-1]), size=(shape[-1], units)),
                        rng.normal(scale=0.3, size=units)]
        spec.append((kind, options))
        shape = _output_shape(kind, options, weights[-2].shape if kind in WEIGHTED_LAYERS else None, shape)
    return Case((x, [w.astype(np.float32) for w in weights], spec))


# --- NumPy versions, used only to compute the known mistakes ------------------------------------------------

def _pads(size, window, stride, padding, extra_before=False):
    if padding != "same":
        return (0, 0)
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    small = total // 2
    return (total - small, small) if extra_before else (small, total - small)


def _windows2d(x, window, strides, padding, fill, extra_before=False, skip_strides=False):
    """(batch, out_h, out_w, channels, wh, ww) views of the windows of x (batch, h, w, channels)."""
    pads = [_pads(x.shape[1 + i], window[i], strides[i], padding, extra_before) for i in range(2)]
    padded = np.pad(x, [(0, 0), pads[0], pads[1], (0, 0)], constant_values=fill)
    windows = np.lib.stride_tricks.sliding_window_view(padded, tuple(window), axis=(1, 2))
    return windows if skip_strides else windows[:, ::strides[0], ::strides[1]]


def _np_conv2d(x, kernel, bias, strides, padding, *, flip=False, extra_before=False, skip_strides=False):
    kernel = kernel[::-1, ::-1] if flip else kernel
    windows = _windows2d(x, kernel.shape[:2], strides, padding, 0.0, extra_before, skip_strides)
    out = np.tensordot(windows, kernel, axes=((3, 4, 5), (2, 0, 1)))
    return out if bias is None else out + bias


def _np_pool2d(x, pool, strides, padding, *, fill=-np.inf, extra_before=False):
    return _windows2d(x, pool, strides, padding, fill, extra_before).max(axis=(4, 5))


def _mistakes(candidates):
    """Mistake objects for the candidates (description, thunk) whose thunk computes without error."""
    found = []
    for description, compute in candidates:
        try:
            with np.errstate(all="ignore"):
                found.append(Mistake(description, np.asarray(compute(), dtype=np.float64)))
        except (ValueError, IndexError, TypeError):
            continue
    return found


FLIPPED = ("you flip the kernel (a true convolution); a Keras convolution layer computes a cross-correlation: "
           "out[i] = sum over a of x[i*stride + a] * kernel[a], with no flipping")
EXTRA_BEFORE = ("you put the odd extra row/column of 'same' padding before the input (top/left); Keras puts it "
                "after (bottom/right): pad_before = total // 2, pad_after = total - pad_before")
STRIDES_IGNORED = "you ignore `strides` (you keep every position, as if strides were 1)"
NO_BIAS = "you leave out the bias"
NOT_PADDED = "you do not pad for padding='same' (the output of 'same' has ceil(n / stride) positions)"


def _conv_candidates(x, kernel, bias, strides, padding):
    x, kernel = np.asarray(x, np.float64), np.asarray(kernel, np.float64)
    bias = None if bias is None else np.asarray(bias, np.float64)
    candidates = [
        (FLIPPED, lambda: _np_conv2d(x, kernel, bias, strides, padding, flip=True)),
        (EXTRA_BEFORE, lambda: _np_conv2d(x, kernel, bias, strides, padding, extra_before=True)),
        (STRIDES_IGNORED, lambda: _np_conv2d(x, kernel, bias, (1, 1), padding)),
        (STRIDES_IGNORED, lambda: _np_conv2d(x, kernel, bias, strides, padding, skip_strides=True)),
        (NOT_PADDED, lambda: _np_conv2d(x, kernel, bias, strides, "valid")),
        ("you swap the kernel's two spatial axes (kernel[a, b] used as kernel[b, a])",
         lambda: _np_conv2d(x, kernel.transpose(1, 0, 2, 3), bias, strides, padding)),
    ]
    if bias is not None:
        candidates.append((NO_BIAS, lambda: _np_conv2d(x, kernel, None, strides, padding)))
    return candidates


def conv2d_mistakes(x, kernel, bias=None, strides=(1, 1), padding="valid"):
    return _mistakes(_conv_candidates(x, kernel, bias, _pair(strides), padding))


def conv2d_loops_mistakes(image, kernel):
    """The conv2d mistakes that can happen without strides, padding or bias, on one image."""
    return [Mistake(m.description, m.result[0]) for m in conv2d_mistakes(np.asarray(image)[None], kernel)
            if m.description == FLIPPED or "spatial axes" in m.description]


def conv1d_mistakes(x, kernel, bias=None, strides=1, padding="valid"):
    """The conv2d mistakes on an image of height 1: x (b, steps, c) -> (b, 1, steps, c)."""
    x, kernel = np.asarray(x, np.float64)[:, None], np.asarray(kernel, np.float64)[None]
    squeezed = [Mistake(m.description, m.result[:, 0])
                for m in _mistakes(_conv_candidates(x, kernel, bias, (1, int(strides)), padding))
                if "spatial axes" not in m.description]
    return squeezed


def conv_error_hint(case, error):
    if case.kwargs.get("padding") == "same" and not isinstance(error, (NameError, NotImplementedError)):
        return ("padding='same' gives ceil(n / stride) outputs along each axis; pad with "
                "total = max((out - 1) * stride + k - n, 0) zeros, total // 2 before and the rest after.")
    return None


def max_pooling2d_mistakes(x, pool_size=(2, 2), strides=None, padding="valid"):
    x = np.asarray(x, np.float64)
    pool = _pair(pool_size)
    stride = pool if strides is None else _pair(strides)
    candidates = [
        (EXTRA_BEFORE, lambda: _np_pool2d(x, pool, stride, padding, extra_before=True)),
        ("you pad with zeros for padding='same'; Keras's max pooling ignores the padding, so a window of "
         "negative numbers at the border keeps its (negative) maximum",
         lambda: _np_pool2d(x, pool, stride, padding, fill=0.0)),
        ("you pool over the width and channel axes (as if x were channels-first); Keras pools over height "
         "and width (axes 1 and 2) and keeps every channel",
         lambda: _np_pool2d(x.transpose(0, 2, 3, 1), pool, stride, padding).transpose(0, 3, 1, 2)),
        ("you also take the maximum over the channels; max pooling keeps each channel separate",
         lambda: _np_pool2d(x, pool, stride, padding).max(axis=-1, keepdims=True)),
        ("you also take the maximum over the channels; max pooling keeps each channel separate",
         lambda: _np_pool2d(x, pool, stride, padding).max(axis=-1)),
        (NOT_PADDED, lambda: _np_pool2d(x, pool, stride, "valid")),
    ]
    if strides is None:
        candidates.append(("you use strides of 1 when strides=None; Keras then uses strides = pool_size "
                           "(windows side by side, not overlapping)", lambda: _np_pool2d(x, pool, (1, 1), padding)))
    elif stride != (1, 1):
        candidates.append((STRIDES_IGNORED, lambda: _np_pool2d(x, pool, pool, padding)))
    return _mistakes(candidates)


def max_pooling1d_mistakes(x, pool_size=2, strides=None, padding="valid"):
    x = np.asarray(x, np.float64)
    pool = int(pool_size)
    stride = pool if strides is None else int(strides)
    as_image = x[:, None]

    def pool1d(values, size, step, pad, **options):
        return _np_pool2d(values[:, None], (1, size), (1, step), pad, **options)[:, 0]

    candidates = [
        (EXTRA_BEFORE, lambda: pool1d(x, pool, stride, padding, extra_before=True)),
        ("you pad with zeros for padding='same'; Keras's max pooling ignores the padding, so a window of "
         "negative numbers at the border keeps its (negative) maximum", lambda: pool1d(x, pool, stride, padding,
                                                                                     fill=0.0)),
        ("you pool over the channel axis (axis 2); MaxPooling1D pools over the steps (axis 1) and keeps "
         "every channel", lambda: pool1d(x.transpose(0, 2, 1), pool, stride, padding).transpose(0, 2, 1)),
        ("you also take the maximum over the channels; max pooling keeps each channel separate",
         lambda: _np_pool2d(as_image, (1, pool), (1, stride), padding)[:, 0].max(axis=-1, keepdims=True)),
        (NOT_PADDED, lambda: pool1d(x, pool, stride, "valid")),
    ]
    if strides is None:
        candidates.append(("you use strides=1 when strides=None; Keras then uses strides = pool_size",
                           lambda: pool1d(x, pool, 1, padding)))
    elif stride != 1:
        candidates.append((STRIDES_IGNORED, lambda: pool1d(x, pool, pool, padding)))
    return _mistakes(candidates)


def flatten_mistakes(x):
    x = np.asarray(x, np.float64)
    n = x.shape[0] if x.ndim else 1
    return _mistakes([
        ("you flatten in channels-first order (channels, height, width); Keras's Flatten keeps the array's own "
         "row-major order (height, width, channels): the channel index changes fastest",
         lambda: np.moveaxis(x, -1, 1).reshape(n, -1)),
        ("you flatten in column-major (Fortran) order; Keras uses row-major (C) order, the last axis fastest",
         lambda: x.reshape(n, -1, order="F") if x.ndim <= 2 else
         x.transpose((0,) + tuple(range(x.ndim - 1, 0, -1))).reshape(n, -1)),
        ("you flatten the batch axis too; Flatten keeps axis 0 (the samples) and flattens the rest",
         lambda: x.ravel()),
    ])


def global_average_pooling1d_mistakes(x):
    x = np.asarray(x, np.float64)
    return _mistakes([
        ("you average over the channels (axis 2); GlobalAveragePooling1D averages over the steps (axis 1)",
         lambda: x.mean(axis=2)),
        ("you average over the batch (axis 0); GlobalAveragePooling1D averages over the steps (axis 1)",
         lambda: x.mean(axis=0)),
        ("you sum over the steps instead of averaging", lambda: x.sum(axis=1)),
        ("you take the maximum over the steps (that is GlobalMaxPooling1D)", lambda: x.max(axis=1)),
    ])


_ACTIVATIONS = {None: lambda z: z, "linear": lambda z: z, "relu": lambda z: np.maximum(z, 0.0), "tanh": np.tanh,
                "sigmoid": sigmoid, "softmax": softmax}


def _np_forward(x, model_weights, spec, *, flatten_channels_first=False, dropout=None, last_activation=True):
    """The model's forward pass in NumPy, with a mistake switched on (only for naming mistakes)."""
    out = np.asarray(x, np.float64)
    weights = iter([np.asarray(w, np.float64) for w in model_weights])
    for position, (kind, options) in enumerate(spec):
        activation = options.get("activation")
        if position == len(spec) - 1 and not last_activation:
            activation = None
        if kind in ("conv2d", "conv1d"):
            kernel, bias = next(weights), next(weights)
            padding = options.get("padding", "valid")
            if kind == "conv2d":
                out = _np_conv2d(out, kernel, bias, _pair(options.get("strides", 1)), padding)
            else:
                out = _np_conv2d(out[:, None], kernel[None], bias, (1, int(options.get("strides", 1))),
                                 padding)[:, 0]
            out = _ACTIVATIONS[activation](out)
        elif kind == "dense":
            kernel, bias = next(weights), next(weights)
            out = _ACTIVATIONS[activation](out @ kernel + bias)
        elif kind in ("max_pooling2d", "max_pooling1d"):
            padding = options.get("padding", "valid")
            if kind == "max_pooling2d":
                pool = _pair(options.get("pool_size", 2))
                strides = options.get("strides")
                out = _np_pool2d(out, pool, pool if strides is None else _pair(strides), padding)
            else:
                pool = int(options.get("pool_size", 2))
                strides = options.get("strides")
                out = _np_pool2d(out[:, None], (1, pool), (1, pool if strides is None else int(strides)),
                                 padding)[:, 0]
        elif kind == "flatten":
            out = (np.moveaxis(out, -1, 1) if flatten_channels_first else out).reshape(len(out), -1)
        elif kind == "global_average_pooling1d":
            out = out.mean(axis=1)
        elif kind == "dropout" and dropout is not None:
            out = dropout(out, options.get("rate", 0.5))
    return out


def predict_cnn_mistakes(x, model_weights, spec):
    last = spec[-1][1].get("activation") if spec else None
    candidates = [
        ("you flatten in channels-first order; Keras's Flatten keeps (height, width, channels) order",
         lambda: _np_forward(x, model_weights, spec, flatten_channels_first=True)),
        ("you multiply by (1 - rate) at Dropout; in inference (model.predict) Dropout passes its input "
         "through unchanged", lambda: _np_forward(x, model_weights, spec, dropout=lambda z, r: z * (1 - r))),
        ("you divide by (1 - rate) at Dropout; in inference (model.predict) Dropout passes its input "
         "through unchanged", lambda: _np_forward(x, model_weights, spec, dropout=lambda z, r: z / (1 - r))),
    ]
    if last not in (None, "linear"):
        candidates.append((f"you leave out the last layer's activation ({last!r})",
                           lambda: _np_forward(x, model_weights, spec, last_activation=False)))
    return _mistakes(candidates)


# --- inputs -------------------------------------------------------------------------------------------------

def _rng(draw):
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1)))


def _values(rng, shape, dtype):
    return rng.normal(size=shape).astype(dtype)


def _conv_kwargs(draw, strides, padding, default_strides):
    """Keyword arguments as a learner might pass them: sometimes left at their defaults."""
    kwargs = {}
    if strides != default_strides or draw(st.booleans()):
        kwargs["strides"] = strides
    if padding != "valid" or draw(st.booleans()):
        kwargs["padding"] = padding
    return kwargs


@st.composite
def conv2d_cases(draw):
    """Small conv2d inputs: odd and even sizes, 1-3 channels and filters, strides 1 or 2, valid or same."""
    rng, dtype = _rng(draw), draw(st.sampled_from(FLOAT_DTYPES))
    batch, height, width = draw(st.integers(1, 2)), draw(st.integers(1, 7)), draw(st.integers(1, 7))
    channels, filters = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding = draw(st.sampled_from(["valid", "same"]))
    limit_h, limit_w = (min(3, height), min(3, width)) if padding == "valid" else (3, 3)
    kh, kw = draw(st.integers(1, limit_h)), draw(st.integers(1, limit_w))
    strides = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    if strides[0] == strides[1] and draw(st.booleans()):
        strides = strides[0]
    x = _values(rng, (batch, height, width, channels), dtype)
    kernel = _values(rng, (kh, kw, channels, filters), dtype)
    args = (x, kernel)
    kwargs = _conv_kwargs(draw, strides, padding, (1, 1))
    if draw(st.booleans()):
        kwargs = {"bias": _values(rng, (filters,), dtype), **kwargs}
    return Case(args, kwargs)


@st.composite
def conv2d_loops_cases(draw):
    """One small image (height, width, in_channels) and a kernel that fits in it: 1-3 channels and filters."""
    rng, dtype = _rng(draw), draw(st.sampled_from(FLOAT_DTYPES))
    height, width = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    channels, filters = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, min(3, height))), draw(st.integers(1, min(3, width)))
    return Case((_values(rng, (height, width, channels), dtype), _values(rng, (kh, kw, channels, filters), dtype)))


@st.composite
def conv1d_cases(draw):
    """Small conv1d inputs: odd and even lengths, 1-3 channels and filters, strides 1-3, valid or same."""
    rng, dtype = _rng(draw), draw(st.sampled_from(FLOAT_DTYPES))
    batch, steps = draw(st.integers(1, 3)), draw(st.integers(1, 9))
    channels, filters = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding = draw(st.sampled_from(["valid", "same"]))
    k = draw(st.integers(1, min(4, steps) if padding == "valid" else 4))
    strides = draw(st.integers(1, 3))
    x = _values(rng, (batch, steps, channels), dtype)
    kernel = _values(rng, (k, channels, filters), dtype)
    kwargs = _conv_kwargs(draw, strides, padding, 1)
    if draw(st.booleans()):
        kwargs = {"bias": _values(rng, (filters,), dtype), **kwargs}
    return Case((x, kernel), kwargs)


def _pool_kwargs(draw, pool_size, strides, padding, default_pool):
    kwargs = {}
    if pool_size != default_pool or draw(st.booleans()):
        kwargs["pool_size"] = pool_size
    if strides is not None or draw(st.booleans()):
        kwargs["strides"] = strides
    if padding != "valid" or draw(st.booleans()):
        kwargs["padding"] = padding
    return kwargs


@st.composite
def max_pooling2d_cases(draw):
    """Small max_pooling2d inputs with negative values, default or explicit strides, valid or same."""
    rng, dtype = _rng(draw), draw(st.sampled_from(FLOAT_DTYPES))
    batch, height, width = draw(st.integers(1, 2)), draw(st.integers(1, 7)), draw(st.integers(1, 7))
    channels = draw(st.integers(1, 3))
    padding = draw(st.sampled_from(["valid", "same"]))
    limit_h, limit_w = (min(3, height), min(3, width)) if padding == "valid" else (3, 3)
    pool_size = (draw(st.integers(1, limit_h)), draw(st.integers(1, limit_w)))
    if pool_size[0] == pool_size[1] and draw(st.booleans()):
        pool_size = pool_size[0]
    strides = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3)), st.integers(1, 3)))
    x = _values(rng, (batch, height, width, channels), dtype) - draw(st.sampled_from([0.0, 2.0]))
    return Case((x,), _pool_kwargs(draw, pool_size, strides, padding, (2, 2)))


@st.composite
def max_pooling1d_cases(draw):
    """Small max_pooling1d inputs with negative values, default or explicit strides, valid or same."""
    rng, dtype = _rng(draw), draw(st.sampled_from(FLOAT_DTYPES))
    batch, steps, channels = draw(st.integers(1, 3)), draw(st.integers(1, 9)), draw(st.integers(1, 3))
    padding = draw(st.sampled_from(["valid", "same"]))
    pool_size = draw(st.integers(1, min(4, steps) if padding == "valid" else 4))
    strides = draw(st.one_of(st.none(), st.integers(1, 3)))
    x = _values(rng, (batch, steps, channels), dtype) - draw(st.sampled_from([0.0, 2.0]))
    return Case((x,), _pool_kwargs(draw, pool_size, strides, padding, 2))


@st.composite
def flatten_cases(draw):
    """Arrays of 2 to 5 dimensions (batch first), e.g. (batch, height, width, channels)."""
    rng, dtype = _rng(draw), draw(st.sampled_from(FLOAT_DTYPES))
    shape = (draw(st.integers(1, 3)),) + tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    return Case((_values(rng, shape, dtype),))


@st.composite
def global_average_pooling1d_cases(draw):
    rng, dtype = _rng(draw), draw(st.sampled_from(FLOAT_DTYPES))
    shape = (draw(st.integers(1, 4)), draw(st.integers(1, 7)), draw(st.integers(1, 4)))
    return Case((_values(rng, shape, dtype) + draw(st.sampled_from([0.0, 1.0])),))


_HIDDEN_ACTIVATIONS = ("relu", "linear", "tanh", "sigmoid")
_OUTPUT_ACTIVATIONS = ("softmax", "sigmoid", "linear", None)


@st.composite
def predict_cnn_cases(draw):
    """Small random convnets, 2-D or 1-D: conv layers, optional pooling and dropout, flatten or global average
    pooling, one or two dense layers."""
    two_d = draw(st.booleans())
    layers = []
    if two_d:
        size = (draw(st.integers(5, 8)), draw(st.integers(5, 8)))
        input_shape = size + (draw(st.integers(1, 3)),)
    else:
        size = (draw(st.integers(6, 12)),)
        input_shape = size + (draw(st.integers(1, 3)),)
    kind = "conv2d" if two_d else "conv1d"
    pool = "max_pooling2d" if two_d else "max_pooling1d"
    for _ in range(draw(st.integers(1, 2))):
        padding = draw(st.sampled_from(["valid", "same"]))
        k = draw(st.integers(1, 3)) if padding == "same" else draw(st.integers(1, min(3, min(size))))
        stride = draw(st.integers(1, 2))
        options = {"filters": draw(st.integers(1, 4)), "kernel_size": (k, k) if two_d else k,
                   "activation": draw(st.sampled_from(_HIDDEN_ACTIVATIONS)), "padding": padding,
                   "strides": (stride, stride) if two_d else stride}
        layers.append((kind, options))
        size = tuple(-(-n // stride) if padding == "same" else (n - k) // stride + 1 for n in size)
    if draw(st.booleans()):
        layers.append((pool, {"padding": "same"}))
        size = tuple(-(-n // 2) for n in size)
    if draw(st.booleans()):
        layers.append(("dropout", {"rate": draw(st.sampled_from([0.25, 0.5]))}))
    layers.append(("flatten", {}) if two_d or draw(st.booleans()) else ("global_average_pooling1d", {}))
    if draw(st.booleans()):
        layers.append(("dense", {"units": draw(st.integers(2, 6)), "activation": "relu"}))
    units = draw(st.integers(1, 4))
    activation = draw(st.sampled_from(_OUTPUT_ACTIVATIONS))
    layers.append(("dense", {"units": units, "activation": "sigmoid" if units == 1 and activation == "softmax"
                             else activation}))  # Keras warns (stderr) about a softmax over one unit
    return cnn_case(input_shape, layers, batch=draw(st.integers(1, 3)), seed=draw(st.integers(0, 2**16)))


# --- cases every visible check runs first: one per rule a mistake breaks ------------------------------------

def _fixed(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape).astype(np.float32) for shape in shapes]


def conv2d_loops_rule_cases():
    image, k23, k32 = _fixed(69, (5, 6, 2), (2, 3, 2, 3), (3, 2, 2, 1))
    return [Case((image, k23)),                                          # not flipped, (kh, kw) not swapped
            Case((image[:3, :4], k32))]                                  # uneven output size


def conv2d_rule_cases():
    x, k3, k2, bias = _fixed(70, (2, 6, 6, 2), (3, 3, 2, 3), (2, 2, 2, 3), (3,))
    (x7,) = _fixed(71, (1, 7, 5, 2))
    return [
        Case((x, k3), {"bias": bias}),                                    # cross-correlation, bias
        Case((x, k2), {"padding": "same"}),                               # odd total padding: extra after
        Case((x7, k3), {"strides": (2, 2)}),                              # strides
        Case((x, k3, bias), {"strides": (2, 1), "padding": "same"}),      # both, with a bias
    ]


def conv1d_rule_cases():
    x, k3, k2, bias = _fixed(72, (2, 8, 2), (3, 2, 3), (2, 2, 3), (3,))
    return [
        Case((x, k3), {"bias": bias}),
        Case((x, k2), {"padding": "same"}),
        Case((x, k3), {"strides": 2}),
        Case((x, k3, bias), {"strides": 3, "padding": "same"}),
    ]


def max_pooling2d_rule_cases():
    x, y = _fixed(73, (2, 6, 6, 3), (1, 5, 7, 2))
    return [
        Case((x,)),                                                        # strides default to pool_size
        Case((y,), {"pool_size": (2, 2), "strides": (1, 1)}),
        Case((y - 3.0,), {"padding": "same"}),                             # padding ignored, extra after
        Case((x,), {"pool_size": (3, 2), "strides": (2, 1), "padding": "same"}),
    ]


def max_pooling1d_rule_cases():
    x, y = _fixed(74, (2, 9, 3), (1, 7, 2))
    return [
        Case((x,)),
        Case((y,), {"pool_size": 3, "strides": 1}),
        Case((y - 3.0,), {"padding": "same"}),
        Case((x,), {"pool_size": 2, "strides": 3, "padding": "same"}),
    ]


def flatten_rule_cases():
    return [Case((np.arange(2 * 3 * 4 * 2, dtype=np.float64).reshape(2, 3, 4, 2),)),
            Case((np.arange(2 * 5 * 3, dtype=np.float32).reshape(2, 5, 3),))]


def global_average_pooling1d_rule_cases():
    (x,) = _fixed(75, (3, 5, 4))
    return [Case((x,)), Case((np.abs(x) + 1.0,))]


VGG_LIKE = [("conv2d", {"filters": 4, "kernel_size": (3, 3), "activation": "relu"}),
            ("conv2d", {"filters": 4, "kernel_size": (3, 3), "activation": "relu"}),
            ("max_pooling2d", {"pool_size": (2, 2)}),
            ("dropout", {"rate": 0.25}),
            ("conv2d", {"filters": 6, "kernel_size": (3, 3), "activation": "relu", "padding": "same"}),
            ("conv2d", {"filters": 6, "kernel_size": (2, 2), "activation": "tanh", "padding": "same",
                        "strides": (2, 2)}),
            ("max_pooling2d", {"pool_size": (2, 2), "padding": "same"}),
            ("dropout", {"rate": 0.25}),
            ("flatten", {}),
            ("dense", {"units": 8, "activation": "relu"}),
            ("dropout", {"rate": 0.5}),
            ("dense", {"units": 5, "activation": "softmax"})]
"""A scaled-down version of the Keras 2 tutorial's VGG-like convnet (sizes for `cnn_case`), with 'same' padding, strides
and a tanh (negative values reach a 'same' max pooling) in the second block, so that every conv/pool rule
matters."""

SEQUENCE_CNN = [("conv1d", {"filters": 4, "kernel_size": 3, "activation": "relu"}),
                ("conv1d", {"filters": 4, "kernel_size": 2, "activation": "relu", "padding": "same"}),
                ("max_pooling1d", {"pool_size": 3}),
                ("conv1d", {"filters": 6, "kernel_size": 3, "activation": "relu", "strides": 2}),
                ("global_average_pooling1d", {}),
                ("dropout", {"rate": 0.5}),
                ("dense", {"units": 1, "activation": "sigmoid"})]
"""A scaled-down version of the Keras 2 tutorial's 1-D sequence classifier (sizes for `cnn_case`)."""


def predict_cnn_rule_cases():
    return [cnn_case((14, 14, 3), VGG_LIKE, batch=2, seed=76), cnn_case((20, 3), SEQUENCE_CNN, batch=3, seed=77)]


# --- checks used by the notebook ----------------------------------------------------------------------------

def _check(fn, reference_fn, cases, rule_cases, strategy, max_examples, *, name, reference, **options):
    """The given Cases only (a hidden check), else the rule cases then drawn ones (the visible check)."""
    check_property(fn, reference_fn, strategy, name=name, reference=reference, max_examples=max_examples,
                   cases=cases, first=rule_cases, **options)


def check_conv2d_loops(conv2d_loops, cases=None, max_examples=10):
    """Compare with keras.layers.Conv2D (no bias, strides 1, 'valid') given the same kernel, on one image."""
    _check(conv2d_loops, keras_conv2d_one_image, cases, conv2d_loops_rule_cases(), conv2d_loops_cases(),
           max_examples, name="conv2d_loops", reference="keras.layers.Conv2D", mistakes_fn=conv2d_loops_mistakes)


def check_conv2d(conv2d, cases=None, max_examples=20):
    """Compare with keras.layers.Conv2D given the same kernel and bias, on the rule cases and drawn inputs
    (or only on the given Cases)."""
    _check(conv2d, keras_conv2d, cases, conv2d_rule_cases(), conv2d_cases(), max_examples, name="conv2d",
           reference="keras.layers.Conv2D", mistakes_fn=conv2d_mistakes, error_hint=conv_error_hint)


def check_conv1d(conv1d, cases=None, max_examples=20):
    """Compare with keras.layers.Conv1D given the same kernel and bias."""
    _check(conv1d, keras_conv1d, cases, conv1d_rule_cases(), conv1d_cases(), max_examples, name="conv1d",
           reference="keras.layers.Conv1D", mistakes_fn=conv1d_mistakes, error_hint=conv_error_hint)


def check_max_pooling2d(max_pooling2d, cases=None, max_examples=20):
    """Compare with keras.layers.MaxPooling2D."""
    _check(max_pooling2d, keras_max_pooling2d, cases, max_pooling2d_rule_cases(), max_pooling2d_cases(),
           max_examples, name="max_pooling2d", reference="keras.layers.MaxPooling2D",
           mistakes_fn=max_pooling2d_mistakes, error_hint=conv_error_hint)


def check_max_pooling1d(max_pooling1d, cases=None, max_examples=20):
    """Compare with keras.layers.MaxPooling1D."""
    _check(max_pooling1d, keras_max_pooling1d, cases, max_pooling1d_rule_cases(), max_pooling1d_cases(),
           max_examples, name="max_pooling1d", reference="keras.layers.MaxPooling1D",
           mistakes_fn=max_pooling1d_mistakes, error_hint=conv_error_hint)


def check_flatten(flatten, cases=None, max_examples=20):
    """Compare with keras.layers.Flatten."""
    _check(flatten, keras_flatten, cases, flatten_rule_cases(), flatten_cases(), max_examples, name="flatten",
           reference="keras.layers.Flatten", mistakes_fn=flatten_mistakes)


def check_global_average_pooling1d(global_average_pooling1d, cases=None, max_examples=20):
    """Compare with keras.layers.GlobalAveragePooling1D."""
    _check(global_average_pooling1d, keras_global_average_pooling1d, cases,
           global_average_pooling1d_rule_cases(), global_average_pooling1d_cases(), max_examples,
           name="global_average_pooling1d", reference="keras.layers.GlobalAveragePooling1D",
           mistakes_fn=global_average_pooling1d_mistakes)


def _describe_model(case):
    x, weights, spec = case.args
    lines = [f"  The model: input x of shape {np.shape(x)}, weight shapes {[np.shape(w) for w in weights]},",
             "  spec = ["]
    lines += [f"      {entry!r}," for entry in spec]
    return "\n".join(lines + ["  ]"])


def _compare_cnn(predict_cnn, case):
    try:
        compare_once(predict_cnn, keras_predict_cnn, case, name="predict_cnn", mistakes_fn=predict_cnn_mistakes)
    except CheckFailed as failure:
        text, call = str(failure), describe_call("predict_cnn", case.args, case.kwargs)
        if text.startswith(call):  # the arrays and the spec are shown below, readably
            text = "predict_cnn(x, model_weights, spec)" + text[len(call):]
        raise failure.restated(f"{text}\n{_describe_model(case)}\n  predict_cnn runs your layer functions (conv2d, "
                               "max_pooling2d, flatten, conv1d, ...): if one of their checks fails, fix that first."
                               ) from failure.__cause__


def check_predict_cnn(predict_cnn, cases=None, max_examples=5):
    """Compare with a Keras Sequential model built from the same spec and weights, in inference mode: a
    VGG-like convnet, a 1-D sequence classifier and small drawn models (or only the given Cases)."""
    count = run_cases(lambda case: _compare_cnn(predict_cnn, case), name="predict_cnn", cases=cases,
                      first=predict_cnn_rule_cases(), strategy=predict_cnn_cases(), max_examples=max_examples)
    report_pass("predict_cnn", "a Keras model with the same layers and weights", count)


# --- invalid arguments --------------------------------------------------------------------------------------

def _invalid_inputs():
    x3, k1, x1, k3 = _fixed(78, (1, 5, 5, 3), (3, 3, 1, 2), (1, 2, 2, 1), (3, 3, 3, 2))
    return x3, k1, x1, k3


def conv2d_invalid():
    x3, k1, _, k3 = _invalid_inputs()
    return [((x3, k1), {}, "x has 3 channels but the kernel expects 1", ("channel",)),
            ((x3, k3), {"padding": "full"}, "padding must be 'valid' or 'same'", ("padding",)),
            ((x3, k3), {"strides": (0, 1)}, "a stride of 0 never moves", ("stride",)),
            ((x3, k3), {"strides": (1, -2)}, "a stride must be at least 1", ("stride",))]


def max_pooling2d_invalid():
    x3, _, x1, _ = _invalid_inputs()
    return [((x1,), {"pool_size": (3, 3)}, "a 3x3 pool does not fit in a 2x2 input with padding='valid'",
             ("pool",)),
            ((x3,), {"padding": "full"}, "padding must be 'valid' or 'same'", ("padding",)),
            ((x3,), {"strides": (0, 2)}, "a stride must be at least 1", ("stride",))]


def check_conv2d_rejects(conv2d, invalid=None):
    """conv2d must reject a channel mismatch, an unknown padding and strides below 1 with a clear ValueError."""
    check_rejects(conv2d, conv2d_invalid() if invalid is None else invalid, name="conv2d")


def check_max_pooling2d_rejects(max_pooling2d, invalid=None):
    """max_pooling2d must reject a pool larger than the input, an unknown padding and strides below 1."""
    check_rejects(max_pooling2d, max_pooling2d_invalid() if invalid is None else invalid, name="max_pooling2d")
