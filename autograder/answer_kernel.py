"""The answer kernel's side of split grading (see `autograder/split.py`). UNTRUSTED: this module runs in the
same process as the student's code, which may have changed anything in it. Nothing here decides a grade: it
only runs what the checker asks for and writes back plain data (`autograder.wire`).

It must import without TensorFlow, which the answer kernel of most notebooks cannot see.
"""
import ast
import os
import time

from autograder import wire

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


def _write(path, data):
    temporary = path + ".part"
    with open(temporary, "wb") as file:
        file.write(data)
    os.replace(temporary, path)


def serve(request_path, response_path, namespace):
    """Carry out the request in `request_path` against the student's `namespace` (the kernel's globals) and
    write the answer to `response_path`.

    Requests: {"op": "call", "name": str or None, "ref": Ref or None, "args": list, "kwargs": dict} -> the
    result, and the arguments as the call left them (so in-place changes can be seen);
    {"op": "getattr", "ref": Ref, "name": str}; {"op": "names"} -> the names the answers defined.
    """
    try:
        with open(request_path, "rb") as file:
            request = wire.loads(file.read(), resolve_ref=_resolve)
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
    except KeyboardInterrupt:
        raise  # the checker interrupted a call that ran too long; it reports that itself
    except BaseException as error:  # noqa: BLE001 (SystemExit too: it is the student's function that raised)
        response = wire.describe_error(error)
    try:
        data = wire.dumps(response, make_ref=_keep)
    except Exception as error:  # noqa: BLE001
        data = wire.dumps(wire.describe_error(error))
    _write(response_path, data)


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


_CALLS = iter(range(1, 2**62))


def callback(name, *args):
    """Ask the checker to run the given helper `name` on `args` and wait for its answer (files in
    KBH_EXCHANGE: the answer kernel has no other way out)."""
    folder = os.environ["KBH_EXCHANGE"]
    number = next(_CALLS)
    request = os.path.join(folder, f"callback-{number}.request")
    response = os.path.join(folder, f"callback-{number}.response")
    _write(request, wire.dumps({"name": name, "args": list(args)}))
    pause = 0.0002
    while not os.path.exists(response):
        time.sleep(pause)
        pause = min(pause * 1.5, 0.005)
    with open(response, "rb") as file:
        answer = wire.loads(file.read())
    os.remove(response)
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
