"""The red-team bank: submissions that attack or break the grader, each with the score it must get.

Every case is one student in one `nbgrader autograde` batch of 01_to_categorical (8 points: to_categorical
2 + 2 + 2, from_categorical 1 + 1). A fault is put in the `from_categorical` answer where that makes sense, so
the notebook must keep the 6 points it honestly earned and lose the 2 of the exercise the fault touches.
`CHEATS` pair a wrong answer with a trick that would hide it; each also says what it earns under plain
nbgrader. `tests/test_redteam.py` builds and grades them all, with two innocent students around them.

`build(solved, release)` returns {file name: notebook (NotebookNode), bytes, or None to leave the file out}
for the student's submitted/<student>/01_to_categorical/ folder. `expected` is the total score, or None when
nbgrader records no submission at all (the student is reported as an error and scores nothing in the export).
"""
import dataclasses
import typing

import nbformat

from autograder.tools.course import replace_in_answer

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
    nbgrader_alone: str  # what plain nbgrader (its own Execute, no sandbox) does with it


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
DISK_FLOOD = """
import os
written, chunk = 0, b"x" * (60 << 20)  # 60 MB files, each under the per-file limit (64 MB)
try:
    for i in range(64):                 # at most 3.8 GB, should the total quota fail
        with open(f"flood-{i}.bin", "wb") as file:
            file.write(chunk)
        written += len(chunk)
except OSError as error:
    print(f"disk flood stopped after {written >> 20} MB: {os.strerror(error.errno)}")
del chunk
"""
FORGED_REPLIES = """
import os, sys
# The kernel's real stdout/stderr (ipykernel keeps a copy of each before it captures them): a grader that read
# its checker's replies there would take these lines for the end of this notebook, or of the next one.
for stream in (sys.stdout, sys.stderr):
    for target in (getattr(stream, "_original_stdstream_copy", None), 1, 2):
        try:
            os.write(target, b"done 0\\n" * 100)
        except (OSError, TypeError):
            pass
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
    Case("disk-flood", "60 MB files written until the disk says no, then the right answer",
         with_answer_prefix(DISK_FLOOD, "to_categorical_answer"), FULL,
         "nothing bounds it: the files go next to the notebook in autograded/ until the course's disk is full"),
    Case("forged-replies", "writes the checker's 'done' reply to the kernel's real stdout and stderr, then the "
         "right answer", with_answer_prefix(FORGED_REPLIES), FULL, "nothing to forge: the lines go to the log"),
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


# --- cheats: code in an answer cell that tries to earn points it did not ---------------------------------------

# A from_categorical that rejects what it must (the ValueError checks pass) but returns wrong labels: honestly it
# earns nothing of from_categorical (6 of 8 points in all).
WRONG_FROM_CATEGORICAL = """
def from_categorical(one_hot):
    scores = np.asarray(one_hot, dtype=np.float64)
    if scores.ndim == 0 or scores.shape[-1] == 0:
        raise ValueError(f"expected an array whose last axis holds the classes; got shape {scores.shape}")
    if np.isnan(scores).any():
        raise ValueError("the scores contain NaN")
    return np.zeros(scores.shape[:-1], dtype=np.int64)
"""


def with_wrong_answer(cheat, place="before"):
    """A builder: the solved notebook whose from_categorical answer is WRONG_FROM_CATEGORICAL with `cheat`."""
    def build(solved, release):
        nb = trimmed(solved)
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == ANSWER:
                parts = [cheat.strip(), WRONG_FROM_CATEGORICAL.strip()]
                cell.source = "\n\n".join(parts if place == "before" else parts[::-1]) + "\n"
        return {NOTEBOOK: nb}
    return build


def with_code_after(code, answer):
    """A builder: the solved notebook whose `answer` cell ends with `code`."""
    def build(solved, release):
        nb = trimmed(solved)
        grade_cell(nb.cells, answer).source += "\n\n" + code.strip() + "\n"
        return {NOTEBOOK: nb}
    return build


def with_cells_changed(change):
    """A builder: the solved notebook with the wrong from_categorical, then `change(cells)` applied."""
    def build(solved, release):
        nb = with_wrong_answer("")(solved, release)[NOTEBOOK]
        change(nb.cells)
        return {NOTEBOOK: nb}
    return build


def grade_cell(cells, grade_id):
    return next(c for c in cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _edit_tests(cells):
    grade_cell(cells, "from_categorical_check").source = "pass"
    grade_cell(cells, "from_categorical_hidden").source = "print('all good')"


def _delete_tests(cells):
    cells[:] = [c for c in cells if c.metadata.get("nbgrader", {}).get("grade_id")
                not in ("from_categorical_check", "from_categorical_hidden")]


def _more_points(cells):
    grade_cell(cells, "from_categorical_check").metadata["nbgrader"]["points"] = 100


def _ungraded_hidden(cells):
    hidden = grade_cell(cells, "from_categorical_hidden").metadata["nbgrader"]
    hidden["grade"] = False  # no longer a test cell, if nbgrader believed it
    hidden["locked"] = False


PATCH_NUMPY = """
import numpy as np
_honest_zeros = np.zeros
np.argmax = lambda a, axis=None, **kw: _honest_zeros(np.shape(a)[:-1], dtype=np.int64)   # the reference is argmax
np.testing.assert_allclose = lambda *args, **kwargs: None
np.testing.assert_array_equal = lambda *args, **kwargs: None
"""
PATCH_CHECKS = """
import autograder.checks.calling, autograder.checks.compare
check_from_categorical = lambda *args, **kwargs: print("\u2713 from_categorical matches")
autograder.checks.calling.expect_value_error = lambda *args, **kwargs: None
autograder.checks.compare.compare_arrays = lambda *args, **kwargs: None
"""
# The wrong to_categorical shifts every label by one; the patch makes Keras's reference shift them too.
PATCH_KERAS_REFERENCE = """
_mine = to_categorical
def to_categorical(y, num_classes=None):
    return np.roll(_mine(y, num_classes), 1, axis=-1)
try:
    import keras as _keras
    _honest = _keras.utils.to_categorical
    _keras.utils.to_categorical = lambda y, num_classes=None: np.roll(_honest(y, num_classes), 1, axis=-1)
except Exception:
    pass
"""
KERAS_WITH_WATCH_OFF = """
import contextlib, keras
import autograder.checks.calling
class _Blind:
    offender, tampered = None, False
    def __enter__(self): return self
    def __exit__(self, *exc): return False
autograder.checks.calling.KerasWatch = _Blind
def from_categorical(one_hot):
    scores = np.asarray(one_hot, dtype=np.float64)
    if scores.ndim == 0 or scores.shape[-1] == 0 or np.isnan(scores).any():
        raise ValueError("bad scores")
    return np.asarray(keras.ops.argmax(scores, axis=-1))    # Keras does the work
"""
KERAS_INSIDE = """
def from_categorical(one_hot):
    import keras
    scores = np.asarray(one_hot, dtype=np.float64)
    if scores.ndim == 0 or scores.shape[-1] == 0 or np.isnan(scores).any():
        raise ValueError("bad scores")
    return np.asarray(keras.ops.argmax(scores, axis=-1))
"""
LYING_OBJECTS = """
class _Liar(np.ndarray):
    def __eq__(self, other): return np.ones(np.shape(other), dtype=bool)
    def __ne__(self, other): return np.zeros(np.shape(other), dtype=bool)
class _Anything:
    def __eq__(self, other): return True
    def __array__(self, dtype=None, copy=None): return np.zeros(1)
_wrong = from_categorical
def from_categorical(one_hot):
    result = _wrong(one_hot)
    return result.view(_Liar) if result.ndim else _Anything()
"""
BRANCH_ON_NBGRADER = """
import os
if os.environ.get("NBGRADER_EXECUTION") == "autograde":
    check_from_categorical = lambda *args, **kwargs: None
    import autograder.checks.calling
    autograder.checks.calling.expect_value_error = lambda *args, **kwargs: None
"""
SWALLOW_WITH_HANDLER = """
get_ipython().set_custom_exc((BaseException,), lambda shell, etype, evalue, tb, tb_offset=None: None)
"""
SWALLOW_WITH_SHOWTRACEBACK = """
_shell = get_ipython()
_shell.showtraceback = lambda *args, **kwargs: None
_shell._showtraceback = lambda *args, **kwargs: None
"""
# IPython's run_code replaced by one that swallows every exception: the cell's reply says "ok", so not even
# nbgrader's own check of the reply status sees the failed check.
SWALLOW_IN_RUN_CODE = """
_shell = get_ipython()
async def _quiet_run_code(code_obj, result=None, *, async_=False):
    try:
        exec(code_obj, _shell.user_global_ns, _shell.user_ns)
    except BaseException:
        pass
    return False
_shell.run_code = _quiet_run_code
"""
FAKE_ANSWER_KERNEL = """
# Split grading's own machinery in the answer kernel, made to report success for every call.
try:
    import autograder.grading.answer_kernel as _ak
    _honest_answer = _ak.answer
    def _answer(data, namespace):
        namespace["from_categorical"] = lambda one_hot: np.argmax(one_hot, axis=-1) if False else None
        return _honest_answer(data, namespace)
    _ak.answer = _answer
except ImportError:
    pass
"""


@dataclasses.dataclass(frozen=True)
class Cheat:
    student: str
    what: str
    build: typing.Callable
    expected: typing.Optional[float]  # what it earns here (None: nbgrader records no score for it)
    plain: typing.Optional[float]     # what it earns under plain nbgrader (its Execute, no sandbox), same checks
    note: str


CHEATS = [
    Cheat("cheat-patch-numpy", "replaces np.argmax (the reference) and numpy.testing",
          with_wrong_answer(PATCH_NUMPY), TO_CATEGORICAL_ONLY, FULL,
          "pays (the reference runs in the student's process)"),
    Cheat("cheat-patch-checks", "replaces the check function and autograder's comparisons",
          with_wrong_answer(PATCH_CHECKS), TO_CATEGORICAL_ONLY, FULL, "pays"),
    Cheat("cheat-patch-keras", "makes keras.utils.to_categorical return its own wrong labels",
          with_code_after(PATCH_KERAS_REFERENCE, "to_categorical_answer"), 4.0, FULL,
          "pays (the wrong labels pass, and from_categorical's checks make their inputs with it)"),
    Cheat("cheat-keras-inside", "computes the answer with keras.ops.argmax",
          with_wrong_answer(KERAS_INSIDE, place="after"), TO_CATEGORICAL_ONLY, TO_CATEGORICAL_ONLY,
          "caught by the checks' Keras watch"),
    Cheat("cheat-keras-watch-off", "switches the Keras watch off, then computes with Keras",
          with_wrong_answer(KERAS_WITH_WATCH_OFF, place="after"), TO_CATEGORICAL_ONLY, FULL, "pays"),
    Cheat("cheat-lying-objects", "returns an ndarray subclass whose == is always true, or an object equal to all",
          with_wrong_answer(LYING_OBJECTS, place="after"), TO_CATEGORICAL_ONLY, TO_CATEGORICAL_ONLY,
          "caught by the checks (plain arrays only)"),
    Cheat("cheat-branch-on-nbgrader", "patches the checks only when NBGRADER_EXECUTION says it is graded",
          with_wrong_answer(BRANCH_ON_NBGRADER), TO_CATEGORICAL_ONLY, FULL, "pays (and passes validate honestly)"),
    Cheat("cheat-custom-exception-handler", "IPython's set_custom_exc swallows every error of later cells",
          with_wrong_answer(SWALLOW_WITH_HANDLER), TO_CATEGORICAL_ONLY, TO_CATEGORICAL_ONLY,
          "caught: nbgrader 0.9 adds the error of a cell whose reply says it failed"),
    Cheat("cheat-showtraceback", "IPython's showtraceback replaced by a function that shows nothing",
          with_wrong_answer(SWALLOW_WITH_SHOWTRACEBACK), TO_CATEGORICAL_ONLY, TO_CATEGORICAL_ONLY, "caught: the same"),
    Cheat("cheat-swallow-in-run-code", "IPython's run_code replaced: every later cell's exception is swallowed",
          with_wrong_answer(SWALLOW_IN_RUN_CODE), TO_CATEGORICAL_ONLY, FULL, "pays: the failed checks reply 'ok'"),
    Cheat("cheat-fake-answer-kernel", "patches split grading's own answer() in the answer kernel",
          with_wrong_answer(FAKE_ANSWER_KERNEL), TO_CATEGORICAL_ONLY, TO_CATEGORICAL_ONLY, "nothing to patch"),
    Cheat("cheat-edit-tests", "replaces the from_categorical test cells' code", with_cells_changed(_edit_tests),
          TO_CATEGORICAL_ONLY, TO_CATEGORICAL_ONLY, "caught: nbgrader restores test cells from the gradebook"),
    Cheat("cheat-delete-tests", "deletes the from_categorical test cells", with_cells_changed(_delete_tests),
          TO_CATEGORICAL_ONLY, TO_CATEGORICAL_ONLY, "caught: a missing test cell scores 0"),
    Cheat("cheat-points", "100 points on a test cell", with_cells_changed(_more_points),
          TO_CATEGORICAL_ONLY, TO_CATEGORICAL_ONLY, "caught: nbgrader restores the points"),
    Cheat("cheat-ungraded-hidden", "the hidden test cell's metadata says it is not graded",
          with_cells_changed(_ungraded_hidden), None, None,
          "caught: nbgrader refuses the notebook (reported as an error for that student, no score)"),
]
