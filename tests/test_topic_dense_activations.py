"""The checks of notebook 02 name the mistakes students make, accept correct variants, and their Keras
references are sound at the extremes (+-1000, tiny values); grouped per exercise."""
import re

import numpy as np
import pytest
from hypothesis import find, settings

from autograder.checks import keras_reference
from autograder.checks.runner import Case
from autograder.checks.errors import CheckFailed
from autograder.checks.strategies import elementwise_inputs
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


def relu_rejecting(x, negative_slope=0.0, max_value=None, threshold=0.0):
    if negative_slope < 0 or (max_value is not None and max_value < 0):
        raise ValueError("negative_slope and max_value must be >= 0")
    return relu_ok(x, negative_slope, max_value, threshold)


def dense_with(activation_first=False, transposed=False, bias_used=True, checks_shapes=True):
    def dense(x, kernel, bias=None, activation=None):
        x, kernel = np.asarray(x), np.asarray(kernel)
        if checks_shapes and (kernel.ndim != 2 or x.shape[-1] != kernel.shape[0]):
            raise ValueError(f"x has {x.shape[-1]} features but kernel has shape {kernel.shape}")
        act = {None: lambda z: z, "relu": lambda z: np.maximum(z, 0), "softmax": stable_softmax}[activation]
        z = x @ (kernel.T if transposed else kernel)
        if activation_first:
            return act(z) + (0 if bias is None else bias)
        return act(z + (0 if bias is None or not bias_used else bias))
    return dense


def assert_named(check, wrong, case, named):
    """`check` on the one `case` fails on `wrong` with a message containing `named`."""
    with pytest.raises(CheckFailed, match=re.escape(named)):
        check(wrong, cases=[case])


RNG = np.random.default_rng(0)
SQUARE = Case((RNG.normal(size=(3, 4)), RNG.normal(size=(4, 4)), RNG.normal(size=4)), {"activation": "relu"})
EXTREME = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -999.0, -1001.0]], np.float32)


class TestElementwiseInputs:
    @pytest.mark.parametrize("dtype,overflow", [(np.float32, 88.8), (np.float64, 709.8)])
    def test_they_reach_where_exp_overflows_in_each_dtype(self, dtype, overflow):
        """The shared inputs of the elementwise checks include values where exp(x) overflows, in both dtypes."""
        x = find(elementwise_inputs(allow_list=False), lambda x: x.dtype == dtype and np.any(np.abs(x) > overflow),
                 settings=settings(database=None, max_examples=500))
        assert np.all(np.isfinite(x))

    def test_they_are_sometimes_a_python_list(self):
        """Now and then the same numbers come as a nested Python list, as a student may pass them."""
        assert isinstance(find(elementwise_inputs(), lambda x: isinstance(x, list) and len(x) > 0,
                               settings=settings(database=None, max_examples=500)), list)


class TestRelu:
    @pytest.mark.parametrize("wrong,case,named", [
        (lambda x, threshold=0.0: np.where(x >= threshold, x, 0.0),
         Case((np.array([0.0, 1.0, 2.0]),), {"threshold": 1.0}), "x >= threshold"),
        (lambda x, max_value=None: np.maximum(x, 0.0),
         Case((np.array([-1.0, 3.0, 9.0]),), {"max_value": 6.0}), "leave out the max_value clip"),
    ])
    def test_a_known_mistake_is_named(self, wrong, case, named):
        """x >= threshold and a missing max_value clip are named."""
        assert_named(topic.check_relu, wrong, case, named)

    def test_the_reference_keeps_x_only_strictly_above_the_threshold(self):
        """keras_relu gives 0 at x == threshold, as Keras's code does."""
        out = topic.keras_relu(np.array([0.5, 1.0, 1.5]), threshold=1.0, negative_slope=0.5)
        np.testing.assert_allclose(out, relu_ok(np.array([0.5, 1.0, 1.5]), 0.5, None, 1.0))
        assert out[1] == 0.0

    def test_the_visible_check_says_it_also_tried_the_invalid_arguments(self, capsys):
        """A right relu passes the drawn, fixed and invalid inputs, on one standard success line."""
        topic.check_relu(relu_rejecting, max_examples=10)
        count = 10 + len(topic.RELU_FIXED)
        line = capsys.readouterr().out
        assert re.fullmatch(rf"\u2713 relu matches keras.activations.relu on \d+ inputs and raises ValueError on all "
                            rf"{len(topic.RELU_INVALID)} invalid inputs.\n", line), line
        assert int(re.search(r"on (\d+) inputs", line).group(1)) <= count

    def test_a_relu_that_accepts_a_negative_cap_fails_the_visible_check(self):
        """The invalid arguments are part of the visible check: a relu without the ValueErrors fails it."""
        with pytest.raises(CheckFailed, match=re.escape("should raise ValueError because max_value must be >= 0")):
            topic.check_relu(relu_ok, max_examples=5)


class TestSigmoid:
    def test_the_exp_ratio_is_named(self):
        """exp(x) / (1 + exp(x)) is NaN at 1000: the message says why."""
        assert_named(topic.check_sigmoid, lambda x: np.exp(x) / (1 + np.exp(x)),
                     Case((np.array([-1000.0, 0.5, 1000.0], np.float32),)), "inf / inf = NaN")

    def test_the_naive_sigmoid_passes_on_extremes(self, capsys):
        """1 / (1 + exp(-x)) is right at +-1000 (it overflows to 1 / inf = 0) and passes."""
        topic.check_sigmoid(lambda x: 1 / (1 + np.exp(-np.asarray(x))),
                            cases=[Case((x,)) for x in topic.EXTREME_INPUTS])
        assert capsys.readouterr().out.startswith("\u2713 sigmoid")

    def test_the_reference_is_finite_and_right_at_the_extremes(self):
        """keras_sigmoid(+-1000) is exactly 0 and 1."""
        np.testing.assert_array_equal(topic.keras_sigmoid(np.array([-1000.0, 1000.0], np.float32)), [0.0, 1.0])


class TestTanh:
    def test_the_exp_formula_is_named(self):
        """The exp formula overflows to NaN for large |x|: the message says to use np.tanh."""
        assert_named(topic.check_tanh, lambda x: (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x)),
                     Case((np.array([-1000.0, 0.5, 1000.0]),)), "use np.tanh")

    def test_the_reference_is_finite_and_right_at_the_extremes(self):
        """keras_tanh(+-1000) is exactly -1 and 1."""
        np.testing.assert_array_equal(topic.keras_tanh(np.array([-1000.0, 1000.0], np.float32)), [-1.0, 1.0])


class TestLinear:
    def test_returning_the_list_itself_fails(self):
        """linear must return a NumPy array, also for a Python list."""
        with pytest.raises(CheckFailed, match="should return a NumPy array"):
            topic.check_linear(lambda x: x, cases=[Case(([1.5, -2.0],))])

    def test_rounding_to_float32_fails_the_exact_comparison(self):
        """The identity keeps every float64 digit."""
        with pytest.raises(CheckFailed):
            topic.check_linear(lambda x: np.array(x, np.float32), cases=[Case((np.array([0.1, 1 / 3]),))])


class TestSoftmax:
    @pytest.mark.parametrize("wrong,case,named", [
        (lambda x, axis=-1: np.exp(x) / np.exp(x).sum(axis=axis, keepdims=True), Case((EXTREME,)),
         "Subtract the max before exp"),
        (lambda x, axis=-1: stable_softmax(x, axis=0), Case((np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]]),)),
         "over axis 0 instead of axis -1"),
        (lambda x, axis=-1: np.exp(x - x.max()) / np.exp(x - x.max()).sum(axis=axis, keepdims=True),
         Case((EXTREME,)), "max of the whole array"),
    ])
    def test_a_known_mistake_is_named(self, wrong, case, named):
        """No max shift, the wrong axis and the global max are named."""
        assert_named(topic.check_softmax, wrong, case, named)

    def test_mistakes_the_input_cannot_tell_apart_are_named_together(self):
        """On a single column, softmax over axis 0 is also softmax over the whole array: both are named."""
        assert_named(topic.check_softmax, lambda x, axis=-1: stable_softmax(x, axis=0),
                     Case((np.array([[1.0], [3.0]]),)),
                     "over axis 0 instead of axis -1, or if you normalise over the whole array")

    def test_the_reference_is_finite_and_right_at_the_extremes(self):
        """keras_softmax survives +-1000 and keeps tiny differences."""
        np.testing.assert_allclose(topic.keras_softmax(EXTREME), stable_softmax(EXTREME.astype(float)), atol=1e-7)
        assert topic.keras_softmax(np.array([[1e-30, 0.0]])).tolist() == [[0.5, 0.5]]


class TestDense:
    @pytest.mark.parametrize("wrong,named", [
        (dense_with(transposed=True), "kernel is transposed"),
        (dense_with(bias_used=False), "bias is missing"),
        (dense_with(activation_first=True), "activation before adding the bias"),
    ])
    def test_a_known_mistake_is_named(self, wrong, named):
        """A transposed kernel, a missing bias and the activation before the bias are named."""
        assert_named(topic.check_dense, wrong, SQUARE, named)

    def test_the_reused_layer_takes_each_calls_weights(self):
        """keras_dense's cached layer computes with the kernel and bias of this call, not of an earlier one."""
        x = np.array([[1.0, 2.0]], np.float32)
        for kernel, bias in [(np.eye(2), np.zeros(2)), (2 * np.eye(2), np.ones(2))]:
            np.testing.assert_allclose(topic.keras_dense(x, kernel.astype(np.float32), bias.astype(np.float32)),
                                       x @ kernel + bias)

    def test_rejects_prints_the_standard_line(self, capsys):
        """A dense that checks its shapes and names passes check_dense_rejects with the runner's line."""
        def dense(x, kernel, bias=None, activation=None):
            if bias is not None and np.shape(bias) != (np.shape(kernel)[-1],) or activation not in (None, "relu"):
                raise ValueError("bad bias or activation")
            return dense_with()(x, kernel, bias, activation)
        topic.check_dense_rejects(dense)
        assert capsys.readouterr().out == f"\u2713 dense raises ValueError on all {len(topic.DENSE_INVALID)} invalid inputs.\n"

    def test_a_dense_that_accepts_a_wrong_kernel_fails_rejects(self):
        """A dense that never checks the shapes fails check_dense_rejects."""
        with pytest.raises(CheckFailed, match="should raise ValueError"):
            topic.check_dense_rejects(dense_with(checks_shapes=False))


class TestCountParams:
    def test_leaving_out_the_biases_is_named(self):
        """input_dim * units is named as the missing biases."""
        assert_named(topic.check_count_params, lambda input_dim, units: input_dim * units, Case((784, 64)),
                     "leave out the biases")

    def test_a_float_count_is_refused(self):
        """A right number as a float fails: a count is an int."""
        assert_named(topic.check_count_params, lambda input_dim, units: float(input_dim * units + units),
                     Case((784, 64)), "a float; a count is a whole number: return an int")


class TestGlorotUniformLimit:
    @pytest.mark.parametrize("wrong,named", [
        (lambda fan_in, fan_out: float(np.sqrt(6 / (fan_in * fan_out))), "fan_in * fan_out"),
        (lambda fan_in, fan_out: float(np.sqrt(1 / (fan_in + fan_out))), "leave out the 6"),
    ])
    def test_a_known_mistake_is_named(self, wrong, named):
        """A product of the fans and a missing 6 are named."""
        assert_named(topic.check_glorot_uniform_limit, wrong, Case((20, 64)), named)

    @pytest.mark.parametrize("fans", [(1, 1), (784, 64), (3, 1000)])
    def test_the_limit_recovered_from_keras_is_the_formula(self, fans):
        """The limit read off Keras's samples is sqrt(6 / (fan_in + fan_out))."""
        assert float(topic.keras_glorot_uniform_limit(*fans)) == pytest.approx(np.sqrt(6 / sum(fans)), rel=1e-6)


def predict_mlp_ok(x, weights, activations):
    out = np.asarray(x, np.float64)
    names = {None: lambda z: z, "relu": lambda z: np.maximum(z, 0), "softmax": keras_reference.softmax}
    for kernel, bias, activation in zip(weights[::2], weights[1::2], activations):
        out = names[activation](out @ kernel + bias)
    return out


class TestPredictMlp:
    def test_a_missing_last_activation_is_named(self):
        """Returning the logits is named as the last layer's activation left out."""
        weights = topic._mlp_weights([3, 4, 2], 1)

        def logits(x, weights, activations):
            h = np.maximum(x @ weights[0] + weights[1], 0)
            return h @ weights[2] + weights[3]
        assert_named(topic.check_predict_mlp, logits, Case((np.ones((2, 3)), weights, ["relu", "softmax"])),
                     "last layer's activation")

    def test_the_model_check_passes_a_right_answer_on_the_standard_line(self, capsys):
        """predict_mlp against model.predict on the cluster MLP, with the runner's success line."""
        topic.check_predict_mlp_on_model(predict_mlp_ok)
        assert capsys.readouterr().out == ("\u2713 predict_mlp(x, model.get_weights(), ['relu', 'relu', 'softmax']) "
                                           "matches model.predict(x) on 300 samples.\n")

    def test_the_model_check_names_reversed_activations(self):
        """Activations applied in reverse order fail the model check and are named."""
        with pytest.raises(CheckFailed, match="reverse order"):
            topic.check_predict_mlp_on_model(lambda x, weights, activations:
                                             predict_mlp_ok(x, weights, activations[::-1]))
