"""The answer kernel's side of split grading: what runs next to the student's code in the sandbox and answers the
checker (`autograder/grading/kernel_driver.py` drives it).

UNTRUSTED: this module runs in the same process as the student's code, which may have changed anything in it.
Nothing here decides a grade: it only runs what the checker asks for and writes back plain data
(`autograder.grading.wire`).

It must import without TensorFlow, which the answer kernel of most notebooks cannot see, and imports no topic
module: a topic's stand-ins for its given helpers arrive as source text in the prelude (`given_helpers`).
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


class _GraderFunction:
    """A function of the checks given to the student's code (a `wire.FUNCTION_STUB`, e.g. the `f` of notebook 09's
    `numerical_gradient(f, x)`): calling it asks the checker to run it (`callback`), on plain data."""

    def __init__(self, name, key, text):
        self._name, self._key, self._text = name, key, text

    def __call__(self, *args):
        return callback(self._name, self._key, *args)

    def __repr__(self):
        return self._text


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
        request = wire.loads(data, resolve_ref=_resolve, make_function=_GraderFunction)
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


def given_helpers(stand_ins, names):
    """Stand-ins for the given helpers the setup cell imports from its topic (e.g. notebook 04's
    `loss_and_gradient`): `stand_ins` is the topic's GIVEN_STAND_INS, source text the checker put into the
    prelude (the topic contract, autograder/topics/__init__.py), run here with `callback` as its one given name;
    `names` maps each helper the setup cell imports to the name it binds. Each stand-in asks the checker, which
    computes it with Keras, through `callback`."""
    namespace = {"__name__": "kbh_given_helpers", "callback": callback}
    exec(compile(stand_ins, "<given helpers>", "exec"), namespace)  # noqa: S102 (the topic's text, from the checker)
    return {bound: namespace[name] for name, bound in names.items() if name in namespace and name != "callback"}


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

