"""Notebook 03, optimizer steps: `keras.optimizers.*` applied to a `keras.Variable` against the student's NumPy
step functions, for 10-20 consecutive steps with the same gradients.

The cases are fixed, seeded gradient sequences (see `optimizer_cases`), run through the one runner
(`checks.runner.run_cases`). A Keras optimizer costs ~10 ms per step, so every case with the same
hyperparameters runs in ONE Keras optimizer (see `keras_paths`). Every known mistake is a wrong step function
run here on the same gradients, so that a failure can name it (`compare.matching_mistake` on the whole path).
"""
import warnings

import numpy as np

from autograder.checks.calling import as_array, call_student
from autograder.checks.compare import RTOL, Mistake, compare_arrays, matching_mistake
from autograder.checks.describe import type_name
from autograder.checks.errors import CheckFailed
from autograder.checks.keras_reference import keras, same_for_every_student
from autograder.checks.runner import Case, check_rejects, input_size, invalid_inputs, rejects_tail, report_pass, run_cases
from autograder.topics.compile.shared import agrees, f64, show, to_numpy

ADAM_RTOL = 2e-5
"""Relative tolerance of the Adam check. Keras computes its bias correction sqrt(1 - beta_2**t) with beta_2 passed
through float32 (`ops.cast` of a Python float makes a float32 tensor first), even on a float64 variable:
float32(0.999) = 0.99900001, which moves sqrt(1 - beta_2) by 6.4e-6 relative at t = 1. Measured over 20 steps
of tiny gradients (where the whole path is made of such steps): 6.5e-6 of the largest value. An exact float64
answer cannot reproduce that rounding, so Adam gets 2e-5 (3x the measured drift); every Adam mistake the check
names moves the path by far more (no bias correction: a factor ~3 at step 1)."""

OPTIMIZER_STEPS = 10  # consecutive steps per visible case (hidden cases use 15-20)


# =============================================================================================================
# Keras paths
# =============================================================================================================

KERAS_OPTIMIZERS = {"sgd_step": "SGD", "rmsprop_step": "RMSprop", "adam_step": "Adam", "adagrad_step": "Adagrad"}


def _keras_hyperparameters(kwargs):
    # Keras's SGD insists on a float momentum (momentum=0 raises) and on a bool nesterov.
    return {k: (bool(v) if k == "nesterov" else float(v)) for k, v in kwargs.items()}


@same_for_every_student
def keras_paths(class_name, cases):
    """The parameter after each step of keras.optimizers.<class_name>, for every Case((param0, grads), kwargs).

    Cases with the same hyperparameters and number of steps share ONE optimizer and ONE float64 keras.Variable
    that holds their parameters side by side (flattened). SGD, RMSprop, Adam and Adagrad (without clipnorm or
    weight decay) update every element from that element's own gradient and slots, and all elements step
    together, so each case's slice is exactly what a run on that case alone gives, for the cost of one run.
    float64 variables keep Keras's own float32 rounding out of the comparison (except ADAM_RTOL's beta_2).

    Returns:
        list (one per case) of float64 arrays of shape (steps,) + param.shape.
    """
    keras_module = keras()
    groups = {}
    for index, case in enumerate(cases):
        key = (tuple(sorted(case.kwargs.items())), len(case.args[1]))
        groups.setdefault(key, []).append(index)
    paths = [None] * len(cases)
    for (items, steps), indices in groups.items():
        params = [f64(cases[i].args[0]) for i in indices]
        grads = [f64(cases[i].args[1]).reshape(steps, -1) for i in indices]
        variable = keras_module.Variable(np.concatenate([p.ravel() for p in params]), dtype="float64")
        optimizer = getattr(keras_module.optimizers, class_name)(**_keras_hyperparameters(dict(items)))
        flat = np.empty((steps, variable.shape[0]))
        for k in range(steps):
            optimizer.apply([np.concatenate([g[k] for g in grads])], [variable])
            flat[k] = to_numpy(variable)
        start = 0
        for i, p in zip(indices, params):
            paths[i] = flat[:, start:start + p.size].reshape((steps,) + p.shape)
            start += p.size
    return paths


def numpy_path(step, param0, grads):
    """Apply `step(param, grad, state) -> (param, state)` once per gradient; return the stacked parameters."""
    param, state, path = f64(param0), None, []
    with np.errstate(all="ignore"):
        for grad in f64(grads):
            param, state = step(param, grad, state)
            path.append(param)
    return np.array(path)


# --- optimizer mistakes: each is a wrong step function, run on the same gradients ---------------------------

def sgd_mistakes(param0, grads, learning_rate=0.01, momentum=0.0, nesterov=False):
    lr, mu = learning_rate, momentum

    def plain(p, g, s):
        return p - lr * g, None

    def uphill(p, g, s):
        return p + lr * g, None

    def velocity(update):
        def step(p, g, m):
            m = np.zeros_like(p) if m is None else m
            return update(p, g, m)
        return step

    def fresh_nesterov(p, g, s):
        return p + mu * (-lr * g) - lr * g, None

    mistakes = [("you step uphill: param + learning_rate * grad instead of param - learning_rate * grad", uphill),
                ("you add the OLD velocity to the parameter and update the velocity afterwards",
                 velocity(lambda p, g, m: (p + m, mu * m - lr * g)))]
    if mu > 0:
        mistakes += [
            ("momentum is ignored, or the velocity is not carried from one call to the next (these are plain SGD "
             "steps)", plain),
            ("the momentum term has the wrong sign (velocity = -momentum * velocity - learning_rate * grad)",
             velocity(lambda p, g, m: (p + (mu * (-mu * m - lr * g) - lr * g if nesterov else -mu * m - lr * g),
                                       -mu * m - lr * g))),
        ]
        if nesterov:
            mistakes += [("nesterov=True is ignored (these are classical momentum steps)",
                          velocity(lambda p, g, m: (p + (mu * m - lr * g), mu * m - lr * g))),
                         ("the velocity is not carried from one call to the next (every call acts as the first "
                          "step)", fresh_nesterov)]
        else:
            mistakes.append(("you take Nesterov steps although nesterov=False",
                             velocity(lambda p, g, m: (p + mu * (mu * m - lr * g) - lr * g, mu * m - lr * g))))
    return [Mistake(text, numpy_path(step, param0, grads)) for text, step in mistakes]


def rmsprop_mistakes(param0, grads, learning_rate=0.001, rho=0.9, epsilon=1e-7):
    lr = learning_rate

    def make(average="keras", denominator="keras", carry=True):
        def step(p, g, v):
            first = v is None
            v = np.zeros_like(p) if (v is None or not carry) else v
            if average == "swapped":
                v = (1 - rho) * v + rho * g * g
            elif average == "starts at g^2" and first:
                v = g * g
            else:
                v = rho * v + (1 - rho) * g * g
            if denominator == "eps outside":
                d = np.sqrt(v) + epsilon
            elif denominator == "no sqrt":
                d = v + epsilon
            else:
                d = np.sqrt(v + epsilon)
            return p - lr * g / d, v
        return step

    mistakes = [
        ("epsilon is added outside the square root: grad / (sqrt(v) + epsilon); Keras uses grad / sqrt(v + epsilon)",
         make(denominator="eps outside")),
        ("rho and 1 - rho are swapped in the moving average of grad**2", make(average="swapped")),
        ("the moving average starts at grad**2 on the first step instead of at 0", make(average="starts at g^2")),
        ("there is no square root: grad / (v + epsilon)", make(denominator="no sqrt")),
        ("the moving average is not carried from one call to the next (state not returned, or not used)",
         make(carry=False)),
    ]
    return [Mistake(text, numpy_path(step, param0, grads)) for text, step in mistakes]


def adam_mistakes(param0, grads, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    lr = learning_rate

    def make(form="keras", counter="keras", carry=True, b1=beta_1, b2=beta_2):
        def step(p, g, state):
            m, v, t = (np.zeros_like(p), np.zeros_like(p), 0) if (state is None or not carry) else state
            t_next = t + 1
            t_used = {"keras": t_next, "from 0": t, "fixed": 1}[counter]
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            if form == "no correction":
                new = p - lr * m / (np.sqrt(v) + epsilon)
            elif form == "paper":
                new = p - lr * (m / (1 - b1 ** t_used)) / (np.sqrt(v / (1 - b2 ** t_used)) + epsilon)
            elif form == "eps inside":
                new = p - lr * np.sqrt(1 - b2 ** t_used) / (1 - b1 ** t_used) * m / np.sqrt(v + epsilon)
            else:
                new = p - lr * np.sqrt(1 - b2 ** t_used) / (1 - b1 ** t_used) * m / (np.sqrt(v) + epsilon)
            return new, (m, v, t_next)
        return step

    mistakes = [
        ("there is no bias correction: lr * m / (sqrt(v) + epsilon)", make(form="no correction")),
        ("you add epsilon to the bias-corrected sqrt(v_hat) (the paper's form); Keras adds it to sqrt(v) and folds "
         "the correction into the step size: lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (sqrt(v) + epsilon)",
         make(form="paper")),
        ("epsilon is inside the square root: sqrt(v + epsilon); Adam adds it after the square root",
         make(form="eps inside")),
        ("the step counter starts at 0 in the bias correction (Keras uses t = 1 on the first step)",
         make(counter="from 0")),
        ("the step counter is not advanced (the bias correction always uses t = 1)", make(counter="fixed")),
        ("the state (m, v, t) is not carried from one call to the next, so every call acts as the first step",
         make(carry=False)),
        ("beta_1 and beta_2 are swapped", make(b1=beta_2, b2=beta_1)),
    ]
    return [Mistake(text, numpy_path(step, param0, grads)) for text, step in mistakes]


def adagrad_mistakes(param0, grads, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7):
    lr = learning_rate

    def make(start=initial_accumulator_value, eps_outside=False, carry=True):
        def step(p, g, acc):
            acc = np.full_like(p, start) if (acc is None or not carry) else acc
            acc = acc + g * g
            d = np.sqrt(acc) + epsilon if eps_outside else np.sqrt(acc + epsilon)
            return p - lr * g / d, acc
        return step

    mistakes = [
        ("the accumulator starts at 0 instead of initial_accumulator_value", make(start=0.0)),
        ("epsilon is added outside the square root: grad / (sqrt(acc) + epsilon); Keras uses "
         "grad / sqrt(acc + epsilon)", make(eps_outside=True)),
        ("the accumulator is not carried from one call to the next (state not returned, or not used)",
         make(carry=False)),
    ]
    return [Mistake(text, numpy_path(step, param0, grads)) for text, step in mistakes]


OPTIMIZER_MISTAKES = {"sgd_step": sgd_mistakes, "rmsprop_step": rmsprop_mistakes, "adam_step": adam_mistakes,
                      "adagrad_step": adagrad_mistakes}


# --- inputs -----------------------------------------------------------------------------------------------------

def gradient_regimes(rng, steps=OPTIMIZER_STEPS):
    """{regime: (param0, grads)}: gradient sequences that exercise different parts of an optimizer; grads has
    shape (steps,) + param.shape.

    * normal: a random walk of O(1) gradients, float64;
    * constant: the same gradient every step, so momentum and moving averages build up, float32;
    * tiny: gradients of about 1e-6 and a parameter of the same scale: here epsilon's placement decides the
      step size (sqrt(v) ~ 1e-6 against epsilon = 1e-7 or sqrt(1e-7) ~ 3e-4);
    * alternating: the sign of the gradient flips every step, so momentum cancels, float32;
    * zeros: some gradient entries, and one whole step, exactly 0.
    """
    normal = (rng.normal(size=(3,)), rng.normal(size=(steps, 3)))
    constant_g = rng.normal(size=(2, 2)).astype(np.float32)
    constant = (rng.normal(size=(2, 2)).astype(np.float32), np.repeat(constant_g[None], steps, axis=0))
    tiny = (rng.normal(size=(4,)) * 1e-6, rng.normal(size=(steps, 4)) * 1e-6)
    signs = (-1.0) ** np.arange(steps)[:, None]
    alternating = (rng.normal(size=(3,)).astype(np.float32),
                   (signs * np.abs(rng.normal(size=(1, 3))) * 2).astype(np.float32))
    zeros_g = rng.normal(size=(steps, 2, 3)) * (rng.uniform(size=(steps, 2, 3)) < 0.6)
    zeros_g[steps // 2] = 0.0
    zeros = (rng.normal(size=(2, 3)), zeros_g)
    return {"normal": normal, "tiny": tiny, "constant": constant, "alternating": alternating, "zeros": zeros}


OPTIMIZER_CONFIGS = {
    "sgd_step": [{}, {"learning_rate": 0.1, "momentum": 0.9}, {"momentum": 0.9, "nesterov": True}],
    "rmsprop_step": [{}, {"learning_rate": 0.01, "rho": 0.5}, {"learning_rate": 0.003, "rho": 0.99,
                                                                "epsilon": 1e-3}],
    "adam_step": [{}, {"learning_rate": 0.01, "beta_1": 0.5, "beta_2": 0.9},
                  {"learning_rate": 0.02, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-4}],
    "adagrad_step": [{}, {"learning_rate": 0.1, "initial_accumulator_value": 0.0},
                     {"learning_rate": 0.05, "initial_accumulator_value": 1.0, "epsilon": 1e-2}],
}
"""Hyperparameters of the visible optimizer checks: the Keras defaults (nothing passed), then non-default ones
chosen so that each named mistake shows (e.g. Adagrad's epsilon placement needs a zero start or a large epsilon)."""


def optimizer_cases(name, seed=3):
    """The visible check's cases for optimizer step `name`: every configuration with the normal and the tiny
    gradients, and one of the other three regimes in turn (the whole grid costs too much time: each case is
    OPTIMIZER_STEPS calls of the answer)."""
    rng = np.random.default_rng(seed)
    cases = []
    for index, config in enumerate(OPTIMIZER_CONFIGS[name]):
        regimes = gradient_regimes(rng)
        for regime in ("normal", "tiny", ("constant", "alternating", "zeros")[index % 3]):
            cases.append(Case(regimes[regime], dict(config)))
    return cases


P, G = np.array([0.5, -1.0]), np.array([0.1, 0.2])
INVALID_COMMON = [
    ((P, G, None), {"learning_rate": 0.0}, "learning_rate must be > 0"),
    ((P, G, None), {"learning_rate": -0.01}, "learning_rate must be > 0"),
    ((P, np.array([0.1, 0.2, 0.3]), None), {}, "grad has shape (3,) but param has shape (2,)"),
    ((P, np.array([0.1]), None), {}, "grad has shape (1,) but param has shape (2,) (NumPy would broadcast it "
                                     "silently)"),
]
INVALID_OPTIMIZER = {
    "sgd_step": INVALID_COMMON + [((P, G, None), {"momentum": -0.5}, "momentum must be in [0, 1]"),
                                  ((P, G, None), {"momentum": 1.5}, "momentum must be in [0, 1]")],
    "rmsprop_step": INVALID_COMMON + [((P, G, None), {"rho": 1.0}, "rho must be in [0, 1)"),
                                      ((P, G, None), {"rho": -0.1}, "rho must be in [0, 1)"),
                                      ((P, G, None), {"epsilon": -1e-7}, "epsilon must be >= 0")],
    "adam_step": INVALID_COMMON + [((P, G, None), {"beta_1": 1.0}, "beta_1 must be in [0, 1)"),
                                   ((P, G, None), {"beta_2": -0.5}, "beta_2 must be in [0, 1)"),
                                   ((P, G, None), {"epsilon": -1e-7}, "epsilon must be >= 0")],
    "adagrad_step": INVALID_COMMON + [((P, G, None), {"initial_accumulator_value": -0.1},
                                       "initial_accumulator_value must be >= 0"),
                                      ((P, G, None), {"epsilon": -1e-7}, "epsilon must be >= 0")],
}


# --- comparing paths ------------------------------------------------------------------------------------------

class _State:
    """Stands for the student's state in messages; the student receives their own object, untouched."""

    def __init__(self, step):
        self.step = step

    def __repr__(self):
        return f"<the state returned at step {self.step}>"


def _hyperparameter_text(kwargs):
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) or "the default hyperparameters"


def student_path(step_fn, case, *, name):
    """Run the student's step function over case's gradients, feeding back whatever state it returns.

    Returns:
        array of shape (steps,) + param.shape: the parameter after each step.
    """
    param0, grads = case.args
    param, state, path = param0, None, []
    for k, grad in enumerate(grads, start=1):
        holder = {"state": state}

        def one_step(param, grad, state_token, **kwargs):
            # The state is handed over untouched (no copy, no in-place check): it is the student's own object.
            return step_fn(param, grad, holder["state"], **kwargs)

        token = None if state is None else _State(k - 1)
        try:
            with np.printoptions(suppress=False):
                result = call_student(one_step, param, grad, token, name=name, **case.kwargs)
        except CheckFailed as failure:
            raise failure.restated(f"At step {k} of {len(grads)} (param0={show(param0)}): {failure}",
                                   exercise=name) from failure.__cause__
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise CheckFailed(f"`{name}` returned a {type_name(result)} at step {k}; it should return a pair "
                              "(new_param, new_state).", exercise=name, kind="wrong_type")
        param, state = as_array(result[0], name), result[1]
        if param.shape != np.shape(param0):
            raise CheckFailed(f"`{name}` returned a parameter of shape {param.shape} at step {k}; it must keep the "
                              f"shape of param, {np.shape(param0)}.", exercise=name, kind="wrong_shape")
        path.append(param)
    return np.stack(path)


def compare_paths(got, expected, case, *, name, mistakes_fn, rtol=RTOL):
    """Raise CheckFailed unless the student's path matches Keras's; say at which step it first differs and name
    the mistake whose whole path the student's follows (`compare.matching_mistake`: the whole path, not one step,
    must match)."""
    param0, grads = case.args
    scale = max(float(np.max(np.abs(expected))), float(np.max(np.abs(param0))))
    atol = rtol * scale  # an element near 0 gets the absolute error of the largest ones (see compare.py)
    if agrees(got, expected, rtol=rtol, atol=atol, exact=False):
        return
    first = next(k for k in range(len(got)) if not agrees(got[k], expected[k], rtol=rtol, atol=atol, exact=False))
    mistake = matching_mistake(got, expected, mistakes_fn(param0, grads, **case.kwargs), rtol=rtol, atol=atol)
    try:
        compare_arrays(got[first], expected[first], what=f"after step {first + 1}", rtol=rtol, atol=atol)
        detail, kind = "wrong values.", "wrong_values"
    except CheckFailed as failure:
        detail, kind = str(failure), failure.kind
    steps = ("it differs from Keras from the first step on" if first == 0 else
             "the first step matches Keras, step 2 does not" if first == 1 else
             f"the first {first} steps match Keras, step {first + 1} does not")
    lines = [f"{name} with {_hyperparameter_text(case.kwargs)}, {len(grads)} steps from param={show(param0)}: "
             f"{steps} (that step's grad: {show(np.asarray(grads)[first])}).", detail]
    if mistake:
        lines.append(mistake.hint)
    raise CheckFailed("\n  ".join(lines), exercise=name, kind=kind, mistake=mistake, input_size=input_size(case))


def _check_optimizer(step_fn, name, cases, invalid, rtol=RTOL):
    """Run the student's step function along every case's gradients next to Keras (`run_cases` on the given or
    the visible Cases), then the invalid inputs; print one line."""
    if not callable(step_fn):
        raise CheckFailed(f"`{name}` should be a function, but it is a {type_name(step_fn)}.", exercise=name,
                          kind="wrong_type")
    reference = f"keras.optimizers.{KERAS_OPTIMIZERS[name]}"
    invalid = invalid_inputs(cases, invalid, INVALID_OPTIMIZER[name])
    cases = optimizer_cases(name) if cases is None else list(cases)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = {id(case): path for case, path in zip(cases, keras_paths(KERAS_OPTIMIZERS[name], cases))}

    def run_one(case):
        compare_paths(student_path(step_fn, case, name=name), expected[id(case)], case, name=name,
                      mistakes_fn=OPTIMIZER_MISTAKES[name], rtol=rtol)

    run_cases(run_one, name=name, cases=cases)
    if invalid:
        check_rejects(step_fn, invalid, name=name, quiet=True)
    steps = sum(len(case.args[1]) for case in cases)
    configs = len({tuple(sorted(case.kwargs.items())) for case in cases})
    report_pass(name, reference, steps, noun="steps",
                also=f" ({len(cases)} gradient sequences, {configs} setting{'s' if configs != 1 else ''})"
                     f"{rejects_tail(len(invalid))}")


def check_sgd_step(fn, cases=None, invalid=None):
    """Compare `fn`'s path with keras.optimizers.SGD on the same gradients (plain, momentum, Nesterov).

    Args:
        fn: the answer, sgd_step(param, grad, state, **hyperparameters) -> (new_param, new_state).
        cases: None for the visible check (`optimizer_cases`), or Cases((param0, grads), hyperparameters) with
            grads of shape (steps,) + param0.shape: one gradient per step.
        invalid: (args, kwargs, reason) triples that must raise ValueError (default: INVALID_OPTIMIZER for the
            visible check, none with `cases`).
    """
    _check_optimizer(fn, "sgd_step", cases, invalid)


def check_rmsprop_step(fn, cases=None, invalid=None):
    """Compare `fn`'s path with keras.optimizers.RMSprop on the same gradients.

    Args:
        fn: the answer, rmsprop_step(param, grad, state, **hyperparameters) -> (new_param, new_state).
        cases: None for the visible check (`optimizer_cases`), or Cases((param0, grads), hyperparameters) with
            grads of shape (steps,) + param0.shape: one gradient per step.
        invalid: (args, kwargs, reason) triples that must raise ValueError (default: INVALID_OPTIMIZER for the
            visible check, none with `cases`).
    """
    _check_optimizer(fn, "rmsprop_step", cases, invalid)


def check_adam_step(fn, cases=None, invalid=None):
    """Compare `fn`'s path with keras.optimizers.Adam on the same gradients (tolerance: see ADAM_RTOL).

    Args:
        fn: the answer, adam_step(param, grad, state, **hyperparameters) -> (new_param, new_state).
        cases: None for the visible check (`optimizer_cases`), or Cases((param0, grads), hyperparameters) with
            grads of shape (steps,) + param0.shape: one gradient per step.
        invalid: (args, kwargs, reason) triples that must raise ValueError (default: INVALID_OPTIMIZER for the
            visible check, none with `cases`).
    """
    _check_optimizer(fn, "adam_step", cases, invalid, rtol=ADAM_RTOL)


def check_adagrad_step(fn, cases=None, invalid=None):
    """Compare `fn`'s path with keras.optimizers.Adagrad on the same gradients.

    Args:
        fn: the answer, adagrad_step(param, grad, state, **hyperparameters) -> (new_param, new_state).
        cases: None for the visible check (`optimizer_cases`), or Cases((param0, grads), hyperparameters) with
            grads of shape (steps,) + param0.shape: one gradient per step.
        invalid: (args, kwargs, reason) triples that must raise ValueError (default: INVALID_OPTIMIZER for the
            visible check, none with `cases`).
    """
    _check_optimizer(fn, "adagrad_step", cases, invalid)
