"""What every topic's references share: Keras imported late, built Keras layers kept per configuration, Keras's
results remembered by the value of their inputs (`same_for_every_student`), and the NumPy activations the known
mistakes are computed with (never shown to students).

Keras is imported inside `keras()`, not at module import, so that importing a topic (and the notebook's setup
cell) stays fast and TensorFlow starts only when a check first needs a reference.
"""
import collections
import dataclasses
import functools
import hashlib
import threading
import types

import numpy as np


def keras():
    """The `keras` module, imported on first use."""
    import keras as keras_module

    return keras_module


_LAYERS = {}
MAX_LAYERS = 256  # one notebook's checks build far fewer; the cap only bounds memory in long test sessions


def built_layer(key, make):
    """A built Keras layer (or model) for `key`, made by `make()` once and reused: creating and building one costs
    ~10 ms, giving it new weights with set_weights and calling it ~1 ms. `key` must name everything `make`
    depends on (class, configuration, input shape, dtype); a topic prefixes it with its own name."""
    if key not in _LAYERS:
        if len(_LAYERS) >= MAX_LAYERS:
            _LAYERS.clear()
        _LAYERS[key] = make()
    return _LAYERS[key]


MEMO_MAX_BYTES = 128 * 2**20  # the results kept; the oldest go first
_MEMO = collections.OrderedDict()  # {key: (result, bytes)}
_MEMO_LOCK = threading.Lock()  # fit's references run on a helper thread
_memo_bytes = 0
_memo_counts = collections.Counter()  # "hit" / "miss" / "not kept"


_PLAIN_SCALARS = (bool, int, float, complex, str)  # exact types: a subclass could lie about its value


class _NotPlainData(Exception):
    """A value the memo does not key or keep: anything but numbers, strings, None, NumPy arrays (not of objects),
    and tuples, lists, dicts and the course's own dataclasses of those."""


def _feed(digest, value):
    """Feed `value`, tagged with its exact type and shape, into `digest` (a hashlib object)."""
    kind = type(value)
    if value is None or kind in _PLAIN_SCALARS:
        digest.update(f"{kind.__name__}:{value!r};".encode())
    elif kind is np.ndarray or isinstance(value, np.generic):
        array = np.asarray(value)
        if array.dtype.hasobject:
            raise _NotPlainData
        digest.update(f"{kind.__name__}:{array.dtype.str}:{array.shape}:".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    elif kind in (tuple, list):
        digest.update(f"{kind.__name__}{len(value)}(".encode())
        for item in value:
            _feed(digest, item)
        digest.update(b")")
    elif kind is dict:
        digest.update(f"dict{len(value)}(".encode())
        for key, item in value.items():
            _feed(digest, key)
            _feed(digest, item)
        digest.update(b")")
    elif kind is types.FunctionType and value.__module__.startswith("autograder."):
        _feed_function(digest, value)
    elif dataclasses.is_dataclass(value) and kind.__module__.startswith("autograder."):
        digest.update(f"{kind.__module__}.{kind.__qualname__}(".encode())
        for item in dataclasses.fields(value):
            _feed(digest, getattr(value, item.name))
        digest.update(b")")
    else:
        raise _NotPlainData


def _feed_function(digest, function, depth=0):
    """A function of the course itself (a reference, or a helper it was built from): its name, its code and
    the values it closes over, recursively (a closure over a student's function is not plain data)."""
    if depth > 8:
        raise _NotPlainData
    digest.update(f"{function.__module__}.{function.__qualname__}:{_code_text(function.__code__)}(".encode())
    for cell in function.__closure__ or ():
        try:
            content = cell.cell_contents
        except ValueError:  # an empty cell
            raise _NotPlainData from None
        if type(content) is types.FunctionType and content.__module__.startswith("autograder."):
            _feed_function(digest, content, depth + 1)
        else:
            _feed(digest, content)
    digest.update(b")")


def _code_text(code):
    """A code object as text that is the same in every process (the repr of a nested code object holds its
    address): its bytecode and constants, nested code objects spelled out the same way."""
    consts = ",".join(_code_text(c) if isinstance(c, types.CodeType) else
                      repr(sorted(map(repr, c))) if isinstance(c, frozenset) else repr(c) for c in code.co_consts)
    return f"{code.co_code.hex()}[{consts}]{code.co_names}"


def _copied(value):
    """A copy of a result the memo keeps (arrays copied: a check may change what it was given), and its bytes."""
    kind = type(value)
    if value is None or kind in _PLAIN_SCALARS or isinstance(value, np.generic):
        return value, 8
    if kind is np.ndarray and not value.dtype.hasobject:
        return value.copy(), value.nbytes
    if kind in (tuple, list):
        items = [_copied(item) for item in value]
        return kind(item for item, _ in items), sum(size for _, size in items) + 8
    if kind is dict:
        items = {key: _copied(item) for key, item in value.items() if type(key) in (str, int)}
        if len(items) != len(value):
            raise _NotPlainData
        return {key: item for key, (item, _) in items.items()}, sum(size for _, size in items.values()) + 8
    raise _NotPlainData


def same_for_every_student(reference):
    """Remember `reference`'s results by the value of its arguments, for as long as the process lives: a
    checker process that grades one student after another computes each Keras reference once per distinct
    input, not once per student (the drawn inputs are deterministic), and a learner who runs a check again waits
    less. For pure functions only: the result must depend on nothing but the arguments' values (and the values
    the function closes over) — Keras given explicit weights, never a random initializer or a global RNG.

    The key is a digest of the function (module, name, code, the values it closes over) and of every argument's
    exact type, shape and bytes; a call with anything but plain data (a student's function, a Keras object)
    is simply computed. Results are handed out as copies; an exception is never remembered."""
    @functools.wraps(reference)
    def remembered(*args, **kwargs):
        global _memo_bytes
        try:
            digest = hashlib.blake2b(digest_size=20)
            _feed_function(digest, reference)
            _feed(digest, args)
            _feed(digest, kwargs)
            key = digest.digest()
        except _NotPlainData:
            _memo_counts["not kept"] += 1
            return reference(*args, **kwargs)
        with _MEMO_LOCK:
            if key in _MEMO:
                _MEMO.move_to_end(key)
                _memo_counts["hit"] += 1
                return _copied(_MEMO[key][0])[0]
        result = reference(*args, **kwargs)
        try:
            kept, size = _copied(result)
        except _NotPlainData:
            _memo_counts["not kept"] += 1
            return result
        with _MEMO_LOCK:
            _memo_counts["miss"] += 1
            if key not in _MEMO and size <= MEMO_MAX_BYTES:
                _MEMO[key] = (kept, size)
                _memo_bytes += size
                while _memo_bytes > MEMO_MAX_BYTES:
                    _memo_bytes -= _MEMO.popitem(last=False)[1][1]
        return result

    return remembered


def forget_remembered():
    """Empty the memo (tests that count computations start from nothing)."""
    global _memo_bytes
    with _MEMO_LOCK:
        _MEMO.clear()
        _memo_bytes = 0


def memo_counts():
    """{"hit": n, "miss": n, "not kept": n} since the process started (the grader logs it per notebook)."""
    with _MEMO_LOCK:
        return dict(_memo_counts)


def sigmoid(z):
    """1 / (1 + exp(-z)) in float64; overflow of exp for very negative z gives 0, silently."""
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


def softmax(z, axis=-1):
    """Softmax along `axis` in float64, shifted by the maximum so that exp never overflows."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
