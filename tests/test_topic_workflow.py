"""The checks of notebook 00 (whose answers call Keras) pass right answers written in other ways and fail the
mistakes students make with the two model APIs and Keras 3's SGD."""
import pytest

from autograder.checks.errors import CheckFailed
from autograder.topics import workflow as topic


def sequential_from_a_list(input_dim, hidden_units, num_classes):
    import keras

    return keras.Sequential([keras.Input(shape=(input_dim,)),
                             *[keras.layers.Dense(units, activation="relu") for units in hidden_units],
                             keras.layers.Dense(num_classes, activation="softmax")])


def sequential_without_softmax(input_dim, hidden_units, num_classes):
    import keras

    return keras.Sequential([keras.Input(shape=(input_dim,)),
                             *[keras.layers.Dense(units, activation="relu") for units in hidden_units],
                             keras.layers.Dense(num_classes)])


def modern_sgd(learning_rate, decay, momentum, nesterov, schedule=True):
    import keras

    if not learning_rate > 0 or not decay >= 0 or not 0 <= momentum < 1:
        raise ValueError("learning_rate > 0, decay >= 0 and 0 <= momentum < 1")
    if decay > 0 and schedule:
        learning_rate = keras.optimizers.schedules.InverseTimeDecay(learning_rate, 1, decay)
    return keras.optimizers.SGD(learning_rate, momentum=momentum, nesterov=nesterov)


def test_a_sequential_built_from_a_list_passes(keras, capsys):
    topic.check_build_sequential_mlp(sequential_from_a_list)
    assert "\u2713 build_sequential_mlp" in capsys.readouterr().out


def test_a_model_without_the_softmax_fails(keras):
    with pytest.raises(CheckFailed, match="softmax"):
        topic.check_build_sequential_mlp(sequential_without_softmax)


def test_a_sequential_is_not_a_functional_model(keras):
    with pytest.raises(CheckFailed):
        topic.check_build_functional_mlp(sequential_from_a_list)


def test_sgd_with_a_schedule_passes_and_without_it_fails(keras, capsys):
    topic.check_modern_sgd(modern_sgd)
    assert "\u2713 modern_sgd" in capsys.readouterr().out
    with pytest.raises(CheckFailed):
        topic.check_modern_sgd(lambda *args: modern_sgd(*args, schedule=False))
