"""Notebook 03: what `compile` plugs into a model. Losses and metrics, checked against `keras.losses.*` and
`keras.metrics.*` on the same inputs; optimizer steps, checked against `keras.optimizers.*` applied to a
`keras.Variable` for 12-20 consecutive steps with the same gradients.

Losses and metrics are checked on hypothesis-drawn inputs (shapes, dtypes, probabilities of exactly 0 and 1
and below the 1e-7 clipping bound, large logits, ties at the threshold, (n, 1) targets). Optimizer steps are
checked on fixed, seeded gradient sequences (see `optimizer_cases`): a Keras optimizer costs ~10 ms per step,
so every case with the same hyperparameters runs in ONE Keras optimizer (see `keras_paths`).

Every expected value comes from live Keras; every known mistake is computed here in NumPy on the same inputs so
that a failure can name it.
"""
import warnings

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.errors import FlakyFailure
from hypothesis.extra import numpy as hnp

from autograder.checks.runner import Case, property_settings
from autograder.checks.compare import RTOL, Mistake, compare_arrays
from autograder.checks.describe import describe_call, describe_value, type_name
from autograder.checks.errors import CheckFailed
from autograder.checks.calling import as_array, call_student, expect_value_error

EPSILON = 1e-7  # keras.config.epsilon(): the clipping bound of the crossentropies

LOSS_ATOL = 1e-6
"""Absolute tolerance of the loss checks, on top of the relative RTOL. In float32 Keras rounds the upper
clipping bound 1 - 1e-7 to 1 - 1.19e-7, so a "perfect" prediction costs 1.19e-7 in float32 and 1.0e-7 in
float64: losses this small carry no information, and no mistake the checks name is that small."""

ADAM_RTOL = 2e-5
"""Relative tolerance of the Adam check. Keras computes its bias correction sqrt(1 - beta_2**t) with beta_2 passed
through float32 (`ops.cast` of a Python float makes a float32 tensor first), even on a float64 variable:
float32(0.999) = 0.99900001, which moves sqrt(1 - beta_2) by 6.4e-6 relative at t = 1. Measured over 20 steps
of tiny gradients (where the whole path is made of such steps): 6.5e-6 of the largest value. An exact float64
answer cannot reproduce that rounding, so Adam gets 2e-5 (3x the measured drift); every Adam mistake the check
names moves the path by far more (no bias correction: a factor ~3 at step 1)."""

OPTIMIZER_STEPS = 10  # consecutive steps per visible case (hidden cases use 15-20)


def _keras():
    import keras

    return keras


def _f64(x):
    return np.asarray(x, dtype=np.float64)


def _to_numpy(tensor):
    return np.asarray(_keras().ops.convert_to_numpy(tensor))


# =============================================================================================================
# Comparing one case, with several acceptable Keras results
# =============================================================================================================

def _describe_call(name, args, kwargs):
    """describe_call, but tiny numbers (1e-9 probabilities, 1e-6 gradients) are not printed as 0."""
    with np.printoptions(suppress=False):
        return describe_call(name, args, kwargs)


def _show(value):
    with np.printoptions(suppress=False):
        return describe_value(value)


def _agrees(got, expected, *, rtol, atol, exact):
    try:
        compare_arrays(got, expected, what="", rtol=rtol, atol=atol, exact=exact)
    except CheckFailed:
        return False
    return True


def _loss_atol(expected):
    finite = np.abs(expected[np.isfinite(expected)]) if expected.size else np.zeros(0)
    return max(LOSS_ATOL, RTOL * (float(finite.max()) if finite.size else 0.0))


def _matching_mistakes(got, expected, mistakes, **tolerance):
    """The mistakes `got` matches (and Keras does not), merged into one when several match: on a small input two
    different mistakes can give the same numbers, and the message should not pick one of them at random."""
    found = []
    for mistake in mistakes:
        if (mistake.description not in [m.description for m in found] and _agrees(got, mistake.result, **tolerance)
                and not _agrees(np.asarray(mistake.result), expected, **tolerance)):
            found.append(mistake)
    if len(found) > 1:
        return [Mistake("; or if ".join(m.description for m in found), found[0].result)]
    return found


def _compare_case(student_fn, case, *, name, references, mistakes_fn, exact, error_hint=None):
    """Run the student on one Case and compare with Keras.

    Args:
        references: callable(*args, **kwargs) -> list of arrays; the first is Keras on the inputs as given, the
            others are Keras on the same inputs in float64 (accepted too: they differ only by float32 rounding).
        mistakes_fn: callable(*args, **kwargs) -> list of Mistake, only evaluated when the answer is wrong.
        exact: compare exactly (0/1 metrics) instead of with RTOL and LOSS_ATOL.
        error_hint: callable(case, error) -> str or None: a hint added when the student's function raises.
    """
    try:
        with np.printoptions(suppress=False):  # so that an error message shows 1e-9 as 1e-9, not 0
            result = call_student(student_fn, *case.args, name=name, **case.kwargs)
    except CheckFailed as failure:
        hint = error_hint(case, failure.__cause__) if error_hint and failure.__cause__ is not None else None
        if hint:
            raise CheckFailed(f"{failure}\n  Hint: {hint}") from failure.__cause__
        raise
    got = as_array(result, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        candidates = [np.asarray(r) for r in references(*case.args, **case.kwargs)]
    tolerance = (lambda e: dict(rtol=0.0, atol=0.0, exact=True)) if exact else (
        lambda e: dict(rtol=RTOL, atol=_loss_atol(e), exact=False))
    if any(_agrees(got, e, **tolerance(e)) for e in candidates):
        return
    with np.errstate(all="ignore"):
        mistakes = _matching_mistakes(got, candidates[0], mistakes_fn(*case.args, **case.kwargs),
                                      **tolerance(candidates[0]))
    compare_arrays(got, candidates[0], what=_describe_call(name, case.args, case.kwargs), mistakes=mistakes,
                   **tolerance(candidates[0]))
    raise CheckFailed(f"{_describe_call(name, case.args, case.kwargs)}: differs from Keras.")  # not reached


def _check(student_fn, *, name, reference, references, mistakes_fn, strategy, cases, invalid, max_examples,
           exact=False, error_hint=None):
    """Compare on the given Cases, or on `max_examples` hypothesis-drawn ones (shrunk to the simplest failing
    input); then check that each invalid input raises ValueError; print one line."""
    def compare(case):
        _compare_case(student_fn, case, name=name, references=references, mistakes_fn=mistakes_fn, exact=exact,
                      error_hint=error_hint)

    if cases is not None:
        cases = list(cases)
        if not cases:
            raise ValueError("give at least one Case")  # a check that runs nothing cannot fail
        for case in cases:
            compare(case)
        count = len(cases)
    else:
        seen = set()

        @property_settings(max_examples)
        @given(strategy)
        def run(case):
            seen.add(repr(case))
            compare(case)

        try:
            run()
        except CheckFailed as failure:  # already shrunk to the simplest failing input
            raise CheckFailed(str(failure)) from failure.__cause__
        except FlakyFailure as flaky:
            first = next((e for e in flaky.exceptions if isinstance(e, CheckFailed)), None)
            raise CheckFailed(f"{first or flaky}\n  Note: `{name}` gave different results for the same input; "
                              "its result must depend only on its arguments.") from None
        count = len(seen)
    for args, kwargs, reason in invalid:
        expect_value_error(student_fn, *args, name=name, reason=reason, **kwargs)
    plural = "s" if len(invalid) != 1 else ""
    tail = f" and raises ValueError on {len(invalid)} invalid input{plural}" if invalid else ""
    print(f"\u2713 {name} matches {reference} on {count} input{'s' if count != 1 else ''}{tail}.")


# =============================================================================================================
# Losses: references and known mistakes
# =============================================================================================================

def _keras_call(function, y_true, y_pred, **kwargs):
    """Keras on the inputs as given, and (if y_pred is float32) on y_pred in float64 as well."""
    results = [_to_numpy(function(y_true, y_pred, **kwargs))]
    if np.asarray(y_pred).dtype == np.float32:
        results.append(_to_numpy(function(y_true, _f64(y_pred), **kwargs)))
    return results


def _loss_references(loss_name):
    def references(y_true, y_pred, **kwargs):
        return _keras_call(getattr(_keras().losses, loss_name), y_true, y_pred, **kwargs)
    return references


def keras_loss(loss_name, y_true, y_pred, **kwargs):
    """The live Keras result keras.losses.<loss_name>(y_true, y_pred, **kwargs) as a NumPy array."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _to_numpy(getattr(_keras().losses, loss_name)(y_true, y_pred, **kwargs))


def _clip(p):
    return np.clip(p, EPSILON, 1 - EPSILON)


def _log_softmax(x):
    z = x - x.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _naive_softmax(x):
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def _naive_log_softmax(x):
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


NAIVE_SOFTMAX = ("you compute softmax without subtracting the row maximum first, so exp() overflows for large "
                 "logits (use log-softmax: z - log(sum(exp(z))) with z = x - max(x))")


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def categorical_crossentropy_mistakes(y_true, y_pred, from_logits=False):
    y, p = _f64(y_true), _f64(y_pred)
    if from_logits:
        return [
            Mistake(NAIVE_SOFTMAX, -np.sum(y * np.log(_naive_softmax(p)), axis=-1)),
            Mistake(NAIVE_SOFTMAX, -np.sum(y * _naive_log_softmax(p), axis=-1)),
            Mistake("you turn the logits into probabilities and then clip them to [1e-7, 1 - 1e-7] (with "
                    "from_logits=True Keras uses log-softmax of the logits, without clipping)",
                    -np.sum(y * np.log(_clip(np.exp(_log_softmax(p)))), axis=-1)),
            Mistake("you ignore from_logits=True and treat the logits as probabilities",
                    -np.sum(y * np.log(_clip(p / p.sum(axis=-1, keepdims=True))), axis=-1)),
            Mistake("you average over the classes instead of summing", -np.mean(y * _log_softmax(p), axis=-1)),
        ]
    q = p / p.sum(axis=-1, keepdims=True)
    clipped = _clip(p)
    return [
        Mistake("you do not clip the probabilities to [1e-7, 1 - 1e-7], so log(0) gives inf or NaN",
                -np.sum(y * np.log(q), axis=-1)),
        Mistake("you average over the classes instead of summing", -np.mean(y * np.log(_clip(q)), axis=-1)),
        Mistake("you do not renormalise y_pred (Keras first divides each row by its sum, so it sums to 1)",
                -np.sum(y * np.log(clipped), axis=-1)),
        Mistake("you clip before renormalising (Keras divides by the row sum first, then clips)",
                -np.sum(y * np.log(clipped / clipped.sum(axis=-1, keepdims=True)), axis=-1)),
        Mistake("you treat y_pred as logits (from_logits=False means y_pred holds probabilities)",
                -np.sum(y * _log_softmax(p), axis=-1)),
    ]


def _sparse_labels(y_true, y_pred):
    labels = np.asarray(y_true).astype(np.int64)
    if labels.ndim == np.ndim(y_pred) and labels.shape[-1] == 1:
        labels = labels[..., 0]
    return labels


def _pick(values, labels):
    return np.take_along_axis(values, labels[..., None], axis=-1)[..., 0]


def sparse_categorical_crossentropy_mistakes(y_true, y_pred, from_logits=False):
    p = _f64(y_pred)
    labels = _sparse_labels(y_true, y_pred)
    mistakes = []
    raw = np.asarray(y_true).astype(np.int64)
    if raw.ndim == p.ndim and raw.shape[-1] == 1 and p.ndim == 2:
        log_probs = _log_softmax(p) if from_logits else np.log(_clip(p) / _clip(p).sum(axis=-1, keepdims=True))
        mistakes.append(Mistake("you do not drop the trailing axis of size 1 from labels of shape (n, 1), so they "
                                "broadcast against (n,) to (n, n)",
                                -log_probs[np.arange(p.shape[0]), raw]))
    if from_logits:
        return mistakes + [
            Mistake(NAIVE_SOFTMAX, -np.log(_pick(_naive_softmax(p), labels))),
            Mistake(NAIVE_SOFTMAX, -_pick(_naive_log_softmax(p), labels)),
            Mistake("you turn the logits into probabilities and then clip them (with from_logits=True Keras uses "
                    "log-softmax of the logits, without clipping)",
                    -np.log(_pick(_clip(np.exp(_log_softmax(p))), labels))),
            Mistake("you ignore from_logits=True and treat the logits as probabilities",
                    -np.log(_pick(_clip(p), labels) / _clip(p).sum(axis=-1))),
        ]
    clipped = _clip(p)
    q = p / p.sum(axis=-1, keepdims=True)
    return mistakes + [
        Mistake("you do not clip the probabilities to [1e-7, 1 - 1e-7], so log(0) gives inf",
                -np.log(_pick(p, labels) / p.sum(axis=-1))),
        Mistake("you do not renormalise: Keras clips, then divides by the row sum (as softmax of log(p) does)",
                -np.log(_pick(clipped, labels))),
        Mistake("you renormalise before clipping (that is categorical_crossentropy's order; the sparse version "
                "clips first and renormalises after)", -np.log(_pick(_clip(q), labels))),
        Mistake("you treat y_pred as logits (from_logits=False means y_pred holds probabilities)",
                -_pick(_log_softmax(p), labels)),
    ]


def binary_crossentropy_mistakes(y_true, y_pred, from_logits=False):
    y, p = _f64(y_true), _f64(y_pred)
    if from_logits:
        s = _sigmoid(p)
        stable = np.maximum(p, 0) - p * y + np.log1p(np.exp(-np.abs(p)))
        return [
            Mistake("you compute log(sigmoid(x)) and log(1 - sigmoid(x)) directly, which gives inf for large "
                    "|x| (use the stable form max(x, 0) - x*y + log(1 + exp(-|x|)))",
                    np.mean(-(y * np.log(s) + (1 - y) * np.log(1 - s)), axis=-1)),
            Mistake("you turn the logits into probabilities and then clip them (with from_logits=True Keras uses "
                    "the logits directly, without clipping)",
                    np.mean(-(y * np.log(_clip(s)) + (1 - y) * np.log(1 - _clip(s))), axis=-1)),
            Mistake("you ignore from_logits=True and treat the logits as probabilities",
                    np.mean(-(y * np.log(_clip(p)) + (1 - y) * np.log(1 - _clip(p))), axis=-1)),
            Mistake("you sum over the last axis instead of taking the mean", np.sum(stable, axis=-1)),
        ]
    c = _clip(p)
    return [
        Mistake("you do not clip the probabilities to [1e-7, 1 - 1e-7], so log(0) gives inf or NaN",
                np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)), axis=-1)),
        Mistake("you sum over the last axis instead of taking the mean",
                np.sum(-(y * np.log(c) + (1 - y) * np.log(1 - c)), axis=-1)),
        Mistake("you leave out the (1 - y_true) * log(1 - y_pred) term", np.mean(-(y * np.log(c)), axis=-1)),
        Mistake("you treat y_pred as logits (from_logits=False means y_pred holds probabilities)",
                np.mean(np.maximum(p, 0) - p * y + np.log1p(np.exp(-np.abs(p))), axis=-1)),
    ]


def _keras_rank_rule(y_true, y_pred):
    """Keras's squeeze_or_expand_to_same_rank: (n,) with (n, 1) becomes (n, 1) with (n, 1)."""
    a, b = _f64(y_true), _f64(y_pred)
    if a.ndim == b.ndim + 1 and a.shape[-1] == 1:
        b = b[..., None] if b.ndim == 1 else b
        a = a if b.ndim == a.ndim else a[..., 0]
    elif b.ndim == a.ndim + 1 and b.shape[-1] == 1:
        a = a[..., None] if a.ndim == 1 else a
        b = b if a.ndim == b.ndim else b[..., 0]
    return a, b


def rank_rule_hint(case, error):
    """The hint for a regression loss that raised on shapes Keras first brings to the same rank."""
    true_shape, pred_shape = (np.shape(a) for a in case.args[:2])
    longer, shorter = sorted((true_shape, pred_shape), key=len, reverse=True)
    if isinstance(error, ValueError) and len(longer) == len(shorter) + 1 and longer[-1] == 1:
        partner = ("the 1-D one gets a trailing axis of size 1" if len(shorter) == 1 else
                   "the extra axis of size 1 is dropped")
        return (f"Keras accepts {true_shape} against {pred_shape}: when one has one more axis and that axis has "
                f"size 1, {partner}, and then the shapes are equal.")
    return None


def mean_squared_error_mistakes(y_true, y_pred):
    a, b = _keras_rank_rule(y_true, y_pred)
    naive = _f64(y_true) - _f64(y_pred)
    return [
        Mistake("you subtract y_pred of shape (n, 1) from y_true of shape (n,) (or the other way round) without "
                "first giving them the same rank, so they broadcast to (n, n)", np.mean(naive ** 2, axis=-1)),
        Mistake("you take the square root (that is the root mean squared error)",
                np.sqrt(np.mean((a - b) ** 2, axis=-1))),
        Mistake("you sum over the last axis instead of taking the mean", np.sum((a - b) ** 2, axis=-1)),
        Mistake("you average over all axes (one number) instead of over the last axis only",
                np.mean((a - b) ** 2)),
    ]


def mean_absolute_error_mistakes(y_true, y_pred):
    a, b = _keras_rank_rule(y_true, y_pred)
    naive = _f64(y_true) - _f64(y_pred)
    return [
        Mistake("you subtract y_pred of shape (n, 1) from y_true of shape (n,) (or the other way round) without "
                "first giving them the same rank, so they broadcast to (n, n)", np.mean(np.abs(naive), axis=-1)),
        Mistake("you forget the absolute value", np.mean(a - b, axis=-1)),
        Mistake("you square the differences (that is the mean squared error)", np.mean((a - b) ** 2, axis=-1)),
        Mistake("you sum over the last axis instead of taking the mean", np.sum(np.abs(a - b), axis=-1)),
        Mistake("you average over all axes (one number) instead of over the last axis only", np.mean(np.abs(a - b))),
    ]


# =============================================================================================================
# Metrics: references and known mistakes
# =============================================================================================================

def _metric_references(metric_name):
    def references(y_true, y_pred, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [_to_numpy(getattr(_keras().metrics, metric_name)(y_true, y_pred, **kwargs))]
    return references


def categorical_accuracy_mistakes(y_true, y_pred):
    t, p = _f64(y_true), _f64(y_pred)
    true_class = np.argmax(t, axis=-1)
    return [
        Mistake("you take the argmax over axis 0 (the samples) instead of the last axis (the classes)",
                (np.argmax(t, axis=0) == np.argmax(p, axis=0)).astype(np.float32)),
        Mistake("on a tie you count a hit if ANY of the tied classes is the true one; argmax takes the FIRST "
                "largest score", (_pick(p, true_class) == p.max(axis=-1)).astype(np.float32)),
        Mistake("you compare y_true with rounded y_pred element by element instead of comparing the argmax",
                np.all(np.round(p) == t, axis=-1).astype(np.float32)),
    ]


def sparse_categorical_accuracy_mistakes(y_true, y_pred):
    p = _f64(y_pred)
    raw = _f64(y_true)
    labels = _sparse_labels(y_true, y_pred)
    mistakes = []
    if raw.ndim == p.ndim and raw.shape[-1] == 1:
        mistakes.append(Mistake("you do not drop the trailing axis of size 1 from labels of shape (n, 1), so they "
                                "broadcast against (n,) to (n, n)",
                                (np.argmax(p, axis=-1) == raw).astype(np.float32)))
        mistakes.append(Mistake("you return the labels' shape (n, 1) instead of one value per sample, shape (n,)",
                                (np.argmax(p, axis=-1) == labels)[..., None].astype(np.float32)))
    return mistakes + [
        Mistake("on a tie you count a hit if ANY of the tied classes is the label; argmax takes the FIRST largest "
                "score", (_pick(p, labels) == p.max(axis=-1)).astype(np.float32)),
    ]


def binary_accuracy_mistakes(y_true, y_pred, threshold=0.5):
    t, p = _keras_rank_rule(y_true, y_pred)
    return [
        Mistake("you count y_pred == threshold as 1 (>=); Keras counts it as 0: it uses y_pred > threshold",
                ((p >= threshold) == t).astype(np.float32)),
        Mistake("you use 0.5 instead of the threshold argument", ((p > 0.5) == t).astype(np.float32)),
        Mistake("you average over the last axis (Keras 2 did; Keras 3 returns one 0/1 per prediction)",
                np.mean((p > threshold) == t, axis=-1).astype(np.float32)),
        Mistake("you compare y_true of shape (n,) with y_pred of shape (n, 1) (or the other way round) without "
                "first giving them the same rank, so they broadcast to (n, n)",
                ((_f64(y_pred) > threshold) == _f64(y_true)).astype(np.float32)),
    ]


# =============================================================================================================
# Inputs for losses and metrics
# =============================================================================================================

EXTREME_PROBABILITIES = (0.0, 1.0, 1e-9, 5e-8, 1e-7, 3e-7, 0.25, 0.5, 1 - 1e-9)
"""Where clipping matters: exactly 0 and 1, below and at the 1e-7 bound, and just under 1."""


@st.composite
def batch_shapes(draw):
    """(n,) most of the time, sometimes (n, m): the axes in front of the class axis."""
    if draw(st.integers(0, 3)) == 0:
        return (draw(st.integers(1, 3)), draw(st.integers(2, 3)))
    return (draw(st.integers(1, 6)),)


@st.composite
def probabilities(draw, shape, dtype):
    """Class probabilities of `shape` (last axis = classes): softmax-like rows, rows that do not sum to 1, rows of
    extreme values (0, 1, below 1e-7), or exact one-hot rows."""
    kind = draw(st.sampled_from(["softmax", "unnormalised", "extreme", "one-hot"]))
    if kind == "extreme":
        p = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from(EXTREME_PROBABILITIES)))
        p[..., 0] = np.where(p.sum(axis=-1) == 0, 1.0, p[..., 0])  # an all-zero row has no distribution
        return p.astype(dtype)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    batch, classes = shape[:-1], shape[-1]
    if kind == "one-hot":
        return np.eye(classes, dtype=dtype)[rng.integers(0, classes, size=batch)]
    p = rng.dirichlet(np.ones(classes), size=batch)
    if kind == "unnormalised":
        p = p * rng.uniform(0.2, 3.0, size=batch + (1,))
    return p.astype(dtype)


@st.composite
def logits(draw, shape, dtype):
    """Real-valued scores: large (|x| up to 3000, where a naive exp() overflows in any dtype), moderate, or
    whole numbers with exact ties (sometimes 1000 apart)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(["large", "moderate", "ties"]))
    if kind == "large":
        x = rng.uniform(-3000, 3000, size=shape)
    elif kind == "moderate":
        x = rng.normal(size=shape) * draw(st.sampled_from([1.0, 10.0]))
    else:
        x = rng.integers(-2, 3, size=shape) * draw(st.sampled_from([1.0, 1000.0]))
    return x.astype(dtype)


def _one_hot_or_soft(draw, shape, dtype):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.integers(0, 3)) == 0:  # soft labels (e.g. label smoothing): rows that sum to 1
        return rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]).astype(dtype)
    label_dtype = draw(st.sampled_from([dtype, np.int64]))
    return np.eye(shape[-1], dtype=label_dtype)[rng.integers(0, shape[-1], size=shape[:-1])]


def _from_logits_kwargs(draw):
    choice = draw(st.sampled_from([None, False, True, True]))
    return {} if choice is None else {"from_logits": choice}


@st.composite
def categorical_crossentropy_cases(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    shape = draw(batch_shapes()) + (draw(st.integers(2, 6)),)
    kwargs = _from_logits_kwargs(draw)
    y_pred = draw(logits(shape, dtype) if kwargs.get("from_logits") else probabilities(shape, dtype))
    return Case((_one_hot_or_soft(draw, shape, dtype), y_pred), kwargs)


@st.composite
def sparse_labels(draw, batch, classes):
    """Integer labels of shape `batch`, or `batch + (1,)` (the (n, 1) column), as int or float arrays."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    labels = rng.integers(0, classes, size=batch)
    if draw(st.booleans()):
        labels = labels[..., None]
    return labels.astype(draw(st.sampled_from([np.int64, np.int32, np.float32, np.float64])))


@st.composite
def sparse_categorical_crossentropy_cases(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    batch, classes = draw(batch_shapes()), draw(st.integers(2, 6))
    kwargs = _from_logits_kwargs(draw)
    shape = batch + (classes,)
    y_pred = draw(logits(shape, dtype) if kwargs.get("from_logits") else probabilities(shape, dtype))
    return Case((draw(sparse_labels(batch, classes)), y_pred), kwargs)


@st.composite
def binary_crossentropy_cases(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    shape = draw(batch_shapes()) + (draw(st.integers(1, 4)),)
    kwargs = _from_logits_kwargs(draw)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.integers(0, 3)) == 0:
        y_true = rng.uniform(0, 1, size=shape).astype(dtype)  # soft targets
    else:
        y_true = rng.integers(0, 2, size=shape).astype(draw(st.sampled_from([dtype, np.int64])))
    if kwargs.get("from_logits"):
        y_pred = draw(logits(shape, dtype))
    elif draw(st.booleans()):
        y_pred = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from(EXTREME_PROBABILITIES))).astype(dtype)
    else:
        y_pred = rng.uniform(0, 1, size=shape).astype(dtype)
    return Case((y_true, y_pred), kwargs)


@st.composite
def regression_cases(draw):
    """(y_true, y_pred) of the same shape (n, d) or (n, m, d), or (n,) against (n, 1), or (n, m, 1) against
    (n, m), each in either order."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(1, 6))
    layout = draw(st.sampled_from(["same", "same", "labels (n,)", "predictions (n,)", "3-d", "labels (n, m, 1)",
                                   "predictions (n, m, 1)"]))
    if layout == "same":
        true_shape = pred_shape = (n, draw(st.integers(1, 4)))
    elif layout == "3-d":
        true_shape = pred_shape = (n, draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    elif layout == "labels (n,)":
        true_shape, pred_shape = (n,), (n, 1)
    elif layout == "predictions (n,)":
        true_shape, pred_shape = (n, 1), (n,)
    else:  # not 1-D: Keras drops the extra axis of size 1 instead of adding one to the partner
        m = draw(st.integers(1, 3))
        true_shape, pred_shape = ((n, m, 1), (n, m)) if layout == "labels (n, m, 1)" else ((n, m), (n, m, 1))
    scale = draw(st.sampled_from([1.0, 1e-3, 1e3]))
    y_true = (rng.normal(size=true_shape) * scale).astype(draw(st.sampled_from([np.float32, np.float64])))
    y_pred = (rng.normal(size=pred_shape) * scale).astype(draw(st.sampled_from([np.float32, np.float64])))
    if draw(st.integers(0, 4)) == 0:
        y_pred = y_true.reshape(pred_shape).astype(y_pred.dtype)  # a perfect prediction: loss 0
    return Case((y_true, y_pred))


@st.composite
def scores_with_ties(draw, shape, dtype):
    """Probabilities where exact ties between classes are common."""
    if draw(st.booleans()):
        return draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 0.25, 0.5]))).astype(dtype)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]).astype(dtype)


@st.composite
def categorical_accuracy_cases(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    shape = draw(batch_shapes()) + (draw(st.integers(2, 5)),)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    label_dtype = draw(st.sampled_from([dtype, np.int64]))
    y_true = np.eye(shape[-1], dtype=label_dtype)[rng.integers(0, shape[-1], size=shape[:-1])]
    return Case((y_true, draw(scores_with_ties(shape, dtype))))


@st.composite
def sparse_categorical_accuracy_cases(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    batch, classes = draw(batch_shapes()), draw(st.integers(2, 5))
    return Case((draw(sparse_labels(batch, classes)), draw(scores_with_ties(batch + (classes,), dtype))))


BINARY_THRESHOLDS = (None, 0.5, 0.25, 0.75, 0.125)  # exact in float32, so a tie is a tie in every dtype


@st.composite
def binary_accuracy_cases(draw):
    threshold = draw(st.sampled_from(BINARY_THRESHOLDS))
    at = 0.5 if threshold is None else threshold
    n = draw(st.integers(1, 6))
    layout = draw(st.sampled_from(["(n, 1)", "(n, k)", "labels (n,)", "predictions (n,)"]))
    k = draw(st.integers(2, 3)) if layout == "(n, k)" else 1
    true_shape = (n,) if layout == "labels (n,)" else (n, k)
    pred_shape = (n,) if layout == "predictions (n,)" else (n, k)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    y_true = rng.integers(0, 2, size=true_shape).astype(draw(st.sampled_from([np.int64, np.float32, np.float64])))
    elements = st.sampled_from([at, at, 0.0, 1.0, 0.1, 0.3, 0.6, 0.9])  # ties at the threshold are common
    y_pred = draw(hnp.arrays(np.float64, pred_shape, elements=elements))
    y_pred = y_pred.astype(draw(st.sampled_from([np.float32, np.float64])))
    return Case((y_true, y_pred), {} if threshold is None else {"threshold": threshold})


# =============================================================================================================
# Invalid inputs (each must raise ValueError)
# =============================================================================================================

def _ones(*shape):
    return np.full(shape, 1.0 / shape[-1])


INVALID_CATEGORICAL = [
    ((np.eye(3)[[0, 1]], _ones(2, 4)), {}, "y_true has shape (2, 3) but y_pred has shape (2, 4)"),
    ((np.eye(3)[[1]], _ones(2, 3)), {}, "y_true has 1 row but y_pred has 2 (NumPy would broadcast them silently)"),
]
INVALID_SPARSE_SHAPES = [
    ((np.array([1]), _ones(2, 3)), {}, "1 label but 2 rows of predictions (NumPy would broadcast them silently)"),
    ((np.array([0, 1, 2]), _ones(2, 3)), {}, "3 labels but 2 rows of predictions"),
    ((np.array([[0], [1]]), _ones(2, 3, 4)), {},
     "labels of shape (2, 1) do not fit predictions of shape (2, 3, 4), which need labels of shape (2, 3) "
     "(NumPy would broadcast them silently)"),
]
INVALID_SPARSE = INVALID_SPARSE_SHAPES + [
    ((np.array([0, 3]), _ones(2, 3)), {}, "label 3 does not fit 3 classes"),
    ((np.array([-1, 0]), _ones(2, 3)), {}, "a label is negative"),
]
INVALID_BINARY = [
    ((np.array([[1.0, 0.0]]), np.array([[0.5, 0.5, 0.5]])), {}, "y_true has shape (1, 2) but y_pred (1, 3)"),
    ((np.array([[1.0, 0.0]]), np.full((3, 2), 0.5)), {},
     "y_true has shape (1, 2) but y_pred (3, 2) (NumPy would broadcast them silently)"),
]
INVALID_REGRESSION = [
    ((np.zeros((4, 2)), np.zeros((4, 3))), {}, "y_true has shape (4, 2) but y_pred (4, 3)"),
    ((np.zeros((1, 2)), np.zeros((4, 2))), {},
     "y_true has shape (1, 2) but y_pred (4, 2) (NumPy would broadcast them silently)"),
]
INVALID_BINARY_ACCURACY = INVALID_BINARY


# =============================================================================================================
# Checks used by the notebook: losses and metrics
# =============================================================================================================

def check_categorical_crossentropy(fn, cases=None, max_examples=30, invalid=None):
    """Compare with keras.losses.categorical_crossentropy on drawn inputs (or on the given Cases)."""
    _check(fn, name="categorical_crossentropy", reference="keras.losses.categorical_crossentropy",
           references=_loss_references("categorical_crossentropy"),
           mistakes_fn=categorical_crossentropy_mistakes, strategy=categorical_crossentropy_cases(), cases=cases,
           invalid=(INVALID_CATEGORICAL if cases is None else ()) if invalid is None else invalid,
           max_examples=max_examples)


def check_sparse_categorical_crossentropy(fn, cases=None, max_examples=30, invalid=None):
    """Compare with keras.losses.sparse_categorical_crossentropy on drawn inputs (or on the given Cases)."""
    _check(fn, name="sparse_categorical_crossentropy", reference="keras.losses.sparse_categorical_crossentropy",
           references=_loss_references("sparse_categorical_crossentropy"),
           mistakes_fn=sparse_categorical_crossentropy_mistakes, strategy=sparse_categorical_crossentropy_cases(),
           cases=cases, invalid=(INVALID_SPARSE if cases is None else ()) if invalid is None else invalid,
           max_examples=max_examples)


def check_binary_crossentropy(fn, cases=None, max_examples=30, invalid=None):
    """Compare with keras.losses.binary_crossentropy on drawn inputs (or on the given Cases)."""
    _check(fn, name="binary_crossentropy", reference="keras.losses.binary_crossentropy",
           references=_loss_references("binary_crossentropy"), mistakes_fn=binary_crossentropy_mistakes,
           strategy=binary_crossentropy_cases(), cases=cases,
           invalid=(INVALID_BINARY if cases is None else ()) if invalid is None else invalid,
           max_examples=max_examples)


def check_mean_squared_error(fn, cases=None, max_examples=30, invalid=None):
    """Compare with keras.losses.mean_squared_error on drawn inputs (or on the given Cases)."""
    _check(fn, name="mean_squared_error", reference="keras.losses.mean_squared_error",
           references=_loss_references("mean_squared_error"), mistakes_fn=mean_squared_error_mistakes,
           strategy=regression_cases(), cases=cases, error_hint=rank_rule_hint,
           invalid=(INVALID_REGRESSION if cases is None else ()) if invalid is None else invalid,
           max_examples=max_examples)


def check_mean_absolute_error(fn, cases=None, max_examples=30, invalid=None):
    """Compare with keras.losses.mean_absolute_error on drawn inputs (or on the given Cases)."""
    _check(fn, name="mean_absolute_error", reference="keras.losses.mean_absolute_error",
           references=_loss_references("mean_absolute_error"), mistakes_fn=mean_absolute_error_mistakes,
           strategy=regression_cases(), cases=cases, error_hint=rank_rule_hint,
           invalid=(INVALID_REGRESSION if cases is None else ()) if invalid is None else invalid,
           max_examples=max_examples)


def check_categorical_accuracy(fn, cases=None, max_examples=30, invalid=None):
    """Compare with keras.metrics.categorical_accuracy (exactly) on drawn inputs (or on the given Cases)."""
    _check(fn, name="categorical_accuracy", reference="keras.metrics.categorical_accuracy",
           references=_metric_references("categorical_accuracy"), mistakes_fn=categorical_accuracy_mistakes,
           strategy=categorical_accuracy_cases(), cases=cases, exact=True,
           invalid=(INVALID_CATEGORICAL if cases is None else ()) if invalid is None else invalid,
           max_examples=max_examples)


def check_sparse_categorical_accuracy(fn, cases=None, max_examples=30, invalid=None):
    """Compare with keras.metrics.sparse_categorical_accuracy (exactly) on drawn inputs (or the given Cases)."""
    _check(fn, name="sparse_categorical_accuracy", reference="keras.metrics.sparse_categorical_accuracy",
           references=_metric_references("sparse_categorical_accuracy"),
           mistakes_fn=sparse_categorical_accuracy_mistakes, strategy=sparse_categorical_accuracy_cases(),
           cases=cases, exact=True,
           invalid=(INVALID_SPARSE_SHAPES if cases is None else ()) if invalid is None else invalid,
           max_examples=max_examples)


def check_binary_accuracy(fn, cases=None, max_examples=30, invalid=None):
    """Compare with keras.metrics.binary_accuracy (exactly) on drawn inputs (or on the given Cases)."""
    _check(fn, name="binary_accuracy", reference="keras.metrics.binary_accuracy",
           references=_metric_references("binary_accuracy"), mistakes_fn=binary_accuracy_mistakes,
           strategy=binary_accuracy_cases(), cases=cases, exact=True,
           invalid=(INVALID_BINARY_ACCURACY if cases is None else ()) if invalid is None else invalid,
           max_examples=max_examples)


# =============================================================================================================
# Optimizers: Keras paths
# =============================================================================================================

KERAS_OPTIMIZERS = {"sgd_step": "SGD", "rmsprop_step": "RMSprop", "adam_step": "Adam", "adagrad_step": "Adagrad"}


def _keras_hyperparameters(kwargs):
    # Keras's SGD insists on a float momentum (momentum=0 raises) and on a bool nesterov.
    return {k: (bool(v) if k == "nesterov" else float(v)) for k, v in kwargs.items()}


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
    keras = _keras()
    groups = {}
    for index, case in enumerate(cases):
        key = (tuple(sorted(case.kwargs.items())), len(case.args[1]))
        groups.setdefault(key, []).append(index)
    paths = [None] * len(cases)
    for (items, steps), indices in groups.items():
        params = [_f64(cases[i].args[0]) for i in indices]
        grads = [_f64(cases[i].args[1]).reshape(steps, -1) for i in indices]
        variable = keras.Variable(np.concatenate([p.ravel() for p in params]), dtype="float64")
        optimizer = getattr(keras.optimizers, class_name)(**_keras_hyperparameters(dict(items)))
        flat = np.empty((steps, variable.shape[0]))
        for k in range(steps):
            optimizer.apply([np.concatenate([g[k] for g in grads])], [variable])
            flat[k] = _to_numpy(variable)
        start = 0
        for i, p in zip(indices, params):
            paths[i] = flat[:, start:start + p.size].reshape((steps,) + p.shape)
            start += p.size
    return paths


def numpy_path(step, param0, grads):
    """Apply `step(param, grad, state) -> (param, state)` once per gradient; return the stacked parameters."""
    param, state, path = _f64(param0), None, []
    with np.errstate(all="ignore"):
        for grad in _f64(grads):
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
            raise CheckFailed(f"At step {k} of {len(grads)} (param0={_show(param0)}): {failure}") \
                from failure.__cause__
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise CheckFailed(f"`{name}` returned a {type_name(result)} at step {k}; it should return a pair "
                              "(new_param, new_state).")
        param, state = as_array(result[0], name), result[1]
        if param.shape != np.shape(param0):
            raise CheckFailed(f"`{name}` returned a parameter of shape {param.shape} at step {k}; it must keep the "
                              f"shape of param, {np.shape(param0)}.")
        path.append(param)
    return np.stack(path)


def compare_paths(got, expected, case, *, name, mistakes_fn, rtol=RTOL):
    """Raise CheckFailed unless the student's path matches Keras's; say at which step it first differs and name
    the mistake whose whole path the student's follows."""
    param0, grads = case.args
    scale = max(float(np.max(np.abs(expected))), float(np.max(np.abs(param0))))
    atol = rtol * scale  # an element near 0 gets the absolute error of the largest ones (see compare.py)
    if _agrees(got, expected, rtol=rtol, atol=atol, exact=False):
        return
    first = next(k for k in range(len(got)) if not _agrees(got[k], expected[k], rtol=rtol, atol=atol, exact=False))
    named = [m.description for m in mistakes_fn(param0, grads, **case.kwargs)
             if _agrees(got, m.result, rtol=rtol, atol=atol, exact=False)
             and not _agrees(m.result, expected, rtol=rtol, atol=atol, exact=False)][:1]
    try:
        compare_arrays(got[first], expected[first], what=f"after step {first + 1}", rtol=rtol, atol=atol)
        detail = "wrong values."
    except CheckFailed as failure:
        detail = str(failure)
    steps = ("it differs from Keras from the first step on" if first == 0 else
             "the first step matches Keras, step 2 does not" if first == 1 else
             f"the first {first} steps match Keras, step {first + 1} does not")
    lines = [f"{name} with {_hyperparameter_text(case.kwargs)}, {len(grads)} steps from param={_show(param0)}: "
             f"{steps} (that step's grad: {_show(np.asarray(grads)[first])}).", detail]
    if named:
        lines.append(f"Your parameters follow what you get if {named[0]}.")
    raise CheckFailed("\n  ".join(lines))


def _check_optimizer(step_fn, name, cases, invalid, rtol=RTOL):
    if not callable(step_fn):
        raise CheckFailed(f"`{name}` should be a function, but it is a {type_name(step_fn)}.")
    reference = f"keras.optimizers.{KERAS_OPTIMIZERS[name]}"
    visible = cases is None
    cases = optimizer_cases(name) if visible else list(cases)
    if not cases:
        raise ValueError("give at least one Case")
    invalid = (INVALID_OPTIMIZER[name] if visible else ()) if invalid is None else invalid
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = keras_paths(KERAS_OPTIMIZERS[name], cases)
    for case, path in zip(cases, expected):
        got = student_path(step_fn, case, name=name)
        compare_paths(got, path, case, name=name, mistakes_fn=OPTIMIZER_MISTAKES[name], rtol=rtol)
    for args, kwargs, reason in invalid:
        expect_value_error(step_fn, *args, name=name, reason=reason, **kwargs)
    steps = sum(len(case.args[1]) for case in cases)
    configs = len({tuple(sorted(case.kwargs.items())) for case in cases})
    tail = f" and raises ValueError on {len(invalid)} invalid inputs" if invalid else ""
    print(f"\u2713 {name} follows {reference} for {steps} steps ({len(cases)} gradient sequences, {configs} "
          f"setting{'s' if configs != 1 else ''}){tail}.")


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
