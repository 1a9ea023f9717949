"""nbgrader preprocessors of this course. Each is small and does one job."""
import atexit
import contextlib
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time

from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Integer

from autograder.errors import RECORD_MIME, grader_record, record_output

HIDDEN_REGION = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?", re.S | re.M)


def has_hidden_tests(source):
    return "### BEGIN HIDDEN TESTS" in source


def check_note(output):
    """The lines of an error output that are safe to hand back: for a failed check, its heading (the first line
    the checker rendered, when it is one) and its message; for any other error, `ename: evalue`."""
    from autograder.errors import heading_of, wrap

    ename, evalue = output.get("ename", "Error"), str(output.get("evalue", ""))
    if ename != "CheckFailed":
        return [f"{ename}: {evalue}"]
    first = (output.get("traceback") or [""])[0]
    return [heading_of(first)] + wrap(evalue)


class HideHiddenTests(Preprocessor):
    """Make a graded notebook safe to hand back: no hidden test source, no traceback that quotes it.

    nbgrader's autograde restores every test cell, hidden tests included, before it runs the notebook, so the
    autograded notebook that feedback is made from contains them. This removes the hidden region from each such
    cell and keeps of an error only the check's note (autograder/errors.py: the heading and the message; never a
    frame), because an IPython traceback prints the lines of the cell around the failing call.
    """

    enabled = Bool(True).tag(config=True)  # nbconvert preprocessors are off unless enabled

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and has_hidden_tests(cell.source):
            cell.source = HIDDEN_REGION.sub("", cell.source).rstrip() + "\n# (hidden tests ran here)"
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = check_note(output)
        return cell, resources


class DropCheckRecords(Preprocessor):
    """Remove the failed checks' records (machine data for the class report, autograder/errors.py) from a
    notebook handed back to the student: the feedback shows what their own notebook shows."""

    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if RECORD_MIME not in o.get("data", {})]
        return cell, resources


# --- split grading: the answers in the sandbox, the checks in a trusted process ------------------------------

class SplitExecute(NbGraderPreprocessor):
    """The Execute step of `nbgrader autograde` for this course (see `autograder/split.py`): the student's
    code runs in a sandboxed answer kernel, the setup and test cells (nbgrader's restored copies) run in a
    separate trusted checker process, one per notebook, that calls the student's functions across the
    sandbox's wall with plain data. The notebook gets every cell's outputs back for nbgrader to score; cells
    tagged `demo` are not run.

    * The sandbox is checked before the first notebook; if it cannot be built, grading stops (SystemExit),
      unless the instructor opted out with KBH_UNSANDBOXED=1.
    * A checker that fails or runs past `notebook_timeout` fails the cells it did not report (`NotRun`), so the
      notebook keeps the points reported before; the batch goes on, with a fresh checker process.
    * One checker process grades up to `checker_notebooks` notebooks in a row (TensorFlow is imported once, not
      once per notebook: seconds each); between two it drops the checks' caches and Keras's state
      (`autograder.split.reset_checker`). 1 starts a fresh process for every notebook.
    """

    notebook_timeout = Integer(1800, help="seconds for a whole notebook").tag(config=True)
    cell_timeout = Integer(120, help="seconds for one answer cell to run").tag(config=True)
    call_timeout = Integer(60, help="seconds for one call of a student's function").tag(config=True)
    max_restarts = Integer(3, help="answer kernel restarts per notebook after a crash").tag(config=True)
    max_output_bytes = Integer(200_000, help="output kept per cell (bytes)").tag(config=True)
    checker_notebooks = Integer(50, help="notebooks one checker process grades before a fresh one").tag(config=True)

    def preprocess(self, nb, resources):
        from autograder import sandbox
        from autograder.split import error_output

        if sandbox.opted_out():
            sandbox.warn_unsandboxed()
        else:
            try:
                sandbox.preflight()
            except sandbox.SandboxUnavailable as error:
                self.log.critical("Grading stopped: the grading sandbox is not available: %s", error)
                raise SystemExit(f"nbgrader autograde stopped: the grading sandbox is not available: {error}")
        results, problem = self._run_checker(nb, resources)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            cell.outputs = [NotebookNode(o) for o in results.get(str(index), [])]
            cell.execution_count = None
            if problem and str(index) not in results and cell_is_graded(cell):
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", f"cell-{index}")
                cell.outputs = [NotebookNode(record_output(grader_record(grade_id, "not_run"))),
                                NotebookNode(error_output("NotRun", f"this cell was not run: {problem}"))]
        return nb, resources

    def _job(self, nb, resources):
        kernel_settings = {k: v for k, v in self.config.get("SandboxedKernelManager", {}).items()}
        return {
            "notebook": nb, "assignment": resources["nbgrader"]["assignment"],
            "workdir": resources.get("metadata", {}).get("path") or os.getcwd(), "course_root": os.getcwd(),
            "kernel_settings": kernel_settings, "cell_timeout": self.cell_timeout, "call_timeout": self.call_timeout,
            "max_restarts": self.max_restarts, "max_output_bytes": self.max_output_bytes,
        }

    def _run_checker(self, nb, resources):
        """({cell index as str: outputs}, None or why some cells have no outputs)."""
        with tempfile.TemporaryDirectory(prefix="kbh-checker-") as folder:
            job_path, result_path = os.path.join(folder, "job.json"), os.path.join(folder, "result.json")
            with open(job_path, "w") as file:
                json.dump(self._job(nb, resources), file)
            code, log = CheckerProcess.shared(self.checker_notebooks).grade(job_path, result_path,
                                                                            self.notebook_timeout)
            for line in log.splitlines()[-200:]:
                self.log.info("%s", line)
            if code is None:
                return {}, f"the notebook ran out of time ({self.notebook_timeout} s)"
            if code != 0 or not os.path.exists(result_path):
                return {}, f"the grader's checker failed (exit code {code}); see the grader's log"
            with open(result_path) as file:
                return json.load(file), None


class CheckerProcess:
    """`python -m autograder.split --serve`, kept for up to `notebooks` notebooks. Its stderr (the checker's log,
    the answer kernel's stderr) goes to a file; `grade` returns the part written during one notebook."""

    _shared = None

    @classmethod
    def shared(cls, notebooks):
        """The process's one checker (a new one when the last has served its notebooks or failed)."""
        if cls._shared is None or not cls._shared.usable():
            if cls._shared is not None:
                cls._shared.close()
            cls._shared = cls(notebooks)
        return cls._shared

    def __init__(self, notebooks):
        self.notebooks = max(1, notebooks)
        self.graded = 0
        self.log_file = tempfile.TemporaryFile(mode="w+b", prefix="kbh-checker-log-")
        # Replies come on a pipe of their own: the answer kernels the checker starts write to its stdout/stderr.
        self.replies, replies_for_child = os.pipe()
        # Its own session: a stop kills the checker and everything it started (the answer kernel) at once.
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "autograder.split", "--serve", str(replies_for_child)],
                stdin=subprocess.PIPE, stdout=self.log_file, stderr=self.log_file, pass_fds=[replies_for_child],
                start_new_session=True)
        finally:
            os.close(replies_for_child)
        atexit.register(self.close)

    def usable(self):
        return self.process is not None and self.process.poll() is None and self.graded < self.notebooks

    def grade(self, job_path, result_path, timeout):
        """(exit code, or None when it ran out of time; the log lines of this notebook)."""
        start = self.log_file.seek(0, os.SEEK_END)
        code = self._ask(f"{job_path} {result_path}\n", timeout)
        self.graded += 1
        self.log_file.seek(start)
        log = self.log_file.read().decode("utf-8", "replace")
        if code != 0:
            self.close(kill=code is None)  # a failed or timed-out notebook may leave it in any state: start afresh
        return code, log

    def _ask(self, line, timeout):
        """The exit code the checker replies for the job in `line`; its own exit code if it died; None if it did
        not reply within `timeout` s."""
        try:
            self.process.stdin.write(line.encode())
            self.process.stdin.flush()
        except OSError:
            return self.process.wait() or 1
        deadline = time.monotonic() + timeout
        reply = b""
        while not reply.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.replies], [], [], left)[0]:
                return None
            chunk = os.read(self.replies, 4096)
            if not chunk:
                return self.process.wait() or 1
            reply += chunk
        words = reply.split()
        return int(words[-1]) if len(words) == 2 and words[0] == b"done" and words[1].isdigit() else 1

    def close(self, kill=False):
        """Let the checker finish and exit (or `kill` it now); then kill what it left running and release its
        pipe and log."""
        process, self.process = self.process, None
        if process is None:
            return
        atexit.unregister(self.close)
        if process.poll() is None and not kill:
            with contextlib.suppress(OSError):
                process.stdin.close()  # the end of its input: it stops after the notebook in hand
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # and whatever it left running
        process.wait()
        os.close(self.replies)
        self.log_file.close()


def cell_is_graded(cell):
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade"))
