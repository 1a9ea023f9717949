"""Notebook 08's checks (autograder/topics/lstm.py): each named mistake is reported by name, the NumPy model
the mistakes are built from agrees with Keras, and right answers pass. One hand-picked case per check keeps
this fast (the notebook runs the property-based versions)."""
import re

import numpy as np
import pytest

from autograder.checks.errors import CheckFailed
from autograder.topics import lstm as L

STEP_CASE = L.lstm_step_case(5, batch=2, input_dim=3, units=2)
LSTM_CASE = L.lstm_case(6, batch=2, timesteps=3, input_dim=2, units=3, return_sequences=True, initial_state=True)
STATEFUL_CASE = L.stateful_case(7, batch_size=2, timesteps=2, input_dim=2, units=3, calls="xxrx")
STACKED_CASE = L.stacked_case(8, batch=3, timesteps=2, data_dim=3, units=(2, 2), flags=(True, False),
                              num_classes=3)


def named(text):
    return re.escape(f"Hint: your result is what you get if {text}")


def test_numpy_model_agrees_with_keras():
    for got, expected in zip(L.np_lstm(*LSTM_CASE.args, **LSTM_CASE.kwargs),
                             L.keras_lstm(*LSTM_CASE.args, **LSTM_CASE.kwargs)):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(L.np_stacked(*STACKED_CASE.args), L.keras_predict_stacked_lstm(*STACKED_CASE.args),
                               rtol=1e-5, atol=1e-6)
    for got, expected in zip(L._simulate_stateful(STATEFUL_CASE), L.keras_stateful(STATEFUL_CASE)):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_right_answers_pass(capsys):
    L.check_lstm_step(L.np_lstm_step, cases=[STEP_CASE])
    L.check_lstm(L.np_lstm, cases=[LSTM_CASE])
    L.check_predict_stacked_lstm(L.np_stacked, cases=[STACKED_CASE])
    assert capsys.readouterr().out.count("\u2713") == 3


@pytest.mark.parametrize("key", sorted(L.STEP_MISTAKES))
def test_step_mistakes_are_named(key):
    def wrong_step(*args):
        return L.np_lstm_step(*args, mistake=key)

    def wrong_lstm(*args, **kwargs):
        return L.np_lstm(*args, mistake=key, **kwargs)

    with pytest.raises(CheckFailed, match=named(L.STEP_MISTAKES[key])):
        L.check_lstm_step(wrong_step, cases=[STEP_CASE])
    with pytest.raises(CheckFailed, match=named(L.STEP_MISTAKES[key])):
        L.check_lstm(wrong_lstm, cases=[LSTM_CASE])


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
def test_lstm_mistakes_are_named(wrong, text):
    with pytest.raises(CheckFailed, match=named(text)):
        L.check_lstm(wrong, cases=[LSTM_CASE])


def stateful_class(carry=True, reset=True, carry_c=True):
    class Wrong:
        def __init__(self, kernel, recurrent_kernel, bias, batch_size, return_sequences=False):
            self.weights, self.return_sequences = (kernel, recurrent_kernel, bias), return_sequences
            self.zeros = np.zeros((batch_size, recurrent_kernel.shape[0]))
            self.h = self.c = self.zeros

        def reset_state(self):
            if reset:
                self.h = self.c = self.zeros

        def __call__(self, x):
            if x.shape[0] != self.zeros.shape[0]:
                raise ValueError("wrong batch size")
            output, h, c = L.np_lstm(x, *self.weights, self.return_sequences, [self.h, self.c])
            if carry:
                self.h, self.c = h, (c if carry_c else self.zeros)
            return output

    return Wrong


@pytest.mark.parametrize("options,text", [
    ({"carry": False}, "the state is not carried from one call to the next"),
    ({"reset": False}, "reset_state() does not set h and c back to zeros"),
    ({"carry_c": False}, "only h is carried from one call to the next"),
])
def test_stateful_mistakes_are_named(options, text):
    L.check_stateful_lstm(stateful_class(), cases=[STATEFUL_CASE])  # the same class without the mistake passes
    with pytest.raises(CheckFailed, match=named(text)):
        L.check_stateful_lstm(stateful_class(**options), cases=[STATEFUL_CASE])


@pytest.mark.parametrize("final,text", [
    ("logits", "the softmax is missing"),
    ("softmax0", "the softmax runs over axis 0"),
    ("none", "the final Dense softmax is left out"),
])
def test_stacked_mistakes_are_named(final, text):
    with pytest.raises(CheckFailed, match=named(text)):
        L.check_predict_stacked_lstm(lambda *args: L.np_stacked(*args, final=final), cases=[STACKED_CASE])
