"""Checks of notebook 09 (autograder/topics/cnn_backprop.py): the NumPy model the named mistakes come from agrees
with Keras, right answers pass, and each named mistake is reported by name. Hand-picked cases keep this fast
(the notebook runs the property-based versions)."""
import numpy as np
import pytest

from autograder.checks.errors import CheckFailed
from autograder.topics import cnn_backprop as C
from numpy_models import assert_trains_like_keras, named

CONV_CASES = C.conv_backward_rule_cases()
POOL_CASES = C.pool_backward_rule_cases()
NUMERICAL_CASES = [C.numerical_case("cubic", (2, 3), 1), C.numerical_case("tanh", (2, 2), 3, h=1e-3),
                   C.numerical_case("softmax_ce", (4,), 2, dtype=np.float32)]


def right_gradients(*args):
    return C.np_cnn_gradients(*args)[0]


class TestNumpyReference:
    """Without a mistake the NumPy model gives Keras's numbers."""

    @pytest.mark.parametrize("case", CONV_CASES + [C.conv_backward_case(3, size=(4, 5), strides=(1, 2),
                                                                        kernel_size=(2, 3), padding="same")])
    def test_conv2d_backward(self, case):
        for got, expected in zip(C.np_conv2d_backward(*case.args, **case.kwargs),
                                 C.keras_conv2d_backward(*case.args, **case.kwargs)):
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)

    @pytest.mark.parametrize("case", POOL_CASES)
    def test_max_pooling2d_backward(self, case):
        np.testing.assert_allclose(C.np_max_pooling2d_backward(*case.args, **case.kwargs),
                                   C.keras_max_pooling2d_backward(*case.args, **case.kwargs), rtol=1e-6, atol=1e-6)

    def test_ties_go_to_the_first_maximum(self):
        dx = C.keras_max_pooling2d_backward(np.ones((1, 1, 1, 1)), np.ones((1, 2, 2, 1)))
        assert dx[0, :, :, 0].tolist() == [[1.0, 0.0], [0.0, 0.0]]

    @pytest.mark.parametrize("case", NUMERICAL_CASES)
    def test_numerical_gradient(self, case):
        f, x = case.args
        np.testing.assert_allclose(C.np_numerical_gradient(f, x, **case.kwargs),
                                   C.exact_gradient(f, x), rtol=1e-6, atol=1e-5)

    @pytest.mark.parametrize("kind", C.GRADIENT_KINDS)
    def test_cnn_gradients(self, kind):
        case = C.gradient_case(kind)
        for got, expected in zip(C.np_cnn_gradients(*case.args)[0], C.keras_cnn_gradients(*case.args)):
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)

    @pytest.mark.parametrize("kind", ["momentum", "adam"])
    def test_training(self, kind):
        assert_trains_like_keras(C.np_train, C.keras_train, C.train_case(kind))


class TestChecks:
    def test_right_answers_pass(self, capsys):
        C.check_numerical_gradient(C.np_numerical_gradient, cases=NUMERICAL_CASES)
        C.check_conv2d_backward(C.np_conv2d_backward, cases=CONV_CASES)
        C.check_max_pooling2d_backward(C.np_max_pooling2d_backward, cases=POOL_CASES)
        C.check_cnn_gradients(right_gradients, kinds=("small_cnn",))
        C.check_train_cnn(C.np_train)
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) == 5 and all(line.startswith("\u2713 ") for line in lines), lines

    @pytest.mark.parametrize("key", sorted(C.NUMERICAL_MISTAKES))
    def test_numerical_mistakes_named(self, key):
        with pytest.raises(CheckFailed, match=named(C.NUMERICAL_MISTAKES[key][:30])):
            C.check_numerical_gradient(lambda *a, **k: C.np_numerical_gradient(*a, **k, mistake=key),
                                       cases=NUMERICAL_CASES)

    def test_numerical_gradient_must_not_change_x(self):
        def in_place(f, x, h=1e-5):
            grad = np.zeros(np.shape(x))
            for index in np.ndindex(np.shape(x)):
                old = x[index]
                x[index] = old + h
                plus = f(x)
                x[index] = old - h
                grad[index] = (plus - f(x)) / (2 * h)  # x[index] never restored
            return grad

        with pytest.raises(CheckFailed, match="changed one of its inputs in place"):
            C.check_numerical_gradient(in_place, cases=NUMERICAL_CASES[:1])

    def test_numerical_gradient_must_step_by_the_h_given(self):
        def fixed_step(f, x, h=1e-5):
            return C.np_numerical_gradient(f, x)  # close to the derivative for every h drawn, but not what was asked

        with pytest.raises(CheckFailed, match=r"h=0\.001 it calls f at x \+ h e_k"):
            C.check_numerical_gradient(fixed_step, cases=NUMERICAL_CASES)

    @pytest.mark.parametrize("key", sorted(C.CONV_MISTAKES))
    def test_conv_mistakes_named(self, key):
        with pytest.raises(CheckFailed, match=named(C.CONV_MISTAKES[key][:30])):
            C.check_conv2d_backward(lambda *a, **k: C.np_conv2d_backward(*a, **k, mistake=key), cases=CONV_CASES)

    @pytest.mark.parametrize("key", sorted(C.POOL_MISTAKES))
    def test_pool_mistakes_named(self, key):
        with pytest.raises(CheckFailed, match=named(C.POOL_MISTAKES[key][:30])):
            C.check_max_pooling2d_backward(lambda *a, **k: C.np_max_pooling2d_backward(*a, **k, mistake=key),
                                           cases=POOL_CASES)

    @pytest.mark.parametrize("key", sorted(C.GRADIENT_MISTAKES))
    def test_gradient_mistakes_named(self, key):
        with pytest.raises(CheckFailed, match=named(C.GRADIENT_MISTAKES[key][:30])):
            C.check_cnn_gradients(lambda *a: C.np_cnn_gradients(*a, mistake=key)[0])

    @pytest.mark.parametrize("key", sorted(C.TRAIN_MISTAKES))
    def test_train_mistakes_named(self, key):
        with pytest.raises(CheckFailed, match=named(C.TRAIN_MISTAKES[key][:30])):
            C.check_train_cnn(lambda *a, **k: C.np_train(*a, **k, mistake=key), kinds=("adam",))

    def test_rejects_need_value_errors(self):
        with pytest.raises(CheckFailed):
            C.check_conv2d_backward_rejects(C.np_conv2d_backward)  # the NumPy model does not validate
        with pytest.raises(CheckFailed):
            C.check_max_pooling2d_backward_rejects(C.np_max_pooling2d_backward)
