"""The checks of notebook 05 pass right answers written in other ways and name the mistakes students make with
penalties, their gradient, the reported loss, dropout and early stopping."""
import re

import numpy as np
import pytest

from autograder.checks.runner import Case
from autograder.checks.errors import CheckFailed
from autograder.topics import regularizers as topic

W = np.array([[0.5, -1.5, 0.0], [2.0, -0.25, 1.0]], np.float32)


def penalty(w, l1=0.0, l2=0.0):
    if l1 < 0 or l2 < 0:
        raise ValueError("l1 and l2 must be 0 or more")
    w = np.asarray(w, dtype=np.float64)
    return l1 * float(np.abs(w).sum()) + l2 * float((w * w).sum())


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


class TestPenalties:
    """l1_penalty, l2_penalty, l1_l2_penalty and check_penalties_reject."""

    @pytest.mark.parametrize("check,wrong,case,named", [
        (topic.check_l2_penalty, lambda w, l2=0.01: 0.5 * l2 * float(np.sum(np.square(w, dtype=np.float64))),
         Case((W,), {"l2": 0.1}), "½·l2·Σw²"),
        (topic.check_l1_penalty, lambda w, l1=0.01: l1 * float(np.mean(np.abs(w))), Case((W,), {"l1": 0.1}),
         "average |w|"),
    ], ids=["l2-half", "l1-mean"])
    def test_a_known_mistake_is_named(self, check, wrong, case, named):
        with pytest.raises(CheckFailed, match=named):
            check(wrong, cases=[case])

    def test_l1_l2_penalty_checks_the_defaults_zero_and_zero(self, capsys):
        topic.check_l1_l2_penalty(penalty, max_examples=3)
        assert re.search(r"✓ l1_l2_penalty matches keras.regularizers.L1L2 on \d+ inputs.", capsys.readouterr().out)

        def defaults_of_l1_and_l2(w, l1=0.01, l2=0.01):
            return penalty(w, l1, l2)

        with pytest.raises(CheckFailed, match="defaults to 0 and 0"):
            topic.check_l1_l2_penalty(defaults_of_l1_and_l2, max_examples=3)

    def test_negative_factors_must_raise(self, capsys):
        functions = {"l1_penalty": lambda w, l1=0.01: penalty(w, l1=l1),
                     "l2_penalty": lambda w, l2=0.01: penalty(w, l2=l2), "l1_l2_penalty": penalty}
        topic.check_penalties_reject(functions)
        assert capsys.readouterr().out == ("✓ l1_penalty, l2_penalty and l1_l2_penalty raise ValueError on all 4 "
                                           "negative factors.\n")
        functions["l2_penalty"] = lambda w, l2=0.01: abs(l2) * float(np.sum(np.square(w)))
        with pytest.raises(CheckFailed, match="l2_penalty"):
            topic.check_penalties_reject(functions)


class TestPenaltyGradient:
    """penalty_gradient against tf.GradientTape."""

    @pytest.mark.parametrize("wrong,named", [
        (lambda w, l1=0.0, l2=0.0: l1 * np.sign(w) + l2 * np.asarray(w, np.float64), "lacks the factor 2"),
        (lambda w, l1=0.0, l2=0.0: l1 * np.where(np.asarray(w) >= 0, 1.0, -1.0) + 2 * l2 * np.asarray(w, np.float64),
         "sign\\(0\\) = 0"),
    ], ids=["gradient-no-2", "gradient-sign-0"])
    def test_a_known_mistake_is_named(self, wrong, named):
        with pytest.raises(CheckFailed, match=named):
            topic.check_penalty_gradient(wrong, cases=[Case((W,), {"l1": 0.01, "l2": 0.1})])

    def test_the_gradient_written_with_where_passes(self, capsys):
        topic.check_penalty_gradient(penalty_gradient)
        assert "\u2713 penalty_gradient" in capsys.readouterr().out


class TestRegularizedLoss:
    """regularized_loss against the penalties and a real model's model.losses."""

    def test_the_sum_of_penalties_passes_and_the_model_is_compared_too(self, capsys):
        def regularized_loss(data_loss, weights, l1=0.0, l2=0.0):
            return float(data_loss) + sum(penalty(w, l1, l2) for w in weights)

        topic.check_regularized_loss(regularized_loss, max_examples=3)
        assert re.search(r"✓ regularized_loss matches data loss \+ keras.regularizers.L1L2 penalties on \d+ inputs, "
                         r"and data loss \+ sum\(model.losses\) on a 2-layer model.", capsys.readouterr().out)

    def test_forgetting_the_data_loss_is_named(self):
        def penalties_only(data_loss, weights, l1=0.0, l2=0.0):
            return sum(penalty(w, l1, l2) for w in weights)

        with pytest.raises(CheckFailed, match="forget the data loss"):
            topic.check_regularized_loss(penalties_only, cases=[Case((0.75, [W, W.T]), {"l2": 0.1})])


class TestDropout:
    """dropout's properties and its invalid rates."""

    def test_dropout_with_a_binomial_mask_passes_and_a_mask_not_rescaled_fails(self, capsys):
        topic.check_dropout(dropout)
        topic.check_dropout_rejects(dropout)
        out = capsys.readouterr().out
        assert out.count("\u2713") == 2
        assert "✓ dropout raises ValueError on all 3 rates outside [0, 1)." in out

        def not_rescaled(x, rate, training=True, rng=None):
            out = dropout(x, rate, training, rng)
            return out * (1 - rate) if training else out

        with pytest.raises(CheckFailed, match="do not scale the kept units") as failed:
            topic.check_dropout(not_rescaled)
        assert failed.value.mistake is topic.DROPOUT_NOT_SCALED

    def test_dropout_names_the_rate_taken_as_keep_probability_and_the_scale_by_rate(self):
        def keeps_rate(x, rate, training=True, rng=None):
            if not training or rate == 0:
                return x
            keep = (rng or np.random.default_rng()).random(x.shape) < rate
            return np.where(keep, x / (1 - rate), 0.0)

        def scaled_by_rate(x, rate, training=True, rng=None):
            return dropout(x, rate, training, rng) * (1 - rate) / rate if training and rate else x

        for answer, mistake in ((keeps_rate, topic.DROPOUT_RATE_KEPT), (scaled_by_rate, topic.DROPOUT_SCALED_BY_RATE)):
            with pytest.raises(CheckFailed) as failed:
                topic.check_dropout(answer)
            assert failed.value.mistake is mistake, str(failed.value)
            assert f"Hint: it looks as if {mistake.description}." in str(failed.value)

    def test_dropout_that_changes_x_in_place_fails(self):
        def in_place(x, rate, training=True, rng=None):
            if not 0 <= rate < 1:
                raise ValueError("rate must be in [0, 1)")
            if training and rate:
                x[(rng or np.random.default_rng()).random(x.shape) < rate] = 0
                x /= 1 - rate
            return x

        with pytest.raises(CheckFailed):
            topic.check_dropout(in_place)

    def test_a_rate_of_1_must_raise(self):
        def accepts_1(x, rate, training=True, rng=None):
            return dropout(x, min(rate, 0.5), training, rng) if rate >= 0 else dropout(x, rate, training, rng)

        with pytest.raises(CheckFailed, match="rate=1.0"):
            topic.check_dropout_rejects(accepts_1)


class TestEarlyStoppingEpoch:
    """early_stopping_epoch against a real keras.callbacks.EarlyStopping."""

    def test_a_tie_counted_as_an_improvement_is_named(self):
        def ties_improve(val_losses, patience, min_delta=0.0, restore_best_weights=False):
            best, best_epoch, wait, stop = None, 0, 0, len(val_losses) - 1
            for epoch, value in enumerate(val_losses):
                wait += 1
                if best is None or value + abs(min_delta) <= best:
                    best, best_epoch, wait = value, epoch, 0
                elif wait >= patience and epoch > 0:
                    stop = epoch
                    break
            return stop, best_epoch if restore_best_weights else stop

        with pytest.raises(CheckFailed, match="a tie"):
            topic.check_early_stopping_epoch(ties_improve, cases=[Case(([1.0, 1.0, 1.0, 0.5], 2),
                                                                       {"restore_best_weights": True})])
