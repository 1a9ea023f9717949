"""nbgrader preprocessors of this course. Each is small and does one job."""
import json
import os
import re
import tempfile

from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Enum, Integer

from autograder.checks.errors import RECORD_MIME, grader_record, record_output, split_grade_id
from autograder.grading.cells import (cell_is_graded, error_output, grade_id, has_hidden_tests, is_demo_cell,
                                      nbgrader_meta)
from autograder.grading.checker_process import GRADER_FAULT_EXIT, CheckerProcess
from autograder.grading.kernel_driver import GraderFault

HIDDEN_REGION = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?", re.S | re.M)


def check_note(output):
    """The lines of an error output that are safe to hand back: for a failed check, its heading (the first line
    the checker rendered, when it is one) and its message; for any other error, `ename: evalue`."""
    from autograder.checks.errors import heading_of, wrap

    ename, evalue = output.get("ename", "Error"), str(output.get("evalue", ""))
    if ename != "CheckFailed":
        return [f"{ename}: {evalue}"]
    first = (output.get("traceback") or [""])[0]
    return [heading_of(first)] + wrap(evalue)


class HideHiddenTests(Preprocessor):
    """Make a graded notebook safe to hand back: no hidden test source, no traceback that quotes it.

    nbgrader's autograde restores every test cell, hidden tests included, before it runs the notebook, so the
    autograded notebook that feedback is made from contains them. This removes the hidden region from each such
    cell and keeps of an error only what `reveal` allows (never a frame), because an IPython traceback prints the
    lines of the cell around the failing call:

    * "note" (default): the check's note, as the student's own notebook shows it (heading, message with the
      failing input, hint);
    * "message": the heading and the message's first line with the failing call's arguments cut
      (`to_categorical(...) raised IndexError: ...`), and the named mistake when the check found one;
    * "pass_fail": only the heading (`✗ to_categorical is not right yet`); the summary names no mistake either.

    Visible checks always show their whole note: the student can run them in their own notebook.
    """

    enabled = Bool(True).tag(config=True)  # nbconvert preprocessors are off unless enabled
    reveal = Enum(["note", "message", "pass_fail"], default_value="note",
                  help="what a failed hidden check shows in the feedback").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and has_hidden_tests(cell):
            cell.source = HIDDEN_REGION.sub("", cell.source).rstrip() + "\n# (hidden tests ran here)"
            records = [o["data"][RECORD_MIME] for o in cell.get("outputs", []) if RECORD_MIME in o.get("data", {})]
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = self.shown(output, records[0] if records else None)
            summary = resources.get("kbh_feedback", {}).get("cells", {}).get(grade_id(cell))
            if summary is not None:
                summary["hidden"] = True
                if self.reveal == "pass_fail":
                    summary["problem"] = None
        return cell, resources

    def shown(self, output, record):
        """The lines of a hidden check's error output that `reveal` allows."""
        from autograder.checks.errors import heading, wrap

        if self.reveal == "note":
            return check_note(output)
        failed_check = output.get("ename") == "CheckFailed"
        first_line = str(output.get("evalue", "")).split("\n")[0]
        lines = [check_note(output)[0] if failed_check else heading()]
        if self.reveal == "message":
            ename = output.get("ename", "Error")
            lines += wrap(without_input(first_line) if failed_check else f"{ename}: {first_line}")
            if record and record.get("mistake_text"):
                lines += wrap(f"  Likely mistake: {record['mistake_text']}")
        return lines


def without_input(line):
    """The first line of a check's message with the arguments of the call it starts with cut:
    `to_categorical([2, 2, 2]) raised ...` -> `to_categorical(...) raised ...`."""
    match = re.match(r"\s*[A-Za-z_][\w.]*\(", line)
    if not match:
        return line
    depth, quote = 0, None
    for i in range(match.end() - 1, len(line)):
        char = line[i]
        if quote:
            quote = None if char == quote and line[i - 1] != "\\" else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return line[:match.end()] + "..." + line[i:]
    return line[:match.end()] + "...)"


class DropCheckRecords(Preprocessor):
    """Remove the failed checks' records (machine data for the class report, autograder/checks/errors.py) from a
    notebook handed back to the student: the feedback shows what their own notebook shows."""

    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if RECORD_MIME not in o.get("data", {})]
        return cell, resources


# --- the feedback page: a summary, demo cells, math without the internet ----------------------------------

PART_WORDS = {"check": "check", "hidden": "hidden check", "errors": "error check"}
KIND_WORDS = {
    "wrong_shape": "the result has the wrong shape",
    "wrong_values": "the result has wrong values",
    "not_finite": "the result holds NaN or infinity",
    "wrong_type": "the result is not of the type asked for",
    "not_implemented": "not written yet (it still raises NotImplementedError)",
    "not_defined": "not defined: its answer cell failed (e.g. a SyntaxError) or does not define it",
    "raised": "your code raised an error on an input Keras accepts",
    "no_value_error": "a bad input did not raise ValueError",
    "calls_keras": "it calls Keras instead of computing the result by hand",
    "changed_input": "it changed its input in place",
    "timed_out": "it took too long (the check timed out)",
    "not_run": "the check did not run (did the notebook stop earlier?)",
    "error": "the check ended in an error",
}


def problem_in_words(record, error):
    """What went wrong in a failed cell, in plain words: the named mistake, else the kind of failure."""
    if record and record.get("mistake_text"):
        return record["mistake_text"]
    if record and record.get("kind") in KIND_WORDS:
        return KIND_WORDS[record["kind"]]
    return KIND_WORDS["error"] if error or record else "this check did not pass"


class FeedbackSummary(Preprocessor):
    """Collect, for the summary above the feedback page, each exercise's points and what went wrong.

    Runs after nbgrader's GetGrades (which puts each grade cell's score and points in its metadata) and before
    HideHiddenTests and DropCheckRecords (which remove the failed checks' records it reads). The exercise of a
    grade cell `foo_check`, `foo_hidden` or `foo_errors` is `foo` (else the record's, else the grade id). It stores
    resources["kbh_feedback"] = {"exercises": [{"name", "score", "points", "cells": [...]}], "cells": {grade_id:
    cell}}, each cell {"grade_id", "part", "score", "points", "passed", "hidden", "problem"}; the template
    (autograder/grading/feedback_template) shows it.
    """

    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb, resources):
        exercises, cells = {}, {}
        for cell in nb.cells:
            meta = nbgrader_meta(cell)
            if not meta.get("grade") or "score" not in meta:
                continue
            outputs = cell.get("outputs", [])
            records = [o["data"][RECORD_MIME] for o in outputs if RECORD_MIME in o.get("data", {})]
            record = records[0] if records else None
            error = any(o.get("output_type") == "error" for o in outputs)
            cell_id = meta["grade_id"]
            exercise, part = split_grade_id(cell_id)
            name = exercise or (record or {}).get("exercise") or cell_id
            score, points = float(meta.get("score") or 0), float(meta.get("points") or 0)
            passed = score >= points
            entry = {"grade_id": cell_id, "part": PART_WORDS.get(part, "check"),
                     "score": score, "points": points, "passed": passed, "hidden": has_hidden_tests(cell),
                     "problem": None if passed else problem_in_words(record, error)}
            cells[cell_id] = entry
            exercise = exercises.setdefault(name, {"name": name, "score": 0.0, "points": 0.0, "cells": []})
            exercise["score"] += score
            exercise["points"] += points
            exercise["cells"].append(entry)
        resources["kbh_feedback"] = {"exercises": list(exercises.values()), "cells": cells}
        return nb, resources


DEMO_NOTE = "(a demonstration: not run when your notebook is graded)"


class FeedbackDemoCells(Preprocessor):
    """A cell tagged `demo` is not run when grading, so it has no output: say so, instead of an empty output.
    The course's feedback template shows its code folded under that line; any other template shows the line
    as the cell's output."""

    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and is_demo_cell(cell):
            cell.execution_count = None
            cell.outputs = [NotebookNode(output_type="stream", name="stdout", text=DEMO_NOTE + "\n")]
        return cell, resources


_CODE = re.compile(r"(```.*?```|~~~.*?~~~|`[^`\n]*`)", re.S)
_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE_MATH = re.compile(r"(?<![\\$])\$([^$\n]+?)\$(?!\$)")
# TeX that matplotlib's mathtext does not know, and what it does know that means the same
_TEX_REWRITES = [(re.compile(r"\\[td]frac(\d)(\d)"), r"\\frac{\1}{\2}"), (re.compile(r"\\[td]frac\b"), r"\\frac"),
                 (re.compile(r"\\frac(\d)(\d)"), r"\\frac{\1}{\2}"), (re.compile(r"\\ge(?![a-zA-Z])"), r"\\geq"),
                 (re.compile(r"\\le(?![a-zA-Z])"), r"\\leq"), (re.compile(r"\\ne(?![a-zA-Z])"), r"\\neq"),
                 (re.compile(r"\\sqrt\s*([A-Za-z0-9])"), r"\\sqrt{\1}"),
                 (re.compile(r"\\(?:big|Big|bigg|Bigg)[lr]?(?![a-zA-Z])"), "")]


def tex_to_svg(tex, size=13.0):
    """(svg text, height, depth) of `tex` drawn by matplotlib's mathtext, in units of the font size; None if
    mathtext cannot parse it."""
    import io

    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.mathtext import MathTextParser

    text = "$" + " ".join(tex.split()) + "$"
    for pattern, replacement in [(None, None)] + _TEX_REWRITES:
        if pattern is not None:
            text = pattern.sub(replacement, text)
        with matplotlib.rc_context({"mathtext.fontset": "cm", "svg.fonttype": "path", "svg.hashsalt": "kbh"}):
            prop = FontProperties(size=size)
            try:
                width, height, depth, _, _ = MathTextParser("path").parse(text, dpi=72, prop=prop)
            except ValueError:
                continue
            figure = Figure(figsize=(width / 72, height / 72))
            figure.text(0, depth / height, text, fontproperties=prop)
            buffer = io.StringIO()
            figure.savefig(buffer, format="svg", transparent=True, metadata={"Date": None})
            return buffer.getvalue(), height / size * 1.25, depth / size * 1.25  # 13 pt is 1.25 em of a 14 px page
    return None


def math_html(tex, display):
    """An <img> of the formula (an inline SVG data: URL, its TeX as alt text), or the TeX as code when mathtext
    cannot draw it. Never a `$`: the markdown renderer must not see math again."""
    import base64
    import html

    alt = html.escape(" ".join(tex.split()), quote=True).replace("|", "&#124;").replace("$", "&#36;")
    drawn = tex_to_svg(tex)
    if drawn is None:
        tag = f'<code class="kbh-tex">{alt}</code>'
    else:
        svg, height, depth = drawn
        data = base64.b64encode(svg.encode()).decode()
        tag = (f'<img class="kbh-math" src="data:image/svg+xml;base64,{data}" alt="{alt}" '
               f'style="height:{height:.3f}em;vertical-align:{-depth:.3f}em">')
    return f'<span class="kbh-math-display">{tag}</span>' if display else tag


def markdown_math_to_html(source):
    """Markdown with each `$$...$$` and `$...$` outside code replaced by `math_html`."""
    pieces = _CODE.split(source)
    for i in range(0, len(pieces), 2):  # the even pieces are outside code
        text = _DISPLAY_MATH.sub(lambda m: math_html(m.group(1), True), pieces[i])
        pieces[i] = _INLINE_MATH.sub(lambda m: math_html(m.group(1), False), text)
    return "".join(pieces)


class OfflineMath(Preprocessor):
    """Draw the formulas of markdown cells as SVG images (matplotlib's mathtext, already installed), so the
    feedback page shows them without MathJax, which would be loaded from the internet."""

    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown" and "$" in cell.source:
            cell.source = markdown_math_to_html(cell.source)
        return cell, resources


# --- split grading: the answers in the sandbox, the checks in a trusted process ------------------------------

class SplitExecute(NbGraderPreprocessor):
    """The Execute step of `nbgrader autograde` for this course (see `autograder/grading/checker.py`): the student's
    code runs in a sandboxed answer kernel, the setup and test cells (nbgrader's restored copies) run in a
    separate trusted checker process, one per notebook, that calls the student's functions across the
    sandbox's wall with plain data. The notebook gets every cell's outputs back for nbgrader to score; cells
    tagged `demo` are not run.

    * The sandbox is checked before the first notebook; if it cannot be built, grading stops (SystemExit),
      unless the instructor opted out with KBH_UNSANDBOXED=1.
    * A notebook that runs past `notebook_timeout` fails the cells it did not report (`NotRun`): the student's
      code was too slow. When grading itself fails (the answer kernel never comes up, the answer kernel imports
      another copy of this package, the checks' setup fails, the checker dies twice on the notebook) the notebook
      is not graded: GraderFault, which nbgrader reports as a failed notebook with the reason, and no score.
      Either way the batch goes on, with a fresh checker process.
    * One checker process grades up to `checker_notebooks` notebooks in a row (TensorFlow is imported once, not
      once per notebook: seconds each); between two it drops the checks' caches and Keras's state
      (`autograder.grading.checker.reset_checker`). 1 starts a fresh process for every notebook.
    """

    notebook_timeout = Integer(1800, help="seconds for a whole notebook").tag(config=True)
    cell_timeout = Integer(120, help="seconds for one answer cell to run").tag(config=True)
    call_timeout = Integer(60, help="seconds for one call of a student's function").tag(config=True)
    max_restarts = Integer(3, help="answer kernel restarts per notebook after a crash").tag(config=True)
    max_output_bytes = Integer(200_000, help="output kept per cell (bytes)").tag(config=True)
    checker_notebooks = Integer(50, help="notebooks one checker process grades before a fresh one").tag(config=True)

    def preprocess(self, nb, resources):
        from autograder.grading import sandbox

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
                record = grader_record(grade_id(cell, f"cell-{index}"), "not_run")
                cell.outputs = [NotebookNode(record_output(record)),
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

    CHECKER_ATTEMPTS = 2

    def _run_checker(self, nb, resources):
        """({cell index as str: outputs}, None or why some cells have no outputs: the notebook ran out of time).

        Raises GraderFault when grading itself failed (the answer kernel never came up, another copy of the
        package, the checks' setup), or when the checker died twice on this notebook: nbgrader then reports
        the notebook as failed with the reason and records no score for it, instead of zeros for cells that
        never ran."""
        with tempfile.TemporaryDirectory(prefix="kbh-checker-") as folder:
            job_path, result_path = os.path.join(folder, "job.json"), os.path.join(folder, "result.json")
            with open(job_path, "w") as file:
                json.dump(self._job(nb, resources), file)
            for attempt in range(1, self.CHECKER_ATTEMPTS + 1):
                code, log = CheckerProcess.shared(self.checker_notebooks).grade(job_path, result_path,
                                                                                self.notebook_timeout)
                for line in log.splitlines()[-200:]:
                    self.log.info("%s", line)
                if code is None:
                    return {}, f"the notebook ran out of time ({self.notebook_timeout} s)"
                if code == GRADER_FAULT_EXIT:
                    with open(result_path) as file:
                        raise GraderFault(f"not graded: {json.load(file)['grader_fault']}")
                if code == 0 and os.path.exists(result_path):
                    with open(result_path) as file:
                        return json.load(file), None
                self.log.warning("the grader's checker failed (exit code %s), attempt %d of %d", code, attempt,
                                 self.CHECKER_ATTEMPTS)
            raise GraderFault(f"not graded: the grader's checker failed {self.CHECKER_ATTEMPTS} times on this "
                              f"notebook (exit code {code}); see the grader's log")
