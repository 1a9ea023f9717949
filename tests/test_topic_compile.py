"""Tests of autograder.topics.compile that the notebook cannot show: the side-by-side Keras run is exact, the
float32/float64 rule accepts both honest answers, and named mistakes are named."""
import re

import numpy as np
import pytest

import autograder  # noqa: F401  (quiet TensorFlow before anything imports it)
from autograder.checks.runner import Case
from autograder.checks.errors import CheckFailed
from autograder.topics import compile as topic

RNG = np.random.default_rng(0)
STEPS = 10
TINY = Case((np.zeros(3), RNG.normal(size=(STEPS, 3)) * 1e-6), {})
NORMAL = Case((RNG.normal(size=(2, 2)), RNG.normal(size=(STEPS, 2, 2))), {})


def test_side_by_side_keras_run_equals_separate_runs(keras):
    cases = [Case(TINY.args, {"learning_rate": 0.01}), Case(NORMAL.args, {"learning_rate": 0.01})]
    together = topic.keras_paths("Adam", cases)
    for case, path in zip(cases, together):
        alone = topic.keras_paths("Adam", [case])[0]
        assert path.shape == (STEPS,) + np.shape(case.args[0])
        np.testing.assert_array_equal(path, alone)


# --- optimizers: a correct answer written differently passes, wrong ones are named ------------------------

def sgd_other_form(param, grad, state, learning_rate=0.01, momentum=0.0, nesterov=False):
    v = np.zeros_like(param) if state is None else state
    v = momentum * v + grad
    return param - learning_rate * (momentum * v + grad if nesterov else v), v


def sgd_sign_flipped(param, grad, state, learning_rate=0.01, momentum=0.0, nesterov=False):
    m = np.zeros_like(param) if state is None else state
    m = -momentum * m - learning_rate * grad
    return param + (momentum * m - learning_rate * grad if nesterov else m), m


def rmsprop(eps_outside):
    def step(param, grad, state, learning_rate=0.001, rho=0.9, epsilon=1e-7):
        v = rho * (0 if state is None else state) + (1 - rho) * grad ** 2
        d = np.sqrt(v) + epsilon if eps_outside else np.sqrt(v + epsilon)
        return param - learning_rate * grad / d, v
    return step


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


def adagrad_from_zero(param, grad, state, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7):
    acc = (np.zeros_like(param) if state is None else state) + grad ** 2
    return param - learning_rate * grad / np.sqrt(acc + epsilon), acc


def test_equivalent_momentum_form_passes(keras, capsys):
    cases = [Case(NORMAL.args, {"learning_rate": 0.1, "momentum": 0.9}),
             Case(NORMAL.args, {"momentum": 0.9, "nesterov": True})]
    topic.check_sgd_step(sgd_other_form, cases=cases, invalid=())
    assert capsys.readouterr().out.startswith("\u2713 sgd_step follows keras.optimizers.SGD")


def test_adam_hat_form_with_keras_epsilon_passes(keras):
    topic.check_adam_step(adam(paper_form=False), cases=[TINY, NORMAL], invalid=())


@pytest.mark.parametrize("step, name, cases, named", [
    (sgd_sign_flipped, "sgd_step", [Case(NORMAL.args, {"learning_rate": 0.1, "momentum": 0.9})], "wrong sign"),
    (rmsprop(eps_outside=True), "rmsprop_step", [TINY], "epsilon is added outside the square root"),
    (adam(paper_form=True), "adam_step", [TINY], "the paper's form"),
    (adagrad_from_zero, "adagrad_step", [NORMAL], "starts at 0 instead of initial_accumulator_value"),
])
def test_optimizer_mistake_is_named_with_its_first_wrong_step(keras, step, name, cases, named):
    with pytest.raises(CheckFailed) as failure:
        getattr(topic, f"check_{name}")(step, cases=cases, invalid=())
    message = str(failure.value)
    assert named in message
    assert re.search(r"(differs from Keras from the first step on|step \d+ does not)", message)


def test_state_is_fed_back_untouched_and_may_be_changed_in_place(keras):
    def sgd_dict_state(param, grad, state, learning_rate=0.01, momentum=0.0, nesterov=False):
        if state is None:
            state = {"m": np.zeros_like(param)}
        state["m"] *= momentum
        state["m"] -= learning_rate * grad
        return param + state["m"], state

    topic.check_sgd_step(sgd_dict_state, cases=[Case(NORMAL.args, {"momentum": 0.5})], invalid=())


# --- losses and metrics ------------------------------------------------------------------------------------

def bce(cast_to_float64):
    def binary_crossentropy(y_true, y_pred, from_logits=False):
        y_pred = np.asarray(y_pred, dtype=np.float64) if cast_to_float64 else np.asarray(y_pred)
        p = np.clip(y_pred, 1e-7, 1 - 1e-7)
        y = np.asarray(y_true, dtype=p.dtype)
        return np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)), axis=-1)
    return binary_crossentropy


@pytest.mark.parametrize("cast_to_float64", [False, True])
def test_float32_certain_and_wrong_accepted_in_either_precision(keras, cast_to_float64):
    # float32 Keras rounds 1 - 1e-7 to 1 - 1.19e-7: -log(1 - p) is 15.94 in float32 and 16.12 in float64.
    case = Case((np.array([[0.0], [1.0]]), np.array([[1.0], [1.0]], dtype=np.float32)))
    topic.check_binary_crossentropy(bce(cast_to_float64), cases=[case], invalid=())


def test_binary_accuracy_tie_at_threshold_is_named(keras):
    def greater_equal(y_true, y_pred, threshold=0.5):
        return (np.asarray(y_pred) >= threshold).astype(np.float32) == np.asarray(y_true)

    def float_greater_equal(y_true, y_pred, threshold=0.5):
        return greater_equal(y_true, y_pred, threshold).astype(np.float32)

    with pytest.raises(CheckFailed, match=r"\(>=\)"):
        topic.check_binary_accuracy(float_greater_equal, cases=[Case((np.array([[1.0]]), np.array([[0.5]])))],
                                    invalid=())


def test_visible_check_without_shape_validation_fails(keras):
    def mse_without_check(y_true, y_pred):
        return np.mean((np.asarray(y_true) - np.asarray(y_pred)) ** 2, axis=-1)

    with pytest.raises(CheckFailed, match="should raise ValueError"):
        topic.check_mean_squared_error(mse_without_check, cases=[Case((np.zeros((2, 3)), np.ones((2, 3))))],
                                       invalid=topic.INVALID_REGRESSION)
