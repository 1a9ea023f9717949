"""Tests of autograder.checks.compare: a right answer passes, a wrong one fails with the diagnosis a student needs."""
import re
import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import autograder  # noqa: F401  (quiet TensorFlow before anything imports it)
from autograder.checks.compare import RTOL, Mistake, compare_arrays, compare_numbers
from autograder.checks.describe import describe_call, describe_index, describe_number, describe_value
from autograder.checks.errors import CheckFailed
from strategies import (FAST, float64_arrays_in_float32_range, float_arrays, non_square_shapes, shapes)

WHAT = "f(x)"
M = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0]])  # shape (3, 4)


def fails(got, expected, match, **options):
    """compare_arrays must raise CheckFailed whose message matches `match`; return the message."""
    with pytest.raises(CheckFailed, match=match) as failure:
        compare_arrays(np.asarray(got), np.asarray(expected), what=WHAT, **options)
    message = str(failure.value)
    assert message.startswith(f"{WHAT}: "), message
    return message


def passes(got, expected, **options):
    compare_arrays(np.asarray(got), np.asarray(expected), what=WHAT, **options)


def test_check_failed_is_an_assertion_error():
    assert issubclass(CheckFailed, AssertionError)


# --- values within and beyond the tolerance -------------------------------------------------------------------

def test_equal_and_rounding_level_differences_pass_but_a_real_difference_fails():
    passes(M.copy(), M)
    passes(M * (1 + 1e-6), M)
    passes(M.astype(np.float32), M)
    message = fails(M * (1 + 1e-3), M, "wrong values")
    assert "12 of 12 elements differ" in message


def test_float32_rounding_needs_the_default_rtol():
    x = np.array([0.1, 1 / 3, 2.0 / 7])
    rounded = x.astype(np.float32).astype(np.float64)
    passes(rounded, x)
    fails(rounded, x, "wrong values", rtol=1e-9, atol=0.0)


def test_small_elements_get_the_absolute_floor_of_the_largest_one():
    expected = np.array([1000.0, 1e-9])
    passes(np.array([1000.0, 1e-9 + 1e-3 * RTOL * 1000]), expected)
    fails(np.array([1000.0, 1e-9 + 2 * RTOL * 1000]), expected, r"index \[1\]: expected 1e-09")


def test_explicit_atol_is_used():
    passes(np.array([0.0, 0.5]), np.array([0.0, 0.5005]), atol=1e-3)
    fails(np.array([0.0, 0.5]), np.array([0.0, 0.51]), "wrong values", atol=1e-3)


# --- wrong shape -------------------------------------------------------------------------------------------

def test_transposed_shape_is_reported_with_both_shapes():
    passes(M.T.T, M)
    message = fails(M.T, M, re.escape("wrong shape: expected (3, 4), got (4, 3)."))
    assert "It looks transposed" in message


def test_missing_axis_suggests_keepdims():
    expected = M.sum(axis=1, keepdims=True)
    passes(M.sum(axis=1, keepdims=True), expected)
    message = fails(M.sum(axis=1), expected, re.escape("expected (3, 1), got (3,)"))
    assert "axis 1 of the expected shape" in message and "keepdims=True" in message


def test_extra_axis_suggests_squeeze():
    passes(M, M)
    fails(M[:, None, :], M, r"(?s)expected \(3, 4\), got \(3, 1, 4\).*one axis too many")


def test_different_sizes_on_an_axis_are_named():
    passes(np.zeros((3, 4)), np.zeros((3, 4)))
    message = fails(np.zeros((3, 5)), M, re.escape("Sizes differ on axis 1: expected 4, got 5."))
    assert "right number of elements" not in message


def test_same_size_different_layout_points_at_reshape():
    passes(M.reshape(2, 6).reshape(3, 4), M)
    fails(M.reshape(2, 6), M, r"(?s)expected \(3, 4\), got \(2, 6\).*right number of elements")
    fails(M.reshape(12), M, r"(?s)got \(12,\).*right number of elements, so check your reshape")


def test_square_transposed_values_are_reported():
    square = np.arange(9.0).reshape(3, 3)
    passes(square.copy(), square)
    fails(square.T, square, re.escape("It looks transposed: your [i, j] is Keras's [j, i]."))


# --- wrong values: constant factor, constant offset, worst element -------------------------------------------

def test_constant_factor_is_named():
    passes(M * 1.0, M)
    message = fails(M * 2, M, "Off by a constant factor: your values are about 2 times Keras's.")
    assert "12 of 12 elements differ" in message
    fails(-M, M, "about -1 times")
    fails(M / 3, M, "about 0.333333 times")


def test_constant_offset_is_named():
    message = fails(M + 0.5, M, re.escape("Off by a constant: your values are Keras's + 0.5."))
    assert "constant factor" not in message
    fails(M - 2, M, re.escape("Keras's - 2."))


def test_worst_element_gives_its_index_and_both_values():
    got = M.copy()
    passes(got, M)
    got[1, 2] = 7.5
    got[2, 0] = 9.001
    message = fails(got, M, re.escape("2 of 12 elements differ; the largest difference is at index (1, 2): "
                                      "expected 7, got 7.5."))
    assert "constant" not in message
    flat = np.arange(1.0, 6.0)
    wrong = flat.copy()
    wrong[3] = 0.0
    fails(wrong, flat, re.escape("1 of 5 elements differ; the largest difference is at index [3]: expected 4, got 0."))


def test_nan_in_the_answer_is_reported_with_its_index():
    got = M.copy()
    passes(got, M)
    got[1, 2] = np.nan
    got[2, 3] = np.inf
    message = fails(got, M, re.escape("2 element(s) are NaN or inf where Keras has a finite number, first at "
                                      "index (1, 2) (Keras: 7)."))
    assert "overflow in exp()" in message
    assert "at index (1, 2): expected 7, got nan" in message


def test_overflow_to_inf_is_reported():
    passes(np.array([1.0, 1e30]), np.array([1.0, 1e30], dtype=np.float32))
    fails(np.array([1.0, np.inf]), np.array([1.0, 1e30]),
          r"NaN or inf where Keras has a finite number, first at index \[1\]")


def test_wrong_kind_of_numbers():
    passes(np.array([1, 2]), np.array([1, 2], dtype=np.int32))
    fails(np.array([1, 2]), np.array([1.0, 2.0], dtype=np.float32),
          re.escape("wrong kind of numbers: Keras returns floats (dtype float32), you returned dtype int64."))
    fails(np.array([0.0, 1.0]), np.array([0, 1]), "Keras returns ints")
    fails(np.array([0, 1]), np.array([False, True]), "Keras returns bools")


# --- exact comparison and named mistakes ----------------------------------------------------------------------

def test_exact_comparison_rejects_rounding_level_differences():
    labels = np.array([3, 0, 2])
    passes(labels.copy(), labels, exact=True)
    fails(M * (1 + 1e-9), M, "wrong values", exact=True)
    message = fails(np.array([3, 1, 2]), labels, re.escape("at index [1]: expected 0, got 1."), exact=True)
    assert "constant" not in message  # no value hints for exact data such as labels


def test_exact_count_of_differing_large_integers():
    # Bug fixed in compare._worst_element: with exact=True it counted |diff| > rtol*|expected|, so an index
    # 100001 where Keras has 100000 was "0 of 2 elements differ".
    fails(np.array([100001, 5]), np.array([100000, 5]), re.escape("1 of 2 elements differ"), exact=True)


def test_a_matching_mistake_is_named():
    mistake = Mistake("you sum over axis 0 instead of axis 1", M.sum(axis=0))
    passes(M.sum(axis=1), M.sum(axis=1), mistakes=[mistake])
    message = fails(M.sum(axis=0), M.sum(axis=1), "Hint: your result is what you get if you sum over axis 0",
                    mistakes=[mistake])
    assert re.search(r"expected \(3,\), got \(4,\)", message)
    values_mistake = Mistake("you forgot to divide by n", M * 4)
    fails(M * 4, M, "(?s)about 4 times.*Hint: your result is what you get if you forgot to divide by n",
          mistakes=[values_mistake])


def test_a_mistake_that_equals_the_right_answer_is_never_named():
    harmless = Mistake("you did something that happens to give the same result", M.copy())
    passes(M.copy(), M, mistakes=[harmless])
    message = fails(M + 1, M, "wrong values", mistakes=[harmless])
    assert "Your result matches" not in message


def test_an_unrelated_mistake_is_not_named():
    mistake = Mistake("you used the wrong axis", M * 10)
    passes(M.copy(), M, mistakes=[mistake])
    message = fails(M + 1, M, "wrong values", mistakes=[mistake])
    assert "wrong axis" not in message


# --- edge cases: empty, 0-d, all-zero, non-finite expected, int kinds -----------------------------------------

def test_empty_arrays():
    passes(np.zeros((0, 3)), np.zeros((0, 3), dtype=np.float32))
    fails(np.zeros((3, 0)), np.zeros((0, 3)), re.escape("expected (0, 3), got (3, 0)"))


def test_zero_dimensional_arrays():
    passes(np.array(1.5), np.array(1.5, dtype=np.float32))
    message = fails(np.array(3.0), np.array(1.5), "wrong values")
    assert "expected 1.5, got 3" in message
    assert "factor" not in message  # any two single numbers differ by some factor: no hint that says nothing
    fails(np.array(np.nan), np.array(1.5), "NaN or inf")
    fails(np.array(1.5), np.array([1.5]), re.escape("expected (1,), got ()"))


def test_all_zero_expected():
    passes(np.zeros((2, 3)), np.zeros((2, 3), dtype=np.float32))
    message = fails(np.ones((2, 3)), np.zeros((2, 3)), re.escape("Off by a constant: your values are Keras's + 1."))
    assert "expected 0, got 1" in message


def test_the_same_inf_and_nan_in_expected_are_right():
    expected = np.array([np.inf, -np.inf, np.nan, 2.0])
    passes(expected.copy(), expected)
    fails(np.array([np.inf, np.inf, np.nan, 2.0]), expected, re.escape("index [1]: expected -inf, got inf"))
    fails(np.array([1e308, -np.inf, np.nan, 2.0]), expected, re.escape("index [0]: expected inf, got 1e+308"))
    fails(np.array([np.inf, -np.inf, 0.0, 2.0]), expected, re.escape("index [2]: expected nan, got 0"))


def test_worst_element_is_never_an_element_that_matches_inf_or_nan():
    # Bug fixed in compare._worst_element: inf - inf and nan - nan gave NaN, turned into an infinite excess, so
    # the message pointed at a right element ("expected inf, got inf") and counted it as wrong.
    fails(np.array([np.inf, 1.0]), np.array([np.inf, 2.0]),
          re.escape("1 of 2 elements differ; the largest difference is at index [1]: expected 2, got 1."))
    fails(np.array([np.nan, 1.0, 3.0]), np.array([np.nan, 2.0, 3.0]),
          re.escape("1 of 3 elements differ; the largest difference is at index [1]: expected 2, got 1."))


def test_bool_arrays_compare_without_crashing():
    # Bug fixed in compare._close: bool - bool raised TypeError unless exact=True.
    mask = np.array([True, False, True])
    passes(mask.copy(), mask)
    fails(np.array([True, True, True]), mask, re.escape("index [1]: expected False, got True"))


def test_small_int_dtypes_are_compared_as_numbers():
    # Bug fixed in compare._close/_tolerance: abs(int8(-128)) is -128, which made the tolerance negative and
    # failed a right answer ("0 of 2 elements differ"); unsigned differences wrapped around.
    passes(np.array([-128, 5], dtype=np.int8), np.array([-128, 5], dtype=np.int8))
    fails(np.array([0, 5], dtype=np.uint8), np.array([1, 5], dtype=np.uint8), re.escape("index [0]: expected 1, got 0"))
    passes(np.array([3, 4], dtype=np.uint8), np.array([3, 4], dtype=np.int64))


def test_huge_values_give_no_warning():
    # Bug fixed in compare._value_hints: the sum of squares overflowed with a RuntimeWarning (printed on stderr).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fails(np.array([1e308, 1e308]), np.array([1e308, -1e308]), r"index \[1\]: expected -1e\+308, got 1e\+308")
        passes(np.array([1e308, -1e308]), np.array([1e308, -1e308]))


# --- how inputs and values are described -------------------------------------------------------------------

def test_descriptions_of_values_and_calls():
    assert describe_call("f", (np.array([1.0, 2.5]),), {"axis": -1}) == "f(np.array([1. , 2.5]), axis=-1)"
    assert describe_value(np.zeros((64, 10), np.float32)) == "float32 array of shape (64, 10)"
    assert describe_value(np.array([1, 2], np.uint8)) == "np.array([1, 2], dtype=uint8)"
    assert describe_value(np.array(2.5)) == "np.array(2.5)"
    assert describe_value(list(range(20))) == "list of length 20"
    assert describe_value([0, 1]) == "[0, 1]"
    states = (np.zeros((2, 3)), np.ones((2, 3), np.float32))  # e.g. d_final_state: not every number of both
    assert describe_value(states) == "(np.array([[0., 0., 0.], [0., 0., 0.]]), " \
                                     "np.array([[1., 1., 1.], [1., 1., 1.]], dtype=float32))"
    weights = [np.zeros((20, 3), np.float32), np.zeros(3, np.float32)]
    assert describe_value(weights) == "[float32 array of shape (20, 3), np.array([0., 0., 0.], dtype=float32)]"
    assert describe_value("x" * 100).startswith("str ('xxx") and len(describe_value("x" * 100)) < 80
    assert describe_number(np.float32(0.5)) == "0.5" and describe_number(np.int64(3)) == "3"
    assert describe_index((1, 2)) == "(1, 2)" and describe_index((4,)) == "[4]"


# --- compare_numbers ------------------------------------------------------------------------------------------

def test_compare_numbers():
    compare_numbers(0.5 * (1 + 1e-6), 0.5, what="loss(y, p)")
    compare_numbers(0.0, 0.0, what="loss(y, p)")
    with pytest.raises(CheckFailed, match=re.escape("loss(y, p): expected 0.5, got 1.0. Your value is 2 times")):
        compare_numbers(1.0, 0.5, what="loss(y, p)")
    with pytest.raises(CheckFailed, match="loss: got nan, expected 0.5"):
        compare_numbers(float("nan"), 0.5, what="loss")


def test_compare_numbers_with_non_finite_expected():
    # Bug fixed in compare_numbers: an expected NaN made every finite answer pass (all comparisons with NaN are
    # False), and an expected inf failed the right answer inf.
    compare_numbers(float("inf"), float("inf"), what="loss")
    compare_numbers(float("nan"), float("nan"), what="loss")
    with pytest.raises(CheckFailed, match="loss: expected nan, got 1.0"):
        compare_numbers(1.0, float("nan"), what="loss")
    with pytest.raises(CheckFailed, match="loss: expected inf, got -inf"):
        compare_numbers(float("-inf"), float("inf"), what="loss")


# --- properties ---------------------------------------------------------------------------------------------

@FAST
@given(float_arrays(allow_nonfinite=True))
def test_property_an_array_matches_itself(x):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compare_arrays(x.copy(), x, what=WHAT)
        compare_arrays(x.copy(), x, what=WHAT, exact=True)


@FAST
@given(float_arrays(shape=shapes(min_side=1), max_magnitude=1e6),
       st.floats(-10, 10).filter(lambda k: abs(k - 1) > 1e-3))
def test_property_a_scaled_array_never_matches(x, k):
    assume(np.abs(x).max() > 1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(CheckFailed) as failure:
            compare_arrays(x * k, x, what=WHAT)
    message = str(failure.value)
    if abs(k - 1) > 2e-3 and abs(k) > 1e-6 and x.size > 1:
        named = re.search(r"about (\S+) times Keras's", message)
        assert named, message
        assert float(named.group(1)) == pytest.approx(k, rel=1e-4, abs=1e-6)


@FAST
@given(float64_arrays_in_float32_range())
def test_property_float32_rounding_is_within_the_default_rtol(x):
    rounded = x.astype(np.float32).astype(np.float64)
    compare_arrays(rounded, x, what=WHAT)
    compare_arrays(x, x.astype(np.float32), what=WHAT)


@FAST
@given(float_arrays(shape=non_square_shapes(), max_magnitude=1e6))
def test_property_a_transposed_non_square_array_is_reported_as_transposed(x):
    expected_text = f"wrong shape: expected {x.shape}, got {x.T.shape}."
    with pytest.raises(CheckFailed, match=re.escape(expected_text)) as failure:
        compare_arrays(x.T, x, what=WHAT)
    assert "It looks transposed" in str(failure.value)


def test_a_named_mistake_is_given_with_the_wrong_kind_of_numbers_too():
    scores = np.array([[0.1, 0.9], [0.2, 0.8]])
    along_samples = Mistake("you take the argmax over axis 0", np.argmax(scores, axis=0))
    fails(np.argmax(scores, axis=0).astype(float), np.argmax(scores, axis=-1),
          r"(?s)wrong kind of numbers.*\n  Hint: your result is what you get if you take the argmax over axis 0\.$",
          exact=True, mistakes=[along_samples])
