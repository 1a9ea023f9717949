"""The checks of notebook 02 name the mistakes students make, accept correct variants, and their Keras
references are sound at the extremes (+-1000, tiny values)."""
import numpy as np
import pytest

from autograder.checks.runner import Case
from autograder.checks.errors import CheckFailed
from autograder.topics import dense_activations as topic


def stable_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def relu_ok(x, negative_slope=0.0, max_value=None, threshold=0.0):
    x = np.asarray(x, dtype=float)
    out = np.where(x > threshold, x, 0.0)
    if max_value is not None:
        out = np.clip(out, 0.0, max_value)
    return out - negative_slope * np.maximum(threshold - x, 0.0)


def dense_with(activation_first=False, transposed=False, bias_used=True):
    def dense(x, kernel, bias=None, activation=None):
        act = {None: lambda z: z, "relu": lambda z: np.maximum(z, 0), "softmax": stable_softmax}[activation]
        z = x @ (kernel.T if transposed else kernel)
        if activation_first:
            return act(z) + (0 if bias is None else bias)
        return act(z + (0 if bias is None or not bias_used else bias))
    return dense


RNG = np.random.default_rng(0)
SQUARE = Case((RNG.normal(size=(3, 4)), RNG.normal(size=(4, 4)), RNG.normal(size=4)), {"activation": "relu"})
EXTREME = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -999.0, -1001.0]], np.float32)


@pytest.mark.parametrize("check,wrong,case,named", [
    (topic.check_softmax, lambda x, axis=-1: np.exp(x) / np.exp(x).sum(axis=axis, keepdims=True),
     Case((EXTREME,)), "Subtract the max before exp"),
    (topic.check_softmax, lambda x, axis=-1: stable_softmax(x, axis=0),
     Case((np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]]),)), "over axis 0 instead of axis -1"),
    (topic.check_softmax, lambda x, axis=-1: np.exp(x - x.max()) / np.exp(x - x.max()).sum(axis=axis, keepdims=True),
     Case((EXTREME,)), "max of the whole array"),
    (topic.check_dense, dense_with(transposed=True), SQUARE, "kernel is transposed"),
    (topic.check_dense, dense_with(bias_used=False), SQUARE, "bias is missing"),
    (topic.check_dense, dense_with(activation_first=True), SQUARE, "activation before adding the bias"),
    (topic.check_relu, lambda x, threshold=0.0: np.where(x >= threshold, x, 0.0),
     Case((np.array([0.0, 1.0, 2.0]),), {"threshold": 1.0}), "x >= threshold"),
    (topic.check_relu, lambda x, max_value=None: np.maximum(x, 0.0),
     Case((np.array([-1.0, 3.0, 9.0]),), {"max_value": 6.0}), "leave out the max_value clip"),
    (topic.check_glorot_uniform_limit, lambda fan_in, fan_out: float(np.sqrt(6 / (fan_in * fan_out))),
     Case((20, 64)), "fan_in * fan_out"),
    (topic.check_glorot_uniform_limit, lambda fan_in, fan_out: float(np.sqrt(1 / (fan_in + fan_out))),
     Case((20, 64)), "leave out the 6"),
    (topic.check_count_params, lambda input_dim, units: input_dim * units, Case((784, 64)), "leave out the biases"),
    (topic.check_count_params, lambda input_dim, units: float(input_dim * units + units), Case((784, 64)),
     "a float; a count is a whole number: return an int"),
    (topic.check_tanh, lambda x: (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x)),
     Case((np.array([-1000.0, 0.5, 1000.0]),)), "use np.tanh"),
    (topic.check_sigmoid, lambda x: np.exp(x) / (1 + np.exp(x)),
     Case((np.array([-1000.0, 0.5, 1000.0], np.float32),)), "inf / inf = NaN"),
])
def test_a_known_mistake_is_named(check, wrong, case, named):
    with pytest.raises(CheckFailed, match=named.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        check(wrong, cases=[case])


def test_the_naive_sigmoid_passes_on_extremes(capsys):
    topic.check_sigmoid(lambda x: 1 / (1 + np.exp(-np.asarray(x))), cases=[Case((x,)) for x in topic.EXTREME_INPUTS])
    assert capsys.readouterr().out.startswith("\u2713 sigmoid")


def test_the_references_are_finite_and_right_at_the_extremes():
    x = np.array([-1000.0, 1000.0], np.float32)
    np.testing.assert_array_equal(topic.keras_sigmoid(x), [0.0, 1.0])
    np.testing.assert_array_equal(topic.keras_tanh(x), [-1.0, 1.0])
    np.testing.assert_allclose(topic.keras_softmax(EXTREME), stable_softmax(EXTREME.astype(float)), atol=1e-7)
    assert topic.keras_softmax(np.array([[1e-30, 0.0]])).tolist() == [[0.5, 0.5]]


@pytest.mark.parametrize("fans", [(1, 1), (784, 64), (3, 1000)])
def test_the_glorot_limit_recovered_from_keras_is_the_formula(fans):
    assert float(topic.keras_glorot_uniform_limit(*fans)) == pytest.approx(np.sqrt(6 / sum(fans)), rel=1e-6)


def test_relu_reference_keeps_x_only_strictly_above_the_threshold():
    out = topic.keras_relu(np.array([0.5, 1.0, 1.5]), threshold=1.0, negative_slope=0.5)
    np.testing.assert_allclose(out, relu_ok(np.array([0.5, 1.0, 1.5]), 0.5, None, 1.0))
    assert out[1] == 0.0


def test_predict_mlp_check_names_a_missing_last_activation():
    weights = topic._mlp_weights([3, 4, 2], 1)
    def logits(x, weights, activations):
        h = np.maximum(x @ weights[0] + weights[1], 0)
        return h @ weights[2] + weights[3]
    with pytest.raises(CheckFailed, match="last layer's activation"):
        topic.check_predict_mlp(logits, cases=[Case((np.ones((2, 3)), weights, ["relu", "softmax"]))])
