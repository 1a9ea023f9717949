"""Notebook 03, losses and metrics: `keras.losses.*` and `keras.metrics.*` against the student's NumPy versions.

Every check runs on hypothesis-drawn inputs (shapes, dtypes, probabilities of exactly 0 and 1 and below the 1e-7
clipping bound, large logits, ties at the threshold, (n, 1) targets), or on the hidden check's Cases, through the
one runner (`checks.runner.run_cases`). Two Keras results are accepted for float32 inputs: Keras on the inputs
as given and Keras on them in float64 (they differ only by float32 rounding, see `_compare_case`). Every known
mistake is computed here in NumPy on the same inputs, so that a failure can name it (`compare.matching_mistake`).
"""
import warnings

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograder.checks.calling import as_array
from autograder.checks.compare import RTOL, Mistake, compare_arrays
from autograder.checks.errors import CheckFailed
from autograder.checks.keras_reference import keras, same_for_every_student, sigmoid, softmax
from autograder.checks.runner import (Case, call_on_case, check_rejects, input_size, invalid_inputs, rejects_tail,
                                      report_pass, run_cases)
from autograder.topics.compile.shared import agrees, describe_precisely, f64, to_numpy

EPSILON = 1e-7  # keras.config.epsilon(): the clipping bound of the crossentropies

LOSS_ATOL = 1e-6
"""Absolute tolerance of the loss checks, on top of the relative RTOL. In float32 Keras rounds the upper
clipping bound 1 - 1e-7 to 1 - 1.19e-7, so a "perfect" prediction costs 1.19e-7 in float32 and 1.0e-7 in
float64: losses this small carry no information, and no mistake the checks name is that small."""


# =============================================================================================================
# Comparing one case, with several acceptable Keras results
# =============================================================================================================

def _loss_atol(expected):
    finite = np.abs(expected[np.isfinite(expected)]) if expected.size else np.zeros(0)
    return max(LOSS_ATOL, RTOL * (float(finite.max()) if finite.size else 0.0))


def _quietly(mistakes_fn):
    """`mistakes_fn` with NumPy's warnings off: the known mistakes take log(0) and overflow exp on purpose."""
    def mistakes(*args, **kwargs):
        with np.errstate(all="ignore"):
            return mistakes_fn(*args, **kwargs)
    return mistakes


def _compare_case(student_fn, case, *, name, references, mistakes_fn, exact, error_hint=None):
    """Run the student on one Case and compare with Keras; raise CheckFailed (with its record) if wrong.

    Args:
        references: callable(*args, **kwargs) -> list of arrays; the first is Keras on the inputs as given, the
            others are Keras on the same inputs in float64 (accepted too: they differ only by float32 rounding).
            The first is the one a failure is measured against.
        mistakes_fn: callable(*args, **kwargs) -> list of Mistake, only evaluated when the answer is wrong.
        exact: compare exactly (0/1 metrics) instead of with RTOL and LOSS_ATOL.
        error_hint: callable(case, error) -> str or None: a hint added when the student's function raises.
    """
    mistakes_fn = _quietly(mistakes_fn)
    try:
        with np.printoptions(suppress=False):  # so that an error message shows 1e-9 as 1e-9, not 0
            result = call_on_case(student_fn, case, name=name, mistakes_fn=mistakes_fn, error_hint=error_hint)
        got = as_array(result, name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            candidates = [np.asarray(r) for r in references(*case.args, **case.kwargs)]
        tolerance = (lambda e: dict(rtol=0.0, atol=0.0, exact=True)) if exact else (
            lambda e: dict(rtol=RTOL, atol=_loss_atol(e), exact=False))
        if any(agrees(got, e, **tolerance(e)) for e in candidates):
            return
        what = describe_precisely(name, case.args, case.kwargs)
        compare_arrays(got, candidates[0], what=what, mistakes=mistakes_fn(*case.args, **case.kwargs),
                       **tolerance(candidates[0]))
        raise CheckFailed(f"{what}: differs from Keras.")  # not reached: compare_arrays raised
    except CheckFailed as failure:
        failure.exercise = failure.exercise or name
        failure.input_size = failure.input_size if failure.input_size is not None else input_size(case)
        raise


def _check(student_fn, *, name, reference, references, mistakes_fn, strategy, cases, invalid, default_invalid,
           max_examples, exact=False, error_hint=None):
    """Compare on the given Cases, or on `max_examples` hypothesis-drawn ones (`run_cases`); then check that
    each invalid input (`invalid_inputs`) raises ValueError; print one line."""
    count = run_cases(lambda case: _compare_case(student_fn, case, name=name, references=references,
                                                 mistakes_fn=mistakes_fn, exact=exact, error_hint=error_hint),
                      name=name, cases=cases, strategy=strategy, max_examples=max_examples)
    invalid = invalid_inputs(cases, invalid, default_invalid)
    if invalid:
        check_rejects(student_fn, invalid, name=name, quiet=True)
    report_pass(name, reference, count, also=rejects_tail(len(invalid)))


# =============================================================================================================
# Losses: references and known mistakes
# =============================================================================================================

def _keras_call(function, y_true, y_pred, **kwargs):
    """Keras on the inputs as given, and (if y_pred is float32) on y_pred in float64 as well."""
    results = [to_numpy(function(y_true, y_pred, **kwargs))]
    if np.asarray(y_pred).dtype == np.float32:
        results.append(to_numpy(function(y_true, f64(y_pred), **kwargs)))
    return results


def _loss_references(loss_name):
    def references(y_true, y_pred, **kwargs):
        return _keras_call(getattr(keras().losses, loss_name), y_true, y_pred, **kwargs)
    return same_for_every_student(references)


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


def categorical_crossentropy_mistakes(y_true, y_pred, from_logits=False):
    y, p = f64(y_true), f64(y_pred)
    if from_logits:
        return [
            Mistake(NAIVE_SOFTMAX, -np.sum(y * np.log(_naive_softmax(p)), axis=-1)),
            Mistake(NAIVE_SOFTMAX, -np.sum(y * _naive_log_softmax(p), axis=-1)),
            Mistake("you turn the logits into probabilities and then clip them to [1e-7, 1 - 1e-7] (with "
                    "from_logits=True Keras uses log-softmax of the logits, without clipping)",
                    -np.sum(y * np.log(_clip(softmax(p))), axis=-1)),
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
    p = f64(y_pred)
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
                    -np.log(_pick(_clip(softmax(p)), labels))),
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
    y, p = f64(y_true), f64(y_pred)
    if from_logits:
        s = sigmoid(p)
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
    a, b = f64(y_true), f64(y_pred)
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
    naive = f64(y_true) - f64(y_pred)
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
    naive = f64(y_true) - f64(y_pred)
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
            return [to_numpy(getattr(keras().metrics, metric_name)(y_true, y_pred, **kwargs))]
    return same_for_every_student(references)


def categorical_accuracy_mistakes(y_true, y_pred):
    t, p = f64(y_true), f64(y_pred)
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
    p = f64(y_pred)
    raw = f64(y_true)
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
                ((f64(y_pred) > threshold) == f64(y_true)).astype(np.float32)),
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

def _exercise_check(name, *, strategy, mistakes_fn, default_invalid, metric=False, error_hint=None):
    """The notebook's check of one loss or metric: `check_<name>(fn, cases=None, max_examples=30, invalid=None)`
    compares with keras.losses.<name> (a metric: keras.metrics.<name>, exactly) on drawn inputs, or on the given
    Cases; then each invalid input (by default on the visible check: `default_invalid`) must raise ValueError."""
    reference = f"keras.{'metrics' if metric else 'losses'}.{name}"
    references = (_metric_references if metric else _loss_references)(name)

    def check(fn, cases=None, max_examples=30, invalid=None):
        _check(fn, name=name, reference=reference, references=references, mistakes_fn=mistakes_fn,
               strategy=strategy(), cases=cases, invalid=invalid, default_invalid=default_invalid,
               max_examples=max_examples, exact=metric, error_hint=error_hint)

    check.__name__ = check.__qualname__ = f"check_{name}"
    check.__doc__ = (f"Compare with {reference}{' (exactly)' if metric else ''} on drawn inputs (or on the given "
                     "Cases), then check that each invalid input raises ValueError.")
    return check


check_categorical_crossentropy = _exercise_check(
    "categorical_crossentropy", strategy=categorical_crossentropy_cases,
    mistakes_fn=categorical_crossentropy_mistakes, default_invalid=INVALID_CATEGORICAL)
check_sparse_categorical_crossentropy = _exercise_check(
    "sparse_categorical_crossentropy", strategy=sparse_categorical_crossentropy_cases,
    mistakes_fn=sparse_categorical_crossentropy_mistakes, default_invalid=INVALID_SPARSE)
check_binary_crossentropy = _exercise_check(
    "binary_crossentropy", strategy=binary_crossentropy_cases, mistakes_fn=binary_crossentropy_mistakes,
    default_invalid=INVALID_BINARY)
check_mean_squared_error = _exercise_check(
    "mean_squared_error", strategy=regression_cases, mistakes_fn=mean_squared_error_mistakes,
    default_invalid=INVALID_REGRESSION, error_hint=rank_rule_hint)
check_mean_absolute_error = _exercise_check(
    "mean_absolute_error", strategy=regression_cases, mistakes_fn=mean_absolute_error_mistakes,
    default_invalid=INVALID_REGRESSION, error_hint=rank_rule_hint)
check_categorical_accuracy = _exercise_check(
    "categorical_accuracy", strategy=categorical_accuracy_cases, mistakes_fn=categorical_accuracy_mistakes,
    default_invalid=INVALID_CATEGORICAL, metric=True)
check_sparse_categorical_accuracy = _exercise_check(
    "sparse_categorical_accuracy", strategy=sparse_categorical_accuracy_cases,
    mistakes_fn=sparse_categorical_accuracy_mistakes, default_invalid=INVALID_SPARSE_SHAPES, metric=True)
check_binary_accuracy = _exercise_check(
    "binary_accuracy", strategy=binary_accuracy_cases, mistakes_fn=binary_accuracy_mistakes,
    default_invalid=INVALID_BINARY_ACCURACY, metric=True)
