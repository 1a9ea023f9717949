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


def functional_not_chained(input_dim, hidden_units, num_classes):
    import keras

    inputs = keras.Input(shape=(input_dim,))
    for units in hidden_units:
        keras.layers.Dense(units, activation="relu")(inputs)
    return keras.Model(inputs=inputs, outputs=keras.layers.Dense(num_classes, activation="softmax")(inputs))


def modern_sgd(learning_rate, decay, momentum, nesterov, schedule=True, check=True, message="bad arguments"):
    import keras

    if check and (not learning_rate > 0 or not decay >= 0 or not 0 <= momentum < 1):
        raise ValueError(message)
    if decay > 0 and schedule:
        learning_rate = keras.optimizers.schedules.InverseTimeDecay(learning_rate, 1, decay)
    return keras.optimizers.SGD(learning_rate, momentum=momentum, nesterov=nesterov)


class TestBuildSequentialMlp:
    """build_sequential_mlp: a keras.Sequential compared layer by layer with a Keras reference."""

    def test_a_sequential_built_from_a_list_passes(self, keras, capsys):
        """A list of layers instead of .add() passes, with the runner's success line."""
        topic.check_build_sequential_mlp(sequential_from_a_list)
        assert capsys.readouterr().out == (f"\u2713 build_sequential_mlp matches a Keras reference on "
                                           f"{len(topic.SEQUENTIAL_CONFIGS)} inputs.\n")

    def test_a_model_without_the_softmax_fails(self, keras):
        """An output layer without activation='softmax' is named."""
        with pytest.raises(CheckFailed, match="softmax"):
            topic.check_build_sequential_mlp(sequential_without_softmax)


class TestBuildFunctionalMlp:
    """build_functional_mlp: a Functional keras.Model, not a Sequential, with the same layers."""

    def test_a_sequential_is_not_a_functional_model(self, keras):
        """A keras.Sequential is refused, saying it is one."""
        with pytest.raises(CheckFailed, match="got a keras.Sequential"):
            topic.check_build_functional_mlp(sequential_from_a_list)

    def test_layers_not_chained_are_left_out_and_said_so(self, keras):
        """Layers called on `inputs` instead of the previous output: the message says to chain them."""
        with pytest.raises(CheckFailed, match=r"x = Dense\(\.\.\.\)\(x\)"):
            topic.check_build_functional_mlp(functional_not_chained)


class TestModernSgd:
    """modern_sgd: Keras 3's SGD with Keras 2's decay as a schedule, and ValueError on invalid arguments."""

    def test_sgd_with_a_schedule_passes(self, keras, capsys):
        """The right answer passes, with one success line that counts both parts."""
        topic.check_modern_sgd(modern_sgd)
        assert capsys.readouterr().out == (f"\u2713 modern_sgd matches a Keras reference on {len(topic.SGD_CONFIGS)} "
                                           f"inputs and raises ValueError on all {len(topic.SGD_INVALID)} invalid inputs.\n")

    def test_sgd_without_the_schedule_fails_and_names_the_dropped_decay(self, keras):
        """Dropping the decay (Keras 3 ignores SGD(decay=...)) is named."""
        with pytest.raises(CheckFailed, match="did you drop the decay"):
            topic.check_modern_sgd(lambda *args: modern_sgd(*args, schedule=False))

    def test_an_sgd_that_accepts_invalid_arguments_fails(self, keras):
        """No ValueError on learning_rate <= 0 fails, saying why it should have raised."""
        with pytest.raises(CheckFailed, match=r"should raise ValueError because learning_rate must be > 0, but it "
                                              r"returned normally"):
            topic.check_modern_sgd(lambda *args: modern_sgd(*args, check=False))

    def test_a_value_error_without_a_message_fails(self, keras):
        """A bare ValueError() is not enough: the message must say what is wrong."""
        with pytest.raises(CheckFailed, match="raised ValueError without a message"):
            topic.check_modern_sgd(lambda *args: modern_sgd(*args, message=""))


class TestRunKeras2Snippet:
    """run_keras2_snippet: what Keras 3 makes of Keras 2 code, on stdout only."""

    def test_rejected_warned_and_clean_code_are_told_apart(self, keras, capsys):
        """An error, a warning and clean code each give their own line, and nothing reaches stderr."""
        topic.run_keras2_snippet("opt = RMSprop(lr=0.001)")
        topic.run_keras2_snippet("sgd = SGD(learning_rate=0.01, decay=1e-6)")
        topic.run_keras2_snippet("opt = RMSprop(learning_rate=0.001)")
        out, err = capsys.readouterr()
        lines = out.splitlines()
        assert lines[0].startswith("Keras 3 rejects this: ValueError")
        assert lines[1].startswith("Keras 3 runs this, but warns:")
        assert lines[2] == "Keras 3 runs this without complaint."
        assert err == ""
