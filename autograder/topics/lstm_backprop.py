"""The checks of notebook 10 (backpropagation through time, stateful training): the student's backward passes
against `tf.GradientTape` on Keras layers and models holding the same weights, and the student's training loop
against `model.fit(..., shuffle=False)`, also with `stateful=True`.

Reused, not copied: notebook 08's forward LSTM (`autograder.topics.lstm`: the Keras layers, `np_lstm_step`)
and notebook 04's loss/optimizer formats and given helpers (`autograder.topics.fit`: `loss_and_gradient`,
`make_optimizer`, their stand-ins and callbacks for split grading).

The named mistakes are computed by `np_lstm_backward` / `np_sequence_gradients` / `np_train`, a float64 NumPy
model with each mistake behind a flag; the tests prove that without a flag it gives Keras's numbers.
"""
import numpy as np
from hypothesis import strategies as st

from autograder.checks.runner import Case, check_rejects, report_pass, run_cases
from autograder.checks.compare import RTOL, Mistake, compare_arrays, matching_mistake
from autograder.checks.describe import describe_call
from autograder.checks.errors import CheckFailed
from autograder.checks.calling import as_array, call_student
from autograder.checks.keras_reference import built_layer, keras, same_for_every_student, sigmoid
from autograder.topics import fit as _fit
from autograder.topics.fit import CALLBACKS, GIVEN_STAND_INS, loss_and_gradient, make_optimizer  # noqa: F401
from autograder.topics.lstm import _lstm_layer, np_lstm_step

__all__ = ["CALLBACKS", "GIVEN_STAND_INS", "loss_and_gradient", "make_optimizer"]

FLOAT_DTYPES = (np.float32, np.float64)
OUTPUT_ACTIVATION = {"categorical_crossentropy": "softmax", "binary_crossentropy": "sigmoid", "mse": "linear"}


def _f32(value):
    return np.asarray(value, dtype=np.float32)


def _cached(key, make):
    return built_layer(("lstm_backprop",) + key, make)


def _flat(arrays):
    return np.concatenate([np.ravel(np.asarray(a, dtype=np.float64)) for a in arrays])


# --- NumPy backward passes with the known mistakes built in ----------------------------------------------------

BACKWARD_MISTAKES = {
    "no_cell_path": "the gradient through the cell state is forgotten: dc_(t-1) must get dc_t * f "
                    "(you pass back only the gradient through h)",
    "no_hidden_path": "the gradient through h_(t-1) (dz @ recurrent_kernel.T) is not passed back to the "
                      "previous step",
    "no_tanh_derivative": "the derivative of tanh(c_t) is left out: dc_t gets dh_t * o, not "
                          "dh_t * o * (1 - tanh(c_t)^2)",
    "forget_bias_constant": "the forget gate's block of dbias is zero, as if unit_forget_bias made that bias a "
                            "constant (it only sets its starting value to 1; it is trained like the rest)",
    "bias_blocks_swapped": "the i and f blocks of the gradients are swapped: Keras's gate order is i, f, c, o",
    "batch_mean": "the weight gradients are averaged over the batch instead of summed (dout already holds "
                  "each sample's gradient)",
    "final_state_ignored": "d_final_state is ignored",
    "last_step_only": "with return_sequences=True only dout[:, -1] is used; every step's dout[:, t] adds to "
                      "dh_t",
}


def np_lstm_backward(x, kernel, recurrent_kernel, bias, dout, return_sequences=False, initial_state=None,
                     d_final_state=None, mistake=None):
    """Backpropagation through time in float64: (dx, dkernel, drecurrent_kernel, dbias, dh0, dc0)."""
    x, kernel, recurrent_kernel, bias, dout = (np.asarray(a, dtype=np.float64)
                                               for a in (x, kernel, recurrent_kernel, bias, dout))
    batch, steps, _ = x.shape
    u = recurrent_kernel.shape[0]
    if initial_state is None:
        h, c = np.zeros((batch, u)), np.zeros((batch, u))
    else:
        h, c = (np.asarray(s, dtype=np.float64) for s in initial_state)
    cache = []
    for t in range(steps):
        z = x[:, t] @ kernel + h @ recurrent_kernel + bias
        i, f, g, o = sigmoid(z[:, :u]), sigmoid(z[:, u:2 * u]), np.tanh(z[:, 2 * u:3 * u]), sigmoid(z[:, 3 * u:])
        c_new = f * c + i * g
        cache.append((h, c, i, f, g, o, np.tanh(c_new)))
        h, c = o * np.tanh(c_new), c_new
    dx, dk, dr, db = np.zeros_like(x), np.zeros_like(kernel), np.zeros_like(recurrent_kernel), np.zeros_like(bias)
    dh, dc = np.zeros((batch, u)), np.zeros((batch, u))
    if d_final_state is not None and mistake != "final_state_ignored":
        dh, dc = dh + np.asarray(d_final_state[0], np.float64), dc + np.asarray(d_final_state[1], np.float64)
    if not return_sequences:
        dh = dh + dout
    for t in range(steps - 1, -1, -1):
        h_prev, c_prev, i, f, g, o, tanh_c = cache[t]
        if return_sequences and (mistake != "last_step_only" or t == steps - 1):
            dh = dh + dout[:, t]
        do = dh * tanh_c
        dc = dc + dh * o * (1.0 if mistake == "no_tanh_derivative" else 1 - tanh_c ** 2)
        di, df, dg = dc * g, dc * c_prev, dc * i
        dz = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g ** 2), do * o * (1 - o)], axis=1)
        if mistake == "bias_blocks_swapped":
            dz_w = np.concatenate([dz[:, u:2 * u], dz[:, :u], dz[:, 2 * u:]], axis=1)
        else:
            dz_w = dz
        dx[:, t] = dz @ kernel.T
        dk += x[:, t].T @ dz_w
        dr += h_prev.T @ dz_w
        db += dz_w.sum(axis=0)
        dh = np.zeros_like(dh) if mistake == "no_hidden_path" else dz @ recurrent_kernel.T
        dc = np.zeros_like(dc) if mistake == "no_cell_path" else dc * f
    if mistake == "forget_bias_constant":
        db[u:2 * u] = 0.0
    if mistake == "batch_mean":
        dk, dr, db = dk / batch, dr / batch, db / batch
    return dx, dk, dr, db, dh, dc


def np_embedding_backward(ids, dout, vocab_size, overwrite=False):
    ids = np.asarray(ids)
    dout = np.asarray(dout, dtype=np.float64)
    table = np.zeros((vocab_size, dout.shape[-1]))
    flat_ids, flat_dout = ids.reshape(-1), dout.reshape(-1, dout.shape[-1])
    if overwrite:
        table[flat_ids] = flat_dout
    else:
        np.add.at(table, flat_ids, flat_dout)
    return table


# --- Keras references -------------------------------------------------------------------------------------

@same_for_every_student
def keras_lstm_backward(x, kernel, recurrent_kernel, bias, dout, return_sequences=False, initial_state=None,
                        d_final_state=None):
    """tf.GradientTape on keras.layers.LSTM(units, return_sequences=..., return_state=True) with these weights:
    the gradients of sum(output * dout) + sum(h_T * dh_T) + sum(c_T * dc_T) with respect to x, the three
    weights and the initial state (the zero state when initial_state is None)."""
    import tensorflow as tf

    x = tf.constant(_f32(x))
    units = np.shape(recurrent_kernel)[0]
    layer = _lstm_layer(x.shape[-1], units, bool(return_sequences))
    layer.set_weights([_f32(kernel), _f32(recurrent_kernel), _f32(bias)])
    if initial_state is None:
        h0, c0 = tf.zeros((x.shape[0], units)), tf.zeros((x.shape[0], units))  # two tensors: one gradient each
    else:
        h0, c0 = tf.constant(_f32(initial_state[0])), tf.constant(_f32(initial_state[1]))
    with tf.GradientTape() as tape:
        tape.watch([x, h0, c0])
        output, h, c = layer(x, initial_state=[h0, c0])
        total = tf.reduce_sum(output * _f32(dout))
        if d_final_state is not None:
            total += tf.reduce_sum(h * _f32(d_final_state[0])) + tf.reduce_sum(c * _f32(d_final_state[1]))
    grads = tape.gradient(total, [x] + list(layer.trainable_weights) + [h0, c0])
    return tuple(np.asarray(g) for g in grads)


@same_for_every_student
def keras_embedding_backward(ids, dout, vocab_size):
    """tf.GradientTape on keras.layers.Embedding(vocab_size, dim): the gradient of sum(layer(ids) * dout) with
    respect to the table (IndexedSlices made dense)."""
    import tensorflow as tf

    dout = _f32(dout)

    def make():
        layer = keras().layers.Embedding(vocab_size, dout.shape[-1])
        layer.build((None,))
        return layer

    layer = _cached(("embedding", vocab_size, dout.shape[-1]), make)
    layer.set_weights([np.zeros((vocab_size, dout.shape[-1]), np.float32)])
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(layer(np.asarray(ids)) * dout)
    return np.asarray(tf.convert_to_tensor(tape.gradient(total, layer.embeddings)))


def sequence_model(vocab, dim, units, outputs, activation, per_step, batch_size=None, timesteps=None,
                   stateful=False):
    """Embedding(vocab, dim) -> LSTM(units, return_sequences=per_step, stateful=...) -> Dense(outputs,
    activation); one model per configuration."""
    def make():
        k = keras()
        inputs = (k.Input(batch_shape=(batch_size, timesteps), dtype="int32") if stateful
                  else k.Input(shape=(None,), dtype="int32"))
        h = k.layers.Embedding(vocab, dim)(inputs)
        h = k.layers.LSTM(units, return_sequences=per_step, stateful=stateful)(h)
        return k.Model(inputs, k.layers.Dense(outputs, activation=activation)(h))

    key = ("model", vocab, dim, units, outputs, activation, per_step, stateful)
    return _cached(key + ((batch_size, timesteps) if stateful else ()), make)


def _model_for(ids, y, weights, loss, batch_size=None, stateful=False):
    table, kernel, recurrent_kernel, _, dense_kernel, _ = weights
    per_step = np.ndim(y) == 3
    model = sequence_model(np.shape(table)[0], np.shape(table)[1], np.shape(recurrent_kernel)[0],
                           np.shape(dense_kernel)[1], OUTPUT_ACTIVATION[loss], per_step,
                           batch_size, np.shape(ids)[1], stateful)
    model.set_weights([_f32(w) for w in weights])
    return model


@same_for_every_student
def keras_sequence_gradients(ids, y, weights, loss):
    """tf.GradientTape of the batch loss as fit computes it (the compiled loss, mean over the batch, and over
    time with a per-step y) on the Embedding -> LSTM -> Dense model with these weights."""
    import tensorflow as tf

    model = _model_for(ids, y, weights, loss)
    with tf.GradientTape() as tape:
        value = tf.reduce_mean(keras().losses.get(loss)(_f32(y), model(np.asarray(ids, np.int32))))
    return [np.asarray(tf.convert_to_tensor(g)) for g in tape.gradient(value, model.trainable_weights)]


@same_for_every_student
def keras_train(ids, y, weights, loss, optimizer, batch_size=32, epochs=1, stateful=False):
    """model.fit(ids, y, batch_size, epochs, shuffle=False) on a fresh copy of the model (run eagerly: no
    tracing for a few steps); with stateful=True the LSTM is stateful and starts from zeros. Returns (final
    weights, history.history)."""
    model = _model_for(ids, y, weights, loss, batch_size, stateful)
    if stateful:
        model.layers[2].reset_state()
    metrics = ["accuracy"] if loss != "mse" else []
    model.compile(optimizer=_fit._optimizer_from_spec(optimizer), loss=loss, metrics=metrics, run_eagerly=True)
    history = model.fit(np.asarray(ids, np.int32), _f32(y), batch_size=batch_size, epochs=epochs, shuffle=False,
                        verbose=0)
    return [np.asarray(w) for w in model.get_weights()], {k: list(map(float, v)) for k, v in history.history.items()}


# --- NumPy model of the whole network (for the named mistakes) --------------------------------------------

def _np_forward(ids, weights, per_step, initial_state=None):
    table, kernel, recurrent_kernel, bias, dense_kernel, dense_bias = (np.asarray(w, np.float64) for w in weights)
    x = table[np.asarray(ids)]
    u = recurrent_kernel.shape[0]
    h, c = ((np.zeros((x.shape[0], u)),) * 2 if initial_state is None else initial_state)
    hs = []
    for t in range(x.shape[1]):
        h, c = np_lstm_step(x[:, t], h, c, kernel, recurrent_kernel, bias)
        hs.append(h)
    out = np.stack(hs, axis=1) if per_step else h
    return x, out, out @ dense_kernel + dense_bias, (h, c)


def _loss_grad(loss, y, logits):
    """(batch loss, its gradient with respect to the logits): fit's mean over batch (x time) of 04's
    loss_and_gradient."""
    y, logits = np.asarray(y, np.float64), np.asarray(logits, np.float64)
    flat_y, flat_z = y.reshape(-1, y.shape[-1]), logits.reshape(-1, logits.shape[-1])
    per, grad = loss_and_gradient(loss, flat_y, flat_z, OUTPUT_ACTIVATION[loss])
    n = flat_y.shape[0]
    return float(np.mean(per)), np.asarray(grad, np.float64).reshape(logits.shape) / n, per


def np_sequence_gradients(ids, y, weights, loss, mistake=None, initial_state=None):
    """Gradients in get_weights() order (and the batch loss, the final state, dh0/dc0) of the model in float64."""
    per_step = np.ndim(y) == 3
    x, out, logits, final = _np_forward(ids, weights, per_step, initial_state)
    value, dlogits, per = _loss_grad(loss, y, logits)
    if mistake == "loss_summed":
        dlogits = dlogits * np.prod(np.shape(y)[:-1])
    dense_kernel = np.asarray(weights[4], np.float64)
    axes = (0, 1) if per_step else (0,)
    d_dense_kernel = np.tensordot(out, dlogits, axes=(axes, axes))
    d_dense_bias = dlogits.sum(axis=axes)
    dout = dlogits @ dense_kernel.T
    dx, dk, dr, db, dh0, dc0 = np_lstm_backward(x, *weights[1:4], dout, per_step, initial_state,
                                                mistake=mistake if mistake in BACKWARD_MISTAKES else None)
    dtable = np_embedding_backward(ids, dx, np.shape(weights[0])[0], overwrite=mistake == "embedding_overwrite")
    return [dtable, dk, dr, db, d_dense_kernel, d_dense_bias], value, final, (dh0, dc0), (per, logits)


SEQUENCE_MISTAKES = {
    "loss_summed": "you used the SUM of the per-sample losses; fit's batch loss is their MEAN (over the batch, "
                   "and over the time steps when y has a time axis)",
    "embedding_overwrite": "repeated ids overwrite each other's gradient in the table (dtable[ids] = dx); "
                           "each occurrence must add (np.add.at)",
    "no_cell_path": BACKWARD_MISTAKES["no_cell_path"],
    "forget_bias_constant": BACKWARD_MISTAKES["forget_bias_constant"],
}


# --- cases ------------------------------------------------------------------------------------------------

_seeds = st.integers(0, 2**31 - 1)


def lstm_backward_case(seed, batch=2, timesteps=3, input_dim=2, units=3, return_sequences=False,
                       initial_state=False, d_final_state=False, dtype=np.float64, scale=1.0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, timesteps, input_dim)).astype(dtype)
    weights = [(scale * rng.normal(size=s) / np.sqrt(s[0])).astype(dtype)
               for s in ((input_dim, 4 * units), (units, 4 * units))]
    bias = (0.3 * rng.normal(size=4 * units)).astype(dtype)
    dout = rng.normal(size=(batch, timesteps, units) if return_sequences else (batch, units)).astype(dtype)
    kwargs = {}
    if return_sequences:
        kwargs["return_sequences"] = True
    if initial_state:
        kwargs["initial_state"] = (rng.uniform(-1, 1, size=(batch, units)).astype(dtype),
                                   rng.normal(size=(batch, units)).astype(dtype))
    if d_final_state:
        kwargs["d_final_state"] = (rng.normal(size=(batch, units)).astype(dtype),
                                   rng.normal(size=(batch, units)).astype(dtype))
    return Case((x, *weights, bias, dout), kwargs)


LSTM_SIZES = ((1, 2), (2, 3), (3, 2))


@st.composite
def lstm_backward_cases(draw):
    input_dim, units = draw(st.sampled_from(LSTM_SIZES))
    return lstm_backward_case(draw(_seeds), draw(st.integers(1, 3)), draw(st.integers(1, 4)), input_dim, units,
                              return_sequences=draw(st.booleans()), initial_state=draw(st.booleans()),
                              d_final_state=draw(st.booleans()), dtype=draw(st.sampled_from(FLOAT_DTYPES)))


def embedding_backward_case(seed, shape=(2, 3), vocab_size=4, dim=2, ids_dtype=np.int64, repeat=True):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, vocab_size, size=shape).astype(ids_dtype)
    if repeat and ids.size > 1:
        ids.reshape(-1)[-1] = ids.reshape(-1)[0]
    return Case((ids, rng.normal(size=tuple(shape) + (dim,)), vocab_size))


@st.composite
def embedding_backward_cases(draw):
    shape = draw(st.sampled_from([(draw(st.integers(1, 6)),), (draw(st.integers(1, 3)), draw(st.integers(1, 4)))]))
    vocab, dim = draw(st.sampled_from(((3, 2), (5, 1), (2, 3))))
    return embedding_backward_case(draw(_seeds), shape, vocab, dim,
                                   ids_dtype=draw(st.sampled_from([np.int64, np.int32, np.uint8])))


def sequence_problem(seed, n=4, timesteps=3, vocab=4, dim=2, units=3, loss="categorical_crossentropy",
                     per_step=False, scale=1.0):
    """Learnable toy data (ids, y) and Glorot-like starting weights for Embedding -> LSTM -> Dense: the label
    is decided by the ids (the last id's parity, or the id at each step)."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, vocab, size=(n, timesteps))
    classes = {"categorical_crossentropy": 2, "binary_crossentropy": 1, "mse": 2}[loss]
    target = ids if per_step else ids[:, -1]
    if loss == "categorical_crossentropy":
        y = np.eye(2)[target % 2]
    elif loss == "binary_crossentropy":
        y = (target % 2)[..., None].astype(float)
    else:
        y = np.stack([target / vocab, (target % 2) - 0.5], axis=-1)
    weights = [rng.uniform(-0.5, 0.5, size=(vocab, dim)),
               scale * rng.normal(size=(dim, 4 * units)) / np.sqrt(dim),
               scale * rng.normal(size=(units, 4 * units)) / np.sqrt(units),
               np.concatenate([np.zeros(units), np.ones(units), np.zeros(2 * units)]) + 0.1 * rng.normal(size=4 * units),
               rng.normal(size=(units, classes)) / np.sqrt(units),
               0.1 * rng.normal(size=classes)]
    return ids, y.astype(np.float32), [w.astype(np.float32) for w in weights]


@st.composite
def sequence_cases(draw):
    loss = draw(st.sampled_from(_fit.LOSSES))
    ids, y, weights = sequence_problem(draw(_seeds), n=draw(st.integers(1, 4)), timesteps=draw(st.integers(1, 3)),
                                       vocab=draw(st.sampled_from([3, 4])), loss=loss, per_step=draw(st.booleans()))
    return Case((ids, y, weights, loss))


# --- comparing -----------------------------------------------------------------------------------------------

def _unpack(result, call, labels):
    if not isinstance(result, (tuple, list)) or len(result) != len(labels):
        raise CheckFailed(f"{call} should return {len(labels)} arrays ({', '.join(labels)}).", kind="wrong_type")
    return [as_array(value, f"{call}[{k}] ({label})") for k, (value, label) in enumerate(zip(result, labels))]


def _compare_all(got, expected, mistakes, call, labels, rtol=RTOL):
    """Shapes first; then a known mistake is named when ALL the returned arrays are its (one flat array);
    else the first array that differs is shown."""
    for g, e, label in zip(got, expected, labels):
        if g.shape != e.shape:
            compare_arrays(g, e, what=f"{call}, {label}")
    scale = max(float(np.abs(e).max()) if e.size else 0.0 for e in expected)
    if all(np.allclose(g, e, rtol=rtol, atol=rtol * scale) for g, e in zip(got, expected)):
        return
    mistake = matching_mistake(_flat(got), _flat(expected), [Mistake(t, _flat(r)) for t, r in mistakes],
                               rtol=1e-4, atol=1e-4 * scale)
    if mistake:
        raise CheckFailed(f"{call}: wrong gradients.\n  {mistake.hint}", mistake=mistake)
    for g, e, label in zip(got, expected, labels):
        compare_arrays(g, e, what=f"{call}, {label}", rtol=rtol, atol=rtol * scale)


def _call_text(name, case):
    return describe_call(name, case.args, case.kwargs)


# --- embedding_backward ----------------------------------------------------------------------------------------

def check_embedding_backward(embedding_backward, cases=None, max_examples=10):
    """Compare with tf.GradientTape on keras.layers.Embedding (repeated ids in every hand-picked case)."""
    name = "embedding_backward"

    def run_one(case):
        got = as_array(call_student(embedding_backward, *case.args, name=name), name)
        ids, dout, vocab = case.args
        mistakes = [Mistake(SEQUENCE_MISTAKES["embedding_overwrite"], np_embedding_backward(ids, dout, vocab, True)),
                    Mistake("you divided by the number of ids: the table's gradient is a sum, not a mean",
                            np_embedding_backward(ids, dout, vocab) / max(np.size(ids), 1))]
        compare_arrays(got, keras_embedding_backward(*case.args), what=describe_call(name, case.args),
                       mistakes=mistakes)

    count = run_cases(run_one, name=name, cases=cases, strategy=embedding_backward_cases(),
                      max_examples=max_examples, first=[embedding_backward_case(1, (2, 3), 3, 2)])
    report_pass(name, "tf.GradientTape on keras.layers.Embedding", count)


BAD_EMBEDDING_BACKWARD = [
    ((np.array([0.0, 1.0]), np.ones((2, 2)), 3), {}, "float ids are rejected, as in 08's embedding"),
    ((np.array([0, 3]), np.ones((2, 2)), 3), {}, "id 3 does not fit vocab_size 3"),
    ((np.array([0, 1]), np.ones((3, 2)), 3), {}, "dout must have shape ids.shape + (dim,) = (2, dim)", ("dout",)),
]


def check_embedding_backward_rejects(embedding_backward, invalid=BAD_EMBEDDING_BACKWARD):
    """Each (args, kwargs, reason[, words]) must raise ValueError; a wrong dout's message must name `dout`."""
    check_rejects(embedding_backward, invalid, name="embedding_backward")


# --- lstm_backward ---------------------------------------------------------------------------------------------

LSTM_BACKWARD_LABELS = ("dx", "dkernel", "drecurrent_kernel", "dbias", "dh0", "dc0")


def check_lstm_backward(lstm_backward, cases=None, max_examples=10):
    """Compare all six gradients with tf.GradientTape on keras.layers.LSTM with the same weights: return_sequences
    both ways, with and without initial_state and d_final_state (float32 tolerance)."""
    name = "lstm_backward"

    def run_one(case):
        call = _call_text(name, case)
        got = _unpack(call_student(lstm_backward, *case.args, name=name, **case.kwargs), call, LSTM_BACKWARD_LABELS)
        expected = keras_lstm_backward(*case.args, **case.kwargs)
        mistakes = [(text, np_lstm_backward(*case.args, **case.kwargs, mistake=key))
                    for key, text in BACKWARD_MISTAKES.items()]
        _compare_all(got, expected, mistakes, call, LSTM_BACKWARD_LABELS)

    first = [lstm_backward_case(2, batch=2, timesteps=3, return_sequences=True, d_final_state=True)]
    count = run_cases(run_one, name=name, cases=cases, strategy=lstm_backward_cases(), max_examples=max_examples,
                      first=first if cases is None else ())
    report_pass(name, "tf.GradientTape on keras.layers.LSTM", count)


# --- sequence_gradients -------------------------------------------------------------------------------------

WEIGHT_NAMES = ("embedding table", "LSTM kernel", "LSTM recurrent_kernel", "LSTM bias", "Dense kernel",
                "Dense bias")


def check_sequence_gradients(sequence_gradients, cases=None, max_examples=6):
    """Compare the six gradients with tf.GradientTape on the Keras model with the same weights."""
    name = "sequence_gradients"

    def run_one(case):
        call = describe_call(name, case.args)
        got = call_student(sequence_gradients, *case.args, name=name)
        got = _unpack(got, call, WEIGHT_NAMES)
        expected = keras_sequence_gradients(*case.args)
        mistakes = [(text, np_sequence_gradients(*case.args, mistake=key)[0])
                    for key, text in SEQUENCE_MISTAKES.items()]
        _compare_all(got, expected, mistakes, call, [f"gradient of the {w}" for w in WEIGHT_NAMES])

    count = run_cases(run_one, name=name, cases=cases, strategy=sequence_cases(), max_examples=max_examples,
                      first=[Case(sequence_problem(3, n=3, timesteps=3)[:3] + ("categorical_crossentropy",))]
                      if cases is None else ())
    report_pass(name, "tf.GradientTape on Embedding -> LSTM -> Dense", count)


# --- train_sequence_model -------------------------------------------------------------------------------------

TRAIN_MISTAKES = {
    "reset_each_batch": "the state is reset to zeros at every batch: with stateful=True each batch starts from "
                        "the previous batch's final state",
    "reset_each_epoch": "the state is reset at the start of every epoch; Keras 3's fit never resets it (only "
                        "your own callback would)",
    "state_after_update": "the carried state is recomputed with the updated weights; Keras carries the final "
                          "state of the batch's own forward pass, made before that batch's update",
    "gradient_across_boundary": "the gradient crosses the batch boundary: the previous batch is run again in "
                                "front of this one, so the gradient flows back into it; the carried state must "
                                "be a constant (its gradient cut)",
    "loss_summed": SEQUENCE_MISTAKES["loss_summed"],
}


def _accuracy(loss, y, prob):
    y = np.asarray(y)
    if loss == "binary_crossentropy":
        return ((prob > 0.5) == (y > 0.5)).astype(float).mean(axis=-1).ravel()
    return (np.argmax(prob, axis=-1) == np.argmax(y, axis=-1)).astype(float).ravel()


def np_train(ids, y, weights, loss, optimizer, batch_size=32, epochs=1, stateful=False, mistake=None):
    """The training loop in NumPy (Keras's optimizer via make_optimizer), or with one of TRAIN_MISTAKES."""
    weights = [np.asarray(w, np.float64) for w in weights]
    opt = make_optimizer(optimizer)
    n, units = len(ids), np.shape(weights[2])[0]
    history = {"loss": []}
    if loss != "mse":
        history["accuracy"] = []
    state = None
    for epoch in range(epochs):
        if mistake == "reset_each_epoch":
            state = None
        losses, sizes, correct = [], [], []
        previous = None
        for start in range(0, n, batch_size):
            xb, yb = ids[start:start + batch_size], y[start:start + batch_size]
            if not stateful or mistake == "reset_each_batch" or state is None:
                state = (np.zeros((len(xb), units)),) * 2 if stateful else None
            grads, value, final, _, (_, logits) = np_sequence_gradients(
                xb, yb, weights, loss, mistake="loss_summed" if mistake == "loss_summed" else None,
                initial_state=state)
            if mistake == "gradient_across_boundary" and previous is not None and np.ndim(y) == 2:
                # the previous chunk run again in front of this one, from its own initial state
                prev_ids, prev_state = previous
                grads, value, final, _, (_, logits) = np_sequence_gradients(
                    np.concatenate([prev_ids, xb], axis=1), yb, weights, loss, initial_state=prev_state)
            previous = (xb, state)
            prob = {"softmax": lambda z: np.exp(z - z.max(-1, keepdims=True)) /
                    np.exp(z - z.max(-1, keepdims=True)).sum(-1, keepdims=True),
                    "sigmoid": sigmoid, "linear": lambda z: z}[OUTPUT_ACTIVATION[loss]](logits)
            correct.append(_accuracy(loss, yb, prob))
            losses.append(value)
            sizes.append(len(xb))
            weights = [np.asarray(w, np.float64) for w in opt.step(weights, grads)]
            if stateful:
                state = final
                if mistake == "state_after_update":
                    state = _np_forward(xb, weights, np.ndim(y) == 3, previous[1])[3]
        history["loss"].append(float(np.dot(losses, sizes) / np.sum(sizes)))
        if "accuracy" in history:
            history["accuracy"].append(float(np.concatenate(correct).mean()))
    return weights, history


TRAIN_RTOL = RTOL


def train_case(kind):
    """The training runs the notebook's checks use (tiny: a few batches, SGD so that the embedding table's
    update is the textbook one, see the notebook)."""
    if kind == "stateless":
        ids, y, w = sequence_problem(21, n=12, timesteps=3, loss="categorical_crossentropy")
        return Case((ids, y, w, "categorical_crossentropy", {"name": "sgd", "learning_rate": 0.5}),
                    {"batch_size": 5, "epochs": 2})
    if kind == "per_step_momentum":
        ids, y, w = sequence_problem(22, n=8, timesteps=3, loss="binary_crossentropy", per_step=True)
        return Case((ids, y, w, "binary_crossentropy", {"name": "sgd", "learning_rate": 0.3, "momentum": 0.9}),
                    {"batch_size": 4, "epochs": 2})
    if kind == "stateful":
        ids, y, w = sequence_problem(23, n=6, timesteps=2, loss="categorical_crossentropy")
        return Case((ids, y, w, "categorical_crossentropy", {"name": "sgd", "learning_rate": 0.5}),
                    {"batch_size": 2, "epochs": 2, "stateful": True})
    if kind == "stateful_mse":
        ids, y, w = sequence_problem(24, n=6, timesteps=3, loss="mse", per_step=True)
        return Case((ids, y, w, "mse", {"name": "sgd", "learning_rate": 0.2, "momentum": 0.5}),
                    {"batch_size": 3, "epochs": 3, "stateful": True})
    raise ValueError(f"unknown train case {kind!r}")


def _check_train_case(train, case):
    name = "train_sequence_model"
    call = describe_call(name, case.args, case.kwargs)
    result = call_student(train, *case.args, name=name, **case.kwargs)
    if not isinstance(result, (tuple, list)) or len(result) != 2 or not isinstance(result[1], dict):
        raise CheckFailed(f"{call} should return (new_weights, history_dict).", kind="wrong_type")
    got = _unpack(result[0], f"{call}[0]", WEIGHT_NAMES)
    expected, expected_history = keras_train(*case.args, **case.kwargs)
    keys = [k for k in TRAIN_MISTAKES if case.kwargs.get("stateful") or k == "loss_summed"]
    mistakes = [(TRAIN_MISTAKES[k], np_train(*case.args, **case.kwargs, mistake=k)[0]) for k in keys]
    _compare_all(got, expected, mistakes, f"{call}, final weights", [f"final {w}" for w in WEIGHT_NAMES],
                 rtol=TRAIN_RTOL)
    _fit.compare_history(result[1], expected_history, call=call, name=name, rtol=TRAIN_RTOL,
                    explain=lambda key, epoch, got: "Your final weights match, so training is right: the epoch's "
                    "value is the batch values (computed before each batch's update) weighted by batch size.")


def check_train_sequence_model(train_sequence_model, cases=None, kinds=("stateless",)):
    """Compare final weights and history with model.fit(..., shuffle=False) on the same starting weights."""
    cases = [train_case(k) for k in kinds] if cases is None else cases
    count = run_cases(lambda case: _check_train_case(train_sequence_model, case), name="train_sequence_model",
                      cases=cases)
    stateful = all(c.kwargs.get("stateful") for c in cases)
    report_pass("train_sequence_model", "model.fit" + (" with a stateful LSTM" if stateful else "")
                + " (history and final weights)", count, noun="training run")


def check_train_rejects(train_sequence_model):
    """stateful=True with n not a multiple of batch_size must raise ValueError naming `batch_size`."""
    ids, y, w = sequence_problem(25, n=5, timesteps=2)
    bad = [((ids, y, w, "categorical_crossentropy", "sgd"), {"batch_size": 2, "stateful": True},
            "with stateful=True the number of samples (5) must be a multiple of batch_size (2)", ("batch_size",)),
           ((ids[:4], y[:4], w, "categorical_crossentropy", "sgd"), {"batch_size": 3, "epochs": 2, "stateful": True},
            "with stateful=True the number of samples (4) must be a multiple of batch_size (3)", ("batch_size",))]
    check_rejects(train_sequence_model, bad, name="train_sequence_model")
