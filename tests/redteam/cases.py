"""The red-team bank: submissions that attack or break the grader, each with the score it must get.

Every case is one student in one `nbgrader autograde` batch of 01_to_categorical (8 points: to_categorical
2 + 2 + 2, from_categorical 1 + 1). A fault is put in the `from_categorical` answer where that makes sense, so
the notebook must keep the 6 points it honestly earned before the fault and lose the 2 after it.
`tests/test_redteam.py` builds and grades them all, with two innocent students around them.

`build(solved, release)` returns {file name: notebook (NotebookNode), bytes, or None to leave the file out}
for the student's submitted/<student>/01_to_categorical/ folder. `expected` is the total score, or None when
nbgrader records no submission at all (the student is reported as an error and scores nothing in the export).
"""
import dataclasses
import typing

import nbformat

from autograder.course import replace_in_answer

ASSIGNMENT = "01_to_categorical"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
FULL = 8.0
TO_CATEGORICAL_ONLY = 6.0  # the from_categorical exercise (1 + 1) is lost
ANSWER = "from_categorical_answer"
DEMO_MARKERS = ("## 4. Your labels, a real Keras model",)


@dataclasses.dataclass(frozen=True)
class Case:
    student: str
    what: str
    build: typing.Callable
    expected: typing.Optional[float]
    nbgrader_alone: str  # what plain nbgrader (no sandbox, no ContainedExecute) does with it


def trimmed(nb):
    """The notebook without its closing Keras demo (a model fit and plots: slow, and graded by nothing)."""
    nb = nbformat.from_dict(nb)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and cell.source.startswith(DEMO_MARKERS):
            nb.cells = nb.cells[:index]
            break
    return nb


def with_answer_prefix(code, answer=ANSWER):
    """A builder: the solved notebook whose `answer` cell starts with `code` (the function is still defined
    after it, if the code lets the cell go on)."""
    def build(solved, release):
        nb = trimmed(solved)
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == answer:
                cell.source = code.strip() + "\n\n" + cell.source
        return {NOTEBOOK: nb}
    return build


def solved_only(solved, release):
    return {NOTEBOOK: trimmed(solved)}


def raw_file(content):
    def build(solved, release):
        return {NOTEBOOK: content}
    return build


def as_v3(solved, release):
    return {NOTEBOOK: nbformat.writes(nbformat.convert(trimmed(solved), 3)).encode()}


def missing(solved, release):
    return {"notes.txt": b"I forgot to upload my notebook\n"}


def extra_notebook(solved, release):
    evil = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import os\nos._exit(1)")])
    return {NOTEBOOK: trimmed(solved), "scratch_work.ipynb": evil}


INFINITE_LOOP = "while True:\n    pass"
UNINTERRUPTIBLE_LOOP = """
while True:
    try:
        while True:
            pass
    except BaseException:
        pass
"""
MEMORY_BOMB = """
import numpy as np
hog = [np.ones(32 * 1024**2) for _ in range(64)]  # 16 GB in 256 MB pieces, each written (so resident)
"""
FORK_BOMB = """
import os, time
kernel = os.getpid()
while True:
    try:
        os.fork()                # parent and every child fork again
    except OSError:              # the process limit stops it; children hold their slot, then leave
        if os.getpid() != kernel:
            time.sleep(5)
            os._exit(0)
        raise
"""
OUTPUT_FLOOD = """
print("x" * 8_000_000)           # 8 MB on one line
for i in range(50_000):
    print("line", i)
"""
CASES = [
    Case("infinite-loop", "`while True: pass` in an answer", with_answer_prefix(INFINITE_LOOP), TO_CATEGORICAL_ONLY,
         "handled: the per-cell timeout interrupts it (KeyboardInterrupt), the notebook goes on"),
    Case("uninterruptible-loop", "a loop that swallows KeyboardInterrupt", with_answer_prefix(UNINTERRUPTIBLE_LOOP),
         TO_CATEGORICAL_ONLY, "every later cell waits out its own timeout; nothing bounds the notebook"),
    Case("memory-bomb", "16 GB written in an answer", with_answer_prefix(MEMORY_BOMB), TO_CATEGORICAL_ONLY,
         "the machine's OOM killer picks a victim (maybe nbgrader); a dead kernel drops the submission"),
    Case("os-exit", "`os._exit(1)` in an answer", with_answer_prefix("import os\nos._exit(1)"), TO_CATEGORICAL_ONLY,
         "DeadKernelError: the whole submission fails, its autograded folder is removed, exit code 1"),
    Case("sys-exit", "`sys.exit()` in an answer", with_answer_prefix("import sys\nsys.exit()"), TO_CATEGORICAL_ONLY,
         "handled: IPython turns SystemExit into an error output; the kernel lives on"),
    Case("fork-bomb", "an exponential fork bomb in an answer", with_answer_prefix(FORK_BOMB), TO_CATEGORICAL_ONLY,
         "unbounded (as root RLIMIT_NPROC does not apply): the machine stalls"),
    Case("output-flood", "8 MB on one line and 50 000 lines printed, then the right answer",
         with_answer_prefix(OUTPUT_FLOOD, "to_categorical_answer"), FULL,
         "all of it is kept in nbgrader's memory; LimitOutput cuts lines, not an 8 MB line"),
    Case("not-json", "a notebook file that is not JSON", raw_file(b"{this is not json"), None,
         "handled: that student is reported as an error and removed; the batch goes on (exit code 1)"),
    Case("empty-file", "an empty notebook file", raw_file(b""), None,
         "handled: as for not-json"),
    Case("nbformat-v3", "the solved notebook saved as nbformat 3", as_v3, FULL,
         "handled: nbformat upgrades it to version 4 on reading"),
    Case("missing-notebook", "a submission folder without the notebook", missing, None,
         "handled: no notebook, nothing graded for that student"),
    Case("extra-notebook", "the solved notebook plus an extra notebook that calls os._exit",
         extra_notebook, FULL, "handled: nbgrader skips notebooks it does not know"),
]

INNOCENT = ["aaa-innocent", "zzz-innocent"]  # graded first and last in the batch
