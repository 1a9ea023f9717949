"""nbgrader preprocessors of this course. Each is small and does one job."""
import json
import os
import re
import subprocess
import sys
import tempfile

from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
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
      notebook keeps the points reported before; the batch goes on.
    """

    notebook_timeout = Integer(1800, help="seconds for a whole notebook").tag(config=True)
    cell_timeout = Integer(120, help="seconds for one answer cell to run").tag(config=True)
    call_timeout = Integer(60, help="seconds for one call of a student's function").tag(config=True)
    max_restarts = Integer(3, help="answer kernel restarts per notebook after a crash").tag(config=True)
    max_output_bytes = Integer(200_000, help="output kept per cell (bytes)").tag(config=True)

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
                cell.outputs = [NotebookNode(error_output("NotRun", f"this cell was not run: {problem}"))]
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
            try:
                completed = subprocess.run([sys.executable, "-m", "autograder.split", job_path, result_path],
                                           capture_output=True, text=True, timeout=self.notebook_timeout)
            except subprocess.TimeoutExpired:
                return {}, f"the notebook ran out of time ({self.notebook_timeout} s)"
            for line in completed.stderr.splitlines()[-200:]:
                self.log.info("%s", line)
            if completed.returncode != 0 or not os.path.exists(result_path):
                return {}, f"the grader's checker failed (exit code {completed.returncode}); see the grader's log"
            with open(result_path) as file:
                return json.load(file), None


def cell_is_graded(cell):
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade"))
