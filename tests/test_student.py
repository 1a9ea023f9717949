"""Tests of autograder.checks.calling: untrusted calls, Keras detection, and accepting only honest NumPy results."""
import re
import sys
import threading
import warnings

import numpy as np
import pytest

import autograder  # noqa: F401  (quiet TensorFlow before anything imports it)
from autograder.checks.compare import compare_arrays
from autograder.checks.errors import CheckFailed
from autograder.checks.calling import KerasWatch, as_array, as_number, call_student, expect_value_error

X = np.array([1.0, 2.0, 3.0])


def softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def stable_sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


def naive_sigmoid(x):
    return 1 / (1 + np.exp(-x))


@pytest.fixture(autouse=True)
def profiler_is_restored():
    """Whatever a student does, the profiler hooks are the same after each test as before."""
    before = sys.getprofile(), threading.getprofile()
    yield
    assert (sys.getprofile(), threading.getprofile()) == before


# --- calling the student's function -----------------------------------------------------------------------

def test_a_correct_function_returns_its_result():
    assert np.allclose(call_student(softmax, X), softmax(X))
    assert call_student(lambda x, *, scale: x * scale, 2.0, scale=3.0) == 6.0


def test_the_student_gets_private_copies():
    seen = []
    call_student(lambda x, more: seen.extend([x, more[0]]) or 0, X, [X])
    assert seen[0] is not X and seen[1] is not X
    assert np.array_equal(seen[0], X)


def test_changing_an_input_in_place_is_reported():
    def scale_in_place(x):
        x *= 2
        return x

    original = X.copy()
    assert np.array_equal(call_student(lambda x: x * 2, X), 2 * original)
    with pytest.raises(CheckFailed, match=re.escape(
            "scale_in_place(np.array([1., 2., 3.])) changed one of its inputs in place. Work on a copy")):
        call_student(scale_in_place, X)
    assert np.array_equal(X, original)  # the caller's array itself was never touched


def test_changing_a_keyword_or_nested_input_is_reported():
    def append_label(y, classes):
        classes.append(99)
        return y

    def clip_weights(x, weights=None):
        weights[0] = 0.0
        return x

    weights = np.array([0.5, 0.5])
    call_student(lambda x, weights=None: x, X, weights=weights)
    with pytest.raises(CheckFailed, match="changed one of its inputs in place"):
        call_student(clip_weights, X, weights=weights)
    with pytest.raises(CheckFailed, match="changed one of its inputs in place"):
        call_student(append_label, X, [0, 1, 2])
    with pytest.raises(CheckFailed, match="changed one of its inputs in place"):
        call_student(lambda x: x.resize(2, refcheck=False) or x, np.zeros(4))
    assert weights.tolist() == [0.5, 0.5]


def test_string_and_object_inputs_do_not_crash_the_in_place_check():
    # Bug fixed in student._same: np.array_equal(..., equal_nan=True) raised TypeError for str and object arrays.
    words = np.array(["cat", "dog"])
    assert call_student(lambda w: np.char.upper(w), words).tolist() == ["CAT", "DOG"]

    def overwrite(w):
        w[0] = "cow"
        return w

    with pytest.raises(CheckFailed, match="changed one of its inputs in place"):
        call_student(overwrite, words)
    call_student(lambda t: t, np.array([{"a": 1}, None], dtype=object))


def test_not_implemented_yet():
    def relu(x):
        raise NotImplementedError()

    call_student(lambda x: np.maximum(x, 0), X, name="relu")
    with pytest.raises(CheckFailed, match=re.escape(
            "`relu` is not implemented yet: replace `raise NotImplementedError()` with your code.")):
        call_student(relu, X)


def test_an_error_shows_the_call_and_the_original_error():
    def dense(x, units):
        return np.zeros(units) + len(units)

    assert call_student(lambda x, units: np.zeros(units) + len(x), X, units=4).tolist() == [3.0] * 4

    expected = re.escape("dense(np.array([1., 2., 3.]), units=4) raised TypeError: ")
    with pytest.raises(CheckFailed, match=expected) as failure:
        call_student(dense, X, units=4)
    assert str(failure.value).endswith("raised TypeError: object of type 'int' has no len()")
    assert isinstance(failure.value.__cause__, TypeError)
    with pytest.raises(CheckFailed, match=re.escape("my_relu(np.array([1., 2., 3.])) raised ZeroDivisionError: "
                                                    "division by zero")):
        call_student(lambda x: 1 / 0, X, name="my_relu")


def test_something_that_is_not_a_function():
    call_student(softmax, X)
    with pytest.raises(CheckFailed, match=re.escape("`softmax` should be a function, but it is a numpy.ndarray.")):
        call_student(X, X, name="softmax")
    with pytest.raises(CheckFailed, match="but it is a NoneType"):
        call_student(None, X, name="softmax")


# --- harmless warnings never fail a correct answer ---------------------------------------------------------

def test_a_naive_sigmoid_that_overflows_is_still_correct(capfd):
    x = np.array([-1000.0, -1.0, 0.0, 1.0, 1000.0])
    with pytest.warns(RuntimeWarning, match="overflow"):
        naive_sigmoid(x)  # outside the check, NumPy warns
    capfd.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = as_array(call_student(naive_sigmoid, x), "sigmoid")
        compare_arrays(got, stable_sigmoid(x), what="sigmoid(x)")
    assert caught == []
    with pytest.raises(CheckFailed, match="NaN or inf"):
        compare_arrays(as_array(call_student(lambda v: np.exp(-v) / np.exp(-v), x)), stable_sigmoid(x), what="s")
    assert capfd.readouterr().err == ""


def test_a_python_warning_does_not_fail_a_correct_answer(capfd):
    def relu(x):
        warnings.warn("x")
        warnings.warn("deprecated", DeprecationWarning)
        return np.maximum(x, 0)

    capfd.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compare_arrays(as_array(call_student(relu, X - 2)), np.array([0.0, 0.0, 1.0]), what="relu(x)")
    assert caught == []
    assert capfd.readouterr().err == ""


# --- Keras and TensorFlow are off limits ---------------------------------------------------------------------

def test_numpy_only_code_is_not_flagged(keras):
    assert np.allclose(call_student(softmax, X), np.asarray(keras.ops.softmax(X)))


def test_calling_keras_ops_is_caught(keras):
    def softmax_keras(x):
        return np.asarray(keras.ops.softmax(x))

    call_student(softmax, X, name="softmax_keras")

    with pytest.raises(CheckFailed, match=re.escape("softmax_keras(np.array([1., 2., 3.])) called Keras/TensorFlow "
                                                    "(keras.")) as failure:
        call_student(softmax_keras, X)
    assert "compute the result yourself with NumPy" in str(failure.value)


def test_calling_tf_nn_is_caught(tf):
    def softmax_tf(x):
        return tf.nn.softmax(x).numpy()

    call_student(softmax, X, name="softmax_tf")

    with pytest.raises(CheckFailed, match=re.escape("called Keras/TensorFlow (tensorflow.")):
        call_student(softmax_tf, X)


def test_keras_through_an_alias_is_caught(keras):
    def relu(x):
        import keras as K2

        return np.asarray(K2.activations.relu(x))

    call_student(lambda x: np.maximum(x, 0), X, name="relu")

    with pytest.raises(CheckFailed, match=r"called Keras/TensorFlow \(keras\.\S*relu"):
        call_student(relu, X)


def test_keras_is_allowed_when_the_exercise_is_about_keras(keras):
    result = call_student(lambda x: np.asarray(keras.ops.softmax(x)), X, allow_keras=True)
    assert np.allclose(result, softmax(X))


def test_keras_in_a_thread_is_caught(keras):
    # Bug fixed in student.KerasWatch: only the calling thread was watched, so an answer could run Keras in a
    # threading.Thread and pass.
    def softmax_in_thread(x):
        out = {}
        worker = threading.Thread(target=lambda: out.setdefault("r", np.asarray(keras.ops.softmax(x))))
        worker.start()
        worker.join()
        return out["r"]

    def numpy_in_thread(x):
        out = {}
        worker = threading.Thread(target=lambda: out.setdefault("r", softmax(x)))
        worker.start()
        worker.join()
        return out["r"]

    assert np.allclose(call_student(numpy_in_thread, X), softmax(X))
    with pytest.raises(CheckFailed, match=re.escape("called Keras/TensorFlow (keras.")):
        call_student(softmax_in_thread, X)


def test_switching_the_profiler_off_is_tampering():
    def relu(x):
        sys.setprofile(None)
        return np.maximum(x, 0)

    call_student(lambda x: sys.getprofile() and np.maximum(x, 0), X)  # looking is allowed
    with pytest.raises(CheckFailed, match=re.escape(
            "relu(np.array([1., 2., 3.])) changed the interpreter's profiler (sys.setprofile); answers may not")):
        call_student(relu, X)


def test_switching_the_profiler_off_and_back_on_is_tampering(keras):
    # Bug fixed in student.KerasWatch: an answer that saved the hook, switched it off, called Keras and put the
    # hook back was neither "tampering" nor "called Keras".
    def softmax_unwatched(x):
        hook = sys.getprofile()
        sys.setprofile(None)
        result = np.asarray(keras.ops.softmax(x))
        sys.setprofile(hook)
        return result

    with pytest.raises(CheckFailed, match=re.escape("changed the interpreter's profiler")):
        call_student(softmax_unwatched, X)


def test_switching_the_thread_profiler_off_is_tampering():
    def relu(x):
        threading.setprofile(None)
        return np.maximum(x, 0)

    with pytest.raises(CheckFailed, match="changed the interpreter's profiler"):
        call_student(relu, X)


def test_keras_use_is_reported_even_when_the_answer_then_raises(keras):
    # Bug fixed in student.call_student: an error was reported before the Keras use, so a ValueError raised by
    # Keras itself counted as the student's own (expect_value_error passed).
    def to_categorical(y, num_classes=None):
        return keras.utils.to_categorical(y, num_classes)

    with pytest.raises(CheckFailed, match=re.escape("called Keras/TensorFlow (keras.")):
        expect_value_error(to_categorical, [1, 2], num_classes=-3, name="to_categorical",
                           reason="num_classes must be at least 1")


def test_tampering_is_reported_even_when_the_answer_then_raises():
    def to_categorical(y, num_classes=None):
        sys.setprofile(None)
        raise ValueError("num_classes must be at least 1")

    with pytest.raises(CheckFailed, match="changed the interpreter's profiler"):
        expect_value_error(to_categorical, [1, 2], num_classes=-3, reason="num_classes must be at least 1")


def test_the_grader_profiler_is_restored_after_a_student_call():
    calls = []

    def grader_hook(frame, event, arg):
        calls.append(event)

    def relu(x):
        sys.setprofile(None)
        raise RuntimeError("boom")

    sys.setprofile(grader_hook)
    try:
        with pytest.raises(CheckFailed):
            call_student(relu, X)
        restored = sys.getprofile()
    finally:
        sys.setprofile(None)
    assert restored is grader_hook


def test_keras_watch_as_a_context_manager(keras):
    with KerasWatch() as clean:
        softmax(X)
    assert clean.offender is None and not clean.tampered
    with pytest.raises(ZeroDivisionError):
        with KerasWatch() as watched:
            keras.ops.relu(X)
            1 / 0
    assert watched.offender.startswith("keras.")


# --- accepting only honest arrays -------------------------------------------------------------------------

class AlwaysEqual:
    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


class LyingArray(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return np.True_


def test_a_plain_array_is_accepted_and_copied():
    result = np.array([[1.0, 2.0]], dtype=np.float32)
    accepted = as_array(result, "dense")
    assert type(accepted) is np.ndarray and accepted.dtype == np.float32
    assert accepted is not result and not np.shares_memory(accepted, result)
    assert as_array(np.array([True, False])).dtype == bool
    assert as_array(np.array(3, dtype=np.uint8)).shape == ()


def test_none_means_a_missing_return():
    assert as_array(np.zeros(2), "relu").tolist() == [0.0, 0.0]
    with pytest.raises(CheckFailed, match=re.escape("`relu` returned None. Did you forget the `return` statement?")):
        as_array(None, "relu")


def test_a_list_is_not_an_array():
    assert as_array(np.asarray([1.0, 2.0]), "relu").tolist() == [1.0, 2.0]
    with pytest.raises(CheckFailed, match=re.escape(
            "`relu` returned a list; it should return a NumPy array. Convert it with np.asarray(...).")):
        as_array([1.0, 2.0], "relu")
    with pytest.raises(CheckFailed, match="returned a tuple; it should return a NumPy array"):
        as_array((1.0, 2.0), "relu")


def test_an_object_equal_to_everything_is_rejected():
    as_array(X.copy(), "relu")
    cheat = AlwaysEqual()
    assert cheat == X  # a naive `assert got == expected` would pass
    with pytest.raises(CheckFailed, match=r"`relu` returned a \S*AlwaysEqual; it should return a NumPy array\.$"):
        as_array(cheat, "relu")


def test_an_ndarray_subclass_is_rejected():
    as_array(np.asarray(np.zeros(3).view(LyingArray)), "relu")  # the fix the message suggests works
    cheat = np.zeros(3).view(LyingArray)
    assert np.all(cheat == X) and np.allclose(cheat, X)  # it fools == and ufunc-based comparisons
    with pytest.raises(CheckFailed, match=r"returned a \S*LyingArray \(a subclass of np\.ndarray\); return a plain "
                                          r"array"):
        as_array(cheat, "relu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        matrix = np.matrix([[1.0, 2.0]])
    with pytest.raises(CheckFailed, match=re.escape("returned a numpy.matrix (a subclass of np.ndarray)")):
        as_array(matrix, "relu")


def test_a_tensorflow_tensor_is_rejected(tf):
    assert as_array(tf.constant([1.0, 2.0]).numpy()).tolist() == [1.0, 2.0]
    with pytest.raises(CheckFailed, match=r"returned a tensorflow\.\w+; it should return a NumPy array"):
        as_array(tf.constant([1.0, 2.0]), "relu")


@pytest.mark.parametrize("bad, dtype", [
    (np.array([1.0, None], dtype=object), "object"),
    (np.array([1 + 2j]), "complex128"),
    (np.array(["1.0", "2.0"]), "<U3"),
])
def test_arrays_that_do_not_hold_numbers_are_rejected(bad, dtype):
    as_array(np.array([1.0, 2.0]), "relu")
    with pytest.raises(CheckFailed, match=re.escape(f"`relu` returned an array of dtype {dtype}; it should hold "
                                                    "numbers (int or float).")):
        as_array(bad, "relu")


def test_as_number():
    assert as_number(2) == 2.0 and as_number(0.5) == 0.5
    assert as_number(np.float32(0.25)) == 0.25 and as_number(np.int64(3)) == 3.0
    assert as_number(np.array(1.5)) == 1.5
    with pytest.raises(CheckFailed, match=re.escape("`loss` returned None. Did you forget the `return` statement?")):
        as_number(None, "loss")
    with pytest.raises(CheckFailed, match="`loss` returned a bool; it should return a number."):
        as_number(True, "loss")
    with pytest.raises(CheckFailed, match="returned a numpy.ndarray; it should return a number"):
        as_number(np.array([1.5]), "loss")
    with pytest.raises(CheckFailed, match=r"returned a \S*AlwaysEqual; it should return a number"):
        as_number(AlwaysEqual(), "loss")
    with pytest.raises(CheckFailed, match="returned a complex"):
        as_number(1j, "loss")


def test_as_number_with_an_int_too_large_for_a_float():
    # Bug fixed in student.as_number: float(10**400) raised OverflowError instead of CheckFailed.
    assert as_number(10**300) == 1e300
    with pytest.raises(CheckFailed, match="`loss` returned an int of 1329 bits, too large to be a float."):
        as_number(10**400, "loss")


# --- expect_value_error ----------------------------------------------------------------------------------------

def check_positive(x):
    if np.any(x < 0):
        raise ValueError(f"x must be >= 0, found {x.min()}")
    return x


def test_a_value_error_with_a_message_passes():
    expect_value_error(check_positive, np.array([-1.0]), reason="x is negative")


def test_no_error_fails():
    with pytest.raises(CheckFailed, match=re.escape("check_positive(np.array([1.])) should raise ValueError because "
                                                    "nothing, but it returned normally.")):
        expect_value_error(check_positive, np.array([1.0]), reason="nothing")


def test_a_value_error_without_a_message_fails():
    def f(x):
        raise ValueError()

    expect_value_error(check_positive, np.array([-1.0]), reason="x is negative")

    with pytest.raises(CheckFailed, match=re.escape("f(np.array([-1.])) raised ValueError without a message; say "
                                                    "what was wrong (x is negative).")):
        expect_value_error(f, np.array([-1.0]), reason="x is negative")


def test_another_error_fails():
    def f(x):
        return x[5]

    expect_value_error(check_positive, np.array([-1.0]), reason="x is negative")

    with pytest.raises(CheckFailed, match=re.escape("f(np.array([-1.])) should raise ValueError because x is "
                                                    "negative, but it raised IndexError: index 5 is out of bounds")):
        expect_value_error(f, np.array([-1.0]), reason="x is negative")


def test_not_implemented_is_not_a_value_error():
    def f(x):
        raise NotImplementedError

    with pytest.raises(CheckFailed, match="`f` is not implemented yet"):
        expect_value_error(f, np.array([-1.0]), reason="x is negative")
