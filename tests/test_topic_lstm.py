"""Checks of notebook 08 (autograder/topics/lstm.py): right answers pass, each named mistake is reported by name,
and the NumPy model the mistakes are built from agrees with Keras; one class per exercise. One hand-picked case
per check keeps this fast (the notebook runs the property-based versions)."""
import re

import numpy as np
import pytest

from autograder.checks.errors import CheckFailed
from autograder.topics import lstm as L

EMBEDDING_CASE = L.embedding_case(4, (2, 3), input_dim=4, output_dim=6)
STEP_CASE = L.lstm_step_case(5, batch=2, input_dim=3, units=2)
LSTM_CASE = L.lstm_case(6, batch=2, timesteps=3, input_dim=2, units=3, return_sequences=True, initial_state=True)
STATEFUL_CASE = L.stateful_case(7, batch_size=2, timesteps=2, input_dim=2, units=3, calls="xxrx")
STACKED_CASE = L.stacked_case(8, batch=3, timesteps=2, data_dim=3, units=(2, 2), flags=(True, False),
                              num_classes=3)


def named(text):
    return re.escape(f"Hint: your result is what you get if {text}")


def success_line(capsys):
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("\u2713 "), lines
    return lines[0]


def raises_value_error(*args, **kwargs):
    raise ValueError("this input is not valid")


class TestNumpyReference:
    """The NumPy LSTM the named mistakes are computed from is Keras's LSTM when no mistake is switched on."""

    def test_numpy_model_agrees_with_keras(self):
        """np_lstm, np_stacked and _simulate_stateful give Keras's numbers."""
        for got, expected in zip(L.np_lstm(*LSTM_CASE.args, **LSTM_CASE.kwargs),
                                 L.keras_lstm(*LSTM_CASE.args, **LSTM_CASE.kwargs)):
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(L.np_stacked(*STACKED_CASE.args),
                                   L.keras_predict_stacked_lstm(*STACKED_CASE.args), rtol=1e-5, atol=1e-6)
        for got, expected in zip(L._simulate_stateful(STATEFUL_CASE), L.keras_stateful(STATEFUL_CASE)):
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


class TestEmbedding:
    """embedding: a row lookup against keras.layers.Embedding, and ValueError on bad ids."""

    def test_right_answer_passes(self, capsys):
        """table[ids] passes the hand-picked case and drawn ids of every kind (lists, int types)."""
        L.check_embedding(lambda ids, table: np.asarray(table)[np.asarray(ids)], cases=[EMBEDDING_CASE])
        assert success_line(capsys) == "\u2713 embedding matches keras.layers.Embedding on 1 input."
        L.check_embedding(lambda ids, table: np.asarray(table)[np.asarray(ids)], max_examples=4)
        assert success_line(capsys).startswith("\u2713 embedding matches keras.layers.Embedding on ")

    @pytest.mark.parametrize("wrong,text", [
        (lambda ids, table: np.asarray(table)[np.asarray(ids) - 1], "you look up row id - 1"),
        (lambda ids, table: np.asarray(table)[:, np.asarray(ids)], "you index the table's columns"),
    ])
    def test_mistakes_are_named(self, wrong, text):
        """Counting ids from 1 and indexing the columns are named."""
        with pytest.raises(CheckFailed, match=named(text)):
            L.check_embedding(wrong, cases=[EMBEDDING_CASE])

    def test_rejects(self, capsys):
        """Looking up bad ids as Keras does fails; raising ValueError passes, with the runner's success line."""
        with pytest.raises(CheckFailed, match="should raise ValueError because id -1 is negative"):
            L.check_embedding_rejects(lambda ids, table: np.asarray(table)[np.asarray(ids).astype(int) % 5])
        L.check_embedding_rejects(raises_value_error)
        assert success_line(capsys) == "\u2713 embedding raises ValueError on all 4 invalid inputs."


class TestLstmStep:
    """lstm_step: one step of Keras's LSTM (gates i, f, c, o), against keras.layers.LSTMCell."""

    def test_right_answer_passes(self, capsys):
        """The NumPy step passes."""
        L.check_lstm_step(L.np_lstm_step, cases=[STEP_CASE])
        assert success_line(capsys).startswith("\u2713 lstm_step matches keras.layers.LSTMCell")

    @pytest.mark.parametrize("key", sorted(L.STEP_MISTAKES))
    def test_step_mistakes_are_named(self, key):
        """Every registered step mistake (gate order, activations, output gate, bias, ...) is named."""
        with pytest.raises(CheckFailed, match=named(L.STEP_MISTAKES[key])):
            L.check_lstm_step(lambda *args: L.np_lstm_step(*args, mistake=key), cases=[STEP_CASE])

    def test_swapped_return_is_named(self):
        """Returning (c, h) is named."""
        with pytest.raises(CheckFailed, match=named("you return (c, h)")):
            L.check_lstm_step(lambda *args: L.np_lstm_step(*args)[::-1], cases=[STEP_CASE])

    def test_a_single_array_is_the_wrong_type(self):
        """Returning h alone, not the tuple (h, c), fails as a wrong type."""
        with pytest.raises(CheckFailed, match=r"should return a tuple \(h, c\)") as failure:
            L.check_lstm_step(lambda *args: L.np_lstm_step(*args)[0], cases=[STEP_CASE])
        assert failure.value.kind == "wrong_type"


class TestLstm:
    """lstm: the whole layer (return_sequences, initial_state) against keras.layers.LSTM; the input checks."""

    def test_right_answer_passes(self, capsys):
        """The NumPy layer passes."""
        L.check_lstm(L.np_lstm, cases=[LSTM_CASE])
        assert success_line(capsys) == "\u2713 lstm matches keras.layers.LSTM on 1 input."

    @pytest.mark.parametrize("key", sorted(L.STEP_MISTAKES))
    def test_step_mistakes_are_named(self, key):
        """A step mistake inside the layer is named too."""
        with pytest.raises(CheckFailed, match=named(L.STEP_MISTAKES[key])):
            L.check_lstm(lambda *args, **kwargs: L.np_lstm(*args, mistake=key, **kwargs), cases=[LSTM_CASE])

    @pytest.mark.parametrize("wrong,text", [
        (lambda x, k, r, b, return_sequences=False, initial_state=None: L.np_lstm(x, k, r, b, return_sequences),
         "initial_state is ignored"),
        (lambda x, k, r, b, return_sequences=False, initial_state=None:
         L.np_lstm(x, k, r, b, return_sequences, initial_state[::-1]), "you read initial_state as (c0, h0)"),
        (lambda *a, **kw: L.np_lstm(*a, carry=False, **kw), "h and c are not carried from one time step"),
        (lambda *a, **kw: L.np_lstm(*a, backwards=True, **kw), "you walk through the time steps from last to first"),
        (lambda x, k, r, b, return_sequences=False, initial_state=None:
         L.np_lstm(x, k, r, b, False, initial_state), "return_sequences=True is ignored"),
    ])
    def test_lstm_mistakes_are_named(self, wrong, text):
        """initial_state ignored or misread, state not carried, steps backwards, return_sequences ignored: named."""
        with pytest.raises(CheckFailed, match=named(text)):
            L.check_lstm(wrong, cases=[LSTM_CASE])

    def test_rejects(self, capsys):
        """lstm_step and lstm must both raise ValueError on their invalid inputs; one line reports both."""
        with pytest.raises(CheckFailed, match="should raise ValueError"):
            L.check_lstm_rejects(raises_value_error, L.np_lstm)  # the NumPy layer checks no shapes
        L.check_lstm_rejects(raises_value_error, raises_value_error)
        assert success_line(capsys) == "\u2713 lstm_step and lstm raise ValueError on all 5 invalid inputs."


def stateful_class(carry=True, reset=True, carry_c=True, check_batch=True):
    class Wrong:
        def __init__(self, kernel, recurrent_kernel, bias, batch_size, return_sequences=False):
            self.weights, self.return_sequences = (kernel, recurrent_kernel, bias), return_sequences
            self.zeros = np.zeros((batch_size, recurrent_kernel.shape[0]))
            self.h = self.c = self.zeros

        def reset_state(self):
            if reset:
                self.h = self.c = self.zeros

        def __call__(self, x):
            if check_batch and x.shape[0] != self.zeros.shape[0]:
                raise ValueError("wrong batch size")
            output, h, c = L.np_lstm(x, *self.weights, self.return_sequences, [self.h, self.c])
            if carry:
                self.h, self.c = h, (c if carry_c else self.zeros)
            return output

    return Wrong


class TestStatefulLSTM:
    """StatefulLSTM: state carried between calls, reset_state(), the fixed batch size."""

    def test_right_answer_passes(self, capsys):
        """A class without a mistake passes."""
        L.check_stateful_lstm(stateful_class(), cases=[STATEFUL_CASE])
        assert success_line(capsys).startswith("\u2713 StatefulLSTM matches keras.layers.LSTM(stateful=True)")

    @pytest.mark.parametrize("options,text", [
        ({"carry": False}, "the state is not carried from one call to the next"),
        ({"reset": False}, "reset_state() does not set h and c back to zeros"),
        ({"carry_c": False}, "only h is carried from one call to the next"),
    ])
    def test_stateful_mistakes_are_named(self, options, text):
        """Not carrying the state, a reset that does nothing and carrying only h are named."""
        with pytest.raises(CheckFailed, match=named(text)):
            L.check_stateful_lstm(stateful_class(**options), cases=[STATEFUL_CASE])

    def test_a_batch_of_the_wrong_size_must_raise(self):
        """A layer that takes any batch size fails."""
        with pytest.raises(CheckFailed, match="should raise ValueError because layer = StatefulLSTM"):
            L.check_stateful_lstm(stateful_class(check_batch=False), cases=[STATEFUL_CASE])


class TestPredictStackedLstm:
    """predict_stacked_lstm: stacked LSTMs and a Dense softmax, against a keras.Sequential."""

    def test_right_answer_passes(self, capsys):
        """The NumPy stack passes."""
        L.check_predict_stacked_lstm(L.np_stacked, cases=[STACKED_CASE])
        assert success_line(capsys) == (
            "\u2713 predict_stacked_lstm matches a stacked-LSTM keras.Sequential on 1 input.")

    @pytest.mark.parametrize("final,text", [
        ("logits", "the softmax is missing"),
        ("softmax0", "the softmax runs over axis 0"),
        ("none", "the final Dense softmax is left out"),
    ])
    def test_stacked_mistakes_are_named(self, final, text):
        """A missing softmax, a softmax over the samples and a missing Dense layer are named."""
        with pytest.raises(CheckFailed, match=named(text)):
            L.check_predict_stacked_lstm(lambda *args: L.np_stacked(*args, final=final), cases=[STACKED_CASE])
