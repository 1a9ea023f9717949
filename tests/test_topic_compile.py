"""Tests of notebook 03's checks (autograder/topics/compile/) that the notebook cannot show: the side-by-side
Keras run is exact, the float32/float64 rule accepts both honest answers, and named mistakes are named."""
import re

import numpy as np
import pytest

import autograder  # noqa: F401  (quiet TensorFlow before anything imports it)
from autograder.checks.errors import CheckFailed
from autograder.checks.runner import Case
from autograder.topics.compile import losses_metrics, optimizers

RNG = np.random.default_rng(0)
STEPS = 10
TINY = Case((np.zeros(3), RNG.normal(size=(STEPS, 3)) * 1e-6), {})
NORMAL = Case((RNG.normal(size=(2, 2)), RNG.normal(size=(STEPS, 2, 2))), {})


def optimizer_failure(check, step, cases):
    """The CheckFailed the optimizer check `check` raises on `step`, with its message."""
    with pytest.raises(CheckFailed) as failure:
        check(step, cases=cases, invalid=())
    return failure.value, str(failure.value)


def assert_first_wrong_step_is_said(message):
    assert re.search(r"(differs from Keras from the first step on|step \d+ does not)", message)


# =============================================================================================================
# Losses and metrics
# =============================================================================================================

def bce(cast_to_float64):
    def binary_crossentropy(y_true, y_pred, from_logits=False):
        y_pred = np.asarray(y_pred, dtype=np.float64) if cast_to_float64 else np.asarray(y_pred)
        p = np.clip(y_pred, 1e-7, 1 - 1e-7)
        y = np.asarray(y_true, dtype=p.dtype)
        return np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)), axis=-1)
    return binary_crossentropy


class TestBinaryCrossentropy:
    @pytest.mark.parametrize("cast_to_float64", [False, True])
    def test_float32_certain_and_wrong_accepted_in_either_precision(self, keras, cast_to_float64):
        """Keras in float32 and Keras in float64 are both accepted: they differ only by float32 rounding."""
        # float32 Keras rounds 1 - 1e-7 to 1 - 1.19e-7: -log(1 - p) is 15.94 in float32 and 16.12 in float64.
        case = Case((np.array([[0.0], [1.0]]), np.array([[1.0], [1.0]], dtype=np.float32)))
        losses_metrics.check_binary_crossentropy(bce(cast_to_float64), cases=[case], invalid=())

    def test_unclipped_loss_is_named_and_recorded(self, keras):
        """A loss without clipping is named, and the failure keeps its exercise, kind and mistake."""
        def unclipped(y_true, y_pred, from_logits=False):
            p, y = np.asarray(y_pred, dtype=np.float64), np.asarray(y_true, dtype=np.float64)
            with np.errstate(all="ignore"):
                return np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)), axis=-1)

        with pytest.raises(CheckFailed, match="do not clip") as failure:
            losses_metrics.check_binary_crossentropy(
                unclipped, cases=[Case((np.array([[1.0, 0.0]]), np.array([[0.0, 0.5]])))], invalid=())
        assert failure.value.exercise == "binary_crossentropy"
        assert failure.value.kind == "not_finite"
        assert "do not clip" in failure.value.mistake.description

    def test_an_answer_whose_result_changes_between_calls_is_told_so(self, keras):
        """On drawn inputs, an answer that is right at first and then not on the same input gets the runner's note
        (and keeps its exercise and kind)."""
        right, calls = bce(cast_to_float64=True), []

        def flaky(y_true, y_pred, from_logits=False):
            calls.append(1)
            return right(y_true, y_pred) + (len(calls) > 3) * (len(calls) % 2)

        with pytest.raises(CheckFailed, match="gave different results for the same input") as failure:
            losses_metrics.check_binary_crossentropy(flaky, max_examples=10, invalid=())
        assert failure.value.exercise == "binary_crossentropy" and failure.value.kind == "wrong_values"


class TestMeanSquaredError:
    def test_visible_check_without_shape_validation_fails(self, keras):
        """An answer that lets NumPy broadcast mismatched shapes fails the invalid-input part."""
        def mse_without_check(y_true, y_pred):
            return np.mean((np.asarray(y_true) - np.asarray(y_pred)) ** 2, axis=-1)

        with pytest.raises(CheckFailed, match="should raise ValueError"):
            losses_metrics.check_mean_squared_error(
                mse_without_check, cases=[Case((np.zeros((2, 3)), np.ones((2, 3))))],
                invalid=losses_metrics.INVALID_REGRESSION)

    def test_success_line_counts_inputs_and_invalid_inputs(self, keras, capsys):
        """The one line: the runner's wording, with the invalid inputs as its tail."""
        def mse(y_true, y_pred):
            y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
            if y_true.shape != y_pred.shape:
                raise ValueError(f"shapes {y_true.shape} and {y_pred.shape} differ")
            return np.mean((y_true - y_pred) ** 2, axis=-1)

        losses_metrics.check_mean_squared_error(mse, cases=[Case((np.zeros((2, 3)), np.ones((2, 3))))],
                                                invalid=losses_metrics.INVALID_REGRESSION)
        assert capsys.readouterr().out == ("\u2713 mean_squared_error matches keras.losses.mean_squared_error on 1 "
                                           "input and raises ValueError on all 2 invalid inputs.\n")


class TestBinaryAccuracy:
    def test_tie_at_threshold_is_named(self, keras):
        """`>=` instead of `>` is named, and the record names that mistake."""
        def float_greater_equal(y_true, y_pred, threshold=0.5):
            return ((np.asarray(y_pred) >= threshold).astype(np.float32) == np.asarray(y_true)).astype(np.float32)

        with pytest.raises(CheckFailed, match=r"\(>=\)") as failure:
            losses_metrics.check_binary_accuracy(
                float_greater_equal, cases=[Case((np.array([[1.0]]), np.array([[0.5]])))], invalid=())
        assert failure.value.mistake is not None and "(>=)" in failure.value.mistake.description
        assert failure.value.exercise == "binary_accuracy"


# =============================================================================================================
# Optimizers
# =============================================================================================================

class TestKerasPaths:
    def test_side_by_side_keras_run_equals_separate_runs(self, keras):
        """Cases that share one Keras optimizer get exactly the path each would get alone."""
        cases = [Case(TINY.args, {"learning_rate": 0.01}), Case(NORMAL.args, {"learning_rate": 0.01})]
        together = optimizers.keras_paths("Adam", cases)
        for case, path in zip(cases, together):
            alone = optimizers.keras_paths("Adam", [case])[0]
            assert path.shape == (STEPS,) + np.shape(case.args[0])
            np.testing.assert_array_equal(path, alone)


def sgd_other_form(param, grad, state, learning_rate=0.01, momentum=0.0, nesterov=False):
    v = np.zeros_like(param) if state is None else state
    v = momentum * v + grad
    return param - learning_rate * (momentum * v + grad if nesterov else v), v


def sgd_sign_flipped(param, grad, state, learning_rate=0.01, momentum=0.0, nesterov=False):
    m = np.zeros_like(param) if state is None else state
    m = -momentum * m - learning_rate * grad
    return param + (momentum * m - learning_rate * grad if nesterov else m), m


class TestSgdStep:
    def test_equivalent_momentum_form_passes(self, keras, capsys):
        """Momentum written as v = momentum * v + grad passes; the line counts steps, sequences and settings."""
        cases = [Case(NORMAL.args, {"learning_rate": 0.1, "momentum": 0.9}),
                 Case(NORMAL.args, {"momentum": 0.9, "nesterov": True})]
        optimizers.check_sgd_step(sgd_other_form, cases=cases, invalid=())
        assert capsys.readouterr().out == ("\u2713 sgd_step matches keras.optimizers.SGD on 20 steps (2 gradient "
                                           "sequences, 2 settings).\n")

    def test_wrong_momentum_sign_is_named_with_its_first_wrong_step(self, keras):
        """The wrong sign of the momentum term is named, with the step where the path leaves Keras's."""
        failure, message = optimizer_failure(optimizers.check_sgd_step, sgd_sign_flipped,
                                             [Case(NORMAL.args, {"learning_rate": 0.1, "momentum": 0.9})])
        assert "wrong sign" in message
        assert_first_wrong_step_is_said(message)
        assert failure.exercise == "sgd_step" and "wrong sign" in failure.mistake.description

    def test_state_is_fed_back_untouched_and_may_be_changed_in_place(self, keras):
        """The state the answer returned is handed back as it is, so a dict changed in place works."""
        def sgd_dict_state(param, grad, state, learning_rate=0.01, momentum=0.0, nesterov=False):
            if state is None:
                state = {"m": np.zeros_like(param)}
            state["m"] *= momentum
            state["m"] -= learning_rate * grad
            return param + state["m"], state

        optimizers.check_sgd_step(sgd_dict_state, cases=[Case(NORMAL.args, {"momentum": 0.5})], invalid=())

    def test_a_step_that_returns_no_pair_is_told_so(self, keras):
        """A step function that returns only the parameter is told to return (new_param, new_state)."""
        def no_pair(param, grad, state, learning_rate=0.01, momentum=0.0, nesterov=False):
            return param - learning_rate * grad

        failure, message = optimizer_failure(optimizers.check_sgd_step, no_pair, [NORMAL])
        assert "(new_param, new_state)" in message and failure.exercise == "sgd_step"


def rmsprop(eps_outside):
    def step(param, grad, state, learning_rate=0.001, rho=0.9, epsilon=1e-7):
        v = rho * (0 if state is None else state) + (1 - rho) * grad ** 2
        d = np.sqrt(v) + epsilon if eps_outside else np.sqrt(v + epsilon)
        return param - learning_rate * grad / d, v
    return step


class TestRmspropStep:
    def test_right_answer_passes(self, keras):
        """RMSprop with epsilon inside the square root passes."""
        optimizers.check_rmsprop_step(rmsprop(eps_outside=False), cases=[TINY, NORMAL], invalid=())

    def test_epsilon_outside_the_square_root_is_named(self, keras):
        """Epsilon after the square root is named (tiny gradients show it)."""
        failure, message = optimizer_failure(optimizers.check_rmsprop_step, rmsprop(eps_outside=True), [TINY])
        assert "epsilon is added outside the square root" in message
        assert_first_wrong_step_is_said(message)


def adam(paper_form):
    def step(param, grad, state, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        m, v, t = (0.0, 0.0, 0) if state is None else state
        t += 1
        m = beta_1 * m + (1 - beta_1) * grad
        v = beta_2 * v + (1 - beta_2) * grad ** 2
        m_hat, v_hat = m / (1 - beta_1 ** t), v / (1 - beta_2 ** t)
        scaled_eps = epsilon if paper_form else epsilon / np.sqrt(1 - beta_2 ** t)  # the second is Keras's
        return param - learning_rate * m_hat / (np.sqrt(v_hat) + scaled_eps), (m, v, t)
    return step


class TestAdamStep:
    def test_hat_form_with_keras_epsilon_passes(self, keras):
        """The bias-corrected m_hat / v_hat form passes when its epsilon is scaled as Keras's is."""
        optimizers.check_adam_step(adam(paper_form=False), cases=[TINY, NORMAL], invalid=())

    def test_paper_form_is_named(self, keras):
        """The paper's epsilon placement is named (tiny gradients show it)."""
        failure, message = optimizer_failure(optimizers.check_adam_step, adam(paper_form=True), [TINY])
        assert "the paper's form" in message
        assert_first_wrong_step_is_said(message)
        assert failure.mistake is not None and failure.kind == "wrong_values"


def adagrad_from_zero(param, grad, state, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7):
    acc = (np.zeros_like(param) if state is None else state) + grad ** 2
    return param - learning_rate * grad / np.sqrt(acc + epsilon), acc


class TestAdagradStep:
    def test_accumulator_from_zero_is_named(self, keras):
        """An accumulator that starts at 0 instead of initial_accumulator_value is named."""
        failure, message = optimizer_failure(optimizers.check_adagrad_step, adagrad_from_zero, [NORMAL])
        assert "starts at 0 instead of initial_accumulator_value" in message
        assert_first_wrong_step_is_said(message)
