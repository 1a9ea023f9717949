"""Calling a student's function as untrusted code, and accepting only honest results.

`call_student` runs the answer on private copies of the inputs, with NumPy floating-point warnings and Python
warnings silenced (a naive but correct sigmoid that overflows to 0 is still correct), and watches every Python
and C call it makes so that an answer that quietly calls Keras or TensorFlow is caught. `as_array` and
`as_number` then accept only plain NumPy numbers: an object that compares equal to everything, or an ndarray
subclass with its own `__eq__`, never reaches a comparison.
"""
import functools
import gc
import importlib.util
import os
import sys
import threading
import warnings

import numpy as np

from autograder.checks.errors import CheckFailed
from autograder.checks.describe import describe_call, type_name


def _names_exercise(check):
    """A CheckFailed raised by `check(fn_or_result, ..., name=...)` names the exercise (its heading)."""
    @functools.wraps(check)
    def named(first, *args, **kwargs):
        try:
            return check(first, *args, **kwargs)
        except CheckFailed as failure:
            if check.__name__.startswith("as_"):  # as_array(result, name): never ask a result for its name
                name = kwargs.get("name") or (args[0] if args else None)
            else:  # call_student(fn, ..., name=None)
                name = kwargs.get("name") or getattr(first, "__name__", None)
            failure.exercise = failure.exercise or (name if isinstance(name, str) else None)
            raise
    return named

_FORBIDDEN_PACKAGES = ("keras", "tensorflow", "tf_keras")


@functools.lru_cache(maxsize=None)
def _package_dirs(names):
    dirs = []
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is not None and spec.submodule_search_locations:
            dirs.extend(os.path.realpath(d) + os.sep for d in spec.submodule_search_locations)
            dirs.extend(d + os.sep for d in spec.submodule_search_locations)
    return tuple(dict.fromkeys(dirs))


class KerasWatch:
    """Context manager that records whether any Keras/TensorFlow code ran inside it.

    It uses `sys.setprofile`, which sees every Python function call (by the file its code lives in) and every
    C function call (by the module it belongs to), so it catches `keras.ops.softmax(x)` as well as a Keras
    function reached through an alias or a helper.
    """

    def __init__(self, packages=_FORBIDDEN_PACKAGES):
        self._dirs = _package_dirs(packages)
        self._modules = tuple(packages)
        self.offender = None
        self.tampered = False
        self._previous = None

    def _hook(self, frame, event, arg):
        if event == "c_call" and arg is sys.setprofile:
            self._touched = True  # even if the answer puts the hook back, what ran in between was not watched
        if self.offender is not None:
            return
        if event == "call":
            filename = frame.f_code.co_filename
            if self._dirs and filename.startswith(self._dirs):
                self.offender = f"{frame.f_globals.get('__name__', filename)}.{frame.f_code.co_name}"
        elif event == "c_call":
            module = getattr(arg, "__module__", None) or ""
            if module.split(".", 1)[0] in self._modules:
                self.offender = f"{module}.{getattr(arg, '__name__', '?')}"

    def __enter__(self):
        self._previous = sys.getprofile()
        self._previous_threads = threading.getprofile()
        self._touched = False
        self._installed = self._hook  # a bound method is a new object on every access; keep the one installed
        threading.setprofile(self._installed)  # threads the answer starts are watched too
        sys.setprofile(self._installed)
        return self

    def __exit__(self, *exc):
        self.tampered = (self._touched or sys.getprofile() is not self._installed
                         or threading.getprofile() is not self._installed)
        sys.setprofile(self._previous)
        threading.setprofile(self._previous_threads)
        return False


def _private_copy(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list):
        return [_private_copy(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_private_copy(v) for v in value)
    if isinstance(value, dict):
        return {k: _private_copy(v) for k, v in value.items()}
    return value


def _same(a, b):
    if isinstance(a, np.ndarray):
        if not (isinstance(b, np.ndarray) and a.shape == b.shape):
            return False
        try:  # equal_nan only where NaN can occur: np.isnan rejects str and object arrays
            return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc" and b.dtype.kind in "fc"))
        except (TypeError, ValueError):
            return False
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return True


@_names_exercise
def call_student(fn, *args, name=None, allow_keras=False, **kwargs):
    """Call the student's `fn(*args, **kwargs)` as untrusted code and return whatever it returns.

    Args:
        fn: the student's function.
        *args, **kwargs: its inputs; the student receives private copies.
        name: how to call the function in messages (default: `fn.__name__`).
        allow_keras: True for the exercises that are about using Keras (notebook 00).

    Raises:
        CheckFailed: `fn` is not a function, is not implemented yet, raised an error, used Keras/TensorFlow
            when it may not, or changed its inputs in place.
    """
    name = name or getattr(fn, "__name__", "your function")
    if not callable(fn):
        raise CheckFailed(f"`{name}` should be a function, but it is a {type_name(fn)}.", kind="wrong_type")
    call = describe_call(name, args, kwargs)
    given_args, given_kwargs = _private_copy(args), _private_copy(kwargs)
    # A Remote (autograder/grading/checker.py) runs the answer in the sandboxed answer kernel, where Keras is out of reach;
    # watching this process would only slow the call down.
    watch = KerasWatch() if not (allow_keras or getattr(type(fn), "_kbh_remote", False)) else None
    error = None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            if watch is None:
                result = fn(*given_args, **given_kwargs)
            else:
                # No garbage collection inside the watch: a Keras object's __del__ running there is not the
                # student's call.
                collecting = gc.isenabled()
                gc.disable()
                try:
                    with watch:
                        result = fn(*given_args, **given_kwargs)
                finally:
                    if collecting:
                        gc.enable()
        except CheckFailed:
            raise
        except Exception as caught:
            error = caught
    # Keras use and tampering are reported before any error, so a ValueError raised inside Keras, or after
    # switching the watch off, never passes for the student's own (expect_value_error).
    if watch is not None and watch.tampered:
        raise CheckFailed(f"{call} changed the interpreter's profiler (sys.setprofile); answers may not do that.",
                          kind="calls_keras")
    if watch is not None and watch.offender:
        raise CheckFailed(
            f"{call} called Keras/TensorFlow ({watch.offender}). "
            "This exercise is to compute the result yourself with NumPy; the check compares it with Keras.",
            kind="calls_keras")
    if isinstance(error, NotImplementedError):
        raise CheckFailed(
            f"`{name}` is not implemented yet: replace `raise NotImplementedError()` with your code.",
            kind="not_implemented") from None
    if error is not None:
        raise CheckFailed(f"{call} raised {type(error).__name__}: {error}", kind="raised") from error
    for given, original in zip(list(given_args) + list(given_kwargs.values()), list(args) + list(kwargs.values())):
        if not _same(given, original):
            raise CheckFailed(
                f"{call} changed one of its inputs in place. Work on a copy (e.g. `x = np.array(x)`) "
                "so the caller's data stays as it was.", kind="changed_input")
    return result


@_names_exercise
def as_array(result, name="your function"):
    """Accept `result` only if it is a plain `np.ndarray` of numbers; return a private copy of it.

    Raises:
        CheckFailed: None, a list, a tensor, an ndarray subclass, or an array of objects/strings/complex.
    """
    if result is None:
        raise CheckFailed(f"`{name}` returned None. Did you forget the `return` statement?", kind="wrong_type")
    if type(result) is not np.ndarray:
        if isinstance(result, np.ndarray):
            raise CheckFailed(
                f"`{name}` returned a {type_name(result)} (a subclass of np.ndarray); return a plain array, "
                "e.g. with np.asarray(...).", kind="wrong_type")
        hint = " Convert it with np.asarray(...)." if isinstance(result, (list, tuple)) else ""
        raise CheckFailed(f"`{name}` returned a {type_name(result)}; it should return a NumPy array.{hint}",
                          kind="wrong_type")
    if result.dtype.kind not in "biuf":
        raise CheckFailed(
            f"`{name}` returned an array of dtype {result.dtype}; it should hold numbers (int or float).",
            kind="wrong_type")
    return np.array(result, copy=True)


@_names_exercise
def as_number(result, name="your function"):
    """Accept `result` only if it is a real Python or NumPy number (not bool); return it as a float."""
    if type(result) is int and abs(result) > sys.float_info.max:
        raise CheckFailed(f"`{name}` returned an int of {result.bit_length()} bits, too large to be a float.",
                          kind="wrong_type")
    if type(result) in (int, float) or (isinstance(result, np.generic) and type(result).__module__ == "numpy"
                                         and np.dtype(type(result)).kind in "iuf"):
        return float(result)
    if isinstance(result, np.ndarray) and type(result) is np.ndarray and result.ndim == 0 and result.dtype.kind in "iuf":
        return float(result)
    if result is None:
        raise CheckFailed(f"`{name}` returned None. Did you forget the `return` statement?", kind="wrong_type")
    raise CheckFailed(f"`{name}` returned a {type_name(result)}; it should return a number.", kind="wrong_type")


@_names_exercise
def expect_value_error(fn, *args, name=None, reason, words=(), allow_keras=False, **kwargs):
    """Check that the student's `fn(*args, **kwargs)` raises ValueError with a message.

    Args:
        reason: what is wrong with the input, in words, used in the failure message.
        words: words the message must contain (case-insensitive), so that it says which argument is wrong.
        allow_keras: the answer may call Keras (notebook 00's exercises build Keras objects).
    """
    name = name or getattr(fn, "__name__", "your function")
    call = describe_call(name, args, kwargs)
    try:
        call_student(fn, *args, name=name, allow_keras=allow_keras, **kwargs)
    except CheckFailed as failure:
        cause = failure.__cause__
        if isinstance(cause, ValueError):
            message = str(cause).strip()
            if not message:
                raise CheckFailed(f"{call} raised ValueError without a message; say what was wrong ({reason}).",
                                  kind="no_value_error") from None
            missing = [word for word in words if word.lower() not in message.lower()]
            if missing:
                raise CheckFailed(f"{call} raised ValueError({message!r}), but the message should say what is "
                                  f"wrong ({reason}): mention {' and '.join(map(repr, missing))}.",
                                  kind="no_value_error") from None
            return None
        if cause is None:
            raise
        raise CheckFailed(
            f"{call} should raise ValueError because {reason}, but it raised {type(cause).__name__}: {cause}",
            kind="no_value_error") from None
    raise CheckFailed(f"{call} should raise ValueError because {reason}, but it returned normally.",
                      kind="no_value_error")
