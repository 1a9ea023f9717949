"""What the checks see of the student's names: a `Remote` for each, which runs a call in the answer kernel on
copies of plain data and brings plain data back.

The trusted test cells call `Remote`s as if they were the student's functions. Arguments go to the answer kernel
as plain data (`autograder.grading.wire`); what a call changed in them is copied back into the checker's
private copies (`write_back`), so `call_student` still sees an answer that changes its inputs in place; the
result comes back as plain data, as another `Remote` for anything else (an object that lies about equality
stays in the kernel), or, for a notebook whose answers are Keras code, as a Keras object rebuilt here with
`safe_mode=True`. The student's exception comes back as the nearest built-in exception.
"""
import builtins
import contextlib
import json
import os

from autograder.grading import wire
from autograder.grading.kernel_driver import AnswerKernelError

_EXCEPTIONS = {name: value for name, value in vars(builtins).items()
               if isinstance(value, type) and issubclass(value, Exception)}


def remotes_for(names, namespace, kernel):
    """A Remote for each name the answers defined, except where a trusted name wins: the setup cell's imports
    and the builtins the test cells use (a student's own `zip` or `range` must not reach into a hidden test)."""
    return {name: Remote(kernel, name=name) for name in names
            if isinstance(name, str) and name.isidentifier() and name not in namespace and not hasattr(builtins, name)}


class Remote:
    """A function, class or object that lives in the answer kernel. Calling it (or a method got from it) runs
    the call there on copies of plain data and returns plain data, or another Remote for anything else."""

    _kbh_remote = True

    def __init__(self, kernel, name=None, ref=None):
        self._kernel = kernel
        self._name = name
        self._ref = ref
        self._kbh_type = ref.type_name if ref is not None else "function"
        self.__name__ = name or (ref.type_name.rsplit(".", 1)[-1] if ref is not None else "object")

    def __repr__(self):
        return f"<{self._kbh_type} in the answer kernel>" if self._name is None else f"<{self._name}>"

    def _resolve(self, ref):
        return Remote(self._kernel, ref=ref)

    def _ask(self, message):
        response = self._kernel.request(message, self._resolve)
        if not isinstance(response, dict) or "ok" not in response:
            raise AnswerKernelError("the answer kernel wrote a malformed answer")
        if not response["ok"]:
            raise rebuild_exception(response)
        return response

    def __call__(self, *args, **kwargs):
        response = self._ask({"op": "call", "name": self._name, "ref": self._ref, "args": list(args),
                              "kwargs": dict(kwargs)})
        after = response.get("args")
        if isinstance(after, list) and len(after) == 2:
            write_back(list(args), after[0])
            write_back(kwargs, after[1])
        return to_local(response.get("value"), self._kernel)

    def __getattr__(self, attribute):
        if attribute.startswith("_") or self._ref is None:
            raise AttributeError(attribute)  # never ask the kernel for __array_interface__ and the like
        response = self._ask({"op": "getattr", "ref": self._ref, "name": attribute})
        return to_local(response.get("value"), self._kernel)


def to_local(value, kernel):
    """Turn what came back into what the checks accept: data as is; Keras values rebuilt (notebook 00 only)."""
    if isinstance(value, wire.KerasValue):
        if not kernel.keras_answers:
            raise AnswerKernelError("the answer kernel sent a Keras object where none may be")
        return rebuild_keras(value, kernel.exchange)
    if type(value) is list:
        return [to_local(v, kernel) for v in value]
    if type(value) is tuple:
        return tuple(to_local(v, kernel) for v in value)
    if type(value) is dict:
        return {k: to_local(v, kernel) for k, v in value.items()}
    return value


def rebuild_keras(value, exchange):
    import keras

    if value.kind == "model":
        path = os.path.realpath(value.data)
        if os.path.dirname(path) != os.path.realpath(exchange) or not path.endswith(".keras"):
            raise AnswerKernelError("the answer kernel sent a model from outside its exchange folder")
        return keras.saving.load_model(path, safe_mode=True)
    return keras.saving.deserialize_keras_object(json.loads(value.data), safe_mode=True)


def write_back(given, after):
    """Copy what the call left in its arguments into the checker's private copies, so that `call_student` sees
    an answer that changes its inputs in place."""
    import numpy as np

    if isinstance(given, np.random.Generator):
        if type(after) is np.random.Generator and type(after.bit_generator) is type(given.bit_generator):
            given.bit_generator.state = after.bit_generator.state  # the answer drew from it
    elif isinstance(given, np.ndarray):
        if type(after) is np.ndarray and after.shape == given.shape and given.flags.writeable:
            with contextlib.suppress(TypeError, ValueError):
                np.copyto(given, after, casting="unsafe")
    elif isinstance(given, list) and type(after) is list:
        if len(after) != len(given):
            given[:] = after
        else:
            for i, (g, a) in enumerate(zip(given, after)):
                if isinstance(g, (np.ndarray, list, dict, np.random.Generator)):
                    write_back(g, a)
                else:
                    given[i] = a
    elif isinstance(given, dict) and type(after) is dict:
        for key in list(given):
            if key in after:
                if isinstance(given[key], (np.ndarray, list, dict, np.random.Generator)):
                    write_back(given[key], after[key])
                else:
                    given[key] = after[key]
            else:
                del given[key]
        for key in after.keys() - given.keys():
            given[key] = after[key]


def rebuild_exception(response):
    """The student's exception as the nearest built-in exception, with its message (a subclass of ValueError
    arrives as ValueError; SystemExit and the like as RuntimeError)."""
    types = [t for t in response.get("types", []) if isinstance(t, str)]
    message = str(response.get("message", ""))
    for name in types:
        if name in _EXCEPTIONS and name not in ("Exception",):
            return _EXCEPTIONS[name](message)
    return RuntimeError(f"{types[0] if types else 'an exception'}: {message}")
