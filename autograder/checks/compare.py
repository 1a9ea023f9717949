"""Comparing a student's array with the Keras result, and saying what is wrong in the student's terms.

The tolerance is relative. A float32 computation carries about 1.2e-7 relative rounding error per operation;
RTOL = 1e-5 leaves room for ~100 such roundings (sums over a few hundred terms, exp/log) while still catching
any real mistake, which moves values by far more. Elements much smaller than the largest one may carry the
absolute error of the large terms they were computed from, so the absolute floor is RTOL times the largest
|expected| unless a check asks for another.
"""
import re
from dataclasses import dataclass, replace

import numpy as np

from autograder.checks.describe import describe_index, describe_number
from autograder.checks.errors import CheckFailed

RTOL = 1e-5


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer: what the student would get by making this mistake on the same inputs.

    `raises`: exception types that code with this mistake typically raises on these inputs instead of returning
    `result` (e.g. an IndexError from one class too few), so the mistake can be named then too.
    `also`: descriptions of other mistakes that give the same result on this input (see `matching_mistake`).
    """

    description: str
    result: np.ndarray = None
    raises: tuple = ()
    also: tuple = ()

    @property
    def hint(self):
        """The line a failed check adds when the student's result is this mistake's."""
        return f"Hint: your result is what you get if {', or if '.join((self.description, *self.also))}."

    @property
    def id(self):
        """A stable name for the class report: the description's first eight words, kebab-case."""
        words = re.findall(r"[a-z0-9]+", self.description.lower())
        return "-".join(words[:8])


def _kind(dtype):
    return {"b": "bool", "i": "int", "u": "int", "f": "float"}[dtype.kind]


def _close(got, expected, rtol, atol):
    # In float64: bool arrays cannot be subtracted, unsigned ints wrap around, and abs(int8(-128)) is -128.
    got, expected = got.astype(np.float64), expected.astype(np.float64)
    return np.abs(got - expected) <= atol + rtol * np.abs(expected)


def _tolerance(expected, rtol, atol):
    if atol is None:
        finite = np.abs(expected[np.isfinite(expected)].astype(np.float64)) if expected.size else np.zeros(0)
        atol = rtol * (float(finite.max()) if finite.size else 0.0)
    return atol


def _matches(got, expected, rtol, atol, exact):
    if got.shape != expected.shape:
        return False
    if exact:
        return bool(np.array_equal(got, expected, equal_nan=True))
    same_nonfinite = np.array_equal(np.isfinite(got), np.isfinite(expected)) and np.array_equal(
        got[~np.isfinite(got)], expected[~np.isfinite(expected)], equal_nan=True
    )
    finite = np.isfinite(expected)
    with np.errstate(all="ignore"):
        return same_nonfinite and bool(np.all(_close(got[finite], expected[finite], rtol, atol)))


def _shape_message(got, expected):
    g, e = got.shape, expected.shape
    lines = [f"wrong shape: expected {e}, got {g}."]
    if got.ndim >= 2 and g == e[::-1]:
        lines.append("It looks transposed: your axes are in the opposite order.")
    elif got.ndim == expected.ndim - 1 and any(e[:i] + e[i + 1:] == g for i in range(expected.ndim)):
        axes = [i for i in range(expected.ndim) if e[:i] + e[i + 1:] == g]
        lines.append(f"One axis is missing (axis {axes[0]} of the expected shape): did you reduce over it, "
                     "or forget keepdims=True?")
    elif got.ndim == expected.ndim + 1 and any(g[:i] + g[i + 1:] == e for i in range(got.ndim)):
        lines.append("You have one axis too many: did you forget to squeeze or reshape?")
    elif got.ndim == expected.ndim:
        diffs = [f"axis {i}: expected {a}, got {b}" for i, (a, b) in enumerate(zip(e, g)) if a != b]
        lines.append("Sizes differ on " + "; ".join(diffs) + ".")
        if got.size == expected.size:
            lines.append("It has the right number of elements, so check your reshape or the axis you work on.")
    elif got.size == expected.size:
        lines.append("It has the right number of elements, so check your reshape.")
    return lines


def _value_hints(got, expected, rtol, atol):
    with np.errstate(all="ignore"):  # sums of squares of huge values overflow; a hint is then simply not given
        return _value_hints_unchecked(got, expected, rtol, atol)


def _value_hints_unchecked(got, expected, rtol, atol):
    hints = []
    finite = np.isfinite(got) & np.isfinite(expected)
    g, e = got[finite].astype(np.float64), expected[finite].astype(np.float64)
    if got.ndim == 2 and got.shape[0] == got.shape[1] and _matches(got.T, expected, rtol, atol, False):
        hints.append("It looks transposed: your [i, j] is Keras's [j, i].")
    denom = float(np.dot(e, e))
    if e.size > 1 and denom > 0:  # with one element any two numbers differ by a factor: no hint
        factor = float(np.dot(g, e) / denom)
        if abs(factor - 1) > 1e-3 and abs(factor) > 1e-12 and _matches(g, factor * e, 1e-4, atol, False):
            hints.append(f"Off by a constant factor: your values are about {factor:.6g} times Keras's.")
    if e.size > 1:
        offset = float(np.mean(g - e))
        if abs(offset) > atol and _matches(g, e + offset, 1e-4, atol, False):
            hints.append(f"Off by a constant: your values are Keras's {'+' if offset > 0 else '-'} {abs(offset):.6g}.")
    return hints


def _worst_element(got, expected, rtol, atol, exact=False):
    expected64 = expected.astype(np.float64)
    with np.errstate(all="ignore"):
        excess = np.abs(got.astype(np.float64) - expected64) / (atol + rtol * np.abs(expected64) + 1e-300)
    excess = np.where(np.isfinite(got) | ~np.isfinite(expected), excess, np.inf)
    excess = np.nan_to_num(excess, nan=np.inf)
    # The same inf, or NaN where Keras has NaN, is right (as in _matches), not the largest difference.
    same_nonfinite = ~np.isfinite(got) & ~np.isfinite(expected) & (
        (got == expected) | (np.isnan(got) & np.isnan(expected)))
    excess = np.where(same_nonfinite, 0.0, excess)
    index = np.unravel_index(int(np.argmax(excess)), got.shape)
    wrong = int(np.count_nonzero(excess > 0 if exact else excess > 1))
    return (f"{wrong} of {got.size} elements differ; the largest difference is at index {describe_index(index)}: "
            f"expected {describe_number(expected[index])}, got {describe_number(got[index])}.")


def matching_mistake(got, expected, mistakes, rtol=RTOL, atol=None, exact=False):
    """The Mistake whose result `got` matches (and Keras's does not), else None: the one rule for naming a
    mistake. The first that matches is named (its id goes to the class report); on a small input other mistakes
    can give the same numbers, and those are named too (`Mistake.also`), so the message never picks one of
    several at random."""
    if got is None:
        return None
    try:
        got = got if isinstance(got, np.ndarray) else np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    expected = np.asarray(expected)
    atol = 0.0 if exact else _tolerance(expected, rtol, atol)
    found = []
    for mistake in mistakes:
        if mistake.result is None or mistake.description in [m.description for m in found]:
            continue
        result = np.asarray(mistake.result)
        with np.errstate(all="ignore"):
            if _matches(got, result, rtol, atol, exact) and not _matches(result, expected, rtol, atol, exact):
                found.append(mistake)
    if len(found) > 1:
        return replace(found[0], also=tuple(m.description for m in found[1:]))
    return found[0] if found else None


def compare_arrays(got, expected, *, what, rtol=RTOL, atol=None, exact=False, mistakes=()):
    """Raise CheckFailed, with a diagnosis, unless `got` matches `expected`.

    Args:
        got: np.ndarray, the student's result (already accepted by `student.as_array`).
        expected: np.ndarray, the Keras result on the same inputs.
        what: str, the call that produced `got`, e.g. "to_categorical(np.array([2, 0]))".
        rtol, atol: relative and absolute tolerance (atol None: RTOL-scaled, see the module docstring).
        exact: compare values exactly (labels, one-hot matrices, indices).
        mistakes: Mistake instances; when `got` matches one, the message names that mistake.
    """
    expected = np.asarray(expected)
    atol = 0.0 if exact else _tolerance(expected, rtol, atol)
    mistake = matching_mistake(got, expected, mistakes, rtol, atol, exact)
    named = [mistake.hint] if mistake else []
    if got.shape != expected.shape:
        raise CheckFailed(f"{what}: " + "\n  ".join(_shape_message(got, expected) + named), kind="wrong_shape",
                          mistake=mistake)
    if _kind(got.dtype) != _kind(expected.dtype):
        raise CheckFailed(f"{what}: " + "\n  ".join([f"wrong kind of numbers: Keras returns {_kind(expected.dtype)}s "
                          f"(dtype {expected.dtype}), you returned dtype {got.dtype}."] + named), kind="wrong_type",
                          mistake=mistake)
    if _matches(got, expected, rtol, atol, exact):
        return
    bad = ~np.isfinite(got) & np.isfinite(expected)
    if bad.any():
        index = tuple(np.argwhere(bad)[0])
        lines = [f"{int(bad.sum())} element(s) are NaN or inf where Keras has a finite number, first at "
                 f"index {describe_index(index)} (Keras: {describe_number(expected[index])}). Look for overflow in exp(), "
                 "log(0) or 0/0."]
    else:
        lines = ["wrong values."] + (_value_hints(got, expected, rtol, atol) if not exact else [])
    lines += named + [_worst_element(got, expected, rtol, atol, exact)]
    raise CheckFailed(f"{what}: " + "\n  ".join(lines), kind="not_finite" if bad.any() else "wrong_values",
                      mistake=mistake)


def compare_numbers(got, expected, *, what, rtol=RTOL):
    """Raise CheckFailed unless the number `got` is within `rtol` of `expected` (relative)."""
    if not np.isfinite(expected):  # the same inf, or NaN for NaN, is right; anything else is not
        if got == expected or (np.isnan(got) and np.isnan(expected)):
            return
        raise CheckFailed(f"{what}: expected {expected!r}, got {got!r}.")
    if not np.isfinite(got):
        raise CheckFailed(f"{what}: got {got}, expected {expected!r}.", kind="not_finite")
    if abs(got - expected) > rtol * abs(expected) + 1e-12:
        hint = ""
        if expected and abs(got / expected - 1) > 1e-3:
            hint = f" Your value is {got / expected:.6g} times the expected one."
        raise CheckFailed(f"{what}: expected {expected!r}, got {got!r}.{hint}")
