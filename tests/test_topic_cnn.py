"""Checks of notebook 07 (autograder/topics/cnn.py): correct NumPy layers pass, and each typical mistake is
reported by name, one class per exercise."""
import numpy as np
import pytest

import autograder  # noqa: F401  (quiet TensorFlow before anything imports it)
from autograder.checks.errors import CheckFailed
from autograder.checks.runner import Case
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


def passes(check, fn, capsys, **options):
    """The check accepts fn and prints exactly one success line."""
    check(fn, **options)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("\u2713 "), lines
    return lines[0]


def fails(check, fn, *words, **options):
    """The check rejects fn, naming each of `words`; returns the CheckFailed."""
    with pytest.raises(CheckFailed) as failure:
        check(fn, **({"max_examples": 2} | options))  # the rule cases run first and already fail
    for word in words:
        assert word in str(failure.value), str(failure.value)
    return failure.value


class TestConv2dLoops:
    """conv2d_loops: one image, plain loops, against keras.layers.Conv2D."""

    def test_right_answer_passes(self, capsys):
        """The loops (here: the vectorised NumPy reference) pass on the rule cases and drawn images."""
        assert "conv2d_loops matches keras.layers.Conv2D" in passes(cnn.check_conv2d_loops, conv2d_loops, capsys,
                                                                     max_examples=4)

    @pytest.mark.parametrize("wrong,words", [
        (lambda image, kernel: conv2d_loops(image, kernel, flip=True), ["cross-correlation"]),
        (lambda image, kernel: conv2d_loops(image, kernel.transpose(1, 0, 2, 3)), ["spatial axes"]),
    ])
    def test_mistakes_are_named(self, wrong, words):
        """A flipped kernel and swapped kernel axes are named."""
        fails(cnn.check_conv2d_loops, wrong, *words)


class TestConv2d:
    """conv2d: batches, strides, 'valid'/'same' padding and bias, against keras.layers.Conv2D."""

    def test_right_answer_passes(self, capsys):
        """The reference passes on the rule cases and drawn inputs."""
        passes(cnn.check_conv2d, conv2d, capsys, max_examples=4)

    def test_given_cases_only(self, capsys):
        """With cases=, only those run (a hidden check): the count says so."""
        x, kernel = np.ones((1, 4, 4, 1)), np.ones((2, 2, 1, 1))
        line = passes(cnn.check_conv2d, conv2d, capsys, cases=[Case((x, kernel)), Case((x, kernel), {"strides": 2})])
        assert line == "\u2713 conv2d matches keras.layers.Conv2D on 2 inputs."

    @pytest.mark.parametrize("wrong,words", [
        (lambda *a, **k: conv2d(*a, **k, flip=True), ["cross-correlation"]),
        (lambda *a, **k: conv2d(*a, **k, extra_before=True), ["bottom/right"]),
        (lambda *a, **k: conv2d(*a, **dict(k, strides=1)), ["ignore `strides`"]),
        (lambda x, kernel, bias=None, **k: conv2d(x, kernel, **k), ["leave out the bias"]),
    ])
    def test_mistakes_are_named(self, wrong, words):
        """Flipping, padding on the wrong side, ignoring strides and leaving out the bias are named."""
        failure = fails(cnn.check_conv2d, wrong, *words)
        assert failure.exercise == "conv2d" and failure.mistake is not None

    def test_rejects_want_a_clear_message(self):
        """A ValueError must name what is wrong: one that does not mention 'channel' fails."""
        def vague(x, kernel, bias=None, strides=(1, 1), padding="valid"):
            raise ValueError("bad input")

        with pytest.raises(CheckFailed, match="mention 'channel'"):
            cnn.check_conv2d_rejects(vague)

    def test_rejects_pass_with_the_runners_line(self, capsys):
        """An answer that names each problem passes, with check_rejects's success line."""
        def careful(x, kernel, bias=None, strides=(1, 1), padding="valid"):
            if np.shape(x)[-1] != np.shape(kernel)[-2]:
                raise ValueError("x and kernel differ in their channels")
            if padding not in ("valid", "same"):
                raise ValueError("unknown padding")
            raise ValueError("strides must be at least 1")

        assert passes(cnn.check_conv2d_rejects, careful, capsys) == (
            "\u2713 conv2d raises ValueError on all 4 invalid inputs.")


class TestMaxPooling2d:
    """max_pooling2d: default strides, 'same' padding that never wins a maximum, channels kept."""

    def test_right_answer_passes(self, capsys):
        """The reference passes on the rule cases and drawn inputs."""
        passes(cnn.check_max_pooling2d, max_pooling2d, capsys, max_examples=4)

    @pytest.mark.parametrize("wrong,words", [
        (lambda x, **k: max_pooling2d(x, **dict(k, strides=k.get("strides") or 1)), ["strides = pool_size"]),
        (lambda x, **k: max_pooling2d(x, **k, fill=0.0), ["pad with zeros"]),
        (lambda x, **k: np.moveaxis(max_pooling2d(np.moveaxis(x, 1, 3), **k), 3, 1), ["channel axes"]),
    ])
    def test_mistakes_are_named(self, wrong, words):
        """Strides of 1 by default, zero padding and pooling over the channels are named."""
        fails(cnn.check_max_pooling2d, wrong, *words)

    def test_rejects_need_a_value_error(self):
        """An answer that returns on an invalid input fails the input check."""
        def silent(x, pool_size=(2, 2), strides=None, padding="valid"):
            return np.zeros(1)

        with pytest.raises(CheckFailed, match="should raise ValueError"):
            cnn.check_max_pooling2d_rejects(silent)


class TestFlatten:
    """flatten: row-major order, channels fastest, batch axis kept."""

    def test_right_answer_passes(self, capsys):
        """The reference passes on the rule cases and drawn inputs."""
        passes(cnn.check_flatten, flatten, capsys, max_examples=4)

    @pytest.mark.parametrize("wrong,words", [
        (lambda x: flatten(np.moveaxis(x, -1, 1)), ["channels-first"]),
        (lambda x: np.asarray(x).ravel(), ["batch axis"]),
    ])
    def test_mistakes_are_named(self, wrong, words):
        """Channels-first order and flattening the batch axis are named."""
        fails(cnn.check_flatten, wrong, *words)


class TestConv1d:
    """conv1d: Conv2D on an image of height 1, against keras.layers.Conv1D."""

    def test_right_answer_passes(self, capsys):
        """The reference passes on the rule cases and drawn inputs."""
        passes(cnn.check_conv1d, conv1d, capsys, max_examples=4)

    @pytest.mark.parametrize("wrong,words", [
        (lambda *a, **k: conv1d(*a, **k, flip=True), ["cross-correlation"]),
        (lambda *a, **k: conv1d(*a, **k, extra_before=True), ["bottom/right"]),
    ])
    def test_mistakes_are_named(self, wrong, words):
        """A flipped kernel and padding on the wrong side are named."""
        fails(cnn.check_conv1d, wrong, *words)


class TestMaxPooling1d:
    """max_pooling1d: pooling along the steps, each channel separately."""

    def test_right_answer_passes(self, capsys):
        """The reference passes on the rule cases and drawn inputs."""
        passes(cnn.check_max_pooling1d, max_pooling1d, capsys, max_examples=4)

    def test_pooling_over_the_channels_is_named(self):
        """Pooling over axis 2 instead of the steps is named."""
        fails(cnn.check_max_pooling1d, lambda x, **k: max_pooling1d(np.swapaxes(x, 1, 2), **k).swapaxes(1, 2),
              "channel axis")


class TestGlobalAveragePooling1d:
    """global_average_pooling1d: the mean over the steps."""

    def test_right_answer_passes(self, capsys):
        """The reference passes on the rule cases and drawn inputs."""
        passes(cnn.check_global_average_pooling1d, global_average_pooling1d, capsys, max_examples=4)

    @pytest.mark.parametrize("wrong,words", [
        (lambda x: np.asarray(x, float).mean(axis=2), ["over the channels"]),
        (lambda x: np.asarray(x, float).sum(axis=1), ["sum over the steps"]),
    ])
    def test_mistakes_are_named(self, wrong, words):
        """Averaging over the channels and summing instead of averaging are named."""
        fails(cnn.check_global_average_pooling1d, wrong, *words)


class TestPredictCnn:
    """predict_cnn: a whole convnet from a spec and model.get_weights(), against Keras layers."""

    def test_right_answer_passes(self, capsys):
        """The NumPy forward pass passes on the two fixed models and drawn ones."""
        assert "predict_cnn matches a Keras model with the same layers and weights" in passes(
            cnn.check_predict_cnn, predict_cnn, capsys, max_examples=2)

    @pytest.mark.parametrize("wrong,words", [
        (lambda x, w, s: cnn._np_forward(x, w, s, flatten_channels_first=True), ["channels-first", "spec = ["]),
        (lambda x, w, s: cnn._np_forward(x, w, s, dropout=lambda z, r: z / (1 - r)), ["Dropout"]),
        (lambda x, w, s: cnn._np_forward(x, w, s, last_activation=False), ["last layer's activation"]),
    ])
    def test_mistakes_are_named(self, wrong, words):
        """Channels-first Flatten, Dropout at inference, no last activation: named, model shown, record kept."""
        failure = fails(cnn.check_predict_cnn, wrong, *words)
        assert failure.exercise == "predict_cnn" and failure.mistake is not None
        assert str(failure).startswith("predict_cnn(x, model_weights, spec)")


class TestModelCases:
    """The shared helper cnn_case: the weights it draws fit the model Keras builds from the same spec."""

    def test_output_shape_matches_keras(self, keras):
        """cnn_case sizes its weights with _output_shape; Keras must agree on every layer of the fixed models."""
        for input_shape, layers in (((14, 14, 3), cnn.VGG_LIKE), ((20, 3), cnn.SEQUENCE_CNN)):
            x, weights, spec = cnn.cnn_case(input_shape, layers).args
            model = keras.Sequential([keras.Input(input_shape)] + cnn.keras_layers_from_spec(weights, spec))
            assert [w.shape for w in model.get_weights()] == [w.shape for w in weights]
            model.set_weights(weights)
            np.testing.assert_allclose(predict_cnn(x, weights, spec), model.predict(x, verbose=0), rtol=1e-5,
                                       atol=1e-6)
