"""Short, readable descriptions of values and calls for check messages."""
import re

import numpy as np

_MAX_SHOWN = 12
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")  # `Generator(PCG64) at 0x7F78D32A5460`, `<function f at 0x...>`


def type_name(value):
    kind = type(value)
    if getattr(kind, "_kbh_remote", False):  # autograder.grading.remote.Remote: say what it is in the answer kernel
        return value._kbh_type
    module = kind.__module__
    return kind.__name__ if module in ("builtins", "__main__") else f"{module.split('.')[0]}.{kind.__name__}"


def describe_value(value):
    """`array([2, 0, 1])` for small arrays, `float32 array of shape (64, 10)` for large ones."""
    if type(value) is np.ndarray:
        if value.size <= _MAX_SHOWN:
            text = np.array2string(value, separator=", ", threshold=_MAX_SHOWN, precision=4)
            text = " ".join(text.split())
            dtype = "" if value.dtype in (np.float64, np.int64) else f", dtype={value.dtype}"
            return f"np.array({text}{dtype})"
        return f"{value.dtype} array of shape {value.shape}"
    if isinstance(value, (list, tuple)) and len(value) > _MAX_SHOWN:
        return f"{type(value).__name__} of length {len(value)}"
    if type(value) in (list, tuple) and any(type(v) in (np.ndarray, list, tuple) for v in value):
        # a list of weights, a pair of states: each item described on its own (repr would print every number)
        inner = ", ".join(describe_value(v) for v in value)
        return f"[{inner}]" if type(value) is list else f"({inner}{',' if len(value) == 1 else ''})"
    if isinstance(value, float):
        return f"{value:.6g}"
    text = _ADDRESS.sub("", repr(value))  # an address differs every run and tells a student nothing
    return text if len(text) <= 80 else f"{type_name(value)} ({text[:60]}...)"


def describe_call(name, args=(), kwargs=None):
    parts = [describe_value(a) for a in args]
    parts += [f"{k}={describe_value(v)}" for k, v in (kwargs or {}).items()]
    return f"{name}({', '.join(parts)})"


def describe_number(value):
    """A NumPy or Python scalar as plain text: `0.861205`, `3`, `nan`."""
    value = value.item() if isinstance(value, np.generic) else value
    return f"{value:.6g}" if isinstance(value, float) else repr(value)


def describe_index(index):
    return "(" + ", ".join(str(int(i)) for i in index) + ")" if len(index) != 1 else f"[{int(index[0])}]"
