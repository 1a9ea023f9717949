"""nbgrader preprocessors of this course. Each is small and does one job."""
import json
import re
import time

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer

HIDDEN_REGION = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?", re.S | re.M)


def has_hidden_tests(source):
    return "### BEGIN HIDDEN TESTS" in source


class HideHiddenTests(Preprocessor):
    """Make a graded notebook safe to hand back: no hidden test source, no traceback that quotes it.

    nbgrader's autograde restores every test cell, hidden tests included, before it runs the notebook, so the
    autograded notebook that feedback is made from contains them. This removes the hidden region from each such
    cell and keeps only the last line of an error (`CheckFailed: what is wrong`), because an IPython traceback
    prints the lines of the cell around the failing call.
    """

    enabled = Bool(True).tag(config=True)  # nbconvert preprocessors are off unless enabled

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and has_hidden_tests(cell.source):
            cell.source = HIDDEN_REGION.sub("", cell.source).rstrip() + "\n# (hidden tests ran here)"
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources


# --- running a student's notebook: in the sandbox, with every fault contained -------------------------------

def _error_output(ename, evalue):
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class ContainedExecute(Execute):
    """nbgrader's Execute, for `nbgrader autograde`: the kernel runs in the grading sandbox
    (`autograder.sandbox.SandboxedKernelManager`) and no fault of one notebook stops the batch.

    * The sandbox is checked before the first notebook; if it cannot be built, grading stops (SystemExit) with
      the reason, unless the instructor opted out with KBH_UNSANDBOXED=1.
    * A kernel that dies (memory limit, CPU-time limit, `os._exit`, a crash) fails the cell it was running
      with `KernelDied` and every later code cell with `NotRun`, so the notebook keeps exactly the points of
      the test cells that passed before. Plain nbgrader would drop the whole submission instead.
    * A cell whose output never finishes arriving fails with `OutputTimeout`; the next cells still run.
    * After `notebook_timeout` seconds the remaining cells are not run (`NotRun`).
    * A cell keeps at most `max_output_bytes` of output (the rest is dropped, with a note), so a notebook
      that prints megabytes cannot blow up the grader's memory or the feedback.
    """

    notebook_timeout = Integer(1800, help="seconds for a whole notebook; later cells are not run").tag(config=True)
    max_output_bytes = Integer(200_000, help="output kept per cell (bytes)").tag(config=True)

    def __init__(self, *args, **kwargs):
        from autograder.sandbox import SandboxedKernelManager

        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)

    def preprocess(self, nb, resources=None, km=None):
        from autograder import sandbox

        if sandbox.opted_out():
            sandbox.warn_unsandboxed()
        else:
            try:
                sandbox.preflight()
            except sandbox.SandboxUnavailable as error:
                self.log.critical("Grading stopped: the grading sandbox is not available: %s", error)
                raise SystemExit(f"nbgrader autograde stopped: the grading sandbox is not available: {error}")
        self._stopped = None
        self._deadline = time.monotonic() + self.notebook_timeout
        self._output_bytes = {}
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.source.strip():
            return cell, resources
        if self._stopped is None and time.monotonic() > self._deadline:
            self._stopped = f"the notebook ran out of time ({self.notebook_timeout} s)"
        if self._stopped is not None:
            cell.outputs = [_error_output("NotRun", f"this cell was not run: {self._stopped}")]
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self.log.warning("The kernel died in cell %s; the later cells are not run", index)
            self._stopped = "the kernel died in an earlier cell"
            cell.outputs.append(_error_output(
                "KernelDied", "the kernel died while running this cell (memory or CPU-time limit, os._exit, a crash)"))
        except CellTimeoutError as error:
            self.log.warning("Cell %s: %s", index, str(error).splitlines()[0])
            cell.outputs.append(_error_output("OutputTimeout", "the output of this cell did not finish in time"))
        return cell, resources

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        if msg.get("msg_type") == "error":
            content["evalue"] = str(content.get("evalue", ""))[:2000]
            content["traceback"] = [line[:2000] for line in content.get("traceback", [])[-60:]]
            return super().output(outs, msg, display_id, cell_index)
        size = len(json.dumps(content, default=str))
        used = self._output_bytes.get(cell_index, 0)
        self._output_bytes[cell_index] = used + size
        if used + size <= self.max_output_bytes:
            return super().output(outs, msg, display_id, cell_index)
        if used <= self.max_output_bytes:
            note = f"\n... output truncated by the grader (more than {self.max_output_bytes} bytes) ...\n"
            outs.append(NotebookNode(output_type="stream", name="stdout", text=note))
        return None
