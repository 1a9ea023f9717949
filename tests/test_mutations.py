"""A mutation test of the course's own checks: each registered wrong answer (tests/wrong_answers/) is swapped into
one kernel that has run the solved notebook, and the notebook's grade cells (visible and hidden) are run; at
least one must fail. Each registered right answer, written differently from the solution, must make none fail.

One kernel per notebook runs the setup, the answer cells and the grade cells of source/<name>/<name>.ipynb
(demonstrations are skipped: grading never runs them). A wrong answer's own cells go first and the run stops at
the first failure, so a caught mistake costs about one check. The real nbgrader pipeline
(test_nbgrader_pipeline.py) grades a few of these as students; this test covers all of them in a few minutes.
"""
import os
import queue

import nbformat
import pytest

from autograder.tools.course import REPO_ROOT
from autograder.grading.cells import is_demo_cell, is_setup_cell, is_test_cell, nbgrader_meta, source_of
from wrong_answers import ASSIGNMENTS

CELL_TIMEOUT_S = 600
ONLY = [a for a in os.environ.get("KBH_ONLY", "").split(",") if a]
NOTEBOOKS = [a for a in sorted(ASSIGNMENTS) if not ONLY or a in ONLY]
SUMMARY = {}  # {assignment: {"wrong": [caught?...], "right": [accepted?...]}}, printed by tests/conftest.py


class NotebookKernel:
    """A kernel in the notebook's folder that has run its setup, answer and grade cells."""

    def __init__(self, name):
        from jupyter_client.manager import start_new_kernel

        path = REPO_ROOT / "source" / name / f"{name}.ipynb"
        self.cells = nbformat.read(path, as_version=4).cells
        self.answers = {nbgrader_meta(c)["grade_id"]: source_of(c) for c in self.cells
                        if nbgrader_meta(c).get("solution")}
        self.grade_cells = {nbgrader_meta(c)["grade_id"]: source_of(c) for c in self.cells if is_test_cell(c)}
        self.km, self.kc = start_new_kernel(kernel_name="python3", cwd=str(path.parent))
        self.solved_failures = []
        for cell in self.cells:
            if cell.cell_type != "code" or is_demo_cell(cell) or not source_of(cell).strip():
                continue
            error = self.run(source_of(cell))
            if error and (is_setup_cell(cell) or is_test_cell(cell) or nbgrader_meta(cell).get("solution")):
                self.solved_failures.append((nbgrader_meta(cell).get("grade_id", "?"), error))

    def run(self, code):
        """Run `code`; None if it ran, else the error's name and message."""
        outputs = []
        reply = self.kc.execute_interactive(code, timeout=CELL_TIMEOUT_S, store_history=False,
                                            output_hook=outputs.append)
        if reply["content"]["status"] == "ok":
            return None
        return f"{reply['content'].get('ename')}: {str(reply['content'].get('evalue'))[:300]}"

    def first_failing_cell(self, first=()):
        """The grade id of the first grade cell that fails (the cells `first` before the others), or None."""
        order = [g for g in first if g in self.grade_cells] + [g for g in self.grade_cells if g not in first]
        for grade_id in order:
            try:
                error = self.run(self.grade_cells[grade_id])
            except (TimeoutError, queue.Empty):
                self.km.interrupt_kernel()
                error = "timed out"
            if error:
                return grade_id
        return None

    def swapped(self, answer, old, new, first=()):
        """Run answer cell `answer` with `old` replaced by `new`, then the grade cells (`first`, then the
        exercise's own, then the rest); the first that fails. The solution's cell is run again afterwards."""
        source = self.answers[answer]
        assert source.count(old) == 1, f"{answer}: expected exactly one {old!r} in the solution"
        exercise = answer.removesuffix("answer")
        try:
            self.run(source.replace(old, new))  # (a wrong answer may raise in its own cell; its def stands)
            return self.first_failing_cell([*first, *(g for g in self.grade_cells if g.startswith(exercise))])
        finally:
            assert self.run(source) is None, f"the solution of {answer} no longer runs"

    def close(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def kernels():
    """kernels(name): the notebook's kernel, started on first use, shut down after this module."""
    started = {}

    def kernel(name):
        if name not in started:
            started[name] = NotebookKernel(name)
        return started[name]

    yield kernel
    for running in started.values():
        running.close()


@pytest.mark.parametrize("assignment", NOTEBOOKS)
def test_the_solved_notebook_passes_its_grade_cells(kernels, assignment):
    assert kernels(assignment).solved_failures == []


@pytest.mark.parametrize("assignment,wrong", [(a, w) for a in NOTEBOOKS for w in ASSIGNMENTS[a].wrong],
                         ids=lambda v: getattr(v, "student", v))
def test_a_wrong_answer_fails_a_grade_cell(kernels, assignment, wrong):
    failed = kernels(assignment).swapped(wrong.answer, wrong.old, wrong.new, first=sorted(wrong.loses or ()))
    SUMMARY.setdefault(assignment, {"wrong": [], "right": []})["wrong"].append(failed is not None)
    assert failed is not None, (f"{wrong.student} (breaks {wrong.rule or 'an unnamed rule'}: "
                                f"{ASSIGNMENTS[assignment].rules.get(wrong.rule, '')}) passes every grade cell")
    if wrong.loses is not None:
        assert failed in wrong.loses, f"{wrong.student} failed {failed}, a cell it does not list as lost"


@pytest.mark.parametrize("assignment,right", [(a, r) for a in NOTEBOOKS for r in ASSIGNMENTS[a].right],
                         ids=lambda v: getattr(v, "name", v))
def test_a_right_answer_written_differently_passes_every_grade_cell(kernels, assignment, right):
    failed = kernels(assignment).swapped(right.answer, right.old, right.new)
    SUMMARY.setdefault(assignment, {"wrong": [], "right": []})["right"].append(failed is None)
    assert failed is None, f"{right.name}, a correct answer, fails {failed}"


@pytest.mark.parametrize("assignment", NOTEBOOKS)
def test_every_rule_of_the_text_has_a_wrong_answer_that_breaks_it(assignment):
    rules, wrong = ASSIGNMENTS[assignment].rules, ASSIGNMENTS[assignment].wrong
    assert rules, "no rules listed"
    assert {w.student for w in wrong if w.rule not in rules} == set(), "wrong answers naming no listed rule"
    assert set(rules) - {w.rule for w in wrong} == set(), "rules no wrong answer breaks"
    assert len({w.student for w in wrong}) == len(wrong), "two wrong answers with one name"
    assert len(ASSIGNMENTS[assignment].right) >= 2, "fewer than two right answers written differently"
