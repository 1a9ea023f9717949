"""What the tests of notebooks 09 and 10 share: the hint that names a mistake, and a NumPy training run held
against Keras's."""
import re

import numpy as np


def named(text):
    """The hint a check gives when the student's result is that of the mistake described by `text`."""
    return re.escape(f"Hint: your result is what you get if {text}")


def assert_trains_like_keras(np_train, keras_train, case):
    """The NumPy loop `np_train` ends with Keras's weights and history (`keras_train`: model.fit) on `case`."""
    got, history = np_train(*case.args, **case.kwargs)
    expected, expected_history = keras_train(*case.args, **case.kwargs)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)
    assert sorted(history) == sorted(expected_history)
    for key in history:
        np.testing.assert_allclose(history[key], expected_history[key], rtol=1e-5)
