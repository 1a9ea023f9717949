"""Checks of notebook 10 (autograder/topics/lstm_backprop.py): the NumPy model the named mistakes come from agrees
with Keras, right answers pass, and each named mistake is reported by name. Hand-picked cases keep this fast
(the notebook runs the property-based versions)."""
import numpy as np
import pytest

from autograder.checks.errors import CheckFailed
from autograder.topics import lstm_backprop as L
from numpy_models import assert_trains_like_keras, named

BACKWARD_CASE = L.lstm_backward_case(5, batch=2, timesteps=3, input_dim=2, units=2, return_sequences=True,
                                     initial_state=True, d_final_state=True)
LAST_STEP_CASE = L.lstm_backward_case(6, batch=3, timesteps=3, input_dim=2, units=2, d_final_state=True)
EMBEDDING_CASE = L.embedding_backward_case(7, (2, 3), 3, 2)
SEQUENCE_CASE = L.Case(L.sequence_problem(8, n=3, timesteps=3) + ("categorical_crossentropy",))


def right_backward(*args, **kwargs):
    return L.np_lstm_backward(*args, **kwargs)


def right_sequence(ids, y, weights, loss):
    return L.np_sequence_gradients(ids, y, weights, loss)[0]


def right_train(*args, **kwargs):
    if kwargs.get("stateful") and len(args[0]) % kwargs.get("batch_size", 32):
        raise ValueError("n must be a multiple of batch_size")
    return L.np_train(*args, **kwargs)


class TestNumpyReference:
    """Without a mistake the NumPy model gives Keras's numbers."""

    @pytest.mark.parametrize("case", [BACKWARD_CASE, LAST_STEP_CASE, L.lstm_backward_case(9)])
    def test_lstm_backward(self, case):
        for got, expected in zip(L.np_lstm_backward(*case.args, **case.kwargs),
                                 L.keras_lstm_backward(*case.args, **case.kwargs)):
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)

    @pytest.mark.parametrize("loss", ["categorical_crossentropy", "binary_crossentropy", "mse"])
    @pytest.mark.parametrize("per_step", [False, True])
    def test_sequence_gradients(self, loss, per_step):
        ids, y, weights = L.sequence_problem(10, n=3, timesteps=2, loss=loss, per_step=per_step)
        for got, expected in zip(L.np_sequence_gradients(ids, y, weights, loss)[0],
                                 L.keras_sequence_gradients(ids, y, weights, loss)):
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)

    @pytest.mark.parametrize("kind", ["stateless", "stateful"])
    def test_training(self, kind):
        assert_trains_like_keras(L.np_train, L.keras_train, L.train_case(kind))


class TestChecks:
    def test_right_answers_pass(self, capsys):
        L.check_embedding_backward(L.np_embedding_backward, cases=[EMBEDDING_CASE])
        L.check_lstm_backward(right_backward, cases=[BACKWARD_CASE, LAST_STEP_CASE])
        L.check_sequence_gradients(right_sequence, cases=[SEQUENCE_CASE])
        L.check_train_sequence_model(right_train, kinds=("stateful",))
        L.check_train_rejects(right_train)
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) == 5 and all(line.startswith("\u2713 ") for line in lines), lines

    def test_embedding_overwrite_named(self):
        with pytest.raises(CheckFailed, match=named("repeated ids overwrite")):
            L.check_embedding_backward(lambda i, d, v: L.np_embedding_backward(i, d, v, overwrite=True),
                                       cases=[EMBEDDING_CASE])

    @pytest.mark.parametrize("key", sorted(L.BACKWARD_MISTAKES))
    def test_backward_mistakes_named(self, key):
        case = LAST_STEP_CASE if key in ("final_state_ignored",) else BACKWARD_CASE
        if key == "last_step_only":
            case = BACKWARD_CASE
        with pytest.raises(CheckFailed, match=named(L.BACKWARD_MISTAKES[key][:30])):
            L.check_lstm_backward(lambda *a, **k: L.np_lstm_backward(*a, **k, mistake=key), cases=[case])

    @pytest.mark.parametrize("key", sorted(L.SEQUENCE_MISTAKES))
    def test_sequence_mistakes_named(self, key):
        case = L.Case(L.sequence_problem(11, n=4, timesteps=3, vocab=3) + ("categorical_crossentropy",))
        with pytest.raises(CheckFailed, match=named(L.SEQUENCE_MISTAKES[key][:30])):
            L.check_sequence_gradients(lambda *a: L.np_sequence_gradients(*a, mistake=key)[0], cases=[case])

    @pytest.mark.parametrize("key", sorted(L.TRAIN_MISTAKES))
    def test_stateful_mistakes_named(self, key):
        with pytest.raises(CheckFailed, match=named(L.TRAIN_MISTAKES[key][:30])):
            L.check_train_sequence_model(lambda *a, **k: L.np_train(*a, **k, mistake=key), kinds=("stateful",))

    def test_rejects_needs_value_error(self):
        with pytest.raises(CheckFailed):
            L.check_train_rejects(L.np_train)  # NumPy fails too, but its message does not name batch_size
