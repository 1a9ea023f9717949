"""04_fit: the given helpers run under the Keras watch, other Keras use is still caught, mistakes are named."""
import numpy as np
import pytest

from autograder.checks.errors import CheckFailed
from autograder.checks.calling import call_student
from autograder.checks.runner import Case
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


class TestGivenHelpers:
    """loss_and_gradient, regularization and make_optimizer: Keras on the module's own thread."""

    def test_given_helpers_are_trusted_inside_the_watch(self):
        x, y, weights, activations = _problem()
        new = call_student(_uses_helpers, x, y, weights, activations, name="fit")
        assert [w.shape for w in new] == [w.shape for w in weights]

    def test_other_keras_use_is_still_caught(self):
        x, y, weights, activations = _problem()

        def cheat(x):
            import keras
            return keras.ops.convert_to_numpy(keras.ops.softmax(x))

        with pytest.raises(CheckFailed, match="called Keras"):
            call_student(cheat, x, name="fit")


def _split(x, y, validation_split, training_rows):
    x, y = np.asarray(x), np.asarray(y)
    at = training_rows(len(x), validation_split)
    if not 0 <= validation_split < 1 or len(x) != len(y) or at in (0, len(x)):
        raise ValueError("cannot split")
    return x[:at], y[:at], x[at:], y[at:]


class TestSplitValidation:
    """split_validation: the last rows, floored in floating point, and its invalid inputs."""

    def test_names_validation_from_the_front(self):
        def wrong(x, y, validation_split):
            x, y = np.asarray(x), np.asarray(y)
            k = len(x) - int(np.floor(len(x) * (1 - validation_split)))
            return x[k:], y[k:], x[:k], y[:k]

        with pytest.raises(CheckFailed, match="FRONT"):
            topic.check_split_validation(wrong, max_examples=10)

    def test_floors_in_floating_point_as_keras_does(self, capsys):
        topic.check_split_validation(lambda x, y, v: _split(x, y, v, lambda n, v: int(np.floor(n * (1 - v)))))
        assert "✓" in capsys.readouterr().out
        exact = lambda x, y, v: _split(x, y, v, lambda n, v: n - int(np.ceil(n * v)))  # noqa: E731
        with pytest.raises(CheckFailed, match="1.9999999999999996"):
            topic.check_split_validation(exact)

    def test_an_empty_validation_part_must_raise(self, capsys):
        floor = lambda x, y, v: _split(x, y, v, lambda n, v: int(np.floor(n * (1 - v))))  # noqa: E731
        topic.check_split_validation_rejects(floor)
        assert capsys.readouterr().out == "✓ split_validation raises ValueError on all 5 invalid inputs.\n"

        def empty_validation_allowed(x, y, v):
            return (x, y, x[:0], y[:0]) if v == 0 else floor(x, y, v)

        with pytest.raises(CheckFailed, match="validation_split=0 leaves no validation sample"):
            topic.check_split_validation_rejects(empty_validation_allowed)


def _batches(order_of, n, batch_size=32, shuffle=False, rng=None):
    order = order_of(n, rng) if shuffle else np.arange(n)
    return [order[start:start + batch_size] for start in range(0, n, batch_size)]


def _from_rng(n, rng):
    return (rng if rng is not None else np.random.default_rng()).permutation(n)


class TestBatchIndices:
    """batch_indices: Keras's batches, and with shuffle=True a new order from rng each call."""

    @pytest.mark.parametrize("order_of,words", [
        (lambda n, rng: np.random.default_rng(0).permutation(n), "same order twice"),
        (lambda n, rng: rng.permutation(n), "AttributeError"),
    ])
    def test_shuffled_batches_need_a_new_order_from_rng_or_a_fresh_generator(self, order_of, words):
        topic.check_batch_indices(lambda *a, **k: _batches(_from_rng, *a, **k), max_examples=5)
        with pytest.raises(CheckFailed, match=words):
            topic.check_batch_indices(lambda *a, **k: _batches(order_of, *a, **k), max_examples=5)

    def test_the_public_shuffle_check_needs_the_permutation_from_rng(self, capsys):
        topic.check_batch_indices_shuffled(lambda *a, **k: _batches(_from_rng, *a, **k), 9, 4, 11)
        assert capsys.readouterr().out == ""  # check_batch_indices reports; this one only raises

        def from_np_random(n, rng):
            return np.random.permutation(n)

        with pytest.raises(CheckFailed, match="the same rng seed must give the same batches"):
            topic.check_batch_indices_shuffled(lambda *a, **k: _batches(from_np_random, *a, **k), 50, 16, 3)


def _sample_weights(y, class_weight, dtype):
    labels = topic._y_labels(y)
    return np.array([class_weight.get(int(label), 1.0) for label in labels], dtype=dtype)


class TestClassWeightToSampleWeight:
    """class_weight_to_sample_weight: Keras's values, as float32."""

    def test_sample_weights_must_be_float32(self):
        topic.check_class_weight_to_sample_weight(lambda y, cw: _sample_weights(y, cw, np.float32), max_examples=5)
        with pytest.raises(CheckFailed, match="float32"):
            topic.check_class_weight_to_sample_weight(lambda y, cw: _sample_weights(y, cw, np.float64),
                                                      max_examples=5)


class TestReduceLoss:
    """reduce_loss: divided by the number of samples."""

    def test_names_division_by_sum_of_weights(self):
        def wrong(values, sample_weight=None):
            values = np.asarray(values, dtype=np.float64)
            if sample_weight is None:
                return float(values.mean())
            return float((values * sample_weight).sum() / np.sum(sample_weight))

        with pytest.raises(CheckFailed, match="sum\\(sample_weight\\)"):
            topic.check_reduce_loss(wrong, max_examples=10)


def _one_layer_gradients(divide_by_n=True, penalty=True):
    """mlp_gradients for a network of one Dense layer, from the given helpers."""

    def mlp_gradients(x, y, weights, activations, loss):
        z = np.asarray(x, np.float64) @ weights[0] + weights[1]
        _, grad = topic.loss_and_gradient(loss, y, z, activations[-1])
        _, grads = topic.regularization(loss, weights) if penalty else (0.0, [0.0, 0.0])
        g = np.asarray(grad, np.float64) / (len(x) if divide_by_n else 1)
        return [grads[0] + x.T @ g, grads[1] + g.sum(axis=0)]

    return mlp_gradients


class TestMlpGradients:
    """mlp_gradients against tf.GradientTape: a wrong gradient names its mistake (for the class report too)."""

    CASE = Case((*_problem(), {"name": "categorical_crossentropy", "l2": 0.01}))

    def test_backpropagation_from_the_mean_passes(self, capsys):
        topic.check_mlp_gradients(_one_layer_gradients(), cases=[self.CASE])
        assert capsys.readouterr().out == "✓ mlp_gradients matches tf.GradientTape on 1 input.\n"

    @pytest.mark.parametrize("wrong,named", [
        (_one_layer_gradients(divide_by_n=False), "SUM of the per-sample gradients"),
        (_one_layer_gradients(penalty=False), "left out the gradient of the L2 penalty"),
    ], ids=["summed", "no-penalty"])
    def test_a_known_mistake_is_named(self, wrong, named):
        with pytest.raises(CheckFailed, match=named) as failure:
            topic.check_mlp_gradients(wrong, cases=[self.CASE])
        assert failure.value.mistake is not None and named in failure.value.mistake.description


def _still_fit(shuffle_first):
    """A fit for learning_rate=0 only (the weights never move): the history is the loss of the initial weights
    on the training rows and on the held-out rows; `shuffle_first` shuffles the rows before holding out."""

    def fit(x, y, weights, activations, loss, optimizer, batch_size=32, epochs=1, validation_split=0.0,
            shuffle=False, **unused):
        x, y = np.asarray(x), np.asarray(y)
        if shuffle and shuffle_first:
            order = np.random.default_rng(1).permutation(len(x))
            x, y = x[order], y[order]
        at = int(np.floor(len(x) * (1 - validation_split)))

        def loss_and_accuracy(xs, ys):
            logits = xs @ weights[0] + weights[1]
            for i in range(1, len(activations)):
                logits = np.tanh(logits) @ weights[2 * i] + weights[2 * i + 1]
            per_sample, _ = topic.loss_and_gradient(loss, ys, logits, activations[-1])
            return float(np.mean(per_sample)), float(np.mean(np.argmax(logits, -1) == np.argmax(ys, -1)))

        (train_loss, train_accuracy), (val_loss, val_accuracy) = (loss_and_accuracy(x[:at], y[:at]),
                                                                  loss_and_accuracy(x[at:], y[at:]))
        history = {"loss": [train_loss] * epochs, "accuracy": [train_accuracy] * epochs,
                   "val_loss": [val_loss] * epochs, "val_accuracy": [val_accuracy] * epochs}
        return [np.asarray(w) for w in weights], history

    return fit


def _checked_arguments(reject_unknown_class=True):
    """A fit that only checks its arguments, as the exercise asks (and trains nothing)."""

    def fit(x, y, weights, activations, loss, optimizer, validation_split=0.0, class_weight=None,
            sample_weight=None, **unused):
        if len(x) != len(y):
            raise ValueError("x and y have different lengths")
        if not 0 <= validation_split < 1:
            raise ValueError("validation_split must be in [0, 1)")
        if class_weight is not None and sample_weight is not None:
            raise ValueError("class_weight and sample_weight cannot be used together")
        if reject_unknown_class and class_weight and max(class_weight) >= np.shape(y)[-1]:
            raise ValueError("class_weight names a class y does not have")
        return weights, {}

    return fit


class TestFit:
    """fit against model.fit, and its invalid arguments."""

    def test_fit_with_shuffle_holds_out_the_last_rows_before_shuffling(self, capsys):
        topic.check_fit(_still_fit(shuffle_first=False), kinds=["shuffle"])
        assert "✓" in capsys.readouterr().out
        with pytest.raises(CheckFailed, match="LAST rows of x as given"):
            topic.check_fit(_still_fit(shuffle_first=True), kinds=["shuffle"])

    def test_invalid_arguments_must_raise(self, capsys):
        topic.check_fit_rejects(_checked_arguments())
        assert capsys.readouterr().out == "✓ fit raises ValueError on all 5 invalid inputs.\n"
        with pytest.raises(CheckFailed, match="class 7 does not exist"):
            topic.check_fit_rejects(_checked_arguments(reject_unknown_class=False))
