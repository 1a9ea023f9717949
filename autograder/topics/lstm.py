"""The checks of notebook 08 (Embedding and LSTM): the student's recurrent layers against live Keras layers.

Checks for `embedding`, `lstm_step`, `lstm`, `StatefulLSTM` and `predict_stacked_lstm`, against
`keras.layers.Embedding`, `keras.layers.LSTM` (also `stateful=True` over consecutive batches) and a stacked-LSTM
`keras.Sequential` with a Dense softmax on top.

Building a Keras recurrent layer costs tens of milliseconds and every eager call tens more, so the references
keep one layer (or model) per size configuration and only set its weights before each call; the strategies
draw sizes from small ranges so that a visible check stays under a second.

`lstm_step`, `lstm` and `StatefulLSTM` return tuples or keep state, which `check_property`/`compare_once`
(one array per call) do not cover: each check here hands the runner's `run_cases` its own `run_one(case)`,
and `_compare_outputs` compares a tuple of arrays, with a named mistake per returned array.
"""
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from autograder.checks.runner import Case, check_rejects, report_pass, report_rejects, run_cases
from autograder.checks.compare import Mistake, compare_arrays
from autograder.checks.describe import describe_call, type_name
from autograder.checks.errors import CheckFailed
from autograder.checks.calling import as_array, call_student, expect_value_error
from autograder.checks.keras_reference import built_layer, keras, same_for_every_student, sigmoid, softmax

FLOAT_DTYPES = (np.float32, np.float64)


# --- Keras references (one layer or model per size configuration, weights set per call) ---------------------

def _cached(key, make):
    """keras_reference.built_layer, under this topic's name."""
    return built_layer(("lstm",) + key, make)


def _f32(value):
    return np.asarray(value, dtype=np.float32)


def _lstm_layer(input_dim, units, return_sequences):
    def make():
        layer = keras().layers.LSTM(units, return_sequences=return_sequences, return_state=True)
        layer.build((None, None, input_dim))
        return layer

    return _cached(("lstm", input_dim, units, return_sequences), make)


@same_for_every_student
def keras_embedding(ids, table):
    """keras.layers.Embedding(input_dim, output_dim) with `table` as its weights, called on `ids`."""
    table = np.asarray(table)

    def make():
        layer = keras().layers.Embedding(*table.shape)
        layer.build((None,))
        return layer

    layer = _cached(("embedding",) + table.shape, make)
    layer.set_weights([_f32(table)])
    return np.asarray(layer(np.asarray(ids)))


@same_for_every_student
def keras_lstm(x, kernel, recurrent_kernel, bias, return_sequences=False, initial_state=None):
    """keras.layers.LSTM(units, return_sequences=..., return_state=True) with the given weights, called on `x`
    (and `initial_state=[h0, c0]` when given). Returns (output, h, c) as NumPy arrays."""
    x = _f32(x)
    layer = _lstm_layer(x.shape[-1], np.shape(recurrent_kernel)[0], bool(return_sequences))
    layer.set_weights([_f32(kernel), _f32(recurrent_kernel), _f32(bias)])
    state = None if initial_state is None else [_f32(s) for s in initial_state]
    output, h, c = layer(x, initial_state=state)
    return np.asarray(output), np.asarray(h), np.asarray(c)


@same_for_every_student
def keras_lstm_step(x_t, h, c, kernel, recurrent_kernel, bias):
    """keras.layers.LSTMCell, the step keras.layers.LSTM runs at every time step, with the given weights,
    called on x_t from the state [h, c]. Returns (h_new, c_new)."""
    input_dim, units = np.shape(kernel)[0], np.shape(recurrent_kernel)[0]

    def make():
        cell = keras().layers.LSTMCell(units)
        cell.build((None, input_dim))
        return cell

    cell = _cached(("lstm_cell", input_dim, units), make)
    cell.set_weights([_f32(kernel), _f32(recurrent_kernel), _f32(bias)])
    _, (h_new, c_new) = cell(_f32(x_t), [_f32(h), _f32(c)])
    return np.asarray(h_new), np.asarray(c_new)


def _stateful_layer(batch_size, input_dim, units, return_sequences):
    def make():
        inputs = keras().Input(batch_shape=(batch_size, None, input_dim))
        layer = keras().layers.LSTM(units, stateful=True, return_sequences=return_sequences)
        keras().Model(inputs, layer(inputs))
        return layer

    return _cached(("stateful", batch_size, input_dim, units, return_sequences), make)


def stacked_lstm_model(timesteps, data_dim, units, flags, num_classes):
    """The Keras 2 tutorial's stacked LSTM in Keras 3 form: Input(shape=(timesteps, data_dim)), one LSTM(u,
    return_sequences=flag) per (u, flag), then Dense(num_classes, softmax). One model per configuration."""
    def make():
        layers = [keras().Input(shape=(timesteps, data_dim))]
        layers += [keras().layers.LSTM(u, return_sequences=bool(f)) for u, f in zip(units, flags)]
        layers.append(keras().layers.Dense(num_classes, activation="softmax"))
        return keras().Sequential(layers)

    return _cached(("stacked", timesteps, data_dim, tuple(units), tuple(map(bool, flags)), num_classes), make)


@same_for_every_student
def keras_predict_stacked_lstm(x, weights, return_sequences_flags):
    """The stacked model with `weights` (its get_weights() layout) applied to `x`: model(x), which is what
    model.predict computes batch by batch, without predict's one-off tf.function tracing for every model."""
    x = np.asarray(x)
    flags = list(return_sequences_flags)
    units = [np.shape(weights[3 * k + 1])[0] for k in range(len(flags))]
    model = stacked_lstm_model(x.shape[1], x.shape[2], units, flags, np.shape(weights[-1])[0])
    model.set_weights([_f32(w) for w in weights])
    return np.asarray(model(_f32(x), training=False))


# --- a NumPy LSTM with the known mistakes built in: what a wrong answer returns on the same inputs ----------

STEP_MISTAKES = {
    "ifoc": "you read the gates in the order i, f, o, c; Keras stores them as i, f, c, o "
            "(input, forget, cell candidate, output)",
    "icfo": "you read the gates in the order i, c, f, o; Keras stores them as i, f, c, o",
    "fico": "you read the gates in the order f, i, c, o; Keras stores them as i, f, c, o",
    "forget_tanh": "the forget gate uses tanh instead of sigmoid",
    "candidate_sigmoid": "the cell candidate uses sigmoid instead of tanh",
    "c_from_h": "the new cell state is computed from the previous h instead of the previous c (c = f*h + i*g)",
    "no_output_gate": "h = tanh(c) without the output gate o",
    "h_without_tanh": "h = o * c, without the tanh",
    "h_from_old_c": "h uses the previous cell state instead of the new one (h = o * tanh(c_prev))",
    "recurrent_transposed": "each gate's block of recurrent_kernel is transposed (h @ R_gate.T, "
                            "the PyTorch convention); Keras computes h @ recurrent_kernel",
    "no_bias": "the bias is left out",
}


def np_lstm_step(x_t, h, c, kernel, recurrent_kernel, bias, mistake=None):
    """The LSTM step in float64, or what you get when making the mistake named by a key of STEP_MISTAKES."""
    x_t, h, c, kernel, recurrent_kernel, bias = (np.asarray(a, dtype=np.float64)
                                                 for a in (x_t, h, c, kernel, recurrent_kernel, bias))
    units = h.shape[1]
    if mistake == "recurrent_transposed":
        recurrent_kernel = np.concatenate(
            [recurrent_kernel[:, k * units:(k + 1) * units].T for k in range(4)], axis=1)
    z = x_t @ kernel + h @ recurrent_kernel + (0.0 if mistake == "no_bias" else bias)
    blocks = [z[:, k * units:(k + 1) * units] for k in range(4)]
    gate = dict(zip(mistake if mistake in ("ifoc", "icfo", "fico") else "ifco", blocks))
    i = sigmoid(gate["i"])
    f = (np.tanh if mistake == "forget_tanh" else sigmoid)(gate["f"])
    g = (sigmoid if mistake == "candidate_sigmoid" else np.tanh)(gate["c"])
    o = sigmoid(gate["o"])
    c_new = f * (h if mistake == "c_from_h" else c) + i * g
    if mistake == "no_output_gate":
        h_new = np.tanh(c_new)
    elif mistake == "h_without_tanh":
        h_new = o * c_new
    elif mistake == "h_from_old_c":
        h_new = o * np.tanh(c)
    else:
        h_new = o * np.tanh(c_new)
    return h_new, c_new


def np_lstm(x, kernel, recurrent_kernel, bias, return_sequences=False, initial_state=None, mistake=None,
            carry=True, backwards=False):
    """The LSTM layer in float64 (with an optional mistake; carry=False: every step starts from the initial
    state; backwards=True: the steps are taken from last to first). Returns (output, h, c)."""
    x = np.asarray(x, dtype=np.float64)
    units = np.shape(recurrent_kernel)[0]
    if initial_state is None:
        h0 = c0 = np.zeros((x.shape[0], units))
    else:
        h0, c0 = (np.asarray(s, dtype=np.float64) for s in initial_state)
    h, c, outputs = h0, c0, []
    for t in (range(x.shape[1] - 1, -1, -1) if backwards else range(x.shape[1])):
        h, c = np_lstm_step(x[:, t], h if carry else h0, c if carry else c0, kernel, recurrent_kernel, bias,
                            mistake)
        outputs.append(h)
    return (np.stack(outputs, axis=1) if return_sequences else h), h, c


# --- comparing a tuple of arrays ----------------------------------------------------------------------------

def _unpack(result, call, labels):
    if not isinstance(result, (tuple, list)) or len(result) != len(labels):
        what = type_name(result) + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "")
        raise CheckFailed(f"{call} should return a tuple ({', '.join(labels)}); it returned a {what}.",
                          kind="wrong_type")
    return [as_array(value, f"{call}[{k}] ({label})") for k, (value, label) in enumerate(zip(result, labels))]


def _compare_outputs(got, expected, mistakes, call, labels):
    """Compare each returned array with Keras's; a Mistake's result is a tuple in the same order."""
    for k, label in enumerate(labels):
        compare_arrays(got[k], np.asarray(expected[k]), what=f"{call}, returned {label}",
                       mistakes=[Mistake(m.description, m.result[k]) for m in mistakes])


# --- inputs -------------------------------------------------------------------------------------------------

def lstm_weights(rng, input_dim, units, dtype=np.float64, scale=1.0):
    """kernel (input_dim, 4u), recurrent_kernel (u, 4u), bias (4u,), uniform in [-scale, scale]."""
    def draw(*shape):
        return rng.uniform(-scale, scale, size=shape).astype(dtype)

    return draw(input_dim, 4 * units), draw(units, 4 * units), draw(4 * units)


def embedding_case(seed, ids_shape, input_dim, output_dim, ids_dtype=np.int64, table_dtype=np.float32,
                   as_list=False):
    """A Case (ids, table): ids drawn from [0, input_dim) with the given shape and dtype (or as a list)."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, input_dim, size=ids_shape).astype(ids_dtype)
    table = rng.uniform(-1, 1, size=(input_dim, output_dim)).astype(table_dtype)
    return Case((ids.tolist() if as_list else ids, table))


def lstm_step_case(seed, batch, input_dim, units, dtype=np.float64, scale=1.0):
    """A Case (x_t, h, c, kernel, recurrent_kernel, bias) with random values (weights in [-scale, scale])."""
    rng = np.random.default_rng(seed)
    x_t = rng.normal(size=(batch, input_dim)).astype(dtype)
    h = rng.uniform(-1, 1, size=(batch, units)).astype(dtype)
    c = rng.normal(scale=1.5, size=(batch, units)).astype(dtype)
    return Case((x_t, h, c) + lstm_weights(rng, input_dim, units, dtype, scale))


def lstm_case(seed, batch, timesteps, input_dim, units, return_sequences=False, initial_state=False,
              dtype=np.float64, scale=1.0):
    """A Case (x, kernel, recurrent_kernel, bias) with return_sequences and, if asked, initial_state=[h0, c0]
    as keyword arguments (return_sequences only when True, so the default is tried too)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, timesteps, input_dim)).astype(dtype)
    kwargs = {"return_sequences": True} if return_sequences else {}
    if initial_state:
        kwargs["initial_state"] = [rng.uniform(-1, 1, size=(batch, units)).astype(dtype),
                                   rng.normal(scale=1.5, size=(batch, units)).astype(dtype)]
    return Case((x,) + lstm_weights(rng, input_dim, units, dtype, scale), kwargs)


@dataclass(frozen=True)
class StatefulCase:
    """A StatefulLSTM(kernel, recurrent_kernel, bias, batch_size, return_sequences=...) fed `calls` in order:
    each an array (batch_size, timesteps, input_dim), or the string "reset" for reset_state()."""

    kernel: np.ndarray
    recurrent_kernel: np.ndarray
    bias: np.ndarray
    batch_size: int
    return_sequences: bool
    calls: tuple


def stateful_case(seed, batch_size, timesteps, input_dim, units, return_sequences=False, calls="xxrxx",
                  dtype=np.float64):
    """A StatefulCase; `calls` spells the sequence of calls: "x" feeds the next batch, "r" calls reset_state()."""
    rng = np.random.default_rng(seed)
    weights = lstm_weights(rng, input_dim, units, dtype)
    fed = tuple("reset" if k == "r" else rng.normal(size=(batch_size, timesteps, input_dim)).astype(dtype)
                for k in calls)
    return StatefulCase(*weights, batch_size, return_sequences, fed)


def stacked_case(seed, batch, timesteps, data_dim, units, flags, num_classes, dtype=np.float64):
    """A Case (x, weights, flags): weights laid out like model.get_weights() of the stacked model."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, timesteps, data_dim)).astype(dtype)
    weights, previous = [], data_dim
    for u in units:
        weights += list(lstm_weights(rng, previous, u, dtype))
        previous = u
    weights += [rng.normal(size=(previous, num_classes)).astype(dtype),
                rng.normal(scale=0.5, size=num_classes).astype(dtype)]
    return Case((x, weights, list(flags)))


_seeds = st.integers(0, 2**32 - 1)

EMBEDDING_SIZES = ((1, 2), (4, 3), (8, 1))
"""(input_dim, output_dim) of the drawn tables: one Keras Embedding is built per size, so only a few."""

LSTM_SIZES = ((1, 2), (2, 3), (3, 2))
"""(input_dim, units) of the drawn LSTMs: one Keras layer per size (and return_sequences), so only a few;
batch, timesteps, dtypes and values vary freely. At least 2 units, so that a failing input shrinks to an output
of several numbers (on a single number every mistake looks like "off by a constant factor")."""


@st.composite
def embedding_cases(draw):
    input_dim, output_dim = draw(st.sampled_from(EMBEDDING_SIZES))
    shape = draw(st.sampled_from([(draw(st.integers(1, 6)),), (draw(st.integers(1, 3)), draw(st.integers(1, 4)))]))
    return embedding_case(draw(_seeds), shape, input_dim, output_dim,
                          ids_dtype=draw(st.sampled_from([np.int64, np.int32, np.uint8])),
                          table_dtype=draw(st.sampled_from(FLOAT_DTYPES)), as_list=draw(st.booleans()))


@st.composite
def lstm_step_cases(draw):
    input_dim, units = draw(st.sampled_from(LSTM_SIZES))
    return lstm_step_case(draw(_seeds), draw(st.integers(1, 3)), input_dim, units, draw(st.sampled_from(FLOAT_DTYPES)))


@st.composite
def lstm_cases(draw):
    input_dim, units = draw(st.sampled_from(LSTM_SIZES))
    return lstm_case(draw(_seeds), draw(st.integers(1, 3)), draw(st.integers(1, 3)), input_dim, units,
                     return_sequences=draw(st.booleans()), initial_state=draw(st.booleans()),
                     dtype=draw(st.sampled_from(FLOAT_DTYPES)))


STATEFUL_SIZES = ((2, 2, 3), (3, 1, 2))
"""(batch_size, input_dim, units) of the drawn stateful LSTMs (one Keras layer each, per return_sequences)."""


@st.composite
def stateful_cases(draw):
    batch_size, input_dim, units = draw(st.sampled_from(STATEFUL_SIZES))
    return stateful_case(draw(_seeds), batch_size, draw(st.integers(1, 2)), input_dim, units,
                         return_sequences=draw(st.booleans()), calls=draw(st.sampled_from(["xxrx", "xrxx"])),
                         dtype=draw(st.sampled_from(FLOAT_DTYPES)))


STACKED_CONFIGS = (
    # (timesteps, data_dim, units per LSTM, return_sequences flags, num_classes)
    (2, 3, (3, 2, 2), (True, True, False), 4),  # the Keras 2 tutorial's layout, small: sequences, sequences, last step
    (2, 2, (2, 3), (True, True), 3),  # the last LSTM returns sequences too: one softmax per time step
)


@st.composite
def stacked_cases(draw):
    timesteps, data_dim, units, flags, num_classes = draw(st.sampled_from(STACKED_CONFIGS))
    return stacked_case(draw(_seeds), draw(st.integers(1, 3)), timesteps, data_dim, units, flags, num_classes,
                        dtype=draw(st.sampled_from(FLOAT_DTYPES)))


# --- embedding ----------------------------------------------------------------------------------------------

def embedding_mistakes(ids, table):
    ids, table = np.asarray(ids), np.asarray(table)
    mistakes = [Mistake("you look up row id - 1; ids count from 0, so id k is row k of the table",
                        np.take(table, ids.astype(np.int64) - 1, axis=0, mode="wrap"))]
    if ids.size and ids.max() < table.shape[1]:
        mistakes.append(Mistake("you index the table's columns (table[:, ids]) instead of its rows", table[:, ids]))
    return mistakes


def check_embedding(embedding, cases=None, max_examples=15):
    """Compare with keras.layers.Embedding (the table as its weights) on drawn ids (or on the given Cases)."""
    def run_one(case):
        got = as_array(call_student(embedding, *case.args, name="embedding"), "embedding")
        compare_arrays(got, keras_embedding(*case.args), what=describe_call("embedding", case.args),
                       mistakes=embedding_mistakes(*case.args))

    count = run_cases(run_one, name="embedding", cases=cases, strategy=embedding_cases(), max_examples=max_examples)
    report_pass("embedding", "keras.layers.Embedding", count)


_TABLE = np.arange(15, dtype=np.float64).reshape(5, 3) / 10
BAD_IDS = [
    ((np.array([0, -1, 2]), _TABLE), "id -1 is negative (Keras would quietly take the last row)"),
    ((np.array([[1, 5]]), _TABLE), "id 5 does not fit a table of 5 rows (ids must be < input_dim)"),
    ((np.array([0.0, 1.5]), _TABLE), "1.5 is not an integer id"),
    ((np.array([1, 2]), np.arange(5.0)), "the table must be 2-D: (input_dim, output_dim)"),
]


def _invalid(bad_args):
    """check_rejects's (args, kwargs, reason) from this notebook's (args, reason) pairs."""
    return [(args, {}, reason) for args, reason in bad_args]


def check_embedding_rejects(embedding, bad_inputs=BAD_IDS):
    """Each ((ids, table), reason) in `bad_inputs` must raise ValueError with a message."""
    check_rejects(embedding, _invalid(bad_inputs), name="embedding")


# --- lstm_step ----------------------------------------------------------------------------------------------

def lstm_step_mistakes(x_t, h, c, kernel, recurrent_kernel, bias):
    mistakes = [Mistake(text, np_lstm_step(x_t, h, c, kernel, recurrent_kernel, bias, key))
                for key, text in STEP_MISTAKES.items()]
    h_new, c_new = np_lstm_step(x_t, h, c, kernel, recurrent_kernel, bias)
    mistakes.append(Mistake("you return (c, h); the order is (h, c)", (c_new, h_new)))
    return mistakes


def check_lstm_step(lstm_step, cases=None, max_examples=15):
    """Compare (h, c) with keras.layers.LSTMCell, the step of keras.layers.LSTM, on drawn inputs (or on the
    given Cases)."""
    labels = ("h", "c")

    def run_one(case):
        call = describe_call("lstm_step", case.args, case.kwargs)
        got = _unpack(call_student(lstm_step, *case.args, name="lstm_step", **case.kwargs), call, labels)
        _compare_outputs(got, keras_lstm_step(*case.args), lstm_step_mistakes(*case.args), call, labels)

    count = run_cases(run_one, name="lstm_step", cases=cases, strategy=lstm_step_cases(), max_examples=max_examples)
    report_pass("lstm_step", "keras.layers.LSTMCell (one step of keras.layers.LSTM)", count)


# --- lstm ---------------------------------------------------------------------------------------------------

def lstm_mistakes(x, kernel, recurrent_kernel, bias, return_sequences=False, initial_state=None):
    def run(**options):
        return np_lstm(x, kernel, recurrent_kernel, bias, return_sequences, initial_state, **options)

    mistakes = [Mistake(text, run(mistake=key)) for key, text in STEP_MISTAKES.items()]
    mistakes.append(Mistake("h and c are not carried from one time step to the next (every step starts from "
                            "the initial state)", run(carry=False)))
    mistakes.append(Mistake("you walk through the time steps from last to first", run(backwards=True)))
    if initial_state is not None:
        mistakes.append(Mistake("initial_state is ignored: you start from zeros",
                                np_lstm(x, kernel, recurrent_kernel, bias, return_sequences, None)))
        mistakes.append(Mistake("you read initial_state as (c0, h0); Keras's order is [h0, c0]",
                                np_lstm(x, kernel, recurrent_kernel, bias, return_sequences, initial_state[::-1])))
    output, h, c = run()
    mistakes.append(Mistake("you return (output, c, h); the order is (output, h, c)", (output, c, h)))
    if return_sequences:
        mistakes.append(Mistake("return_sequences=True is ignored: you return only the last step's h",
                                (h, h, c)))
    return mistakes


def _lstm_call(case):
    args = describe_call("lstm", case.args, {k: v for k, v in case.kwargs.items() if k != "initial_state"})
    if "initial_state" in case.kwargs:
        shapes = ", ".join(describe_shape(s) for s in case.kwargs["initial_state"])
        args = args[:-1] + f", initial_state=[{shapes}])"
    return args


def describe_shape(value):
    return f"array of shape {np.shape(value)}"


def check_lstm(lstm, cases=None, max_examples=12):
    """Compare (output, h, c) with keras.layers.LSTM(..., return_state=True) on drawn inputs: return_sequences
    both ways, initial_state given or not (or on the given Cases)."""
    labels = ("output", "h", "c")

    def run_one(case):
        call = _lstm_call(case)
        got = _unpack(call_student(lstm, *case.args, name="lstm", **case.kwargs), call, labels)
        _compare_outputs(got, keras_lstm(*case.args, **case.kwargs), lstm_mistakes(*case.args, **case.kwargs),
                         call, labels)

    count = run_cases(run_one, name="lstm", cases=cases, strategy=lstm_cases(), max_examples=max_examples)
    report_pass("lstm", "keras.layers.LSTM", count)


_X, _H, _C = np.ones((2, 3)), np.zeros((2, 4)), np.zeros((2, 4))
_K, _R, _B = np.full((3, 16), 0.1), np.full((4, 16), 0.1), np.zeros(16)
BAD_STEP_ARGS = [
    ((_X, _H, _C, np.full((3, 1), 0.1), _R, _B), "kernel must have shape (input_dim, 4 * units) = (3, 16), "
                                                 "not (3, 1)"),
    ((_X, _H, np.zeros((2, 1)), _K, _R, _B), "h has shape (2, 4) but c has shape (2, 1)"),
    ((_X, _H, _C, _K, np.full((4, 1), 0.1), _B), "recurrent_kernel must have shape (units, 4 * units) = (4, 16)"),
]
BAD_LSTM_ARGS = [
    ((np.ones((2, 5, 3)), _K, _R, _B, False, [np.zeros((1, 4)), np.zeros((2, 4))]),
     "initial_state h0 has shape (1, 4), but the batch has 2 sequences: it must be (2, 4)"),
    ((np.ones((2, 5, 3)), _K, _R, np.zeros(1)), "bias must have shape (4 * units,) = (16,)"),
]


def check_lstm_rejects(lstm_step, lstm, bad_step_args=BAD_STEP_ARGS, bad_lstm_args=BAD_LSTM_ARGS):
    """Each (args, reason) must raise ValueError with a message: `bad_step_args` for lstm_step,
    `bad_lstm_args` for lstm."""
    count = (check_rejects(lstm_step, _invalid(bad_step_args), name="lstm_step", quiet=True)
             + check_rejects(lstm, _invalid(bad_lstm_args), name="lstm", quiet=True))
    report_rejects("lstm_step and lstm", count)


# --- StatefulLSTM -------------------------------------------------------------------------------------------

def _simulate_stateful(case, carry=True, reset=True, carry_c=True):
    """What a StatefulLSTM (or one with a mistake) returns for each batch in case.calls."""
    weights = (case.kernel, case.recurrent_kernel, case.bias)
    units = case.recurrent_kernel.shape[0]
    zeros = np.zeros((case.batch_size, units))
    h, c, outputs = zeros, zeros, []
    for x in case.calls:
        if isinstance(x, str):
            if reset:
                h, c = zeros, zeros
            continue
        output, h_new, c_new = np_lstm(x, *weights, case.return_sequences, [h, c])
        if carry:
            h, c = h_new, (c_new if carry_c else zeros)
        outputs.append(output)
    return outputs


@same_for_every_student
def keras_stateful(case):
    """Outputs of a Keras 3 stateful LSTM (Input(batch_shape=(batch_size, None, input_dim)), LSTM(units,
    stateful=True, return_sequences=...)) fed case.calls in order, reset_state() where asked."""
    layer = _stateful_layer(case.batch_size, case.kernel.shape[0], case.recurrent_kernel.shape[0],
                            case.return_sequences)
    layer.set_weights([_f32(case.kernel), _f32(case.recurrent_kernel), _f32(case.bias)])
    layer.reset_state()
    outputs = []
    for x in case.calls:
        if isinstance(x, str):
            layer.reset_state()
        else:
            outputs.append(np.asarray(layer(_f32(x))))
    return outputs


def _stateful_mistakes(case):
    variants = [("the state is not carried from one call to the next: every batch starts from zeros",
                 dict(carry=False)),
                ("reset_state() does not set h and c back to zeros", dict(reset=False)),
                ("only h is carried from one call to the next; c starts from zeros every call",
                 dict(carry_c=False))]
    return [(text, _simulate_stateful(case, **options)) for text, options in variants]


def _run_stateful(StatefulLSTM, case):
    options = {"return_sequences": True} if case.return_sequences else {}
    shapes = f"kernel {case.kernel.shape}, recurrent_kernel {case.recurrent_kernel.shape}"
    made = f"StatefulLSTM({shapes}, batch_size={case.batch_size}" + (", return_sequences=True)" if options else ")")
    layer = call_student(StatefulLSTM, case.kernel, case.recurrent_kernel, case.bias, case.batch_size,
                         name="StatefulLSTM", **options)
    if not callable(layer) or not callable(getattr(layer, "reset_state", None)):
        raise CheckFailed(f"layer = {made} should make an object you can call on a batch, with a "
                          "reset_state() method.", kind="wrong_type")
    expected = keras_stateful(case)
    mistakes = _stateful_mistakes(case)
    done, k = [], 0
    for x in case.calls:
        history = "on a new layer" if not done else "after " + ", ".join(done)
        try:
            if isinstance(x, str):
                call_student(layer.reset_state, name="layer.reset_state")
                done.append("layer.reset_state()")
                continue
            got = as_array(call_student(layer, x, name="layer"), "layer(x)")
        except CheckFailed as failure:
            raise failure.restated(f"With layer = {made}, {history}: {failure}") from failure.__cause__
        what = f"layer = {made}; layer(x{k + 1}) with x{k + 1} a {x.dtype} array of shape {x.shape}, {history}"
        compare_arrays(got, expected[k], what=what,
                       mistakes=[Mistake(text, outputs[k]) for text, outputs in mistakes])
        done.append(f"layer(x{k + 1})")
        k += 1
    last = [x for x in case.calls if not isinstance(x, str)][-1]
    wrong = last[:1] if case.batch_size > 1 else np.concatenate([last, last])
    expect_value_error(layer, wrong, name="layer",
                       reason=f"layer = {made} takes batches of exactly {case.batch_size} sequences and this one "
                              f"has {len(wrong)} (a stateful layer keeps one state per sequence; Keras raises too)")


def check_stateful_lstm(StatefulLSTM, cases=None, max_examples=4):
    """Feed consecutive batches (with a reset_state() in between) to your StatefulLSTM and to a Keras 3
    stateful LSTM with the same weights; compare every output; then a batch of the wrong size must raise
    ValueError. `cases`: StatefulCase objects (see `stateful_case`)."""
    def run_one(case):
        _run_stateful(StatefulLSTM, case)

    count = run_cases(run_one, name="StatefulLSTM", cases=cases, strategy=stateful_cases(),
                      max_examples=max_examples)
    report_pass("StatefulLSTM", "keras.layers.LSTM(stateful=True) over consecutive batches", count)


# --- predict_stacked_lstm -----------------------------------------------------------------------------------

def np_stacked(x, weights, flags, mistake=None, final="softmax", chain_states=False, carry=True):
    out, state = np.asarray(x, dtype=np.float64), None
    for k, flag in enumerate(flags):
        kernel, recurrent_kernel, bias = weights[3 * k:3 * k + 3]
        out, h, c = np_lstm(out, kernel, recurrent_kernel, bias, flag, state, mistake=mistake, carry=carry)
        state = [h, c] if chain_states else None
    logits = out @ np.asarray(weights[-2], dtype=np.float64) + np.asarray(weights[-1], dtype=np.float64)
    return {"softmax": lambda: softmax(logits), "logits": lambda: logits, "none": lambda: out,
            "softmax0": lambda: softmax(logits, axis=0)}[final]()


def stacked_mistakes(x, weights, flags):
    flags = list(flags)
    mistakes = [Mistake(text, np_stacked(x, weights, flags, mistake=key)) for key, text in STEP_MISTAKES.items()]
    mistakes += [Mistake("h and c are not carried from one time step to the next inside an LSTM",
                         np_stacked(x, weights, flags, carry=False)),
                 Mistake("the final Dense softmax is left out: you return the last LSTM's output",
                         np_stacked(x, weights, flags, final="none")),
                 Mistake("the softmax is missing: you return the Dense layer's logits",
                         np_stacked(x, weights, flags, final="logits")),
                 Mistake("the softmax runs over axis 0 (the samples) instead of the last axis (the classes)",
                         np_stacked(x, weights, flags, final="softmax0"))]
    units = {np.shape(weights[3 * k + 1])[0] for k in range(len(flags))}
    if len(units) == 1:
        mistakes.append(Mistake("each LSTM starts from the previous LSTM's final state instead of zeros",
                                np_stacked(x, weights, flags, chain_states=True)))
    return mistakes


def _stacked_call(case):
    x, weights, flags = case.args
    shapes = ", ".join(str(np.shape(w)) for w in weights)
    return f"predict_stacked_lstm({describe_shape(x)}, weights with shapes [{shapes}], {list(flags)})"


def check_predict_stacked_lstm(predict_stacked_lstm, cases=None, max_examples=6):
    """Compare with the stacked LSTM Sequential (Input, LSTMs with the given return_sequences flags, Dense
    softmax) holding the same weights, on drawn inputs (or on the given Cases, see `stacked_case`)."""
    def run_one(case):
        got = as_array(call_student(predict_stacked_lstm, *case.args, name="predict_stacked_lstm"),
                       "predict_stacked_lstm")
        compare_arrays(got, keras_predict_stacked_lstm(*case.args), what=_stacked_call(case),
                       mistakes=stacked_mistakes(*case.args))

    count = run_cases(run_one, name="predict_stacked_lstm", cases=cases, strategy=stacked_cases(),
                      max_examples=max_examples)
    report_pass("predict_stacked_lstm", "a stacked-LSTM keras.Sequential", count)
