"""Notebook 05: weight penalties, dropout and early stopping, checked against keras.regularizers,
tf.GradientTape, model.losses / model.evaluate, keras.layers.Dropout (statistically) and a real
keras.callbacks.EarlyStopping driven over the same validation curve."""
import numpy as np
from hypothesis import strategies as st

from autograder.checks import keras_reference
from autograder.checks.runner import (Case, check_property, check_rejects, compare_once, report_pass,
                                      report_properties, report_rejects, run_cases)
from autograder.checks.compare import RTOL, Mistake, compare_arrays
from autograder.checks.errors import CheckFailed
from autograder.checks.calling import as_array, as_number, call_student


# --- helpers ----------------------------------------------------------------------------------------------

def _returning_number(fn, name):
    """Wrap a student function that returns a number so the array comparison can take it (as a 0-d array);
    anything else but a function is left as it is, for `call_student` to say what is wrong with it."""
    if not callable(fn):
        return fn

    def wrapped(*args, **kwargs):
        return np.asarray(as_number(fn(*args, **kwargs), name))
    return wrapped


def _l1l2(w, l1, l2):
    keras = keras_reference.keras()
    return float(np.asarray(keras.regularizers.L1L2(l1=l1, l2=l2)(np.asarray(w))))


# --- references -------------------------------------------------------------------------------------------

@keras_reference.same_for_every_student
def keras_l1_penalty(w, l1=0.01):
    """keras.regularizers.L1(l1) called on the array."""
    keras = keras_reference.keras()
    return np.asarray(float(np.asarray(keras.regularizers.L1(l1)(np.asarray(w)))))


@keras_reference.same_for_every_student
def keras_l2_penalty(w, l2=0.01):
    """keras.regularizers.L2(l2) called on the array."""
    keras = keras_reference.keras()
    return np.asarray(float(np.asarray(keras.regularizers.L2(l2)(np.asarray(w)))))


def keras_l1_l2_penalty(w, l1=0.0, l2=0.0):
    """keras.regularizers.L1L2(l1, l2) called on the array."""
    return np.asarray(_l1l2(w, l1, l2))


@keras_reference.same_for_every_student
def keras_penalty_gradient(w, l1=0.0, l2=0.0):
    """d L1L2(l1, l2)(w) / dw from tf.GradientTape (TF's subgradient of |w| at 0 is sign(0) = 0)."""
    import tensorflow as tf

    keras = keras_reference.keras()
    variable = tf.Variable(np.asarray(w))
    with tf.GradientTape() as tape:
        penalty = keras.regularizers.L1L2(l1=l1, l2=l2)(variable)
    grad = tape.gradient(penalty, variable)
    return np.zeros_like(np.asarray(w)) if grad is None else np.asarray(grad)


def keras_regularized_loss(data_loss, weights, l1=0.0, l2=0.0):
    """The data loss plus one keras.regularizers.L1L2(l1, l2) penalty per kernel."""
    return np.asarray(float(data_loss) + sum(_l1l2(w, l1, l2) for w in weights))


# --- known mistakes ---------------------------------------------------------------------------------------

def _sum_abs(w):
    return float(np.sum(np.abs(np.asarray(w, dtype=np.float64))))


def _sum_sq(w):
    return float(np.sum(np.square(np.asarray(w, dtype=np.float64))))


def _mean(values):
    return float(np.mean(values)) if np.size(values) else 0.0


def _l2_mistakes(w, l2):
    w64 = np.asarray(w, dtype=np.float64)
    return [Mistake("you use ½·l2·Σw² (the textbook ½ convention); Keras's L2 has no ½: l2·Σw²",
                    np.asarray(0.5 * l2 * _sum_sq(w))),
            Mistake("you take the norm sqrt(Σw²) instead of the squared sum Σw²",
                    np.asarray(l2 * np.sqrt(_sum_sq(w)))),
            Mistake("you average the squares (mean) instead of summing them", np.asarray(l2 * _mean(w64 ** 2)))]


def l1_penalty_mistakes(w, l1=0.01):
    w64 = np.asarray(w, dtype=np.float64)
    return [Mistake("you average |w| (mean) instead of summing it", np.asarray(l1 * _mean(np.abs(w64)))),
            Mistake("you sum w itself instead of |w|", np.asarray(l1 * float(np.sum(w64)))),
            Mistake("you compute an L2 penalty (squares) instead of L1 (absolute values)",
                    np.asarray(l1 * _sum_sq(w)))]


def l2_penalty_mistakes(w, l2=0.01):
    return _l2_mistakes(w, l2)


def l1_l2_penalty_mistakes(w, l1=0.0, l2=0.0):
    return [Mistake("l1 and l2 are swapped (l1 multiplies the squares, l2 the absolute values)",
                    np.asarray(l2 * _sum_abs(w) + l1 * _sum_sq(w))),
            Mistake("you use ½·l2·Σw²; Keras has no ½", np.asarray(l1 * _sum_abs(w) + 0.5 * l2 * _sum_sq(w))),
            Mistake("you take sqrt(Σw²) instead of Σw²", np.asarray(l1 * _sum_abs(w) + l2 * np.sqrt(_sum_sq(w)))),
            Mistake("you use the default 0.01 of L1()/L2() when l1 or l2 is 0; L1L2 defaults to 0 and 0",
                    np.asarray((l1 or 0.01) * _sum_abs(w) + (l2 or 0.01) * _sum_sq(w)))]


def penalty_gradient_mistakes(w, l1=0.0, l2=0.0):
    w64 = np.asarray(w, dtype=np.float64)
    sign = np.sign(w64)
    return [Mistake("the L2 part lacks the factor 2: d(l2·w²)/dw = 2·l2·w", l1 * sign + l2 * w64),
            Mistake("the gradient of |w| at w = 0 is taken as +1; TF uses sign(0) = 0",
                    l1 * np.where(w64 >= 0, 1.0, -1.0) + 2 * l2 * w64),
            Mistake("l1 and l2 are swapped", l2 * sign + 2 * l1 * w64),
            Mistake("the L1 part is l1·w instead of l1·sign(w)", l1 * w64 + 2 * l2 * w64)]


def regularized_loss_mistakes(data_loss, weights, l1=0.0, l2=0.0):
    penalties = [l1 * _sum_abs(w) + l2 * _sum_sq(w) for w in weights]
    total = float(np.sum(penalties))
    return [Mistake("you average the per-kernel penalties instead of adding them",
                    np.asarray(data_loss + (float(np.mean(penalties)) if penalties else 0.0))),
            Mistake("you return only the penalty and forget the data loss", np.asarray(total)),
            Mistake("you penalise only the first kernel", np.asarray(data_loss + (penalties[0] if penalties else 0.0))),
            Mistake("you use ½·l2·Σw²; Keras has no ½",
                    np.asarray(data_loss + sum(l1 * _sum_abs(w) + 0.5 * l2 * _sum_sq(w) for w in weights)))]


# --- inputs -----------------------------------------------------------------------------------------------

_FACTORS = st.sampled_from([0.0, 0.01, 0.001, 0.1, 0.5, 1.0, 3.0])


@st.composite
def weight_arrays(draw, min_dims=0):
    """float32/float64 arrays of up to 3 dims (0-d and empty included), values of magnitude up to 100 spread
    over several orders, often with exact zeros. Values come from a NumPy generator seeded by hypothesis: far
    cheaper than drawing element by element, which matters for a check that must finish in a second."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=min_dims, max_size=3)))
    zeros = draw(st.sampled_from([0.0, 0.0, 0.3, 1.0]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    values = rng.choice([-1.0, 1.0], size=shape) * 10.0 ** rng.uniform(-3, 2, size=shape)
    return np.where(rng.random(shape) < zeros, 0.0, values).astype(dtype)


def l1_penalty_cases():
    return st.builds(lambda w, l1, default: Case((w,), {} if default else {"l1": l1}),
                     weight_arrays(), _FACTORS, st.booleans())


def l2_penalty_cases():
    return st.builds(lambda w, l2, default: Case((w,), {} if default else {"l2": l2}),
                     weight_arrays(), _FACTORS, st.booleans())


def l1_l2_penalty_cases():
    return st.builds(lambda w, l1, l2: Case((w,), {"l1": l1, "l2": l2}), weight_arrays(), _FACTORS, _FACTORS)


def penalty_gradient_cases():
    return st.builds(lambda w, l1, l2: Case((w,), {"l1": l1, "l2": l2}),
                     weight_arrays(min_dims=1), st.sampled_from([0.01, 0.1, 1.0, 0.0]), _FACTORS)


@st.composite
def regularized_loss_cases(draw):
    weights = draw(st.lists(weight_arrays(min_dims=1), min_size=0, max_size=3))
    data_loss = draw(st.floats(0, 10, allow_subnormal=False))
    return Case((data_loss, weights), {"l1": draw(_FACTORS), "l2": draw(_FACTORS)})


# --- checks: penalties ------------------------------------------------------------------------------------

def check_l1_penalty(l1_penalty, cases=None, max_examples=8):
    """Compare with keras.regularizers.L1(l1)(w) on drawn arrays (or the given Cases)."""
    name = "l1_penalty"
    student = _returning_number(l1_penalty, name)
    check_property(student, keras_l1_penalty, l1_penalty_cases(), name=name,
                   reference="keras.regularizers.L1",
                   max_examples=max_examples, cases=cases, mistakes_fn=l1_penalty_mistakes)


def check_l2_penalty(l2_penalty, cases=None, max_examples=8):
    """Compare with keras.regularizers.L2(l2)(w) on drawn arrays (or the given Cases)."""
    name = "l2_penalty"
    student = _returning_number(l2_penalty, name)
    check_property(student, keras_l2_penalty, l2_penalty_cases(), name=name,
                   reference="keras.regularizers.L2",
                   max_examples=max_examples, cases=cases, mistakes_fn=l2_penalty_mistakes)


# keras.regularizers.L1L2() without arguments: l1 = l2 = 0 (not L1()'s and L2()'s 0.01).
L1_L2_DEFAULTS = [Case((np.array([1.5, -2.0, 0.25]),))]


def check_l1_l2_penalty(l1_l2_penalty, cases=None, max_examples=10):
    """Compare with keras.regularizers.L1L2(l1, l2)(w) on drawn arrays, then with the defaults l1 = l2 = 0
    (L1_L2_DEFAULTS); or on the given Cases."""
    name = "l1_l2_penalty"
    student = _returning_number(l1_l2_penalty, name)

    def run_one(case):
        compare_once(student, keras_l1_l2_penalty, case, name=name, mistakes_fn=l1_l2_penalty_mistakes)

    count = run_cases(run_one, name=name, cases=cases, strategy=l1_l2_penalty_cases(), max_examples=max_examples,
                      fixed=L1_L2_DEFAULTS)
    report_pass(name, "keras.regularizers.L1L2", count)


NEGATIVE_FACTORS = [("l1_penalty", {"l1": -0.01}), ("l2_penalty", {"l2": -0.5}),
                    ("l1_l2_penalty", {"l1": -1.0}), ("l1_l2_penalty", {"l2": -0.1})]


def check_penalties_reject(functions, bad=NEGATIVE_FACTORS):
    """Each named function must raise ValueError for a negative factor; `functions` maps name -> function,
    `bad` lists (name, keyword arguments) pairs."""
    names = list(dict.fromkeys(name for name, _ in bad))
    for name in names:
        check_rejects(functions[name], [((np.ones(3),), kwargs, f"{kwargs} is negative") for n, kwargs in bad
                                        if n == name], name=name, quiet=True)
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    report_rejects(listed, len(bad), what="negative factors")


# --- checks: gradient and total loss ----------------------------------------------------------------------

# The kink of |w| at exact zeros, and the factor 2 of the L2 part, on one small input.
PENALTY_GRADIENT_KINK = [Case((np.array([0.0, -2.0, 3.0, 0.0], np.float32),), {"l1": 0.1, "l2": 0.25})]


def check_penalty_gradient(penalty_gradient, cases=None, max_examples=15):
    """Compare with tf.GradientTape on keras.regularizers.L1L2(l1, l2)(w) on drawn arrays, exact zeros in w
    included, then on PENALTY_GRADIENT_KINK; or on the given Cases."""
    name = "penalty_gradient"

    def run_one(case):
        compare_once(penalty_gradient, keras_penalty_gradient, case, name=name,
                     mistakes_fn=penalty_gradient_mistakes)

    count = run_cases(run_one, name=name, cases=cases, strategy=penalty_gradient_cases(), max_examples=max_examples,
                      fixed=PENALTY_GRADIENT_KINK)
    report_pass(name, "tf.GradientTape on keras.regularizers.L1L2", count)


def _model_with_kernels(kernels, l1, l2, biases):
    keras = keras_reference.keras()
    layers = [keras.Input((kernels[0].shape[0],))]
    layers += [keras.layers.Dense(k.shape[1], kernel_regularizer=keras.regularizers.L1L2(l1=l1, l2=l2))
               for k in kernels]
    model = keras.Sequential(layers)
    model.set_weights([a for k, b in zip(kernels, biases) for a in (k, b)])
    return model


def _check_on_a_model(student, evaluate):
    """Compare the (wrapped) regularized_loss with a real 2-layer model with L1L2 kernels: data loss +
    sum(model.losses), or model.evaluate's loss; return what it was compared with."""
    keras = keras_reference.keras()
    rng = np.random.default_rng(5)
    kernels = [rng.normal(size=(4, 6)).astype("float32"), rng.normal(size=(6, 2)).astype("float32")]
    biases = [rng.normal(size=6).astype("float32"), rng.normal(size=2).astype("float32")]
    l1, l2 = 0.003, 0.02
    model = _model_with_kernels(kernels, l1, l2, biases)
    x = rng.normal(size=(16, 4)).astype("float32")
    y = rng.normal(size=(16, 2)).astype("float32")
    data_loss = float(np.asarray(keras.losses.MeanSquaredError()(y, model(x))))
    if evaluate:
        model.compile(loss="mse")
        expected = float(model.evaluate(x, y, verbose=0, batch_size=16))
        reference = "model.evaluate with kernel_regularizer=L1L2"
    else:
        expected = data_loss + float(sum(float(np.asarray(p)) for p in model.losses))
        reference = "data loss + sum(model.losses)"
    case = Case((data_loss, kernels), {"l1": l1, "l2": l2})
    compare_once(student, lambda *a, **k: np.asarray(expected), case, name="regularized_loss",
                 mistakes_fn=regularized_loss_mistakes)
    return reference


def check_regularized_loss(regularized_loss, cases=None, max_examples=15, evaluate=False):
    """Compare with data loss + Σ L1L2(l1, l2)(kernel) on drawn inputs, then with a real model:
    data loss + sum(model.losses) (and, with evaluate=True, model.evaluate's loss); or on the given Cases."""
    name = "regularized_loss"
    student = _returning_number(regularized_loss, name)
    count = run_cases(lambda case: compare_once(student, keras_regularized_loss, case, name=name,
                                                mistakes_fn=regularized_loss_mistakes),
                      name=name, cases=cases, strategy=regularized_loss_cases(), max_examples=max_examples)
    also = "" if cases is not None else f", and {_check_on_a_model(student, evaluate)} on a 2-layer model"
    report_pass(name, "data loss + keras.regularizers.L1L2 penalties", count, also=also)

# --- dropout ----------------------------------------------------------------------------------------------

SIGMAS = 5.0  # a correct answer falls outside 5 binomial standard deviations with probability < 1e-6


def _dropout_out(dropout, x, rate, training, rng, name="dropout"):
    kwargs = {} if rng is None else {"rng": rng}
    out = as_array(call_student(dropout, x, rate, training, name=name, **kwargs), name)
    if out.shape != x.shape:
        raise CheckFailed(f"dropout(x of shape {x.shape}, rate={rate}, training={training}) returned shape "
                          f"{out.shape}; it must keep the shape of x.", kind="wrong_shape")
    if out.dtype.kind != "f":
        raise CheckFailed(f"dropout returned dtype {out.dtype}; it must return floats.", kind="wrong_type")
    return out


# Dropout's known mistakes (its output is random, so they are named by the statistics they leave).
DROPOUT_RATE_KEPT = Mistake("you use rate as the probability of KEEPING a unit (Keras drops a fraction rate)")
DROPOUT_SCALED_BY_RATE = Mistake("you divide the kept units by rate instead of by the keep probability 1 - rate")
DROPOUT_NOT_SCALED = Mistake("you do not scale the kept units (inverted dropout divides them by 1 - rate)")


def _dropout_statistics(x, out, rate, who):
    """Check the inverted-dropout rule on one output; return (fraction dropped, scale of the kept units)."""
    nonzero = x != 0
    kept = (out != 0) & nonzero
    expected = x[kept].astype(np.float64) / (1.0 - rate)
    if not np.allclose(out[kept], expected, rtol=RTOL, atol=0):
        i = int(np.argmax(np.abs(out[kept] - expected) / np.abs(expected)))
        factor = float(out[kept][i] / x[kept][i])
        mistake = (DROPOUT_SCALED_BY_RATE if np.isclose(factor, 1 / rate)
                   else DROPOUT_NOT_SCALED if np.isclose(factor, 1.0) else None)
        hint = f"\n  Hint: it looks as if {mistake.description}." if mistake else ""
        raise CheckFailed(f"{who}, rate={rate}: a kept unit should be x / (1 - rate) = x * {1 / (1 - rate):.6g}, "
                          f"but one is x * {factor:.6g}.{hint}", mistake=mistake)
    if np.any(out[~nonzero] != 0):
        raise CheckFailed(f"{who}, rate={rate}: where x is 0 the output must be 0.")
    n = int(nonzero.sum())
    fraction = float(np.mean(out[nonzero] == 0))
    bound = SIGMAS * np.sqrt(rate * (1 - rate) / n)
    if abs(fraction - rate) > bound:
        mistake = DROPOUT_RATE_KEPT if abs(fraction - (1 - rate)) <= bound else None
        hint = f"\n  Hint: it looks as if {mistake.description}." if mistake else ""
        raise CheckFailed(f"{who}, rate={rate}: {fraction:.4f} of {n} units were dropped; the fraction should be "
                          f"rate = {rate} give or take {bound:.4f} ({SIGMAS:g} standard deviations).{hint}",
                          mistake=mistake)
    return fraction


def _keras_dropout(x, rate, seed):
    keras = keras_reference.keras()
    return np.asarray(keras.layers.Dropout(rate, seed=seed)(x, training=True))


DROPOUT_CASES = [((200, 250), 0.2, np.float32, 1), ((100, 10, 30), 0.75, np.float64, 2)]


def check_dropout(dropout, cases=DROPOUT_CASES):
    """Inverted dropout, checked without Keras's random numbers. Each case (shape, rate, dtype, seed) checks:
    identity when not training and when rate = 0; every kept unit equals x / (1 - rate); the dropped fraction
    is rate within 5 binomial standard deviations, like keras.layers.Dropout's on the same x; a seeded
    np.random.default_rng gives the same mask twice; two calls with rng=None give different masks."""

    def run_one(case):
        shape, rate, dtype, seed = case
        data = np.random.default_rng(seed)
        x = (data.uniform(0.5, 2.0, size=shape) * data.choice([-1.0, 1.0], size=shape)).astype(dtype)
        x.flat[::97] = 0.0  # zeros in x stay zeros and are not counted as dropped
        who = f"dropout(x of shape {shape}, {np.dtype(dtype).name})"
        for training, r in ((False, rate), (True, 0.0)):
            out = _dropout_out(dropout, x, r, training, np.random.default_rng(seed))
            compare_arrays(out, x, what=f"{who}, rate={r}, training={training} (must return x unchanged)",
                           exact=True)
        first = _dropout_out(dropout, x, rate, True, np.random.default_rng(seed + 100))
        fraction = _dropout_statistics(x, first, rate, who)
        again = _dropout_out(dropout, x, rate, True, np.random.default_rng(seed + 100))
        if not np.array_equal(first, again):
            raise CheckFailed(f"{who}: two calls with rng=np.random.default_rng({seed + 100}) gave different masks; "
                              "draw the mask from the rng you are given.")
        other = _dropout_out(dropout, x, rate, True, np.random.default_rng(seed + 200))
        if np.array_equal(first, other):
            raise CheckFailed(f"{who}: different seeds gave the same mask; draw the mask from `rng`.")
        unseeded = _dropout_out(dropout, x, rate, True, None)
        _dropout_statistics(x, unseeded, rate, who + " with rng=None")
        if np.array_equal(unseeded, _dropout_out(dropout, x, rate, True, None)):
            raise CheckFailed(f"{who}: two calls with rng=None gave the same mask; without an rng, make a fresh "
                              "np.random.default_rng() (no seed), so every call draws a new mask.")
        keras_fraction = _dropout_statistics(x, _keras_dropout(x, rate, seed), rate, "keras.layers.Dropout")
        n = int(np.count_nonzero(x))
        if abs(fraction - keras_fraction) > SIGMAS * np.sqrt(2 * rate * (1 - rate) / n):
            raise CheckFailed(f"{who}: you drop {fraction:.4f}, keras.layers.Dropout {keras_fraction:.4f} of the "
                              "units; that is more than chance allows.")

    count = run_cases(run_one, name="dropout", cases=cases)
    report_properties("dropout", "identity at inference and for rate=0, kept units scaled by 1/(1 - rate), dropped "
                      "fraction as keras.layers.Dropout's, reproducible with a seeded rng, new without one", count)


def check_dropout_rejects(dropout, rates=(-0.1, 1.0, 1.5)):
    """Each rate outside [0, 1) must make dropout raise ValueError."""
    check_rejects(dropout, [((np.ones((2, 3)), rate, True), {}, f"rate={rate} is outside [0, 1)") for rate in rates],
                  name="dropout", what="rates outside [0, 1)")


# --- early stopping ---------------------------------------------------------------------------------------

class _FakeModel:
    """Just enough of a model for EarlyStopping: weights are the epoch number, so restoring is observable."""

    def __init__(self):
        self.epoch = 0
        self.stop_training = False
        self.weights_epoch = None

    def get_weights(self):
        return [np.array(self.epoch)]

    def set_weights(self, weights):
        self.weights_epoch = int(weights[0])


def keras_early_stopping_epoch(val_losses, patience, min_delta=0.0, restore_best_weights=False):
    """Drive a real keras.callbacks.EarlyStopping over the curve; return (last epoch run, epoch of the weights
    the model ends with)."""
    keras = keras_reference.keras()
    callback = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, min_delta=min_delta,
                                             restore_best_weights=restore_best_weights)
    model = _FakeModel()
    callback.set_model(model)
    callback.on_train_begin()
    for epoch, value in enumerate(val_losses):
        model.epoch = epoch
        callback.on_epoch_end(epoch, {"val_loss": float(value)})
        if model.stop_training:
            break
    callback.on_train_end()
    last = model.epoch
    return np.array([last, last if model.weights_epoch is None else model.weights_epoch])


def _simulate(val_losses, patience, min_delta, restore, *, ties=False, signed=False, strict_wait=False,
              no_restore=False, reset_best=False):
    delta = min_delta if signed else abs(min_delta)
    best, best_epoch, wait, last = None, 0, 0, len(val_losses) - 1
    for epoch, value in enumerate(val_losses):
        wait += 1
        better = best is None or (value + delta <= best if ties else value + delta < best)
        if better:
            best, best_epoch, wait = value, epoch, 0
            continue
        if (wait > patience if strict_wait else wait >= patience) and epoch > 0:
            last = epoch
            break
    return np.array([last, best_epoch if restore and not no_restore else last])


def early_stopping_mistakes(val_losses, patience, min_delta=0.0, restore_best_weights=False):
    args = (val_losses, patience, min_delta, restore_best_weights)
    return [Mistake("a tie (value equal to the best so far) counts as an improvement; Keras needs strictly "
                    "better: value + min_delta < best", _simulate(*args, ties=True)),
            Mistake("min_delta is used with its sign; Keras uses abs(min_delta)", _simulate(*args, signed=True)),
            Mistake("you stop one epoch late: Keras stops as soon as `patience` epochs in a row did not improve",
                    _simulate(*args, strict_wait=True)),
            Mistake("restore_best_weights is ignored: with it, the weights come from the best epoch",
                    _simulate(*args, no_restore=True))]


@st.composite
def early_stopping_cases(draw):
    if draw(st.booleans()):  # a rough U-shaped learning curve, with plateaus
        n = draw(st.integers(3, 14))
        bottom = draw(st.integers(0, n - 1))
        noise = draw(st.lists(st.integers(-1, 1), min_size=n, max_size=n))
        losses = [abs(i - bottom) + 4 + e for i, e in enumerate(noise)]
    else:  # few distinct values: many ties
        losses = draw(st.lists(st.integers(0, 5), min_size=1, max_size=12))
    losses = [v / 4 for v in losses]  # multiples of 1/4 are exact in float32, as Keras compares
    return Case((losses, draw(st.integers(0, 4))),
                {"min_delta": draw(st.sampled_from([0.0, 0.0, 0.25, 0.5, -0.25])),
                 "restore_best_weights": draw(st.booleans())})


def _returning_epochs(fn):
    def wrapped(*args, **kwargs):
        result = fn(*args, **kwargs)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise CheckFailed("`early_stopping_epoch` should return a tuple (stop_epoch, weights_epoch), "
                              f"got {result!r}.", kind="wrong_type")
        epochs = []
        for v in result:
            number = as_number(v, "early_stopping_epoch")
            if not isinstance(v, (int, np.integer)):
                raise CheckFailed(f"`early_stopping_epoch` returned {result!r}; both entries are epoch indices, so "
                                  f"return ints (e.g. int({number:g})), not {type(v).__name__}.", kind="wrong_type")
            epochs.append(int(number))
        return np.array(epochs)
    return wrapped


def check_early_stopping_epoch(early_stopping_epoch, cases=None, max_examples=30):
    """Compare with a keras.callbacks.EarlyStopping driven over the same validation losses."""
    name = "early_stopping_epoch"
    wrapped = _returning_epochs(early_stopping_epoch) if callable(early_stopping_epoch) else early_stopping_epoch
    check_property(wrapped, keras_early_stopping_epoch, early_stopping_cases(), name=name,
                   reference="keras.callbacks.EarlyStopping",
                   max_examples=max_examples, cases=cases, exact=True, mistakes_fn=early_stopping_mistakes)


def warm_up_regularizers():
    """Pay the one-time costs (hypothesis array strategies, TensorFlow's first ops and first gradient) in the
    setup cell, so the first check cell measures only the check."""
    from autograder.checks.runner import warm_up

    warm_up()
    check_property(lambda w, l1=0.01: np.asarray(0.0), lambda w, l1=0.01: np.asarray(0.0), l1_penalty_cases(),
                   name="warm-up", reference="", max_examples=3, quiet=True)
    keras_l1_l2_penalty(np.ones(2, np.float32), 0.1, 0.1)
    keras_penalty_gradient(np.ones(2, np.float32), 0.1, 0.1)
    keras_early_stopping_epoch([1.0, 2.0], 0)
