"""04_fit: the given helpers run under the Keras watch, other Keras use is still caught, mistakes are named."""
import numpy as np
import pytest

from autograder.errors import CheckFailed
from autograder.student import call_student
from autograder.topics import fit as topic


def _uses_helpers(x, y, weights, activations):
    z = x @ weights[0] + weights[1]
    per_sample, grad = topic.loss_and_gradient("categorical_crossentropy", y, z, activations[-1])
    penalty, grads = topic.regularization({"name": "categorical_crossentropy", "l2": 0.01}, weights)
    grads[0] = grads[0] + x.T @ grad / len(x)
    grads[1] = grads[1] + grad.mean(axis=0)
    return topic.make_optimizer("adam").step(weights, grads)


def _problem():
    return topic.make_problem(0, n=6, hidden=())


def test_given_helpers_are_trusted_inside_the_watch():
    x, y, weights, activations = _problem()
    new = call_student(_uses_helpers, x, y, weights, activations, name="fit")
    assert [w.shape for w in new] == [w.shape for w in weights]


def test_other_keras_use_is_still_caught():
    x, y, weights, activations = _problem()

    def cheat(x):
        import keras
        return keras.ops.convert_to_numpy(keras.ops.softmax(x))

    with pytest.raises(CheckFailed, match="called Keras"):
        call_student(cheat, x, name="fit")


def test_reduce_loss_names_division_by_sum_of_weights():
    def wrong(values, sample_weight=None):
        values = np.asarray(values, dtype=np.float64)
        if sample_weight is None:
            return float(values.mean())
        return float((values * sample_weight).sum() / np.sum(sample_weight))

    with pytest.raises(CheckFailed, match="sum\\(sample_weight\\)"):
        topic.check_reduce_loss(wrong, max_examples=10)


def test_split_names_validation_from_the_front():
    def wrong(x, y, validation_split):
        x, y = np.asarray(x), np.asarray(y)
        k = len(x) - int(np.floor(len(x) * (1 - validation_split)))
        return x[k:], y[k:], x[:k], y[:k]

    with pytest.raises(CheckFailed, match="FRONT"):
        topic.check_split_validation(wrong, max_examples=10)
