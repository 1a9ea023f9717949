"""The answer kernel driven from the trusted checker: started in the grading sandbox, it runs the answer cells,
then answers one request at a time on a Unix socket (its side: `autograder.grading.answer_kernel`).

The checker (`autograder.grading.checker`) makes an `AnswerKernel` per notebook. What it learns of the notebook's
topic comes from the topic contract (`autograder.topics.Topic`): whether the answers are Keras code (then
TensorFlow and Keras stay visible in the sandbox and the whole setup cell runs there) and which given helpers
have stand-ins in the kernel that call back here (`CALLBACKS`, answered while a cell or a call runs).
A kernel that dies or hangs is restarted, without the cell that killed it, at most `max_restarts` times.
"""
import ast
import contextlib
import json
import os
import secrets
import socket
import struct
import threading
import time

from autograder import topics
from autograder.grading import wire
from autograder.grading.answer_kernel import answer_imports
from autograder.grading.cells import answer_kernel_cells, error_output, is_setup_cell, source_of


class GraderFault(RuntimeError):
    """Grading itself failed, through no fault of the student's code: the notebook is not graded (nbgrader
    reports it as failed, with this reason), never scored as if the student's answers were wrong."""


# The folder of the `autograder` package the checker runs; the answer kernel must import the same one (a second
# checkout whose environment's editable install points at the first would otherwise mix two versions).
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_MISMATCH = "KBH_PACKAGE_MISMATCH"


class AnswerKernelError(BaseException):
    """The answer kernel did not answer: it died, ran out of time, or wrote no valid answer.

    A BaseException, like KeyboardInterrupt, so that it ends the whole check at once: `call_student` must not
    report it as the student's exception, and hypothesis must not shrink (call again and again) after it."""


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
                             "text": f"\n... output truncated by the grader (more than {self.max_output_bytes} bytes)"
                                     " ...\n"})
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


def _launch_kernel(course_root, kernel_settings, keras_answers, workdir=None):
    """An nbclient client whose kernel process is starting in the sandbox (not waited for: see
    `start_new_kernel_client`), in a copy of `workdir` (None: an empty folder, filled later)."""
    import nbformat

    from autograder.grading.sandbox import SandboxedKernelManager

    settings = dict(kernel_settings)
    if not keras_answers:
        settings["extra_hidden"] = list(settings.get("extra_hidden", [])) + hidden_packages()
    km = SandboxedKernelManager(kernel_name="python3", course_root=course_root, **settings)
    scratch_nb = nbformat.v4.new_notebook()
    scratch_nb.cells = [nbformat.v4.new_code_cell("")]
    client = _answer_kernel_client_class()(scratch_nb, km=km, allow_errors=True, interrupt_on_timeout=True,
                                           kernel_name="python3", resources={"metadata": {"path": workdir}})
    client.output_bytes = {}
    client.reset_execution_trackers()
    client.start_new_kernel(cwd=workdir)
    return client


def _shut_down(client, immediate=True, log=None):
    """Shut the client's kernel down (at once if `immediate`) and remove its sandbox."""
    if immediate:
        client.shutdown_kernel = "immediate"
    try:
        client._cleanup_kernel()
    except Exception as error:  # noqa: BLE001 (a dead kernel may fail to shut down cleanly)
        if log is not None:
            log(f"answer kernel cleanup: {error}")


class KernelAhead:
    """At most one answer kernel started before its notebook is known, so that it boots (about 0.6 s) while
    nbgrader finishes one notebook and prepares the next. It is started like the last answer kernel (the same
    course root, sandbox settings and visibility of Keras), with an empty working folder that the next notebook
    fills; a notebook that needs another kind of kernel shuts it down and starts its own. A kernel started
    ahead has run no code of anyone's: it is as fresh as one started on demand. Only sandboxed kernels are
    started ahead (an unsandboxed kernel's working folder is the notebook's own)."""

    def __init__(self):
        self._like = None
        self._kernel = None  # (like, client)

    def remember(self, like):
        self._like = like

    def start(self):
        """Start the kernel (the checker's serve loop calls this right after it answered for a notebook)."""
        from autograder.grading.sandbox import opted_out

        if self._like is None or self._kernel is not None or opted_out():
            return
        try:
            self._kernel = (self._like, _launch_kernel(*self._like))
        except Exception:  # noqa: BLE001 (the next notebook starts its own, and reports why if it cannot)
            self._kernel = None

    def take(self, like):
        """The kernel started ahead if it is `like` what is needed, else None (and it is shut down)."""
        kernel, self._kernel = self._kernel, None
        if kernel is None:
            return None
        if kernel[0] == like:
            return kernel[1]
        _shut_down(kernel[1])
        return None

    def close(self):
        kernel, self._kernel = self._kernel, None
        if kernel is not None:
            _shut_down(kernel[1])


KERNEL_AHEAD = KernelAhead()


class AnswerKernel:
    """The student's kernel in the sandbox: runs the answer cells, then answers calls (`call`, `getattr`) on a
    Unix socket in its exchange folder, one request and one answer per call (`answer_kernel.serve_forever`)."""

    CHANNEL = "channel.sock"

    def __init__(self, nb, job, log=None, topic=None):
        self.nb = nb
        self.job = job
        self.log = log or (lambda message: None)
        self.topic = topic if topic is not None else topics.topic_of(job.get("assignment"))
        self.keras_answers = self.topic.keras_answers
        self.cell_indices = answer_kernel_cells(nb["cells"])
        self.cell_outputs = {}
        self.skip = set()  # cells that killed the kernel: not run again after a restart
        self.restarts = 0
        self.started_ahead = False  # its kernel was started before this notebook was known (KernelAhead)
        self.client = None
        self.exchange = None
        self.channel = None
        self._listener = None
        self._serving = None  # the message id of the serve loop's cell
        self._registry = self.topic.callbacks or None  # the given helpers' callbacks (notebook 04)

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
            except GraderFault:  # certain at the first attempt: trying again changes nothing
                self.stop(hung=True)
                raise
            except (AnswerKernelError, Exception) as error:  # noqa: BLE001 (nbclient fails in many ways)
                self.log(f"the answer kernel did not start (attempt {attempt} of {self.START_ATTEMPTS}): {error}")
                self.stop(hung=True)
                if attempt == self.START_ATTEMPTS:
                    raise GraderFault(f"the answer kernel did not start: {error}") from None
        return self._run_answers()

    def _start_kernel(self):
        like = (self.job["course_root"], self.job.get("kernel_settings", {}), self.keras_answers)
        self.client = KERNEL_AHEAD.take(like) if self.restarts == 0 else None
        self.started_ahead = self.client is not None
        if self.client is None:
            self.client = _launch_kernel(*like, workdir=self.job["workdir"])
        else:  # started before this notebook was known: its working folder gets the notebook's files now
            from autograder.grading.sandbox import sandbox_user

            self.client.km._workspace.fill(self.job["workdir"], sandbox_user())
        KERNEL_AHEAD.remember(like)
        self.client.timeout = self.job["cell_timeout"]
        self.client.max_output_bytes = self.job.get("max_output_bytes", 200_000)
        self.client.start_new_kernel_client()  # waits for the kernel to be ready
        self.exchange = self._make_exchange()
        self._check_prelude(self._run(self.prelude(), None))
        self.channel = self._accept()

    @staticmethod
    def _check_prelude(outputs):
        """The prelude runs before any student code, so an error in it is the grader's, and certain (trying
        again changes nothing): GraderFault, e.g. another copy of the package, or a setup import the answer
        kernel's environment lacks."""
        error = next((o for o in outputs if o.get("output_type") == "error"), None)
        if error is None:
            return
        if str(error.get("evalue", "")).startswith(_MISMATCH):
            found = str(error["evalue"])[len(_MISMATCH):].strip()
            raise GraderFault(f"the answer kernel imports the autograder package from {found}, but the checker "
                              f"runs the one in {PACKAGE_DIR}: two copies of the course's package. Install this "
                              "checkout's (`pip install -e .` in its folder) into the environment that grades.")
        if error.get("ename") == "ModuleNotFoundError" and "'autograder" in str(error.get("evalue", "")):
            # e.g. a second checkout whose venv's editable install points at a first one the sandbox hides
            raise GraderFault(f"the answer kernel cannot import the autograder package the checker runs from "
                              f"{PACKAGE_DIR}: this environment installs another copy, or none (two copies of the "
                              "course's package). Install this checkout's (`pip install -e .` in its folder) into "
                              "the environment that grades.")
        raise GraderFault(f"the answer kernel could not run the grader's first cell (its connection and the setup "
                          f"cell's imports): {error.get('ename')}: {str(error.get('evalue', ''))[:300]}")

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
        self._serving = self.client.kc.execute(
            "__import__('autograder.grading.answer_kernel', fromlist=['serve_forever']).serve_forever(globals())",
            store_history=False)
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
        """The answer kernel's first cell: connect to the checker, then what the setup cell gives the answers
        (all of it when the answers are Keras code; else its plain imports and the stand-ins of given helpers)."""
        setup = source_of(next((c for c in self.nb["cells"] if is_setup_cell(c)), {"source": ""}))
        channel = os.path.join(os.path.basename(self.exchange), self.CHANNEL)  # (the kernel's working folder holds it)
        lines = ["import os as _kbh_os", f"_kbh_os.environ['KBH_EXCHANGE'] = {self.exchange!r}",
                 "_kbh_found = _kbh_os.path.dirname(_kbh_os.path.abspath(__import__('autograder').__file__))",
                 f"if _kbh_found != {PACKAGE_DIR!r}: raise ImportError({_MISMATCH!r} + ' ' + _kbh_found)",
                 f"__import__('autograder.grading.answer_kernel', fromlist=['connect']).connect({channel!r})"]
        if self.keras_answers:
            lines.append("_kbh_os.environ['KBH_KERAS_ANSWERS'] = '1'")
            lines.append(setup)
        else:
            lines += ["import random as _kbh_random, numpy as _kbh_np", "_kbh_random.seed(0); _kbh_np.random.seed(0)",
                      "_kbh_np.set_printoptions(precision=4, suppress=True, linewidth=110)",
                      answer_imports(setup)]
            given = given_names(setup, self.topic)
            if given:
                lines += ["from autograder.grading.answer_kernel import given_helpers as _kbh_given",
                          f"globals().update(_kbh_given({self.topic.given_stand_ins!r}, {given!r}))"]
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
            if not hung and serving is not None:  # let the serve loop end, so that shutting down interrupts nothing
                self.client.timeout, self.client.shell_timeout_interval = 2, 1
                with contextlib.suppress(Exception):
                    self.client.wait_for_reply(serving)
            _shut_down(self.client, immediate=hung, log=self.log)
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

    # callbacks: the given helpers (the topic's CALLBACKS, notebook 04) computed here, asked for from inside a call

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


def given_names(setup_source, topic):
    """{helper: the name it is bound to} for each given helper with a stand-in (`topic.given_names`) that the setup
    cell imports from the topic module (`from autograder.topics.fit import loss_and_gradient as lg`)."""
    names = {}
    if not topic.given_names:
        return names
    for node in ast.parse(setup_source).body:
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == topic.module:
            for alias in node.names:
                if alias.name in topic.given_names:
                    names[alias.name] = alias.asname or alias.name
    return names


def probe_answer_kernel(course_root, kernel_settings=None, timeout=60):
    """Start a real answer kernel (in the sandbox unless opted out) on a one-answer notebook, connect to it and
    call the answer once, as grading does; return the seconds it took. Raises GraderFault with the reason when
    any of that fails (`python -m autograder.grading.sandbox check` runs it before grading)."""
    import tempfile

    import nbformat

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kbh-probe-") as workdir:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("def probe(x):\n    return x + 1",
                                              metadata={"nbgrader": {"grade_id": "probe", "solution": True}})]
        job = {"notebook": nb, "assignment": None, "workdir": workdir, "course_root": str(course_root),
               "kernel_settings": dict(kernel_settings or {}), "cell_timeout": timeout, "call_timeout": timeout,
               "max_restarts": 0}
        kernel = AnswerKernel(nb, job)
        try:
            kernel.start()
            reply = kernel.request({"op": "call", "name": "probe", "ref": None, "args": [41], "kwargs": {}}, None)
        except AnswerKernelError as error:
            raise GraderFault(f"the answer kernel did not answer: {error}") from None
        finally:
            kernel.stop()
    if not (isinstance(reply, dict) and reply.get("ok") and reply.get("value") == 42):
        raise GraderFault(f"the answer kernel answered {reply!r} to probe(41), not 42")
    return time.monotonic() - started
