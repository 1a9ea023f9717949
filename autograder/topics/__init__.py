"""One module per notebook: the Keras references, inputs and known mistakes for that topic's exercises.

The topic contract
==================
This is the only way split grading (`autograder/grading`) learns about a topic; it never names a topic module.

* **Which module.** Notebook `NN_name` (source/NN_name/NN_name.ipynb, an nbgrader assignment of the same name)
  has the topic module `autograder.topics.name`. `topic_of("NN_name")` imports it (in the trusted checker only)
  and returns its `Topic`: what follows, read from the module and nothing else of it.
* **`KERAS_ANSWERS = True`** (optional; default False): the notebook's answers are Keras code, they build Keras
  objects (00_workflow). Their answer kernel then sees TensorFlow and Keras, runs the whole setup cell, and
  sends Keras objects back by value (a `.keras` file, or a config) for the checks to rebuild with
  `safe_mode=True`. Without it, TensorFlow and Keras are hidden from the answer kernel: an answer cannot call
  them, however it patches the interpreter.
* **`GIVEN_STAND_INS`** (str) with **`CALLBACKS`** (dict) (optional; 04_fit): helpers the notebook gives the
  learner that compute with Keras (`loss_and_gradient`, ...), which the answer kernel cannot run.
  `GIVEN_STAND_INS` is Python source text, run in the (untrusted, Keras-less) answer kernel with the builtins
  and one name, `callback(name, *args)`; each public top-level function or class it defines stands in for the
  topic's helper of the same name wherever the setup cell imports that helper from the topic module.
  `callback(name, *args)` runs `CALLBACKS[name](*args)` in the checker, on plain data (`autograder.grading.wire`:
  arrays, numbers, strings, lists, tuples, dicts) and returns its plain-data result; a ValueError there comes
  back as ValueError, any other error as RuntimeError. The stand-ins are text, not an import, so the answer
  kernel never imports a topic module (nor, through it, the checks or Keras); a callback trusts nothing it is
  given: it takes plain data, the student may have changed the stand-ins.
* **`close()`** (optional): release what the module holds (threads, Keras objects). A checker process that
  grades many notebooks calls `close_topics()` between two: every imported topic module is dropped (and
  imported afresh by the next notebook's setup cell) after its `close()` ran.

A topic module may import `autograder.checks` only (never `autograder.grading`): its checks run the same in a
learner's Lab and under the grader. This package's `__init__` imports nothing of the course, so that
`import autograder.topics.name` costs only what that module imports.
"""
import ast
import dataclasses
import importlib
import importlib.util
import re
import sys
import types

PACKAGE = __name__


@dataclasses.dataclass(frozen=True)
class Topic:
    """What grading knows of one notebook's topic (see the module docstring); the defaults are a topic that
    declares nothing, or a notebook without a topic module."""

    module: str | None = None
    keras_answers: bool = False
    given_stand_ins: str = ""
    given_names: tuple = ()
    callbacks: types.MappingProxyType = dataclasses.field(default_factory=lambda: types.MappingProxyType({}))


def module_name(notebook):
    """`autograder.topics.name` for notebook (assignment) `NN_name`, or None when no such module exists."""
    match = re.fullmatch(r"\d\d_(\w+)", notebook or "")
    if not match:
        return None
    name = f"{PACKAGE}.{match.group(1)}"
    return name if importlib.util.find_spec(name) is not None else None


def topic_of(notebook):
    """The `Topic` of notebook `NN_name`: its module imported, its declarations read and checked."""
    name = module_name(notebook)
    if name is None:
        return Topic()
    module = importlib.import_module(name)
    stand_ins = getattr(module, "GIVEN_STAND_INS", "")
    callbacks = getattr(module, "CALLBACKS", {})
    if not isinstance(stand_ins, str) or not isinstance(callbacks, dict) or bool(stand_ins) != bool(callbacks):
        raise TypeError(f"{name}: GIVEN_STAND_INS (source text) and CALLBACKS (a dict) go together")
    return Topic(module=name, keras_answers=getattr(module, "KERAS_ANSWERS", False) is True,
                 given_stand_ins=stand_ins, given_names=defined_names(stand_ins),
                 callbacks=types.MappingProxyType(dict(callbacks)))


def defined_names(source):
    """The public top-level functions and classes `source` defines (the stand-ins of GIVEN_STAND_INS)."""
    return tuple(node.name for node in ast.parse(source).body
                 if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"))


def close_topics():
    """Drop every imported topic module, after calling its `close()` if it declares one. Each is dropped from the
    package too: `from autograder.topics import fit` reads the package's attribute when there is one, and would
    hand the next notebook the closed module."""
    package = sys.modules[PACKAGE]
    for name in [n for n in sys.modules if n.startswith(PACKAGE + ".")]:
        close = getattr(sys.modules.pop(name), "close", None)
        if callable(close):
            close()
        if name.count(".") == PACKAGE.count(".") + 1:
            vars(package).pop(name.rsplit(".", 1)[1], None)
