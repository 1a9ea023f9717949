"""The answer kernel's side of split grading (see `autograder/grading/checker.py`). UNTRUSTED: this module runs in the
same process as the student's code, which may have changed anything in it. Nothing here decides a grade: it
only runs what the checker asks for and writes back plain data (`autograder.grading.wire`).

It must import without TensorFlow, which the answer kernel of most notebooks cannot see.
"""
import ast
import os

from autograder.grading import wire

# Modules a notebook's setup cell imports that the answer kernel does not load: the checks (they need Keras),
# Keras/TensorFlow themselves, and plotting.
NOT_IN_ANSWER_KERNEL = ("autograder", "keras", "tensorflow", "tf_keras", "matplotlib")

_OBJECTS = {}
_COUNTER = iter(range(1, 2**62))


def _type_name(value):
    kind = type(value)
    return kind.__name__ if kind.__module__ in ("builtins", "__main__") else f"{kind.__module__}.{kind.__name__}"


def _keep(value):
    """Keep `value` here and send a reference (wire.Ref) in its place; a Keras object goes by value when the
    notebook's answers are Keras code (KBH_KERAS_ANSWERS=1), as a `.keras` file or a config."""
    keras_value = _keras_value(value)
    if keras_value is not None:
        return keras_value
    ref = wire.Ref(next(_COUNTER), _type_name(value), callable(value))
    _OBJECTS[ref.id] = value
    return ref


def _keras_value(value):
    if os.environ.get("KBH_KERAS_ANSWERS") != "1" or not type(value).__module__.startswith("keras"):
        return None
    import json

    import keras

    if isinstance(value, keras.Model):
        path = os.path.join(os.environ["KBH_EXCHANGE"], f"model-{next(_COUNTER)}.keras")
        value.save(path)
        return wire.KerasValue("model", path)
    return wire.KerasValue("object", json.dumps(keras.saving.serialize_keras_object(value), default=float))


def _resolve(ref):
    try:
        return _OBJECTS[ref.id]
    except KeyError:
        raise wire.WireError(f"no object {ref.id} in the answer kernel") from None


_CHANNEL = None  # the socket to the checker (connect)


def connect(path):
    """Connect to the checker's socket at `path` (the first thing the answer kernel does)."""
    global _CHANNEL
    import socket

    channel = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    channel.connect(path)
    _CHANNEL = channel


def answer(data, namespace):
    """Carry out one request (bytes) against the student's `namespace` (the kernel's globals); the answer, bytes.

    Requests: {"op": "call", "name": str or None, "ref": Ref or None, "args": list, "kwargs": dict} -> the
    result, and the arguments as the call left them (so in-place changes can be seen);
    {"op": "getattr", "ref": Ref, "name": str}; {"op": "names"} -> the names the answers defined.
    """
    try:
        request = wire.loads(data, resolve_ref=_resolve)
        op = request["op"]
        if op == "names":
            response = {"ok": True, "value": sorted(k for k in namespace if isinstance(k, str) and
                                                    not k.startswith("_") and k.isidentifier())}
        elif op == "getattr":
            response = {"ok": True, "value": getattr(request["ref"], request["name"])}
        elif op == "call":
            target = request["ref"] if request.get("name") is None else namespace[request["name"]]
            args, kwargs = request["args"], request["kwargs"]
            value = target(*args, **kwargs)
            response = {"ok": True, "value": value, "args": [args, kwargs]}
        else:
            raise wire.WireError(f"unknown request {op!r}")
    except BaseException as error:  # noqa: BLE001 (SystemExit too: it is the student's function that raised)
        response = wire.describe_error(error)
    try:
        return wire.dumps(response, make_ref=_keep)
    except Exception as error:  # noqa: BLE001
        return wire.dumps(wire.describe_error(error))


def serve_forever(namespace):
    """Answer the checker's requests until it closes the connection (one cell runs this; every call of a
    student's function by the checks is one request). What the student's functions print is dropped."""
    import contextlib

    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        while True:
            data = wire.recv_frame(_CHANNEL)
            if data is None:
                return
            wire.send_frame(_CHANNEL, answer(data, namespace))


# --- the prelude: what the setup cell gives the answers, without Keras ----------------------------------------

def answer_imports(setup_source):
    """The import statements of the setup cell that the answer kernel runs (numpy, json, h5py, ...): every
    top-level `import` / `from ... import` except those of `NOT_IN_ANSWER_KERNEL`."""
    kept = []
    for node in ast.parse(setup_source).body:
        if isinstance(node, ast.Import):
            names = [a for a in node.names if a.name.split(".")[0] not in NOT_IN_ANSWER_KERNEL]
            if names:
                kept.append(ast.unparse(ast.Import(names=names)))
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            if (node.module or "").split(".")[0] not in NOT_IN_ANSWER_KERNEL:
                kept.append(ast.unparse(node))
    return "\n".join(kept)


def given_helpers(setup_source):
    """Stand-ins for the given helpers the setup cell imports from a topic (e.g. notebook 04's
    `loss_and_gradient`): each asks the checker, which computes it with Keras, through `callback`."""
    helpers = {}
    for node in ast.parse(setup_source).body:
        if isinstance(node, ast.ImportFrom) and node.module in GIVEN:
            for alias in node.names:
                if alias.name in GIVEN[node.module]:
                    helpers[alias.asname or alias.name] = GIVEN[node.module][alias.name]
    return helpers


def callback(name, *args):
    """Ask the checker to run the given helper `name` on `args` and wait for its answer (on the channel: the
    answer kernel has no other way out)."""
    if _CHANNEL is None:
        raise RuntimeError(f"{name} is computed by the grader and is not available here")
    wire.send_frame(_CHANNEL, wire.dumps({"op": "callback", "name": name, "args": list(args)}))
    data = wire.recv_frame(_CHANNEL)
    if data is None:
        raise RuntimeError("the grader closed the connection")
    answer = wire.loads(data)
    if not answer["ok"]:
        raise ValueError(answer["message"]) if "ValueError" in answer["types"] else RuntimeError(answer["message"])
    return answer["value"]


def _fit_helpers():
    class GivenOptimizer:
        """A Keras optimizer you can step with NumPy arrays (it runs in the checker)."""

        def __init__(self, spec):
            self._spec = spec
            self._handle = callback("fit.make_optimizer", spec)

        def step(self, weights, grads):
            return callback("fit.optimizer_step", self._handle, list(weights), list(grads))

        def __repr__(self):
            return f"GivenOptimizer({self._spec!r})"

    return {
        "loss_and_gradient": lambda loss, y_true, logits, activation: tuple(
            callback("fit.loss_and_gradient", loss, y_true, logits, activation)),
        "regularization": lambda loss, weights: tuple(callback("fit.regularization", loss, list(weights))),
        "make_optimizer": GivenOptimizer,
    }


GIVEN = {"autograder.topics.fit": _fit_helpers()}
