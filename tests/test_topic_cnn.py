"""Checks of notebook 07 (autograder/topics/cnn.py): correct NumPy layers pass, and each typical mistake is
reported by name."""
import numpy as np
import pytest

import autograder  # noqa: F401  (quiet TensorFlow before anything imports it)
from autograder.checks.errors import CheckFailed
from autograder.topics import cnn


def conv2d(x, kernel, bias=None, strides=(1, 1), padding="valid", **mistake):
    return cnn._np_conv2d(np.asarray(x, np.float64), np.asarray(kernel, np.float64),
                          None if bias is None else np.asarray(bias, np.float64), cnn._pair(strides), padding,
                          **mistake)


def conv2d_loops(image, kernel, flip=False):
    return conv2d(np.asarray(image)[None], kernel, flip=flip)[0]


def conv1d(x, kernel, bias=None, strides=1, padding="valid", **mistake):
    return conv2d(np.asarray(x)[:, None], np.asarray(kernel)[None], bias, (1, strides), padding, **mistake)[:, 0]


def max_pooling2d(x, pool_size=(2, 2), strides=None, padding="valid", **mistake):
    pool = cnn._pair(pool_size)
    return cnn._np_pool2d(np.asarray(x, np.float64), pool, pool if strides is None else cnn._pair(strides),
                          padding, **mistake)


def max_pooling1d(x, pool_size=2, strides=None, padding="valid", **mistake):
    return max_pooling2d(np.asarray(x)[:, None], (1, pool_size), None if strides is None else (1, strides),
                         padding, **mistake)[:, 0]


def flatten(x):
    x = np.asarray(x)
    return x.reshape(len(x), -1)


def global_average_pooling1d(x):
    return np.asarray(x, np.float64).mean(axis=1)


def predict_cnn(x, model_weights, spec):
    return cnn._np_forward(x, model_weights, spec)


def test_correct_layers_pass(capsys):
    cnn.check_conv2d_loops(conv2d_loops, max_examples=4)
    cnn.check_conv2d(conv2d, max_examples=4)
    cnn.check_conv1d(conv1d, max_examples=4)
    cnn.check_max_pooling2d(max_pooling2d, max_examples=4)
    cnn.check_max_pooling1d(max_pooling1d, max_examples=4)
    cnn.check_flatten(flatten, max_examples=4)
    cnn.check_global_average_pooling1d(global_average_pooling1d, max_examples=4)
    cnn.check_predict_cnn(predict_cnn, max_examples=2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 8 and all(line.startswith("\u2713 ") for line in lines)


def _fails(check, fn, *words):
    with pytest.raises(CheckFailed) as failure:
        check(fn, max_examples=2)  # the rule cases run first and already fail
    for word in words:
        assert word in str(failure.value), str(failure.value)


@pytest.mark.parametrize("check,fn,words", [
    (cnn.check_conv2d_loops, lambda image, kernel: conv2d_loops(image, kernel, flip=True), ["cross-correlation"]),
    (cnn.check_conv2d_loops, lambda image, kernel: conv2d_loops(image, kernel.transpose(1, 0, 2, 3)),
     ["spatial axes"]),
    (cnn.check_conv2d, lambda *a, **k: conv2d(*a, **k, flip=True), ["cross-correlation"]),
    (cnn.check_conv2d, lambda *a, **k: conv2d(*a, **k, extra_before=True), ["bottom/right"]),
    (cnn.check_conv2d, lambda *a, **k: conv2d(*a, **dict(k, strides=1)), ["ignore `strides`"]),
    (cnn.check_conv1d, lambda *a, **k: conv1d(*a, **k, flip=True), ["cross-correlation"]),
    (cnn.check_conv1d, lambda *a, **k: conv1d(*a, **k, extra_before=True), ["bottom/right"]),
    (cnn.check_max_pooling2d, lambda x, **k: max_pooling2d(x, **dict(k, strides=k.get("strides") or 1)),
     ["strides = pool_size"]),
    (cnn.check_max_pooling2d, lambda x, **k: max_pooling2d(x, **k, fill=0.0), ["pad with zeros"]),
    (cnn.check_max_pooling2d, lambda x, **k: np.moveaxis(max_pooling2d(np.moveaxis(x, 1, 3), **k), 3, 1),
     ["channel axes"]),
    (cnn.check_max_pooling1d, lambda x, **k: max_pooling1d(np.swapaxes(x, 1, 2), **k).swapaxes(1, 2),
     ["channel axis"]),
    (cnn.check_flatten, lambda x: flatten(np.moveaxis(x, -1, 1)), ["channels-first"]),
    (cnn.check_global_average_pooling1d, lambda x: np.asarray(x, float).mean(axis=2), ["over the channels"]),
    (cnn.check_predict_cnn, lambda x, w, s: cnn._np_forward(x, w, s, flatten_channels_first=True),
     ["channels-first", "spec = ["]),
    (cnn.check_predict_cnn, lambda x, w, s: cnn._np_forward(x, w, s, dropout=lambda z, r: z / (1 - r)),
     ["Dropout"]),
])
def test_named_mistakes(check, fn, words):
    _fails(check, fn, *words)


def test_rejects_want_a_clear_message():
    def vague(x, kernel, bias=None, strides=(1, 1), padding="valid"):
        raise ValueError("bad input")

    with pytest.raises(CheckFailed, match="mention 'channel'"):
        cnn.check_conv2d_rejects(vague)

    def silent(x, pool_size=(2, 2), strides=None, padding="valid"):
        return np.zeros(1)

    with pytest.raises(CheckFailed, match="should raise ValueError"):
        cnn.check_max_pooling2d_rejects(silent)


def test_output_shape_matches_keras(keras):
    """cnn_case sizes its weights with _output_shape; Keras must agree on every layer of the fixed models."""
    for input_shape, layers in (((14, 14, 3), cnn.VGG_LIKE), ((20, 3), cnn.SEQUENCE_CNN)):
        x, weights, spec = cnn.cnn_case(input_shape, layers).args
        model = keras.Sequential([keras.Input(input_shape)] + cnn.keras_layers_from_spec(weights, spec))
        assert [w.shape for w in model.get_weights()] == [w.shape for w in weights]
        model.set_weights(weights)
        np.testing.assert_allclose(predict_cnn(x, weights, spec), model.predict(x, verbose=0), rtol=1e-5,
                                   atol=1e-6)
