"""Tests of autograder.checks.runner: the engine that runs a student's function against Keras on many inputs."""
import dataclasses
import re

import numpy as np
import pytest

import autograder  # noqa: F401  (quiet TensorFlow before anything imports it)
from autograder.checks.runner import Case, check_cases, check_property, compare_once, property_settings
from autograder.checks.compare import Mistake
from autograder.checks.errors import CheckFailed
from strategies import float_arrays, shapes

X = np.array([[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]])
CASES = [Case((X,)), Case((np.array([-1000.0, 0.0, 1000.0]),))]
ARRAY_CASES = float_arrays(shape=shapes(min_dims=1, min_side=1), max_magnitude=50).map(lambda a: Case((a,)))


def relu(x):
    return np.maximum(x, 0)


def stable_sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


def naive_sigmoid(x):
    return 1 / (1 + np.exp(-x))


class AlwaysEqual:
    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


class LyingArray(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return np.True_


def test_case_holds_args_and_kwargs():
    case = Case((X,), {"axis": -1})
    assert case.args == (X,) and case.kwargs == {"axis": -1}
    assert Case().args == () and Case().kwargs == {}
    with pytest.raises(dataclasses.FrozenInstanceError):
        case.args = ()


# --- check_cases ------------------------------------------------------------------------------------------

def test_check_cases_passes_a_correct_answer_and_says_so(capfd):
    capfd.readouterr()
    check_cases(relu, relu, CASES, name="relu", reference="keras.activations.relu")
    check_cases(relu, relu, CASES[:1], name="relu", reference="keras.activations.relu")
    check_cases(relu, relu, CASES, name="relu", reference="keras.activations.relu", quiet=True)
    out, err = capfd.readouterr()
    assert out == ("\u2713 relu matches keras.activations.relu on 2 inputs.\n"
                   "\u2713 relu matches keras.activations.relu on 1 input.\n")
    assert err == ""


def test_check_cases_fails_a_wrong_answer_with_the_call_and_the_diagnosis(capfd):
    capfd.readouterr()
    with pytest.raises(CheckFailed, match=re.escape("relu(np.array([[ 1. , -2. , 3. ], [ 0.5, 0. , -1. ]])): "
                                                    "wrong values.\n  Off by a constant factor: your values are "
                                                    "about 2 times Keras's.")):
        check_cases(lambda x: 2 * relu(x), relu, CASES, name="relu", reference="keras.activations.relu")
    with pytest.raises(CheckFailed, match=re.escape("relu(np.array([[ 1. , -2. , 3. ], [ 0.5, 0. , -1. ]])): "
                                                    "wrong shape: expected (2, 3), got (3, 2).")):
        check_cases(lambda x: relu(x).T, relu, CASES, name="relu", reference="keras.activations.relu")
    out, err = capfd.readouterr()
    assert "\u2713" not in out and err == ""


def test_naive_sigmoid_passes_against_the_stable_one_and_nothing_reaches_stderr(capfd):
    capfd.readouterr()
    check_cases(naive_sigmoid, stable_sigmoid, CASES, name="sigmoid", reference="keras.activations.sigmoid")
    with pytest.raises(CheckFailed, match=r"sigmoid\(np\.array\(\[-1000\., 0\., 1000\.\]\)\): 2 element\(s\) are "
                                          r"NaN or inf where Keras has a finite number, first at index \[0\]"):
        check_cases(lambda x: np.exp(x) / np.exp(x) * naive_sigmoid(x), stable_sigmoid, CASES, name="sigmoid",
                    reference="keras.activations.sigmoid")
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("returned, message", [
    (lambda x: AlwaysEqual(), r"`relu` returned a \S*AlwaysEqual; it should return a NumPy array\."),
    (lambda x: relu(x).view(LyingArray), r"`relu` returned a \S*LyingArray \(a subclass of np\.ndarray\)"),
    (lambda x: relu(x).tolist(), r"`relu` returned a list; it should return a NumPy array\. Convert it with "
                                 r"np\.asarray"),
    (lambda x: None, r"`relu` returned None\. Did you forget the `return` statement\?"),
    (lambda x: relu(x).astype(object), r"`relu` returned an array of dtype object; it should hold numbers"),
    (lambda x: relu(x).astype(complex), r"`relu` returned an array of dtype complex128; it should hold numbers"),
    (lambda x: relu(x).astype(str), r"`relu` returned an array of dtype <U\d+; it should hold numbers"),
])
def test_check_cases_rejects_results_that_are_not_plain_arrays(returned, message):
    check_cases(lambda x: relu(x).copy(), relu, CASES, name="relu", reference="r", quiet=True)
    with pytest.raises(CheckFailed, match=message):
        check_cases(returned, relu, CASES, name="relu", reference="r", quiet=True)


def test_check_cases_rejects_a_tensorflow_tensor(tf):
    with pytest.raises(CheckFailed, match=r"`relu` returned a tensorflow\.\w+; it should return a NumPy array"):
        check_cases(lambda x: tf.constant(relu(x)), relu, CASES, name="relu", reference="r", allow_keras=True,
                    quiet=True)


def test_a_numpy_answer_passes_against_a_live_keras_reference_and_a_keras_answer_fails(keras):
    def keras_softmax(x):
        return keras.ops.softmax(x, axis=-1)

    def softmax(x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    check_cases(softmax, keras_softmax, CASES, name="softmax", reference="keras.ops.softmax", quiet=True)
    with pytest.raises(CheckFailed, match=re.escape("softmax(np.array([[ 1. , -2. , 3. ], [ 0.5, 0. , -1. ]])) "
                                                    "called Keras/TensorFlow (keras.")):
        check_cases(lambda x: np.asarray(keras_softmax(x)), keras_softmax, CASES, name="softmax",
                    reference="keras.ops.softmax", quiet=True)


def test_check_cases_reports_not_implemented_and_errors():
    def relu_todo(x):
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match="`relu` is not implemented yet"):
        check_cases(relu_todo, relu, CASES, name="relu", reference="r")
    with pytest.raises(CheckFailed, match=re.escape("relu(np.array([[ 1. , -2. , 3. ], [ 0.5, 0. , -1. ]])) raised "
                                                    "TypeError: object of type 'int' has no len()")):
        check_cases(lambda x: x + len(x.shape[0]), relu, CASES, name="relu", reference="r")


def test_check_cases_names_a_known_mistake():
    def mistakes(x):
        return [Mistake("you used np.max instead of np.maximum", np.max(x, axis=0) + 0 * x[:1])]

    check_cases(relu, relu, CASES[:1], name="relu", reference="r", mistakes_fn=mistakes, quiet=True)
    with pytest.raises(CheckFailed, match="Hint: your result is what you get if you used np.max instead of np.maximum"):
        check_cases(lambda x: np.max(x, axis=0) + 0 * x[:1], relu, CASES[:1], name="relu", reference="r",
                    mistakes_fn=mistakes, quiet=True)


def test_check_cases_passes_the_comparison_options():
    labels = Case((np.array([2, 0, 1]),))
    check_cases(lambda y: np.argsort(np.argsort(y)), lambda y: y, [labels], name="rank", reference="r", exact=True,
                quiet=True)
    with pytest.raises(CheckFailed, match=re.escape("rank(np.array([2, 0, 1])): wrong values.\n  1 of 3")):
        check_cases(lambda y: np.where(y == 1, 3, y), lambda y: y, [labels], name="rank", reference="r", exact=True)
    check_cases(lambda x: relu(x) * 1.01, relu, CASES, name="relu", reference="r", rtol=0.1, quiet=True)
    with pytest.raises(CheckFailed, match="about 1.01 times"):
        check_cases(lambda x: relu(x) * 1.01, relu, CASES, name="relu", reference="r", quiet=True)


def test_compare_once_adds_the_error_hint():
    def hint(case, error):
        return "labels must be below num_classes." if isinstance(error, IndexError) else None

    compare_once(relu, relu, CASES[0], name="relu", error_hint=hint)
    with pytest.raises(CheckFailed, match=r"raised IndexError: .*\n  Hint: labels must be below num_classes\.$"):
        compare_once(lambda x: x[9], relu, CASES[0], name="relu", error_hint=hint)
    with pytest.raises(CheckFailed, match=r"raised KeyError: 'x'$"):
        compare_once(lambda x: {}["x"], relu, CASES[0], name="relu", error_hint=hint)


# --- check_property -----------------------------------------------------------------------------------------

def test_property_settings_are_deterministic_and_file_free():
    chosen = property_settings(7)
    assert chosen.max_examples == 7 and chosen.derandomize and chosen.database is None and chosen.deadline is None


def test_check_property_passes_a_correct_answer(capfd):
    capfd.readouterr()
    count = check_property(relu, relu, ARRAY_CASES, name="relu", reference="keras.activations.relu",
                           max_examples=25)
    out, err = capfd.readouterr()
    assert 10 <= count <= 25  # distinct inputs actually run, never more than asked for
    assert out == f"\u2713 relu matches keras.activations.relu on {count} inputs.\n"
    assert err == ""


def test_check_property_fails_on_a_small_shrunk_example(capfd):
    capfd.readouterr()
    messages = []
    for _ in range(2):
        # shrinks to a one-element array, where the message gives both numbers (expected 1, got 2)
        with pytest.raises(CheckFailed, match=r"^relu\(np\.array\(\[.*\)\): wrong values\.\n.*expected 1, got 2") \
                as failure:
            check_property(lambda x: 2 * relu(x), relu, ARRAY_CASES, name="relu", reference="r", max_examples=25)
        messages.append(str(failure.value))
    assert messages[0] == messages[1]  # the same example on every run
    assert len(messages[0].splitlines()[0]) < 80, messages[0]  # shrunk: a short array, not a random one
    out, err = capfd.readouterr()
    assert "\u2713" not in out and err == ""


def test_check_property_rejects_a_keras_answer(keras):
    with pytest.raises(CheckFailed, match=re.escape("called Keras/TensorFlow (keras.")):
        check_property(lambda x: np.asarray(keras.activations.relu(x)), relu, ARRAY_CASES, name="relu",
                       reference="r", max_examples=5)


def test_check_property_gives_one_check_failed_for_several_kinds_of_failure():
    def relu_wrong_twice(x):  # wrong shape on long inputs, wrong values on short ones
        return relu(x)[:-1] if x.size > 3 else relu(x) + 1

    with pytest.raises(CheckFailed, match=r"^relu\("):
        check_property(relu_wrong_twice, relu, ARRAY_CASES, name="relu", reference="r", max_examples=40)


def test_check_property_gives_check_failed_when_the_answer_changes_between_calls():
    # An answer that is not a function of its input (here: noise added on about half the calls, as with
    # unseeded randomness or hidden global state) makes hypothesis raise FlakyFailure, an ExceptionGroup, not
    # CheckFailed: check_property does not catch it. The student sees "Hypothesis run(...) produces unreliable
    # results" instead of a message about their function, and anything catching CheckFailed misses the failure.
    rng = np.random.default_rng(0)

    def relu_noisy(x):
        return relu(x) + rng.normal(0, 1e-2) * (rng.random() < 0.5)

    with pytest.raises(CheckFailed, match=r"relu\(np\.array\("):
        check_property(relu_noisy, relu, ARRAY_CASES, name="relu", reference="r", max_examples=20)
