"""Split grading: the student's code and the checks never share a process.

`nbgrader autograde` (through `autograder.grading.preprocessors.SplitExecute`) starts this module as a separate,
trusted process per notebook: `python -m autograder.grading.checker JOB RESULT`. It

1. starts the student's **answer kernel** in the grading sandbox (`autograder.grading.sandbox`) and runs there the
   answer cells and the other code cells of the notebook, except the setup cell, the test cells and cells tagged
   `demo` (Keras demonstrations that grade nothing). Unless the notebook's answers are Keras code (notebook 00),
   TensorFlow and Keras are not even visible in that sandbox: an answer cannot call them, however it patches
   the interpreter;
2. runs the setup cell and every test cell itself, from nbgrader's restored copy (the student cannot have
   changed them), with each name the answers defined replaced by a `Remote`: calling it sends plain data into
   the answer kernel (`autograder.grading.wire`) and brings the result back as plain data. Monkeypatching NumPy, the
   checks, the Keras reference, `sys.excepthook` or IPython in the answer kernel changes nothing here, and an
   object that lies about equality stays in the kernel (the check sees a `Remote`, which is no array);
3. writes every cell's outputs to RESULT (JSON) for SplitExecute to put into the notebook nbgrader scores.

A fault of the student's code (a loop, `os._exit`, a memory bomb) fails the calls that ran into it; the kernel
is restarted (at most `max_restarts` times) for the remaining checks.
"""
import builtins
import contextlib
import io
import json
import os
import secrets
import socket
import struct
import sys
import threading
import time
import traceback

from autograder.grading import wire
from autograder.checks.errors import CheckFailed, grader_record, record_output, render_failure

SETUP_ID = "setup"
DEMO_TAG = "demo"
KERAS_ANSWERS = frozenset({"00_workflow"})  # notebooks whose answers are Keras code (they build models)
_EXCEPTIONS = {name: value for name, value in vars(builtins).items()
               if isinstance(value, type) and issubclass(value, Exception)}


class GraderFault(RuntimeError):
    """Grading itself failed, through no fault of the student's code: the notebook is not graded (its checks
    are reported as not run), never scored as if the student's answers were wrong."""


class AnswerKernelError(BaseException):
    """The answer kernel did not answer: it died, ran out of time, or wrote no valid answer.

    A BaseException, like KeyboardInterrupt, so that it ends the whole check at once: `call_student` must not
    report it as the student's exception, and hypothesis must not shrink (call again and again) after it."""


# --- the notebook's cells --------------------------------------------------------------------------------------

def nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def is_test_cell(cell):
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_setup_cell(cell):
    return cell.get("cell_type") == "code" and nbgrader_meta(cell).get("grade_id") == SETUP_ID


def is_demo_cell(cell):
    return DEMO_TAG in cell.get("metadata", {}).get("tags", [])


def source_of(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def answer_kernel_cells(cells):
    """Indices of the cells the answer kernel runs: every code cell but the setup, test and demo cells."""
    return [i for i, cell in enumerate(cells) if cell.get("cell_type") == "code" and source_of(cell).strip()
            and not (is_setup_cell(cell) or is_test_cell(cell) or is_demo_cell(cell))]


# --- the answer kernel, driven from here -------------------------------------------------------------------------

def _answer_kernel_client_class():
    from nbclient import NotebookClient

    class AnswerKernelClient(NotebookClient):
        """nbclient's client with a cap on what one cell may print."""

        def output(self, outs, msg, display_id, cell_index):
            content = msg.get("content", {})
            if msg.get("msg_type") == "error":
                content["evalue"] = str(content.get("evalue", ""))[:2000]
                content["traceback"] = [line[:2000] for line in content.get("traceback", [])[-60:]]
                return super().output(outs, msg, display_id, cell_index)
            size = len(json.dumps(content, default=str))
            used = self.output_bytes.get(cell_index, 0)
            self.output_bytes[cell_index] = used + size
            if used + size <= self.max_output_bytes:
                return super().output(outs, msg, display_id, cell_index)
            if used <= self.max_output_bytes:
                outs.append({"output_type": "stream", "name": "stdout",
                             "text": f"\n... output truncated by the grader (more than {self.max_output_bytes} bytes) ...\n"})
            return None

    return AnswerKernelClient


def hidden_packages(names=("tensorflow", "keras", "tf_keras", "tensorboard")):
    """The folders of TensorFlow and Keras, hidden from the answer kernel of a NumPy-only notebook."""
    import importlib.util

    folders = []
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            folders.extend(os.path.realpath(p) for p in spec.submodule_search_locations)
    return folders


class AnswerKernel:
    """The student's kernel in the sandbox: runs the answer cells, then answers calls (`call`, `getattr`) on a
    Unix socket in its exchange folder, one request and one answer per call (`answer_kernel.serve_forever`)."""

    CHANNEL = "channel.sock"

    def __init__(self, nb, job, log=None):
        self.nb = nb
        self.job = job
        self.log = log or (lambda message: None)
        self.keras_answers = job["assignment"] in KERAS_ANSWERS
        self.cell_indices = answer_kernel_cells(nb["cells"])
        self.cell_outputs = {}
        self.skip = set()  # cells that killed the kernel: not run again after a restart
        self.restarts = 0
        self.client = None
        self.exchange = None
        self.channel = None
        self._listener = None
        self._serving = None  # the message id of the serve loop's cell
        self._registry = callback_registry(job["callbacks"]) if job.get("callbacks") else None

    # lifecycle

    START_ATTEMPTS = 3

    def start(self):
        """Start the kernel and run the answer cells in it. A kernel that does not come up (before any answer ran:
        a busy machine, a port or thread limit hit for a moment) is tried again; after START_ATTEMPTS it is the
        grader's fault, not the student's: GraderFault, so the notebook is reported as not graded instead of
        every check failing on a name the answers never got to define."""
        for attempt in range(1, self.START_ATTEMPTS + 1):
            try:
                self._start_kernel()
                break
            except (AnswerKernelError, Exception) as error:  # noqa: BLE001 (nbclient fails in many ways)
                self.log(f"the answer kernel did not start (attempt {attempt} of {self.START_ATTEMPTS}): {error}")
                self.stop(hung=True)
                if attempt == self.START_ATTEMPTS:
                    raise GraderFault(f"the answer kernel did not start: {error}") from None
        return self._run_answers()

    def _start_kernel(self):
        import nbformat

        from autograder.grading.sandbox import SandboxedKernelManager

        settings = dict(self.job.get("kernel_settings", {}))
        if not self.keras_answers:
            settings["extra_hidden"] = list(settings.get("extra_hidden", [])) + hidden_packages()
        km = SandboxedKernelManager(kernel_name="python3", course_root=self.job["course_root"], **settings)
        scratch_nb = nbformat.v4.new_notebook()
        scratch_nb.cells = [nbformat.v4.new_code_cell("")]
        client_class = _answer_kernel_client_class()
        self.client = client_class(scratch_nb, km=km, timeout=self.job["cell_timeout"], allow_errors=True,
                                   interrupt_on_timeout=True, kernel_name="python3",
                                   resources={"metadata": {"path": self.job["workdir"]}})
        self.client.output_bytes = {}
        self.client.max_output_bytes = self.job.get("max_output_bytes", 200_000)
        self.client.reset_execution_trackers()
        self.client.start_new_kernel(cwd=self.job["workdir"])
        self.client.start_new_kernel_client()
        self.exchange = self._make_exchange()
        self._run(self.prelude(), None)
        self.channel = self._accept()

    def _run_answers(self):
        for index in self.cell_indices:
            if index in self.skip:
                continue
            try:
                with self._serving_callbacks():
                    outputs = self._run(source_of(self.nb["cells"][index]), index)
            except AnswerKernelError as error:
                # A kernel that timed out may still be spinning (a loop that swallows KeyboardInterrupt): always
                # start afresh, without this cell.
                self.cell_outputs[index] = [error_output("KernelDied" if "died" in str(error) else "Timeout",
                                                         f"this cell was stopped: {error}")]
                self.skip.add(index)
                return self.restart()
            self.cell_outputs[index] = outputs
        # From here on the kernel runs one cell, the serve loop, until stop() closes the channel.
        self._serving = self.client.kc.execute("__import__('autograder.grading.answer_kernel', fromlist=['serve_forever'])"
                                               ".serve_forever(globals())", store_history=False)
        return self

    def _make_exchange(self):
        """The kernel's exchange folder (in its scratch) and, in it, the socket the kernel connects to."""
        from autograder.grading.sandbox import chown_tree, sandbox_user

        workspace = getattr(self.client.km, "_workspace", None)
        base = workspace.scratch if workspace is not None else self.job["workdir"]
        folder = os.path.join(str(base), f".exchange-{secrets.token_hex(8)}")
        os.mkdir(folder, 0o700)
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # A socket's path may have at most 107 bytes, and a course folder can be deeper than that: bind through
        # a descriptor of the folder; the kernel connects with a path relative to its working folder, `base`.
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            self._listener.bind(f"/proc/self/fd/{descriptor}/{self.CHANNEL}")
        finally:
            os.close(descriptor)
        self._listener.listen(1)
        if workspace is not None:
            chown_tree(folder, sandbox_user())
        return folder

    def _accept(self):
        """The prelude's connection (it connected before any student code ran); then nobody else can connect."""
        try:
            self._listener.settimeout(30)
            channel, _ = self._listener.accept()
        except OSError as error:
            raise AnswerKernelError(f"the answer kernel did not connect: {error}") from None
        finally:
            self._listener.close()
            self._listener = None
            with contextlib.suppress(OSError):
                os.remove(os.path.join(self.exchange, self.CHANNEL))
        if getattr(self.client.km, "_workspace", None) is not None:
            from autograder.grading.sandbox import sandbox_user

            _, uid, _ = struct.unpack("3i", channel.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                               struct.calcsize("3i")))
            if uid != sandbox_user()[0]:
                channel.close()
                raise AnswerKernelError(f"the channel was opened by uid {uid}, not by the answer kernel")
        return channel

    def prelude(self):
        from autograder.grading.answer_kernel import answer_imports

        setup = source_of(next((c for c in self.nb["cells"] if is_setup_cell(c)), {"source": ""}))
        channel = os.path.join(os.path.basename(self.exchange), self.CHANNEL)  # (the kernel's working folder holds it)
        lines = ["import os as _kbh_os", f"_kbh_os.environ['KBH_EXCHANGE'] = {self.exchange!r}",
                 f"__import__('autograder.grading.answer_kernel', fromlist=['connect']).connect({channel!r})"]
        if self.keras_answers:
            lines.append("_kbh_os.environ['KBH_KERAS_ANSWERS'] = '1'")
            lines.append(setup)
        else:
            lines += ["import random as _kbh_random, numpy as _kbh_np", "_kbh_random.seed(0); _kbh_np.random.seed(0)",
                      "_kbh_np.set_printoptions(precision=4, suppress=True, linewidth=110)",
                      answer_imports(setup),
                      "from autograder.grading.answer_kernel import given_helpers as _kbh_given",
                      f"globals().update(_kbh_given({setup!r}))"]
        return "\n".join(lines)

    def restart(self):
        self.stop(hung=True)
        self.restarts += 1
        if self.restarts > self.job.get("max_restarts", 3):
            raise AnswerKernelError("the answer kernel died too often; the remaining checks are not run")
        self.log(f"restarting the answer kernel ({self.restarts})")
        return self.start()

    def stop(self, hung=False):
        """Close the channel and shut the kernel down; kill it at once if it is `hung` (or dead)."""
        for sock in (self.channel, self._listener):
            if sock is not None:
                sock.close()  # the serve loop sees the end of its input and returns
        self.channel = self._listener = None
        if self.client is not None:
            serving, self._serving = self._serving, None
            if hung:
                self.client.shutdown_kernel = "immediate"
            elif serving is not None:  # let the serve loop end, so that shutting down interrupts nothing
                self.client.timeout, self.client.shell_timeout_interval = 2, 1
                with contextlib.suppress(Exception):
                    self.client.wait_for_reply(serving)
            try:
                self.client._cleanup_kernel()
            except Exception as error:  # noqa: BLE001 (a dead kernel may fail to shut down cleanly)
                self.log(f"answer kernel cleanup: {error}")
            self.client = None

    def _alive(self):
        from jupyter_core.utils import run_sync

        try:
            return self.client is not None and self.client.km is not None and run_sync(self.client.km.is_alive)()
        except Exception:  # noqa: BLE001
            return False

    # running code

    def _run(self, source, index, timeout=None):
        """Run `source` in the kernel; its outputs. Raises AnswerKernelError when the kernel dies or times out."""
        import nbformat
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        cell = nbformat.v4.new_code_cell(source)
        self.client.nb.cells[0] = cell
        self.client.output_bytes = {}
        self.client.timeout = timeout or self.job["cell_timeout"]
        try:
            self.client.execute_cell(cell, 0)
        except DeadKernelError:
            raise AnswerKernelError("the kernel died (memory or CPU-time limit, os._exit, a crash)") from None
        except CellTimeoutError:
            raise AnswerKernelError(f"it did not finish within {self.client.timeout} s") from None
        except Exception as error:  # noqa: BLE001 (nbclient reports a dead or hung kernel in several ways)
            if not self._alive():
                raise AnswerKernelError("the kernel died (memory or CPU-time limit, os._exit, a crash)") from None
            raise AnswerKernelError(f"the kernel failed: {type(error).__name__}: {error}") from None
        return [dict(o) for o in cell.outputs]

    def request(self, message, resolve_ref):
        """Send one request (see answer_kernel.answer) and return the decoded answer. A kernel that does not
        answer within `call_timeout` (a loop, a crash, garbage) is restarted and AnswerKernelError raised."""
        if self.channel is None:
            raise AnswerKernelError("the answer kernel is not running (it died too often)")
        deadline = time.monotonic() + self.job["call_timeout"]
        try:
            wire.send_frame(self.channel, wire.dumps(message), deadline)
            while True:
                data = wire.recv_frame(self.channel, deadline)
                if data is None:
                    raise AnswerKernelError("the kernel died (memory or CPU-time limit, os._exit, a crash)")
                if not self._answer_callback(data, deadline):
                    return wire.loads(data, resolve_ref=resolve_ref)  # (a callback request has no Ref to resolve)
        except (AnswerKernelError, TimeoutError, OSError, wire.WireError) as error:
            if isinstance(error, TimeoutError):
                error = AnswerKernelError(f"it did not finish within {self.job['call_timeout']} s")
            elif not isinstance(error, AnswerKernelError):
                error = AnswerKernelError(f"the answer kernel sent no valid answer ({error})")
            try:
                self.restart()
            except AnswerKernelError as restart_error:
                self.log(str(restart_error))
            raise error from None

    # callbacks: the given helpers (notebook 04) computed here, asked for from inside a call

    def _answer_callback(self, data, deadline):
        """If `data` is a callback request, answer it and return True."""
        if self._registry is None:
            return False
        request = wire.loads(data)
        if not isinstance(request, dict) or request.get("op") != "callback":
            return False  # an answer (decoded again by the caller, with its Refs resolved)
        try:
            value = self._registry[request["name"]](*request["args"])
            reply = {"ok": True, "value": value}
        except Exception as error:  # noqa: BLE001 (reported to the student's code as its helper's error)
            reply = wire.describe_error(error)
        wire.send_frame(self.channel, wire.dumps(reply), deadline)
        return True

    @contextlib.contextmanager
    def _serving_callbacks(self):
        """While an answer cell runs, answer the callbacks it makes (a helper called at the top level)."""
        if self._registry is None:
            yield
            return
        stop = threading.Event()

        def serve():
            import select

            while not stop.is_set():
                with contextlib.suppress(OSError, ValueError):
                    if select.select([self.channel], [], [], 0.05)[0]:
                        data = wire.recv_frame(self.channel, time.monotonic() + self.job["call_timeout"])
                        if data is not None:
                            self._answer_callback(data, time.monotonic() + self.job["call_timeout"])

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


def given_module(setup_source):
    """The topic module whose given helpers the setup cell imports (their stand-ins call back here), or None."""
    import ast

    from autograder.grading.answer_kernel import GIVEN

    for node in ast.parse(setup_source).body:
        if isinstance(node, ast.ImportFrom) and node.module in GIVEN:
            return node.module
    return None


SHARED = {}  # set by grade(): {"kernel": the AnswerKernel (its exchange folder changes on a restart), "owner": (uid, gid)}


@contextlib.contextmanager
def shared_folder(prefix="kbh-"):
    """A fresh folder, removed afterwards, for checks that hand the student's code a file path (notebook 06):
    inside the answer kernel's scratch folder and owned by the sandbox uid when split grading runs (the kernel
    sees no other folder of this machine), an ordinary temporary folder otherwise."""
    import shutil
    import tempfile

    if not SHARED:
        with tempfile.TemporaryDirectory(prefix=prefix) as folder:
            yield folder
        return
    folder = tempfile.mkdtemp(prefix=prefix, dir=SHARED["kernel"].exchange)
    try:
        if os.geteuid() == 0:
            os.chown(folder, *SHARED["owner"])
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def callback_registry(module_name):
    import importlib

    return importlib.import_module(module_name).CALLBACKS


# --- what the checks see of the student's names -------------------------------------------------------------------

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


# --- running the checks ------------------------------------------------------------------------------------------

def error_output(ename, evalue, lines=None):
    """An nbformat error output; `lines` is what a notebook shows (default: `ename: evalue`)."""
    return {"output_type": "error", "ename": ename, "evalue": evalue,
            "traceback": lines if lines is not None else [f"{ename}: {evalue}"]}


def run_trusted(source, namespace, name):
    """Run trusted cell `source` in `namespace`; its outputs (printed text, then an error if it raised)."""
    buffer = io.StringIO()
    error = record = None
    try:
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(io.StringIO()):
            exec(compile(source, f"<{name}>", "exec"), namespace)  # noqa: S102 (instructor code from the gradebook)
    except AnswerKernelError as caught:
        error = error_output("AnswerKernelError", f"Your code could not be run: {caught}.")
        record = grader_record(name, "timed_out" if "did not finish" in str(caught) else "error")
    except CheckFailed as caught:  # the same short note the student's own notebook shows
        error = error_output("CheckFailed", str(caught), render_failure(caught))
        record = caught.record(name)
    except Exception as caught:  # noqa: BLE001 (a failed check is an ordinary outcome)
        error = error_output(type(caught).__name__, str(caught))
        record = grader_record(name, "error")
    outputs = [{"output_type": "stream", "name": "stdout", "text": buffer.getvalue()}] if buffer.getvalue() else []
    return outputs + ([record_output(record), error] if error else [])


def remotes_for(names, namespace, kernel):
    """A Remote for each name the answers defined, except where a trusted name wins: the setup cell's imports
    and the builtins the test cells use (a student's own `zip` or `range` must not reach into a hidden test)."""
    return {name: Remote(kernel, name=name) for name in names
            if isinstance(name, str) and name.isidentifier() and name not in namespace and not hasattr(builtins, name)}


def grade(job, log=None):
    """Grade one notebook (see the module docstring). Returns {cell index: outputs}."""
    log = log or (lambda message: None)
    nb = job["notebook"]
    cells = nb["cells"]
    results = {}
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    setup_index = next((i for i, c in enumerate(cells) if is_setup_cell(c)), None)

    # The checks' setup (TensorFlow import: seconds) runs while the answer kernel starts and runs the answers.
    # What starting the kernel imports is imported first: two threads importing modules that import each other
    # can each see the other's half-initialised module (ImportError), which would fail every check.
    import nbclient  # noqa: F401
    import nbformat  # noqa: F401

    from autograder.grading import sandbox# noqa: F401
    setup_box = {}

    def run_setup():
        if setup_index is not None:
            started = time.monotonic()
            setup_box["outputs"] = run_trusted(source_of(cells[setup_index]), namespace, SETUP_ID)
            log(f"checks' setup (TensorFlow import): {time.monotonic() - started:.2f} s")

    setup_thread = threading.Thread(target=run_setup)
    setup_thread.start()
    if setup_index is not None and "callbacks" not in job:
        job["callbacks"] = given_module(source_of(cells[setup_index]))
    kernel = AnswerKernel(nb, job, log)
    try:
        try:
            started = time.monotonic()
            kernel.start()
            log(f"answer kernel started and ran {len(kernel.cell_indices)} cells: {time.monotonic() - started:.2f} s")
            names = kernel.request({"op": "names"}, None)
        except AnswerKernelError as error:
            names = {"ok": False}
            log(f"answer kernel: {error}")
        results.update(kernel.cell_outputs)
        if kernel.exchange is not None:
            from autograder.grading.sandbox import sandbox_user

            SHARED.update(kernel=kernel, owner=sandbox_user())
        setup_thread.join()
        if setup_index is not None:
            results[setup_index] = _setup_outputs(setup_box.get("outputs", []), cells[setup_index], namespace, log)
        if isinstance(names, dict) and names.get("ok") and isinstance(names.get("value"), list):
            namespace.update(remotes_for(names["value"], namespace, kernel))
        for index, cell in enumerate(cells):
            if is_test_cell(cell):
                grade_id = nbgrader_meta(cell).get("grade_id", f"cell-{index}")
                started = time.monotonic()
                results[index] = run_trusted(source_of(cell), namespace, grade_id)
                log(f"{grade_id}: {'failed' if any(o['output_type'] == 'error' for o in results[index]) else 'passed'}"
                    f" ({time.monotonic() - started:.2f} s)")
    finally:
        kernel.stop()
        setup_thread.join()
    return results


def _setup_outputs(outputs, setup_cell, namespace, log):
    """The setup cell's outputs. It is the instructor's code and does not depend on the student's: if it failed
    (in its thread), it is run once more here, and if it fails again the notebook is not graded (GraderFault),
    rather than every check failing on a name the setup never defined."""
    error = next((o for o in outputs if o["output_type"] == "error"), None)
    if error is None:
        return outputs
    log(f"the checks' setup failed ({error['ename']}: {error['evalue']}); running it once more")
    outputs = run_trusted(source_of(setup_cell), namespace, SETUP_ID)
    error = next((o for o in outputs if o["output_type"] == "error"), None)
    if error is not None:
        raise GraderFault(f"the checks' setup cell failed: {error['ename']}: {error['evalue']}")
    return outputs


def reset_checker():
    """Between two notebooks in one checker process (`serve_jobs`): give the next one the state a fresh process
    would give it. The topic modules (their caches of Keras layers and models, fit's helper thread) are dropped
    and imported afresh by the next setup cell, Keras's global state (name counters, seeds) is cleared, and the
    setup cell seeds every RNG again. TensorFlow itself stays imported: that is the point."""
    import gc

    SHARED.clear()
    for name in [n for n in sys.modules if n.startswith("autograder.topics.")]:
        close = getattr(sys.modules.pop(name), "close", None)
        if callable(close):
            close()
    if "keras" in sys.modules:
        sys.modules["keras"].backend.clear_session()
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    gc.collect()


def _log_to_stderr(message):  # sys.__stderr__: the checks' own output is redirected while they run
    print(f"[split] {message}", file=sys.__stderr__, flush=True)


def grade_job(job_path, result_path, log=_log_to_stderr):
    """Grade the job in `job_path` (JSON) and write {cell index: outputs} to `result_path`; 0, or 1 on failure."""
    with open(job_path) as file:
        job = json.load(file)
    try:
        results = grade(job, log)
    except Exception:  # noqa: BLE001 (reported to SplitExecute, which fails the notebook's remaining cells)
        log(traceback.format_exc())
        return 1
    with open(result_path, "w") as file:
        json.dump({str(k): v for k, v in results.items()}, file)
    return 0


def serve_jobs(replies_fd):
    """`python -m autograder.grading.checker --serve FD`: grade one job per line "JOB.json RESULT.json" read from stdin, and
    answer each with a line "done EXIT_CODE" on file descriptor FD (a pipe of its own: the answer kernels this
    process starts share its stdout and stderr), until stdin ends. TensorFlow and the checks are imported once,
    before the first job; `reset_checker` runs between jobs."""
    os.set_inheritable(replies_fd, False)
    replies = os.fdopen(replies_fd, "w")
    from autograder.checks.notebook_setup import quiet_tensorflow

    quiet_tensorflow()
    import keras  # noqa: F401 (imported once for every notebook this process grades)

    for line in sys.stdin:
        paths = line.split()
        if len(paths) != 2:
            continue
        code = grade_job(*paths)
        reset_checker()
        print(f"done {code}", file=replies, flush=True)
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == "--serve" and argv[1].isdigit():
        return serve_jobs(int(argv[1]))
    if len(argv) != 2:
        print("usage: python -m autograder.grading.checker JOB.json RESULT.json  |  python -m autograder.grading.checker --serve FD",
              file=sys.stderr)
        return 2
    return grade_job(*argv)


if __name__ == "__main__":
    # Run as the module `autograder.grading.checker`, not as `__main__`: the checks import it (shared_folder) and must see
    # the same SHARED.
    from autograder.grading import checker as split

    sys.exit(split.main())
