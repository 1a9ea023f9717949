"""Plain data across the grading sandbox's wall: the one format the trusted checker and a student's answer
kernel exchange (see `autograder/grading/checker.py`).

Only data crosses: None, bool, int, float, complex, str, plain NumPy arrays and scalars of numbers, bools or
text, dtypes, and lists, tuples and dicts of these. Everything else a student's function returns (an object with
its own `__eq__`, an ndarray subclass, a class instance) stays in the answer kernel and arrives as a `Ref`: a
name for it and the name of its type, nothing the checker could be fooled by. One thing goes the other way that
is not data: a function of the checks' own that a student's function is given to call (notebook 09's
`numerical_gradient(f, x)`). The checker sends it as a stub (`FUNCTION_STUB`) that, called in the answer
kernel, asks the checker to run it on plain data; the checker never accepts a stub.

A message is an 8-byte header length, a JSON header, then the raw bytes of every array. Reading it never
unpickles, never decompresses and never trusts a size it cannot verify, because the kernel that wrote it may be
hostile. Messages travel as frames (an 8-byte length, then the message) over one Unix socket per answer kernel:
`send_frame` and `recv_frame`.
"""
import json
import socket
import struct
import time

import numpy as np

MAX_BYTES = 256 * 1024 * 1024  # the answer kernel cannot write a bigger file (RLIMIT_FSIZE is lower)
MAX_DEPTH = 64
_ARRAY_KINDS = "biufcUS"  # bool, integers, floats, complex, text; never objects ('O') or raw records ('V')
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
_PY_TYPES = {"float": float, "int": int, "bool": bool, "complex": complex, "str": str}
FUNCTION_STUB = "_kbh_grader_function"  # (callback name, int key): a checker-side function sent as a stub


class WireError(ValueError):
    """A message that is not in this format (or breaks its limits)."""


class Ref:
    """Something that stays in the answer kernel: `id` names it there, `type_name` says what it is."""

    def __init__(self, ref_id, type_name="object", is_callable=False):
        self.id = int(ref_id)
        self.type_name = str(type_name)[:120]
        self.is_callable = bool(is_callable)

    def __repr__(self):
        return f"<{self.type_name} in the answer kernel>"


class KerasValue:
    """A Keras model or object sent by value, only from the answer kernel of a notebook whose answers are Keras
    code (00_workflow): kind "model" with the path of a `.keras` file in the exchange folder, or kind "object"
    with a JSON config (`keras.saving.serialize_keras_object`). The checker rebuilds it with Keras's safe mode."""

    def __init__(self, kind, data):
        self.kind = str(kind)
        self.data = str(data)


def describe_error(error):
    """An exception as plain data: {"ok": False, "types": its class and bases by name, "message": its text}. Used
    by both sides (a student's exception; a given helper's error in a callback)."""
    try:
        message = str(error)
    except Exception:  # noqa: BLE001 (a hostile __str__)
        message = "(its message could not be read)"
    return {"ok": False, "types": [c.__name__ for c in type(error).__mro__][:20], "message": message[:4000]}


def _encode(value, arrays, make_ref, depth):
    if depth > MAX_DEPTH:
        raise WireError("data nested too deeply")
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return {"t": "py", "v": value}
    if kind is int:
        return {"t": "int", "v": str(value)}
    if kind is float:
        return {"t": "float", "v": value.hex()}
    if kind is complex:
        return {"t": "complex", "v": [value.real.hex(), value.imag.hex()]}
    if kind is np.ndarray and value.dtype.kind in _ARRAY_KINDS and not value.dtype.fields:
        arrays.append(value if value.flags.c_contiguous else value.copy(order="C"))  # (ascontiguousarray makes 0-d 1-d)
        return {"t": "nd", "i": len(arrays) - 1}
    if isinstance(value, np.generic) and kind.__module__ == "numpy" and value.dtype.kind in _ARRAY_KINDS:
        arrays.append(np.asarray(value).reshape(()))
        return {"t": "np", "i": len(arrays) - 1}
    if isinstance(value, np.dtype) and value.kind in _ARRAY_KINDS and not value.fields:
        return {"t": "dtype", "v": value.str}
    if isinstance(value, type) and issubclass(value, np.generic) and value.__module__ == "numpy":
        return {"t": "sctype", "v": np.dtype(value).str}
    if isinstance(value, type) and value in _PY_TYPES.values():
        return {"t": "pytype", "v": value.__name__}
    if isinstance(value, np.ufunc) and getattr(np, value.__name__, None) is value:  # e.g. activation=np.tanh
        return {"t": "ufunc", "v": value.__name__}
    if kind is np.random.Generator and type(value.bit_generator).__name__ in _BIT_GENERATORS:
        return {"t": "generator", "v": _encode(value.bit_generator.state, arrays, None, depth + 1)}
    if kind is list or kind is tuple:
        return {"t": kind.__name__, "v": [_encode(v, arrays, make_ref, depth + 1) for v in value]}
    if kind is dict:
        return {"t": "dict", "v": [[_encode(k, arrays, make_ref, depth + 1), _encode(v, arrays, make_ref, depth + 1)]
                                   for k, v in value.items()]}
    if kind is Ref:
        return {"t": "ref", "id": value.id, "type": value.type_name, "callable": value.is_callable}
    if kind is KerasValue:
        return {"t": "keras", "kind": value.kind, "v": value.data}
    if make_ref is None:
        stub = getattr(value, FUNCTION_STUB, None)
        if isinstance(stub, tuple) and len(stub) == 2 and type(stub[0]) is str and type(stub[1]) is int:
            return {"t": "fn", "name": stub[0], "key": str(stub[1]), "v": repr(value)[:200]}
        raise WireError(f"a {kind.__name__} cannot be sent to the answer kernel")
    return _encode(make_ref(value), arrays, None, depth)


def dumps(value, make_ref=None):
    """`value` as bytes. `make_ref(obj) -> Ref` keeps what is not data (the answer kernel's side); without it,
    such a value is an error (the checker's side sends only data, Refs it was given and its own functions that
    carry a `FUNCTION_STUB`)."""
    arrays = []
    tree = _encode(value, arrays, make_ref, 0)
    specs, offset = [], 0
    for array in arrays:
        specs.append({"dtype": array.dtype.str, "shape": list(array.shape), "offset": offset, "nbytes": array.nbytes})
        offset += array.nbytes
    header = json.dumps({"tree": tree, "arrays": specs}, allow_nan=False).encode()
    return b"".join([struct.pack("<Q", len(header)), header] + [a.tobytes() for a in arrays])


def _array(spec, body):
    try:
        dtype = np.dtype(str(spec["dtype"]))
        shape = tuple(int(n) for n in spec["shape"])
        offset, nbytes = int(spec["offset"]), int(spec["nbytes"])
    except (KeyError, TypeError, ValueError) as error:
        raise WireError(f"bad array entry: {error}") from None
    if dtype.kind not in _ARRAY_KINDS or dtype.fields or any(n < 0 for n in shape) or len(shape) > 32:
        raise WireError(f"array of dtype {dtype} / shape {shape} is not accepted")
    if nbytes != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize or offset < 0 or offset + nbytes > len(body):
        raise WireError("array size does not match its bytes")
    return np.frombuffer(body, dtype=dtype, count=nbytes // dtype.itemsize if dtype.itemsize else 0,
                         offset=offset).reshape(shape).copy()


def _decode(node, arrays, resolve_ref, depth, make_function=None):
    if depth > MAX_DEPTH or not isinstance(node, dict):
        raise WireError("malformed data")
    tag, v = node.get("t"), node.get("v")
    if tag == "py" and (v is None or type(v) in (bool, str)):
        return v
    if tag == "int" and type(v) is str and len(v) <= 5000:
        return int(v)
    if tag == "float" and type(v) is str:
        return float.fromhex(v)
    if tag == "complex" and type(v) is list and len(v) == 2:
        return complex(float.fromhex(v[0]), float.fromhex(v[1]))
    if tag in ("nd", "np"):
        array = arrays[int(node["i"])]
        return array if tag == "nd" else array[()]
    if tag == "dtype":
        return np.dtype(str(v))
    if tag == "sctype":
        return np.dtype(str(v)).type
    if tag == "pytype" and v in _PY_TYPES:
        return _PY_TYPES[v]
    if tag == "ufunc" and isinstance(getattr(np, str(v), None), np.ufunc):
        return getattr(np, str(v))
    if tag == "generator":
        state = _decode(v, arrays, None, depth + 1)
        if not isinstance(state, dict) or state.get("bit_generator") not in _BIT_GENERATORS:
            raise WireError("bad random generator state")
        bit_generator = getattr(np.random, state["bit_generator"])()
        bit_generator.state = state
        return np.random.Generator(bit_generator)
    if tag in ("list", "tuple") and type(v) is list:
        items = [_decode(x, arrays, resolve_ref, depth + 1, make_function) for x in v]
        return items if tag == "list" else tuple(items)
    if tag == "dict" and type(v) is list:
        result = {}
        for pair in v:
            key = _decode(pair[0], arrays, resolve_ref, depth + 1, make_function)
            try:
                hash(key)
            except TypeError:
                raise WireError("unhashable dict key") from None
            result[key] = _decode(pair[1], arrays, resolve_ref, depth + 1, make_function)
        return result
    if tag == "keras" and type(v) is str and node.get("kind") in ("model", "object"):
        return KerasValue(node["kind"], v)
    if tag == "ref":
        ref = Ref(node.get("id", -1), node.get("type", "object"), node.get("callable", False))
        return resolve_ref(ref) if resolve_ref is not None else ref
    if tag == "fn" and type(v) is str and type(node.get("name")) is str and type(node.get("key")) is str:
        if make_function is None:
            raise WireError("a function stub is accepted only by the answer kernel")
        return make_function(node["name"], int(node["key"]), v)
    raise WireError(f"unknown data tag {str(tag)[:40]!r}")


def loads(data, resolve_ref=None, make_function=None):
    """The value in `data` (bytes). `resolve_ref(Ref)` turns each reference into what the caller wants (a proxy
    on the checker's side, the object itself on the kernel's side); `make_function(callback name, key, text)`
    turns a function stub into a callable (the answer kernel's side only; without it a stub is an error)."""
    if len(data) > MAX_BYTES or len(data) < 8:
        raise WireError(f"a message of {len(data)} bytes")
    (length,) = struct.unpack("<Q", data[:8])
    if length > len(data) - 8:
        raise WireError("header longer than the message")
    try:
        header = json.loads(data[8:8 + length])
        body = memoryview(data)[8 + length:]
        arrays = [_array(spec, body) for spec in header["arrays"]]
        return _decode(header["tree"], arrays, resolve_ref, 0, make_function)
    except WireError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, RecursionError, OverflowError) as error:
        raise WireError(f"malformed message: {type(error).__name__}: {error}") from None


# --- frames over a socket ------------------------------------------------------------------------------------

def _remaining(deadline):
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("no answer in time")
    return left


def send_frame(sock, message, deadline=None):
    """Send `message` (bytes from `dumps`) as one frame; TimeoutError if the peer does not read it by `deadline`
    (a `time.monotonic()` value, or None to wait for ever)."""
    view = memoryview(struct.pack("<Q", len(message)) + message)
    while view:
        sock.settimeout(_remaining(deadline))
        try:
            view = view[sock.send(view):]
        except socket.timeout:
            raise TimeoutError("the peer did not read in time") from None


def _recv_exactly(sock, size, deadline):
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    while got < size:
        sock.settimeout(_remaining(deadline))
        try:
            count = sock.recv_into(view[got:], min(size - got, 1 << 20))
        except socket.timeout:
            raise TimeoutError("no answer in time") from None
        if count == 0:
            return None if got == 0 else _truncated()
        got += count
    return bytes(buffer)


def _truncated():
    raise WireError("the connection closed in the middle of a message")


def recv_frame(sock, deadline=None, limit=MAX_BYTES):
    """The next frame's message (bytes), or None if the peer closed the connection between frames. Raises
    TimeoutError past `deadline`, WireError for a frame longer than `limit` or cut short."""
    header = _recv_exactly(sock, 8, deadline)
    if header is None:
        return None
    (length,) = struct.unpack("<Q", header)
    if length > limit:
        raise WireError(f"a frame of {length} bytes (at most {limit})")
    message = _recv_exactly(sock, length, deadline) if length else b""
    if message is None:
        _truncated()
    return message
