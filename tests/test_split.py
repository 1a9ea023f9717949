"""Split grading's parts that need no kernel: the wire format, its frames on a socket, how results and errors
come back, which cells the answer kernel runs, what its prelude imports, and the topic contract. The whole path
(sandboxed answer kernel, trusted checker, real nbgrader) is tested by test_nbgrader_pipeline.py and
test_redteam.py."""
import os
import socket
import struct
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder import topics
from autograder.checks import folders
from autograder.checks.calling import as_array, call_student
from autograder.checks.errors import CheckFailed
from autograder.grading import wire
from autograder.grading.answer_kernel import answer_imports, given_helpers
from autograder.grading.cells import answer_kernel_cells
from autograder.grading.kernel_driver import AnswerKernelError, given_names
from autograder.grading.remote import Remote, rebuild_exception, remotes_for, write_back
from strategies import float_arrays

# --- the wire format -----------------------------------------------------------------------------------------

plain_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
    | float_arrays(),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=4) | st.integers(), inner, max_size=3),
    max_leaves=8)


def same(a, b):
    if isinstance(a, np.ndarray):
        return type(b) is np.ndarray and a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return type(b) is dict and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@settings(max_examples=60, deadline=None)
@given(plain_values)
def test_plain_data_round_trips_with_its_types(value):
    assert same(wire.loads(wire.dumps(value)), value)


@pytest.mark.parametrize("value", [
    np.array(3), np.arange(6).reshape(2, 3).T, np.zeros((0, 3), np.float32), np.array(["ab", "c"]),
    np.float32(0.1), np.int8(-3), np.bool_(True), np.dtype("float16"), np.float64, float, 2**100, -0.0,
    float("nan"), float("inf"), 1 + 2j, np.tanh,
], ids=repr)
def test_special_values_round_trip(value):
    back = wire.loads(wire.dumps(value))
    if isinstance(value, float) and np.isnan(value):
        assert type(back) is float and np.isnan(back)
    elif isinstance(value, np.ndarray):
        assert same(back, value)
    else:
        assert type(back) is type(value) and (back is value or back == value)


def test_a_random_generator_travels_with_its_state():
    rng = np.random.default_rng(5)
    rng.random(3)
    copy = wire.loads(wire.dumps(rng))
    assert copy is not rng and np.array_equal(copy.random(4), rng.random(4))


class Liar:
    def __eq__(self, other):
        return True


def test_what_is_not_data_stays_behind_as_a_reference():
    kept = []

    def make_ref(obj):
        kept.append(obj)
        return wire.Ref(7, type(obj).__name__, callable(obj))

    liar = Liar()
    subclass = np.zeros(3).view(np.matrix)
    back = wire.loads(wire.dumps([liar, subclass, np.array([object()])], make_ref=make_ref))
    assert [type(b) for b in back] == [wire.Ref] * 3 and kept[0] is liar and kept[1] is subclass
    assert back[0].type_name == "Liar"


def test_the_checker_side_refuses_to_send_objects():
    with pytest.raises(wire.WireError):
        wire.dumps(Liar())
    with pytest.raises(wire.WireError):
        wire.dumps(np.array([1, None], dtype=object))


class ChecksFunction:
    """A function of the checks that a student's function is given to call (as notebook 09's f)."""

    _kbh_grader_function = ("topic.call_function", 12)

    def __repr__(self):
        return "<f(x) = sum(x**3)>"


def test_a_function_of_the_checks_goes_as_a_stub_only_the_answer_kernel_accepts():
    data = wire.dumps({"op": "call", "args": [ChecksFunction(), np.ones(2)]})
    with pytest.raises(wire.WireError, match="only by the answer kernel"):
        wire.loads(data)  # the checker never takes a function from the answer kernel
    stub, x = wire.loads(data, make_function=lambda *made: made)["args"]
    assert stub == ("topic.call_function", 12, "<f(x) = sum(x**3)>") and same(x, np.ones(2))

    class Pretender(ChecksFunction):
        _kbh_grader_function = ["topic.call_function", "12"]  # not (str, int): an object like any other

    with pytest.raises(wire.WireError, match="cannot be sent"):
        wire.dumps(Pretender())


def test_a_stub_called_by_the_students_code_asks_the_checker_over_the_channel(socket_pair, monkeypatch):
    from autograder.grading import answer_kernel

    checker_end, kernel_end = socket_pair
    monkeypatch.setattr(answer_kernel, "_CHANNEL", kernel_end)
    request = wire.dumps({"op": "call", "name": "numerical", "ref": None, "args": [ChecksFunction(), 2.0],
                          "kwargs": {}})
    namespace = {"numerical": lambda f, x: (f(x + 1e-3) - f(x - 1e-3)) / 2e-3}
    replies = []
    student = threading.Thread(target=lambda: replies.append(answer_kernel.answer(request, namespace)))
    student.start()
    asked = []
    for _ in range(2):  # the checker's side: each call of f arrives as a callback, answered with x**3
        callback = wire.loads(wire.recv_frame(checker_end, time.monotonic() + 10))
        asked.append(callback)
        wire.send_frame(checker_end, wire.dumps({"ok": True, "value": callback["args"][1] ** 3}))
    student.join(10)
    assert [(c["op"], c["name"], c["args"][0]) for c in asked] == [("callback", "topic.call_function", 12)] * 2
    assert [c["args"][1] for c in asked] == [2.001, 1.999]
    assert abs(wire.loads(replies[0])["value"] - 12.0) < 1e-5


def header_message(header, body=b""):
    text = __import__("json").dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + body


@pytest.mark.parametrize("data", [
    b"", b"short", struct.pack("<Q", 1000) + b"{}",
    header_message({"tree": {"t": "nd", "i": 0}, "arrays": [{"dtype": "|O", "shape": [1], "offset": 0, "nbytes": 8}]},
                   b"\0" * 8),
    header_message({"tree": {"t": "nd", "i": 0}, "arrays": [{"dtype": "<f8", "shape": [4], "offset": 0, "nbytes": 32}]},
                   b"\0" * 8),
    header_message({"tree": {"t": "nd", "i": 0}, "arrays": [{"dtype": "<f8", "shape": [1000], "offset": 0,
                                                             "nbytes": 8}]}, b"\0" * 8),
    header_message({"tree": {"t": "pickle", "v": "x"}, "arrays": []}),
    header_message({"tree": {"t": "ufunc", "v": "load"}, "arrays": []}),
    header_message({"tree": {"t": "dict", "v": [[{"t": "list", "v": []}, {"t": "py", "v": None}]]}, "arrays": []}),
    header_message({"tree": {"t": "generator", "v": {"t": "py", "v": "x"}}, "arrays": []}),
    header_message({"tree": {"t": "list", "v": [{"t": "list", "v": []}]}}),
], ids=["empty", "short", "header-too-long", "object-dtype", "bytes-missing", "size-lie", "unknown-tag",
        "not-a-ufunc", "unhashable-key", "bad-generator", "no-arrays-entry"])
def test_malformed_messages_are_rejected(data):
    with pytest.raises(wire.WireError):
        wire.loads(data)


def test_deep_nesting_is_rejected():
    value = []
    for _ in range(wire.MAX_DEPTH + 5):
        value = [value]
    with pytest.raises(wire.WireError):
        wire.dumps(value)


# --- frames on the channel --------------------------------------------------------------------------------

@pytest.fixture
def socket_pair():
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    yield left, right
    left.close()
    right.close()


def test_frames_carry_messages_whole_and_the_end_of_the_connection(socket_pair):
    left, right = socket_pair
    message = wire.dumps({"op": "call", "args": [np.arange(50_000.0)]})
    sender = threading.Thread(target=lambda: [wire.send_frame(left, message), wire.send_frame(left, b"")])
    sender.start()  # (bigger than the socket's buffer: a frame arrives in pieces)
    assert wire.recv_frame(right) == message
    assert wire.recv_frame(right) == b""
    sender.join()
    left.close()
    assert wire.recv_frame(right) is None


def test_a_frame_that_is_too_long_cut_short_or_late_is_refused(socket_pair):
    left, right = socket_pair
    left.sendall(struct.pack("<Q", 10**9))
    with pytest.raises(wire.WireError, match="at most"):
        wire.recv_frame(right, limit=10**6)
    with pytest.raises(TimeoutError):
        wire.recv_frame(right, deadline=time.monotonic() + 0.2)  # nothing more comes
    left.sendall(struct.pack("<Q", 100) + b"short")
    left.close()
    with pytest.raises(wire.WireError, match="middle"):
        wire.recv_frame(right)


def test_a_peer_that_does_not_read_times_the_sender_out(socket_pair):
    left, _ = socket_pair
    with pytest.raises(TimeoutError):
        wire.send_frame(left, b"x" * 50_000_000, deadline=time.monotonic() + 0.3)


# --- what comes back -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("types,expected", [
    (["MyError", "ValueError", "Exception", "BaseException", "object"], ValueError),
    (["NotImplementedError", "RuntimeError", "Exception", "BaseException", "object"], NotImplementedError),
    (["CheckFailed", "AssertionError", "Exception", "BaseException", "object"], AssertionError),
    (["SystemExit", "BaseException", "object"], RuntimeError),
    (["KeyboardInterrupt", "BaseException", "object"], RuntimeError),
    ([], RuntimeError),
])
def test_student_exceptions_come_back_as_the_nearest_builtin(types, expected):
    error = rebuild_exception({"ok": False, "types": types, "message": "why"})
    assert type(error) is expected and "why" in str(error)
    assert not isinstance(error, CheckFailed)


def test_write_back_shows_in_place_changes():
    given = [np.zeros(3), {"w": np.ones(2)}, [np.zeros(1)]]
    after = [np.array([1.0, 2.0, 3.0]), {"w": np.full(2, 5.0)}, [np.array([9.0])]]
    write_back(given, after)
    assert same(given, after)
    rng = np.random.default_rng(1)
    advanced = np.random.default_rng(1)
    advanced.random(5)
    write_back([rng], [advanced])
    assert rng.random() == advanced.random()


class FakeKernel:
    """Records requests; answers with a canned response."""

    keras_answers = False
    exchange = "/nonexistent"

    def __init__(self, response):
        self.response = response
        self.requests = []

    def request(self, message, resolve_ref):
        self.requests.append(message)
        return self.response


def test_remote_call_returns_data_and_reports_mutation_through_call_student():
    kernel = FakeKernel({"ok": True, "value": np.array([1.0]), "args": [[np.array([7.0])], {}]})
    relu = Remote(kernel, name="relu")
    with pytest.raises(CheckFailed, match="changed one of its inputs in place"):
        call_student(relu, np.array([-1.0]))
    assert kernel.requests[0]["op"] == "call" and kernel.requests[0]["name"] == "relu"


def test_remote_results_that_are_objects_never_pass_as_arrays():
    kernel = FakeKernel({"ok": True, "value": None, "args": [[], {}]})
    remote_object = Remote(kernel, ref=wire.Ref(3, "__main__.Liar"))
    with pytest.raises(CheckFailed, match="Liar"):
        as_array(remote_object, "relu")
    with pytest.raises(AttributeError):
        remote_object.__array_interface__  # noqa: B018 (never asked of the kernel)
    assert kernel.requests == []


def test_a_student_error_is_the_students_but_a_dead_kernel_ends_the_check():
    failing = Remote(FakeKernel({"ok": False, "types": ["ValueError", "Exception"], "message": "bad"}), name="f")
    with pytest.raises(CheckFailed, match="raised ValueError: bad"):
        call_student(failing, 1)

    class DeadKernel(FakeKernel):
        def request(self, message, resolve_ref):
            raise AnswerKernelError("the kernel died")

    with pytest.raises(AnswerKernelError):
        call_student(Remote(DeadKernel(None), name="f"), 1)


# --- which cells run where, and the answer kernel's prelude --------------------------------------------------

def cell(source, grade_id=None, grade=False, solution=False, tags=()):
    metadata = {"tags": list(tags)}
    if grade_id:
        metadata["nbgrader"] = {"grade_id": grade_id, "grade": grade, "solution": solution}
    return {"cell_type": "code", "source": source, "metadata": metadata}


def test_the_answer_kernel_runs_answers_and_given_cells_only():
    cells = [cell("import keras", "setup"), cell("def f(): pass", "f_answer", solution=True),
             cell("check_f(f)", "f_check", grade=True), cell("model.fit()", tags=["demo"]),
             cell("HELPER = 1"), cell("   "), {"cell_type": "markdown", "source": "text", "metadata": {}}]
    assert answer_kernel_cells(cells) == [1, 4]


def test_the_prelude_keeps_plain_imports_and_drops_keras_autograder_and_plots():
    setup = ("from autograder import setup_notebook\nsetup_notebook()\nimport io, json\nimport numpy as np\n"
             "import keras\nimport tensorflow as tf\nimport matplotlib.pyplot as plt\nimport h5py\n"
             "from autograder.checks.runner import Case\nfrom zipfile import ZipFile\n")
    kept = answer_imports(setup)
    assert kept.splitlines() == ["import io, json", "import numpy as np", "import h5py", "from zipfile import ZipFile"]


def stand_ins(notebook, setup):
    topic = topics.topic_of(notebook)
    return given_helpers(topic.given_stand_ins, given_names(setup, topic))


def test_given_helpers_are_stand_ins_for_the_topics_helpers():
    setup = "from autograder.topics.fit import (loss_and_gradient, make_optimizer as opt, check_fit)\n"
    helpers = stand_ins("04_fit", setup)
    assert sorted(helpers) == ["loss_and_gradient", "opt"] and all(callable(h) for h in helpers.values())
    assert stand_ins("08_lstm", "from autograder.topics.lstm import check_lstm\n") == {}
    assert stand_ins("04_fit", "from autograder.topics.lstm import loss_and_gradient\n") == {}  # not fit's


def test_a_stand_in_outside_split_grading_says_the_grader_computes_it():
    helpers = stand_ins("04_fit", "from autograder.topics.fit import loss_and_gradient\n")
    with pytest.raises(RuntimeError, match="computed by the grader"):
        helpers["loss_and_gradient"]("mse", np.zeros((1, 1)), np.zeros((1, 1)), "linear")


# --- the topic contract (autograder/topics/__init__.py) --------------------------------------------------------

def test_the_topic_of_a_notebook_is_its_module_and_its_declarations():
    workflow, fit, lstm = topics.topic_of("00_workflow"), topics.topic_of("04_fit"), topics.topic_of("08_lstm")
    assert (workflow.module, workflow.keras_answers, workflow.callbacks) == ("autograder.topics.workflow", True, {})
    assert fit.module == "autograder.topics.fit" and not fit.keras_answers
    assert {"loss_and_gradient", "regularization", "make_optimizer"} <= set(fit.given_names)
    assert set(fit.callbacks) == {"fit.loss_and_gradient", "fit.regularization", "fit.make_optimizer",
                                  "fit.optimizer_step"}
    assert all(f'callback("{name}"' in fit.given_stand_ins for name in fit.callbacks)  # every callback is asked for
    assert (lstm.keras_answers, lstm.given_stand_ins, lstm.given_names, dict(lstm.callbacks)) == (False, "", (), {})
    assert topics.topic_of("99_no_such_topic") == topics.Topic() == topics.topic_of(None)


def test_a_given_helpers_callback_computes_what_the_trusted_helper_does():
    fit = topics.topic_of("04_fit")
    y_true, logits = np.array([[0.0, 1.0]]), np.array([[0.5, -0.5]])
    loss, grad = fit.callbacks["fit.loss_and_gradient"]("categorical_crossentropy", y_true, logits, "softmax")
    expected = fit_module().loss_and_gradient("categorical_crossentropy", y_true, logits, "softmax")
    assert np.allclose(loss, expected[0]) and np.allclose(grad, expected[1])


def fit_module():
    import autograder.topics.fit

    return autograder.topics.fit


def test_close_topics_drops_every_topic_module_after_its_close(monkeypatch):
    import sys

    module = fit_module()
    imported = {n: m for n, m in sys.modules.items() if n.startswith("autograder.topics.")}
    closed = []
    monkeypatch.setattr(module, "close", lambda: closed.append(True))  # (its worker goes on serving other tests)
    try:
        topics.close_topics()
        assert closed == [True] and not [n for n in sys.modules if n.startswith("autograder.topics.")]
        # the way notebook 09's module imports 04's: the package's attribute is read first, and must not be the old
        from autograder.topics import fit as imported_from_the_package
        assert sys.modules["autograder.topics.fit"] is imported_from_the_package is not module
        assert topics.topic_of("04_fit").callbacks  # imported afresh
        sys.modules["autograder.topics.fit"].close()
        with pytest.raises(RuntimeError, match="closed"):  # a closed helper thread fails, it does not hang
            imported_from_the_package.loss_and_gradient("mse", np.zeros((1, 1)), np.zeros((1, 1)), "linear")
    finally:
        sys.modules.update(imported)  # the modules the other tests imported
        for name, imported_module in imported.items():
            if name.count(".") == 2:
                setattr(topics, name.rsplit(".", 1)[1], imported_module)


def test_a_shared_folder_is_in_the_answer_kernels_exchange_folder_under_split_grading(tmp_path):
    with folders.shared_folder() as plain:
        assert not plain.startswith(str(tmp_path))
    folders.share_with_answer_kernel(lambda: (str(tmp_path), (os.getuid(), os.getgid())))
    try:
        with folders.shared_folder(prefix="kbh-06-") as shared:
            assert os.path.dirname(shared) == str(tmp_path) and os.path.basename(shared).startswith("kbh-06-")
        assert not os.path.exists(shared)
    finally:
        folders.share_with_answer_kernel(None)


def test_trusted_names_win_over_the_students():
    namespace = {"np": np, "check_relu": print}
    remotes = remotes_for(["relu", "zip", "range", "np", "check_relu", "1bad", 3], namespace, FakeKernel(None))
    assert list(remotes) == ["relu"] and isinstance(remotes["relu"], Remote)
