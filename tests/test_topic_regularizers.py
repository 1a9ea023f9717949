"""The checks of notebook 05 pass right answers written in other ways and name the mistakes students make with
penalties, their gradient and dropout."""
import numpy as np
import pytest

from autograder.checks.runner import Case
from autograder.checks.errors import CheckFailed
from autograder.topics import regularizers as topic

W = np.array([[0.5, -1.5, 0.0], [2.0, -0.25, 1.0]], np.float32)


def penalty_gradient(w, l1=0.0, l2=0.0):
    if l1 < 0 or l2 < 0:
        raise ValueError("l1 and l2 must be 0 or more")
    w = np.asarray(w, dtype=np.float64)
    return l1 * np.where(w > 0, 1.0, np.where(w < 0, -1.0, 0.0)) + l2 * (w + w)


def dropout(x, rate, training=True, rng=None):
    if not 0 <= rate < 1:
        raise ValueError("rate must be in [0, 1)")
    x = np.asarray(x)
    if not training or rate == 0:
        return x
    rng = rng if rng is not None else np.random.default_rng()
    keep = rng.binomial(1, 1 - rate, size=x.shape).astype(bool)
    return (x * keep / (1 - rate)).astype(x.dtype)


@pytest.mark.parametrize("check,wrong,case,named", [
    (topic.check_l2_penalty, lambda w, l2=0.01: 0.5 * l2 * float(np.sum(np.square(w, dtype=np.float64))),
     Case((W,), {"l2": 0.1}), "½·l2·Σw²"),
    (topic.check_l1_penalty, lambda w, l1=0.01: l1 * float(np.mean(np.abs(w))), Case((W,), {"l1": 0.1}),
     "average |w|"),
    (topic.check_penalty_gradient, lambda w, l1=0.0, l2=0.0: l1 * np.sign(w) + l2 * np.asarray(w, np.float64),
     Case((W,), {"l1": 0.01, "l2": 0.1}), "lacks the factor 2"),
    (topic.check_penalty_gradient,
     lambda w, l1=0.0, l2=0.0: l1 * np.where(np.asarray(w) >= 0, 1.0, -1.0) + 2 * l2 * np.asarray(w, np.float64),
     Case((W,), {"l1": 0.01, "l2": 0.1}), "sign\\(0\\) = 0"),
], ids=["l2-half", "l1-mean", "gradient-no-2", "gradient-sign-0"])
def test_a_known_mistake_is_named(check, wrong, case, named):
    with pytest.raises(CheckFailed, match=named):
        check(wrong, cases=[case])


def test_the_gradient_written_with_where_passes(capsys):
    topic.check_penalty_gradient(penalty_gradient)
    assert "\u2713 penalty_gradient" in capsys.readouterr().out


def test_dropout_with_a_binomial_mask_passes_and_a_mask_not_rescaled_fails(capsys):
    topic.check_dropout(dropout)
    topic.check_dropout_rejects(dropout)
    assert capsys.readouterr().out.count("\u2713") == 2

    def not_rescaled(x, rate, training=True, rng=None):
        out = dropout(x, rate, training, rng)
        return out * (1 - rate) if training else out

    with pytest.raises(CheckFailed):
        topic.check_dropout(not_rescaled)


def test_dropout_that_changes_x_in_place_fails():
    def in_place(x, rate, training=True, rng=None):
        if not 0 <= rate < 1:
            raise ValueError("rate must be in [0, 1)")
        if training and rate:
            x[(rng or np.random.default_rng()).random(x.shape) < rate] = 0
            x /= 1 - rate
        return x

    with pytest.raises(CheckFailed):
        topic.check_dropout(in_place)
