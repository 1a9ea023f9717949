"""Notebook 04: what `model.fit` does with its arguments, and the training loop itself.

Two parts:

* The GIVEN helpers (`loss_and_gradient`, `regularization`, `make_optimizer`). In this notebook the loss and the
  optimizer are not re-implemented (that was notebook 03): the learner's NumPy training loop calls these, and
  they compute with live Keras. They run Keras on a worker thread started when this module is imported, before
  any check watches the learner's code; `KerasWatch` (autograder/checks/calling.py) installs its hook on the calling
  thread and on threads started *during* the call only, so the helpers' Keras work is not counted against the
  learner, while any other Keras call in the learner's function still is. No `sys.setprofile` is called here.
* The references (live Keras), the input strategies, the named mistakes and the `check_*` functions.
"""
import math
import queue
import threading

import numpy as np
from hypothesis import strategies as st

from autograder.checks import keras_reference
from autograder.checks.runner import Case, check_property, check_rejects, report_pass, run_cases
from autograder.checks.compare import RTOL, Mistake, compare_arrays, matching_mistake
from autograder.checks.describe import describe_call
from autograder.checks.errors import CheckFailed
from autograder.checks.calling import as_array, as_number, call_student

LOSSES = ("categorical_crossentropy", "binary_crossentropy", "mse")
OPTIMIZERS = ("sgd", "rmsprop", "adam")
ACTIVATIONS = ("linear", "relu", "tanh", "sigmoid", "softmax")


# --- the trusted worker -------------------------------------------------------------------------------------

class _Worker:
    """One daemon thread, started at import time, that runs this module's Keras computations."""

    def __init__(self):
        self._jobs = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._serve, name="keras-by-hand-helpers", daemon=True).start()

    def _serve(self):
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, args, box, done = job
            try:
                box.append((True, fn(*args)))
            except BaseException as error:  # handed back to the caller, raised there
                box.append((False, error))
            done.set()

    def post(self, fn, *args):
        """Queue fn(*args) without waiting for it (used to free Keras objects on this thread)."""
        self._jobs.put((fn, args, [], threading.Event()))

    def run(self, fn, *args):
        if self._closed:
            raise RuntimeError("notebook 04's helper thread was closed (close_topics): import the topic again")
        box, done = [], threading.Event()
        with self._lock:
            self._jobs.put((fn, args, box, done))
            done.wait()
        ok, value = box[0]
        if not ok:
            raise value
        return value


    def close(self):
        self._closed = True
        self._jobs.put(None)


_WORKER = _Worker()


def close():
    """End the worker thread (a checker process that grades many notebooks drops this module between them)."""
    _WORKER.close()


# --- the given helpers: loss, regularization, optimizer -----------------------------------------------------

def _parse_loss(loss):
    """'mse' or {'name': 'mse', 'l2': 0.01} -> (name, l2)."""
    if isinstance(loss, str):
        name, l2 = loss, 0.0
    elif isinstance(loss, dict) and "name" in loss and set(loss) <= {"name", "l2"}:
        name, l2 = loss["name"], float(loss.get("l2", 0.0))
    else:
        raise ValueError(f"loss must be a name or a dict {{'name': ..., 'l2': ...}}; got {loss!r}")
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; this notebook uses one of {LOSSES}")
    return name, l2


def _loss_and_gradient(name, y_true, logits, activation):
    import tensorflow as tf

    keras = keras_reference.keras()
    y = tf.constant(np.asarray(y_true, dtype=np.float32))
    z = tf.constant(np.asarray(logits, dtype=np.float32))
    with tf.GradientTape() as tape:
        tape.watch(z)
        # Inside fit, a softmax/sigmoid output feeds its logits to the crossentropy (no clipping).
        if name == "categorical_crossentropy" and activation == "softmax":
            per_sample = keras.losses.categorical_crossentropy(y, z, from_logits=True)
        elif name == "binary_crossentropy" and activation == "sigmoid":
            per_sample = keras.losses.binary_crossentropy(y, z, from_logits=True)
        else:
            per_sample = keras.losses.get(name)(y, keras.activations.get(activation)(z))
        total = tf.reduce_sum(per_sample)
    return np.array(per_sample.numpy(), copy=True), np.array(tape.gradient(total, z).numpy(), copy=True)


def loss_and_gradient(loss, y_true, logits, activation):
    """Per-sample loss of the output layer, and its gradient with respect to the output layer's logits.

    Computed by Keras exactly as `model.fit` does (a softmax/sigmoid output feeds its logits to the
    crossentropy). Nothing is averaged: reducing over the batch is your job (`reduce_loss`).

    Args:
        loss: the loss name ('categorical_crossentropy', 'binary_crossentropy', 'mse') or a dict
            {'name': ..., 'l2': ...} (the 'l2' part is ignored here; see `regularization`).
        y_true: array (n, units), the targets of n samples.
        logits: array (n, units), the output layer's pre-activation z = h @ kernel + bias.
        activation: str, the output layer's activation ('softmax', 'sigmoid', 'linear', ...).

    Returns:
        per_sample_loss: float32 array (n,), L_i for each sample.
        grad_logits: float32 array (n, units), dL_i / dz_i for each sample (row i depends only on sample i).
    """
    name, _ = _parse_loss(loss)
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; use one of {ACTIVATIONS}")
    y_true, logits = np.asarray(y_true), np.asarray(logits)
    if y_true.shape != logits.shape or logits.ndim != 2:
        raise ValueError(f"y_true and logits must both have shape (n, units); got {y_true.shape} and {logits.shape}")
    return _WORKER.run(_loss_and_gradient, name, y_true, logits, activation)


def _regularization(l2, kernels):
    import tensorflow as tf

    keras = keras_reference.keras()
    variables = [tf.Variable(np.asarray(k, dtype=np.float32)) for k in kernels]
    with tf.GradientTape() as tape:
        penalty = tf.add_n([keras.regularizers.L2(l2)(v) for v in variables]) if variables else tf.constant(0.0)
    grads = tape.gradient(penalty, variables) if variables else []
    return float(penalty.numpy()), [np.array(g.numpy(), copy=True) for g in grads]


def regularization(loss, weights):
    """The kernel regularization penalty of the model and its gradient.

    With loss={'name': ..., 'l2': l2}, every Dense kernel has `kernel_regularizer=keras.regularizers.L2(l2)`;
    Keras adds the penalty to every batch's loss (and to the reported loss). Biases are not regularized.

    Args:
        loss: the loss name or dict (see `loss_and_gradient`); a plain name means no regularization.
        weights: list [kernel_0, bias_0, kernel_1, bias_1, ...] as from `model.get_weights()`.

    Returns:
        penalty: float, the sum over kernels of l2 * sum(kernel**2) (0.0 without 'l2').
        grads: list of float32 arrays, one per weight, same shapes: d penalty / d weight (zeros for biases).
    """
    _, l2 = _parse_loss(loss)
    weights = [np.asarray(w) for w in weights]
    zeros = [np.zeros(w.shape, dtype=np.float32) for w in weights]
    if l2 == 0.0:
        return 0.0, zeros
    penalty, kernel_grads = _WORKER.run(_regularization, l2, weights[0::2])
    zeros[0::2] = kernel_grads
    return penalty, zeros


def _optimizer_from_spec(spec):
    keras = keras_reference.keras()
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, dict) or spec.get("name") not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS} or a dict {{'name': ..., ...}}; got {spec!r}")
    options = {k: v for k, v in spec.items() if k != "name"}
    cls = {"sgd": keras.optimizers.SGD, "rmsprop": keras.optimizers.RMSprop, "adam": keras.optimizers.Adam}
    return cls[spec["name"]](**options)


_OPTIMIZERS = {}  # handle -> [keras optimizer, its variables]; touched on the worker thread only
_HANDLES = iter(range(1, 2**62))


def _new_optimizer(handle, spec):
    _OPTIMIZERS[handle] = [_optimizer_from_spec(spec), None]


def _drop_optimizer(handle):
    _OPTIMIZERS.pop(handle, None)


def _optimizer_step(handle, weights, grads):
    keras = keras_reference.keras()
    entry = _OPTIMIZERS[handle]
    if entry[1] is None:
        entry[1] = [keras.Variable(w.astype(np.float32)) for w in weights]
    for variable, w in zip(entry[1], weights):
        variable.assign(w.astype(np.float32))
    entry[0].apply([g.astype(np.float32) for g in grads], entry[1])
    return [np.array(v.numpy(), copy=True) for v in entry[1]]


class GivenOptimizer:
    """A Keras optimizer you can step with NumPy arrays. Make one with `make_optimizer(spec)`."""

    def __init__(self, spec):
        import weakref

        self._spec = spec
        self._shapes = None
        self._handle = next(_HANDLES)
        _WORKER.run(_new_optimizer, self._handle, spec)
        # The Keras objects live and die on the worker thread, never in the caller's.
        weakref.finalize(self, _WORKER.post, _drop_optimizer, self._handle)

    def step(self, weights, grads):
        """One update of ALL the weights, like one batch of `model.fit`.

        Args:
            weights: list of arrays, the current weights (get_weights() order).
            grads: list of arrays of the same shapes: the gradient of the batch's total loss.

        Returns:
            list of float32 arrays: the updated weights. The optimizer keeps its own state (step count,
            momentum, moving averages) between calls, so use one optimizer for the whole training run.
        """
        weights = [np.asarray(w) for w in weights]
        grads = [np.asarray(g) for g in grads]
        if len(weights) != len(grads) or any(w.shape != g.shape for w, g in zip(weights, grads)):
            raise ValueError("step needs one gradient per weight, of the same shape")
        shapes = [w.shape for w in weights]
        if self._shapes is not None and self._shapes != shapes:
            raise ValueError("this optimizer was started on weights of other shapes; make a new one")
        self._shapes = shapes
        return _WORKER.run(_optimizer_step, self._handle, weights, grads)

    def __repr__(self):
        return f"GivenOptimizer({self._spec!r})"


def make_optimizer(spec):
    """A Keras optimizer for your training loop.

    Args:
        spec: 'sgd', 'rmsprop', 'adam' (Keras defaults), or a dict such as
            {'name': 'sgd', 'learning_rate': 0.1, 'momentum': 0.9} (any keyword of that Keras optimizer).

    Returns:
        GivenOptimizer with `.step(weights, grads) -> new_weights`.
    """
    return GivenOptimizer(spec)


# The given helpers under split grading (the topic contract, autograder/topics/__init__.py): the learner's
# training loop runs in the sandboxed answer kernel, which has no Keras; there GIVEN_STAND_INS stand in for the
# helpers and ask the checker, which runs CALLBACKS[name] on plain data.
_GIVEN_OPTIMIZERS = {}


def _callback_make_optimizer(spec):
    handle = len(_GIVEN_OPTIMIZERS) + 1
    _GIVEN_OPTIMIZERS[handle] = make_optimizer(spec)
    return handle


def _callback_optimizer_step(handle, weights, grads):
    if handle not in _GIVEN_OPTIMIZERS:
        raise ValueError("no such optimizer; make one with make_optimizer(spec)")
    return _GIVEN_OPTIMIZERS[handle].step(weights, grads)


CALLBACKS = {
    "fit.loss_and_gradient": lambda *args: list(loss_and_gradient(*args)),
    "fit.regularization": lambda *args: list(regularization(*args)),
    "fit.make_optimizer": _callback_make_optimizer,
    "fit.optimizer_step": _callback_optimizer_step,
}

GIVEN_STAND_INS = '''
def loss_and_gradient(loss, y_true, logits, activation):
    """(per-sample loss, its gradient with respect to the logits), computed by Keras in the grader."""
    return tuple(callback("fit.loss_and_gradient", loss, y_true, logits, activation))


def regularization(loss, weights):
    """(the L2 penalty of `weights`, its gradients), computed by Keras in the grader."""
    return tuple(callback("fit.regularization", loss, list(weights)))


class GivenOptimizer:
    """A Keras optimizer you can step with NumPy arrays (it runs in the grader)."""

    def __init__(self, spec):
        self._spec = spec
        self._handle = callback("fit.make_optimizer", spec)

    def step(self, weights, grads):
        return callback("fit.optimizer_step", self._handle, list(weights), list(grads))

    def __repr__(self):
        return f"GivenOptimizer({self._spec!r})"


def make_optimizer(spec):
    """A Keras optimizer (in the grader) for your training loop: `.step(weights, grads) -> new_weights`."""
    return GivenOptimizer(spec)
'''


# --- small NumPy tools for the references and checks --------------------------------------------------------

def _as_list_of_arrays(result, name, count):
    if not isinstance(result, (list, tuple)):
        raise CheckFailed(f"`{name}` should return a list of {count} arrays; it returned {type(result).__name__}.",
                          kind="wrong_type")
    if len(result) != count:
        raise CheckFailed(f"`{name}` should return a list of {count} arrays (one per weight); got {len(result)}.",
                          kind="wrong_shape")
    return [as_array(r, name) for r in result]


def _y_labels(y):
    y = np.asarray(y)
    if y.ndim > 1:
        y = np.argmax(y, axis=-1) if y.shape[-1] != 1 else np.squeeze(y, axis=-1)
    return np.round(y).astype(np.int64)


# --- exercise 1: split_validation ---------------------------------------------------------------------------

def keras_split_validation(x, y, validation_split):
    """Keras's own split: keras.src.trainers.data_adapters.array_slicing.train_validation_split."""
    from keras.src.trainers.data_adapters import array_slicing

    x, y = np.asarray(x), np.asarray(y)
    (train,), (val,) = array_slicing.train_validation_split((np.arange(len(x)),), validation_split)
    train, val = np.asarray(train), np.asarray(val)  # which rows Keras puts where, applied to the originals
    return [x[train], y[train], x[val], y[val]]


def _split_mistakes(x, y, validation_split):
    n = len(x)
    at = int(math.floor(n * (1 - validation_split)))
    k = n - at
    rounded = int(round(n * (1 - validation_split)))
    exact = n - int(math.ceil(n * validation_split))  # the same as floor(n * (1 - v)) in exact arithmetic
    return {
        "front": Mistake("you took the validation rows from the FRONT; Keras takes the LAST fraction",
                         (x[k:], y[k:], x[:k], y[:k])),
        "exact": Mistake(f"you computed the sizes in exact arithmetic (n - ceil(n * validation_split), say); "
                         f"Keras floors n * (1 - validation_split) as computed in floating point: here "
                         f"{n} * (1 - {validation_split!r}) is {n * (1 - validation_split)!r}, so the training "
                         f"part has {at} row{'s' if at != 1 else ''}",
                         (x[:exact], y[:exact], x[exact:], y[exact:])),
        "round": Mistake("you rounded n * (1 - validation_split); Keras floors it",
                         (x[:rounded], y[:rounded], x[rounded:], y[rounded:])),
        "ceil": Mistake("you computed the validation size as floor(n * validation_split); Keras floors the "
                        "TRAINING size, floor(n * (1 - validation_split))",
                        (x[:n - int(n * validation_split)], y[:n - int(n * validation_split)],
                         x[n - int(n * validation_split):], y[n - int(n * validation_split):])),
    }


@st.composite
def split_cases(draw):
    n = draw(st.integers(2, 40))
    features = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    x = rng.normal(size=(n, features)).astype(draw(st.sampled_from([np.float32, np.float64])))
    y = rng.integers(0, 3, size=(n,) if draw(st.booleans()) else (n, 1))
    vs = draw(st.sampled_from([0.1, 0.2, 0.25, 0.3, 1 / 3, 0.5, 0.7, 0.9, 0.15, 0.35]))
    if not 0 < int(math.floor(n * (1 - vs))) < n:
        vs = 0.5  # both parts must be non-empty (n >= 2)
    return Case((x, y, vs))


# Where floating point decides: 10 * (1 - 0.8) is 1.9999999999999996, so Keras trains on 1 row, not 2.
FLOATING_POINT_SPLITS = [Case((np.arange(20.0).reshape(10, 2), np.arange(10), 0.8))]


def check_split_validation(split_validation, cases=None, max_examples=25):
    """Compare with Keras's validation split (the last fraction, floor) on FLOATING_POINT_SPLITS (where floating
    point decides), then on drawn arrays; or on the given cases only."""
    name = "split_validation"

    def run_one(case):
        result = call_student(split_validation, *case.args, name=name, **case.kwargs)
        if not isinstance(result, (tuple, list)) or len(result) != 4:
            raise CheckFailed(f"`{name}` should return a tuple (x_train, y_train, x_val, y_val).", kind="wrong_type")
        got = [as_array(r, name) for r in result]
        expected = keras_split_validation(*case.args, **case.kwargs)
        call = describe_call(name, case.args, case.kwargs)
        mistakes = _split_mistakes(*case.args, **case.kwargs)
        for part, g, e in zip(("x_train", "y_train", "x_val", "y_val"), got, expected):
            i = ("x_train", "y_train", "x_val", "y_val").index(part)
            named = [Mistake(m.description, m.result[i]) for m in mistakes.values()]
            compare_arrays(g, e, what=f"{call}, {part}", exact=True, mistakes=named)

    # Where floating point decides come first: their message is the clearest.
    count = run_cases(run_one, name=name, cases=cases, first=FLOATING_POINT_SPLITS, strategy=split_cases(),
                      max_examples=max_examples)
    report_pass(name, "Keras's validation_split", count)


def check_split_validation_rejects(split_validation):
    """Each invalid split (lengths differ, validation_split outside [0, 1), a part empty) raises ValueError."""
    x, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    bad = [((x, y[:4], 0.2), {}, "x has 5 samples and y has 4"),
           ((x, y, 1.0), {}, "validation_split must be below 1"),
           ((x, y, -0.2), {}, "validation_split must be at least 0"),
           ((x, y, 0.0), {}, "validation_split=0 leaves no validation sample"),
           ((x[:1], y[:1], 0.5), {}, "a single sample cannot be split into two non-empty parts")]
    check_rejects(split_validation, bad, name="split_validation")


# --- exercise 2: batch_indices ------------------------------------------------------------------------------

def keras_batch_sizes(n, batch_size):
    """The sizes of the batches Keras's array data adapter yields for n samples (shuffle=False),
    read from its iterator over np.arange(n)."""
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    adapter = ArrayDataAdapter(np.arange(n, dtype=np.float32)[:, None], batch_size=batch_size, shuffle=False)
    batches = [batch[0] if isinstance(batch, tuple) else batch for batch in adapter.get_numpy_iterator()]
    return [np.asarray(b)[:, 0].astype(np.int64) for b in batches]


@st.composite
def batch_cases(draw):
    n = draw(st.integers(1, 70))
    batch_size = draw(st.sampled_from([1, 2, 3, 5, 8, 16, 32, 50, 64, 100]))
    kwargs = {} if batch_size == 32 and draw(st.booleans()) else {"batch_size": batch_size}
    return Case((n,), kwargs)


def _check_batches(batch_indices, case):
    name = "batch_indices"
    n = case.args[0]
    batch_size = case.kwargs.get("batch_size", 32)
    call = describe_call(name, case.args, case.kwargs)
    result = call_student(batch_indices, *case.args, name=name, **case.kwargs)
    if not isinstance(result, (list, tuple)):
        raise CheckFailed(f"{call} should return a list of index arrays; got {type(result).__name__}.",
                          kind="wrong_type")
    got = [as_array(r, name) for r in result]
    expected = keras_batch_sizes(n, batch_size)
    if len(got) != len(expected):
        hint = ""
        if len(got) == n // batch_size:
            hint = " You dropped the last, partial batch; Keras keeps it (it is just smaller)."
        raise CheckFailed(f"{call}: Keras makes {len(expected)} batches (sizes {[len(e) for e in expected]}), "
                          f"you made {len(got)}.{hint}", kind="wrong_shape")
    for i, (g, e) in enumerate(zip(got, expected)):
        if g.dtype.kind not in "iu":
            raise CheckFailed(f"{call}: batch {i} has dtype {g.dtype}; indices must be integers.", kind="wrong_type")
        compare_arrays(g, e, what=f"{call}, batch {i}", exact=True)


def _shuffled_batches(batch_indices, n, batch_size, rng, call):
    """One shuffled epoch of the student's batch_indices, checked for Keras's batch sizes and for holding
    every index once, in some other order than 0..n-1 (for n >= 8)."""
    name = "batch_indices"
    kwargs = {"batch_size": batch_size, "shuffle": True} | ({} if rng is None else {"rng": rng})
    result = call_student(batch_indices, n, name=name, **kwargs)
    if not isinstance(result, (list, tuple)):
        raise CheckFailed(f"{call} should return a list of index arrays; got {type(result).__name__}.",
                          kind="wrong_type")
    got = [as_array(r, name) for r in result]
    sizes = [len(e) for e in keras_batch_sizes(n, batch_size)]
    if [len(g) for g in got] != sizes:
        raise CheckFailed(f"{call}: with shuffle=True the batch sizes must still be {sizes} (as in Keras); "
                          f"you gave {[len(g) for g in got]}.", kind="wrong_shape")
    flat = np.concatenate(got) if got else np.zeros(0, dtype=np.int64)
    if not np.array_equal(np.sort(flat), np.arange(n)):
        raise CheckFailed(f"{call}: every index 0..{n - 1} must appear exactly once in one epoch.")
    if n >= 8 and np.array_equal(flat, np.arange(n)):
        raise CheckFailed(f"{call}: shuffle=True returned the indices in order; shuffle them with rng.")
    return got


def check_batch_indices_shuffled(batch_indices, n, batch_size, seed):
    """batch_indices(n, batch_size, shuffle=True, rng=...) on one input: Keras's batch sizes, every index once
    and not in order (n >= 8); the same batches for the same seed; a new order on each call with one rng (each
    epoch); and still shuffled with rng=None.

    Args:
        batch_indices: the student's function.
        n, batch_size: the input; seed: the seed of the np.random.default_rng it is given.

    Raises CheckFailed on the first rule broken; prints nothing (`check_batch_indices` reports the count).
    """
    call = f"batch_indices({n}, batch_size={batch_size}, shuffle=True, rng=np.random.default_rng({seed}))"
    got = _shuffled_batches(batch_indices, n, batch_size, np.random.default_rng(seed), call)
    again = _shuffled_batches(batch_indices, n, batch_size, np.random.default_rng(seed), call)
    if not all(np.array_equal(a, b) for a, b in zip(got, again)):
        raise CheckFailed(f"{call}: the same rng seed must give the same batches; draw the permutation "
                          "from `rng` (e.g. rng.permutation(n)), not from np.random.")
    rng = np.random.default_rng(seed)
    call = f"two calls of batch_indices({n}, batch_size={batch_size}, shuffle=True, rng=rng) with one rng"
    first, second = (_shuffled_batches(batch_indices, n, batch_size, rng, call) for _ in range(2))
    if n >= 8 and all(np.array_equal(a, b) for a, b in zip(first, second)):
        raise CheckFailed(f"{call} gave the same order twice; each call (each epoch) must draw a new permutation "
                          "from `rng`, not from a generator you seed yourself.")
    _shuffled_batches(batch_indices, n, batch_size, None,
                      f"batch_indices({n}, batch_size={batch_size}, shuffle=True) (rng=None: use a new unseeded "
                      "np.random.default_rng())")


def check_batch_indices(batch_indices, cases=None, max_examples=30):
    """Batches like Keras's array data adapter: consecutive, partial last batch, on drawn inputs (then one
    shuffled input, see `check_batch_indices_shuffled`) or on the given cases."""
    name = "batch_indices"
    count = run_cases(lambda case: _check_batches(batch_indices, case), name=name, cases=cases,
                      strategy=batch_cases(), max_examples=max_examples)
    if cases is None:  # and shuffle=True
        check_batch_indices_shuffled(batch_indices, 37, 8, 0)
        count += 1
    report_pass(name, "Keras's data adapter batches", count)


# --- exercise 3: class_weight_to_sample_weight --------------------------------------------------------------

def keras_class_weight_to_sample_weight(y, class_weight):
    """Keras's own conversion (keras.src.trainers.data_adapters.data_adapter_utils)."""
    from keras.src.trainers.data_adapters import data_adapter_utils

    return np.asarray(data_adapter_utils.class_weight_to_sample_weights(y, class_weight))


def class_weight_mistakes(y, class_weight):
    y = np.asarray(y)
    mistakes = []
    if y.ndim == 2 and y.shape[-1] > 1:
        mistakes.append(Mistake("you looked up the one-hot ROWS' first entry instead of the class (argmax of each row)",
                                np.array([class_weight.get(int(v), 1.0) for v in np.round(y[:, 0])], np.float32)))
    labels = _y_labels(y)
    mistakes.append(Mistake("classes missing from class_weight get weight 0; Keras gives them 1.0",
                            np.array([class_weight.get(int(v), 0.0) for v in labels], np.float32)))
    return mistakes


@st.composite
def class_weight_cases(draw):
    classes = draw(st.integers(2, 5))
    n = draw(st.integers(1, 20))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    labels = rng.integers(0, classes, size=n)
    form = draw(st.sampled_from(["int", "column", "onehot", "float"]))
    y = {"int": labels, "column": labels[:, None], "onehot": np.eye(classes)[labels],
         "float": labels.astype(np.float32)}[form]
    keys = draw(st.lists(st.integers(0, classes - 1), min_size=1, max_size=classes, unique=True))
    class_weight = {k: float(draw(st.sampled_from([0.5, 2.0, 3.0, 0.25, 10.0]))) for k in keys}
    return Case((y, class_weight))


def _float32_result(fn, name):
    """`fn`, whose float result must be float32 (Keras's sample weights are float32)."""

    def student(*args, **kwargs):
        result = as_array(fn(*args, **kwargs), name)
        if result.dtype.kind == "f" and result.dtype != np.float32:
            raise CheckFailed(f"{describe_call(name, args, kwargs)}: returned dtype {result.dtype}; the sample "
                              "weights must be float32, as Keras makes them.", kind="wrong_type")
        return result

    student.__name__ = name
    return student


def check_class_weight_to_sample_weight(fn, cases=None, max_examples=30):
    """Compare with Keras's class_weight -> sample_weight conversion (values, and the float32 dtype)."""
    name = "class_weight_to_sample_weight"
    student = _float32_result(fn, name)
    check_property(student, keras_class_weight_to_sample_weight, class_weight_cases(), name=name,
                   reference="Keras's class_weight conversion",
                   max_examples=max_examples, cases=cases, mistakes_fn=class_weight_mistakes)


# --- exercise 4: reduce_loss ----------------------------------------------------------------------------------

def keras_reduce_loss(per_sample_loss, sample_weight=None):
    """keras.losses.Loss with reduction='sum_over_batch_size' applied to the given per-sample values."""
    keras = keras_reference.keras()

    class Given(keras.losses.Loss):
        def call(self, y_true, y_pred):
            return y_pred

    values = np.asarray(per_sample_loss, dtype=np.float32)
    loss = Given(reduction="sum_over_batch_size")
    weights = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float32)
    return np.asarray(float(loss(np.zeros_like(values), values, sample_weight=weights)))


def reduce_loss_mistakes(per_sample_loss, sample_weight=None):
    values = np.asarray(per_sample_loss, dtype=np.float64)
    if sample_weight is None:
        return [Mistake("you summed instead of averaging", np.asarray(values.sum()))]
    w = np.asarray(sample_weight, dtype=np.float64)
    mistakes = [Mistake("you ignored sample_weight", np.asarray(values.mean()))]
    if w.sum() != 0:
        mistakes.insert(0, Mistake("you divided by sum(sample_weight); Keras divides by the NUMBER of samples",
                                   np.asarray((values * w).sum() / w.sum())))
    return mistakes


@st.composite
def reduce_cases(draw):
    n = draw(st.integers(1, 30))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    values = rng.gamma(2.0, size=n).astype(draw(st.sampled_from([np.float32, np.float64])))
    if draw(st.booleans()):
        return Case((values,))
    weights = rng.choice([0.0, 0.5, 1.0, 2.0, 3.0], size=n)
    if weights.sum() == 0:
        weights[0] = 2.0
    return Case((values,), {"sample_weight": weights})


def check_reduce_loss(reduce_loss, cases=None, max_examples=30):
    """Compare with keras.losses.Loss(reduction='sum_over_batch_size') on drawn losses and weights."""
    name = "reduce_loss"

    def student(*args, **kwargs):
        return np.asarray(as_number(reduce_loss(*args, **kwargs), name))

    student.__name__ = name
    check_property(student, keras_reduce_loss, reduce_cases(), name=name,
                   reference="keras.losses.Loss(reduction='sum_over_batch_size')",
                   max_examples=max_examples, cases=cases, mistakes_fn=reduce_loss_mistakes)


# --- a tiny Keras MLP with given weights --------------------------------------------------------------------

def build_keras_mlp(weights, activations, loss="mse"):
    """A Dense-only Sequential with these weights; kernels get L2(l2) when the loss dict says so."""
    keras = keras_reference.keras()
    _, l2 = _parse_loss(loss)
    layers = [keras.Input(shape=(np.asarray(weights[0]).shape[0],))]
    for kernel, activation in zip(weights[0::2], activations):
        regularizer = keras.regularizers.L2(l2) if l2 else None
        layers.append(keras.layers.Dense(np.asarray(kernel).shape[1], activation=activation,
                                         kernel_regularizer=regularizer))
    model = keras.Sequential(layers)
    model.set_weights([np.asarray(w, dtype=np.float32) for w in weights])
    return model


def random_mlp(rng, sizes, activations):
    """Glorot-uniform kernels and small random biases for Dense layers of the given sizes."""
    weights = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        limit = np.sqrt(6 / (fan_in + fan_out))
        weights.append(rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(np.float32))
        weights.append(rng.normal(scale=0.1, size=fan_out).astype(np.float32))
    return weights


def make_problem(seed, n=40, features=3, hidden=(5,), loss="categorical_crossentropy", hidden_activation="tanh"):
    """Learnable toy data (x, y), initial weights and activations for the loss's usual output layer."""
    rng = np.random.default_rng(seed)
    name, _ = _parse_loss(loss)
    x = rng.normal(size=(n, features)).astype(np.float32)
    if name == "categorical_crossentropy":
        classes = 3
        y = np.eye(classes, dtype=np.float32)[np.argmax(x @ rng.normal(size=(features, classes)), axis=1)]
        out_act = "softmax"
    elif name == "binary_crossentropy":
        classes = 1
        y = (x @ rng.normal(size=(features, 1)) > 0).astype(np.float32)
        out_act = "sigmoid"
    else:
        classes = 2
        y = (x @ rng.normal(size=(features, 2)) + 0.1 * rng.normal(size=(n, 2))).astype(np.float32)
        out_act = "linear"
    sizes = (features,) + tuple(hidden) + (classes,)
    activations = [hidden_activation] * len(hidden) + [out_act]
    return x, y, random_mlp(rng, sizes, activations), activations


# --- exercise 5: mlp_gradients --------------------------------------------------------------------------------

@keras_reference.same_for_every_student
def keras_mlp_gradients(x, y, weights, activations, loss):
    """tf.GradientTape of the batch loss as model.fit computes it: the compiled loss (mean over the batch,
    'sum_over_batch_size') of a Dense stack with these weights, plus the L2 kernel penalty (model.losses)."""
    import tensorflow as tf

    keras = keras_reference.keras()
    name, l2 = _parse_loss(loss)
    variables = [tf.Variable(np.asarray(w, dtype=np.float32)) for w in weights]
    loss_fn = keras.losses.get(name)
    with tf.GradientTape() as tape:
        h = tf.constant(np.asarray(x, dtype=np.float32))
        for i, activation in enumerate(activations):
            h = keras.activations.get(activation)(tf.matmul(h, variables[2 * i]) + variables[2 * i + 1])
        value = tf.reduce_mean(loss_fn(np.asarray(y, dtype=np.float32), h))
        if l2:
            value = value + tf.add_n([keras.regularizers.L2(l2)(k) for k in variables[0::2]])
    return [g.numpy() for g in tape.gradient(value, variables)]


@st.composite
def gradient_cases(draw):
    loss = draw(st.sampled_from(LOSSES))
    if draw(st.booleans()):
        loss = {"name": loss, "l2": draw(st.sampled_from([0.01, 0.1]))}
    hidden = draw(st.sampled_from([(), (4,), (5, 3)]))
    act = draw(st.sampled_from(["tanh", "relu", "sigmoid", "linear"]))
    n = draw(st.integers(1, 12))
    x, y, weights, activations = make_problem(draw(st.integers(0, 2**31)), n=n, features=draw(st.integers(1, 4)),
                                              hidden=hidden, loss=loss, hidden_activation=act)
    return Case((x, y, weights, activations, loss))


def _grad_mistakes(x, y, weights, activations, loss):
    """Same-input wrong gradients, computed with Keras: summed instead of averaged, regularization missing."""
    n = len(x)
    mistakes = []
    right = keras_mlp_gradients(x, y, weights, activations, loss)
    name, l2 = _parse_loss(loss)
    data_only = keras_mlp_gradients(x, y, weights, activations, name) if l2 else right
    if l2:
        mistakes.append(("you left out the gradient of the L2 penalty (2 * l2 * kernel)", data_only))
    if n > 1:
        _, reg = regularization(loss, weights)
        summed = [(g - r) * n + r for g, r in zip(right, reg)]
        mistakes.append(("you used the SUM of the per-sample gradients; the batch loss is their MEAN", summed))
    return mistakes


def _weight_names(count):
    return [f"{'kernel' if i % 2 == 0 else 'bias'} of layer {i // 2} (weights[{i}])" for i in range(count)]


# Gradients: the student may work in float64 while Keras works in float32; through 2-3 layers of matmuls,
# tanh/exp and the mean, the float32 reference carries a few 1e-7 of relative error per element, and the
# absolute floor (RTOL x largest gradient) covers elements that nearly cancel. 1e-5 is the course default.
GRAD_RTOL = RTOL


def check_mlp_gradients(mlp_gradients, cases=None, max_examples=8):
    """Compare every gradient with tf.GradientTape on the same weights and batch."""
    name = "mlp_gradients"

    def run_one(case):
        x, y, weights, activations, loss = case.args
        got = _as_list_of_arrays(call_student(mlp_gradients, *case.args, name=name), name, len(weights))
        expected = keras_mlp_gradients(*case.args)
        what = describe_call(name, case.args, {})
        names = _weight_names(len(weights))
        for i, (g, e) in enumerate(zip(got, expected)):
            if g.shape != e.shape:
                compare_arrays(g, e, what=f"{what}, {names[i]}")
        if all(np.allclose(g, e, rtol=GRAD_RTOL, atol=GRAD_RTOL * max(np.abs(e).max(), 1e-30))
               for g, e in zip(got, expected)):
            return
        # A known mistake is named when ALL the gradients are its (one flat array: matching_mistake's rule).
        mistakes = [Mistake(description, _flat(wrong)) for description, wrong in _grad_mistakes(*case.args)]
        mistake = matching_mistake(_flat(got), _flat(expected), mistakes, rtol=1e-4, atol=1e-6)
        if mistake:
            raise CheckFailed(f"{what}: wrong gradients.\n  {mistake.hint}", mistake=mistake)
        for i, (g, e) in enumerate(zip(got, expected)):
            compare_arrays(g, e, what=f"{what}, gradient of the {names[i]}", rtol=GRAD_RTOL)

    count = run_cases(run_one, name=name, cases=cases, strategy=gradient_cases(), max_examples=max_examples)
    report_pass(name, "tf.GradientTape", count)


def _flat(arrays):
    """A list of arrays as one float64 vector (all the gradients of a network, in get_weights() order)."""
    return np.concatenate([np.ravel(np.asarray(a, dtype=np.float64)) for a in arrays]) if arrays else np.zeros(0)


# --- exercise 6: fit ------------------------------------------------------------------------------------------

def keras_fit(x, y, weights, activations, loss, optimizer, run_eagerly=True, **fit_kwargs):
    """model.fit on a Dense Sequential with these initial weights: (final weights, history.history).

    run_eagerly=True (default) is faster for the few steps of a check (no tracing); pass False for long runs.
    Without shuffle=True (random batches) the result depends on the arguments alone and is remembered.
    """
    fit_once = _keras_fit if fit_kwargs.get("shuffle") else _keras_fit_remembered
    return fit_once(x, y, weights, activations, loss, optimizer, run_eagerly, **fit_kwargs)


def _keras_fit(x, y, weights, activations, loss, optimizer, run_eagerly, **fit_kwargs):
    name, _ = _parse_loss(loss)
    model = build_keras_mlp(weights, activations, loss)
    metrics = ["accuracy"] if name != "mse" else []
    model.compile(optimizer=_optimizer_from_spec(optimizer), loss=name, metrics=metrics, run_eagerly=run_eagerly)
    kwargs = dict(fit_kwargs)
    kwargs.setdefault("shuffle", False)
    history = model.fit(np.asarray(x, np.float32), np.asarray(y, np.float32), verbose=0, **kwargs)
    return [np.asarray(w) for w in model.get_weights()], {k: list(map(float, v)) for k, v in history.history.items()}


_keras_fit_remembered = keras_reference.same_for_every_student(_keras_fit)


# Final weights and history after a few epochs carry every step's float32 rounding (Keras) into the next steps,
# and Adam/RMSprop divide by sqrt(v). Measured for a float64 NumPy loop against model.fit on all six fit_case
# problems: weights differ by at most 1.6e-7 of the largest weight (the absolute floor compare_arrays uses) and
# history values by at most 1.3e-7 relative. The course default 1e-5 leaves a ~60x margin (room for a float32
# student loop), while every named mistake moves results by 1e-3 or more.
FIT_RTOL = RTOL


def _diagnose_history(key, shuffled=False):
    if shuffled:
        return ("With shuffle=True the batches are random, so this check trains with learning_rate=0 (the weights "
                "stay put) and compares only what does not depend on their order. The validation rows must still "
                "be the LAST rows of x as given: hold them out first, then shuffle only the training rows (a new "
                "order each epoch).")
    hints = {
        "loss": "Your final weights match Keras's, so the training is right but the reported loss is not. "
                "Keras reports, per epoch, the mean over batches of each batch's loss computed BEFORE that "
                "batch's update, weighted by batch size, and including the regularization penalty.",
        "val_loss": "val_loss is computed at the end of the epoch with the final weights, on the validation "
                    "rows only (validation_data wins over validation_split; sample weights of the validation rows "
                    "apply, class_weight does not), plus the regularization penalty.",
        "accuracy": "accuracy is the plain fraction of training samples classified correctly in the epoch "
                    "(from the predictions made before each batch's update); sample weights do not change it.",
        "val_accuracy": "val_accuracy: the fraction of validation samples classified correctly at epoch end.",
    }
    return hints.get(key, "")


def _check_fit_case(fit, case):
    name = "fit"
    x, y, weights, activations, loss, optimizer = case.args
    call = describe_call(name, case.args, case.kwargs)
    result = call_student(fit, *case.args, name=name, **case.kwargs)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailed(f"{call} should return (new_weights, history_dict).", kind="wrong_type")
    got_weights = _as_list_of_arrays(result[0], name, len(weights))
    history = result[1]
    if not isinstance(history, dict):
        raise CheckFailed(f"{call}: the second result should be a dict like Keras's history.history.",
                          kind="wrong_type")
    expected_weights, expected_history = keras_fit(*case.args, **case.kwargs)
    names = _weight_names(len(weights))
    for i, (g, e) in enumerate(zip(got_weights, expected_weights)):
        try:
            compare_arrays(g, e, what=f"{call}, final {names[i]}", rtol=FIT_RTOL)
        except CheckFailed as failure:
            raise failure.restated(f"{failure}\n  Hint: your updates differ from Keras's. Each batch's gradient is "
                                   "that of sum(L_i * w_i) / n_b plus the penalty (sample/class weights scale the rows "
                                   "of the logit gradient); take one optimizer step per batch with ONE optimizer for "
                                   "the whole run; run epochs initial_epoch .. epochs-1 on the training rows only."
                                   ) from None
    compare_history(history, expected_history, call=call, name=name, rtol=FIT_RTOL,
                    explain=lambda key, epoch, got: _diagnose_history(key, shuffled=bool(case.kwargs.get("shuffle"))))


def compare_history(history, expected_history, *, call, name, rtol, explain):
    """The student's `history` dict against Keras's `history.history`: the same keys, a list of one number per
    epoch run for each, each within `rtol` of Keras's (plus 1e-7 for values near 0, an accuracy or a loss).
    `explain(key, epoch, got)` gives the lines that follow "history[key][epoch] is got, Keras has expected."
    (notebooks 04, 09 and 10)."""
    if sorted(history) != sorted(expected_history):
        raise CheckFailed(f"{call}: history keys should be {sorted(expected_history)}; got {sorted(history)}.")
    for key, values in expected_history.items():
        if not isinstance(history[key], (list, tuple)) or len(history[key]) != len(values):
            raise CheckFailed(f"{call}: history[{key!r}] should be a list of {len(values)} numbers (one per epoch "
                              "run).", kind="wrong_type")
        for epoch, (g, e) in enumerate(zip(history[key], values)):
            g = as_number(g, name)
            if not abs(g - e) <= rtol * abs(e) + 1e-7:
                raise CheckFailed(f"{call}: history[{key!r}][{epoch}] is {g!r}, Keras has {e!r}.\n  "
                                  + explain(key, epoch, g))


def fit_case(kind):
    """The fit problems the notebook's checks use: 40 samples or fewer, batches with a partial last one."""
    x, y, w, acts = make_problem(1)
    if kind == "sgd":  # plain SGD; 10 of the 40 rows are held out, so the batches are 16 and 14
        return Case((x, y, w, acts, "categorical_crossentropy", {"name": "sgd", "learning_rate": 0.1}),
                    {"batch_size": 16, "epochs": 2, "validation_split": 0.25})
    if kind == "adam":
        return Case((x, y, w, acts, "categorical_crossentropy", {"name": "adam", "learning_rate": 0.01}),
                    {"batch_size": 24, "epochs": 2})
    if kind == "sample_weight":
        sw = np.random.default_rng(5).choice([0.5, 1.0, 2.0], size=len(x))
        return Case((x, y, w, acts, "categorical_crossentropy", {"name": "sgd", "learning_rate": 0.1}),
                    {"batch_size": 16, "epochs": 1, "sample_weight": sw, "validation_split": 0.2})
    xb, yb, wb, actsb = make_problem(2, n=30, loss="binary_crossentropy", hidden_activation="relu")
    if kind == "rmsprop_l2_initial_epoch":
        return Case((xb, yb, wb, actsb, {"name": "binary_crossentropy", "l2": 0.01},
                     {"name": "rmsprop", "learning_rate": 0.01}),
                    {"batch_size": 12, "epochs": 3, "initial_epoch": 1})
    if kind == "class_weight":
        return Case((x, y, w, acts, "categorical_crossentropy", {"name": "sgd", "learning_rate": 0.1}),
                    {"batch_size": 16, "epochs": 1, "class_weight": {0: 2.0, 2: 0.5}, "validation_split": 0.2})
    if kind == "mse_momentum_validation_data":
        xm, ym, wm, actsm = make_problem(4, n=30, loss="mse", hidden=(4,), hidden_activation="relu")
        return Case((xm, ym, wm, actsm, "mse", {"name": "sgd", "learning_rate": 0.05, "momentum": 0.9}),
                    {"batch_size": 12, "epochs": 2, "validation_data": (xm[:9] + 0.5, ym[:9])})
    if kind == "shuffle":  # random batches: with learning_rate=0 only the held-out rows decide the history
        xs, ys, ws, actss = make_problem(3, n=40)
        return Case((xs, ys, ws, actss, "categorical_crossentropy", {"name": "sgd", "learning_rate": 0.0}),
                    {"batch_size": 16, "epochs": 2, "validation_split": 0.25, "shuffle": True})
    if kind == "weighted_validation_data_l2_defaults":  # validation_split is ignored; batch_size=32, epochs=1
        xv, yv, wv, actsv = make_problem(9, n=45)
        w_val = np.random.default_rng(9).choice([0.5, 1.0, 3.0], size=12)
        return Case((xv, yv, wv, actsv, {"name": "categorical_crossentropy", "l2": 0.01},
                     {"name": "sgd", "learning_rate": 0.1}),
                    {"validation_split": 0.2, "validation_data": (xv[:12] * 0.5, yv[:12], w_val)})
    raise ValueError(f"unknown fit case {kind!r}")


def check_fit(fit, cases=None, kinds=("sgd",)):
    """Compare history and final weights with model.fit on the same initial weights (shuffle=False, except
    the "shuffle" case, which trains with learning_rate=0).

    Args:
        cases: Cases to run; by default the named `kinds` of `fit_case` (one model.fit each, ~0.5 s).
    """
    cases = [fit_case(kind) for kind in kinds] if cases is None else cases
    count = run_cases(lambda case: _check_fit_case(fit, case), name="fit", cases=cases)
    report_pass("fit", "model.fit (history and final weights)", count)


def check_fit_rejects(fit):
    """Each invalid call (lengths differ, validation_split outside [0, 1), class_weight with sample_weight, an
    unknown class) raises ValueError."""
    x, y, w, acts = make_problem(6, n=10)
    common = (w, acts, "categorical_crossentropy", "sgd")
    bad = [((x, y[:9]) + common, {}, "x has 10 samples and y has 9 (Keras: 'Data cardinality is ambiguous')"),
           ((x, y) + common, {"validation_split": 1.0}, "validation_split must be in [0, 1)"),
           ((x, y) + common, {"validation_split": -0.1}, "validation_split must be in [0, 1)"),
           ((x, y) + common, {"class_weight": {0: 1.0}, "sample_weight": np.ones(10)},
            "class_weight and sample_weight cannot be used together"),
           ((x, y) + common, {"class_weight": {7: 2.0}}, "class 7 does not exist (y has 3 classes)")]
    check_rejects(fit, bad, name="fit")
