"""The one exception a check raises when a student's answer is wrong, and how a notebook shows it.

IPython shows an exception through its `_render_traceback_()` when the exception has one (the protocol Jupyter
offers for exactly this: ipyparallel uses it for remote errors). A failed check is shown as a short note: what
is wrong, on which input, the hint; then, when the student's own code raised, the frames of *their* code, which
they need to find the line. The checks' own frames (this package, hypothesis, NumPy internals) never appear.
The test cell still ends in an error, so nbgrader scores it 0.
"""
import os
import re
import sys
import textwrap
import types

WIDTH = 84  # nbgrader validate cuts lines longer than 87 characters, its indent included
_RED, _BOLD, _RESET = "\x1b[31m", "\x1b[1m", "\x1b[0m"
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


# The mime type of a failed check's record in a graded notebook's outputs (see `record_output`).
RECORD_MIME = "application/vnd.keras-by-hand.check+json"

# A grade cell's id names its exercise and its part: `foo_check` (visible), `foo_hidden`, `foo_errors`.
GRADE_ID_PARTS = re.compile(r"^(?P<exercise>.+)_(?P<part>check|hidden|errors)$")


def split_grade_id(grade_id):
    """(exercise, part) of a grade cell's id, e.g. ("to_categorical", "hidden"); (None, None) for another id."""
    parts = GRADE_ID_PARTS.match(grade_id)
    return (parts["exercise"], parts["part"]) if parts else (None, None)


# The kinds of failure a record names (CheckFailed.kind and the grader's own: timed_out, not_run, error).
KINDS = ("wrong_shape", "wrong_values", "not_finite", "wrong_type", "not_implemented", "not_defined", "raised",
         "no_value_error",
         "calls_keras", "changed_input", "timed_out", "not_run", "error")


class CheckFailed(AssertionError):
    """A student's answer does not match Keras. The message says what is wrong in the student's terms.

    It subclasses AssertionError so that nbgrader and pytest treat it as an ordinary failed test.

    Args:
        message: the whole note, first line first (usually the call that failed and what is wrong).
        exercise: the name of the student's function, when the check knows it (shown in the heading).
        kind: what kind of failure it is, one of KINDS (for the class report; "wrong_values" when not said).
        mistake: the named Mistake (autograder.checks.compare) that explains the result, if one does.
        input_size: how many numbers the (shrunk) input that failed holds, when the check knows it.
    """

    def __init__(self, message, *, exercise=None, kind=None, mistake=None, input_size=None):
        super().__init__(message)
        self.exercise = exercise
        self.kind = kind
        self.mistake = mistake
        self.input_size = input_size

    def restated(self, message, **changes):
        """The same failure with another message (a hint added, hypothesis's frames dropped)."""
        fields = dict(exercise=self.exercise, kind=self.kind, mistake=self.mistake, input_size=self.input_size)
        return CheckFailed(message, **{**fields, **changes})

    def record(self, grade_id):
        """What the class report reads: plain data, no part of the input or of the expected result."""
        return {"exercise": self.exercise, "grade_id": grade_id, "kind": self.kind or "wrong_values",
                "mistake": getattr(self.mistake, "id", None), "mistake_text": getattr(self.mistake, "description", None),
                "input_size": self.input_size}

    def _render_traceback_(self):
        return render_failure(self)


def record_output(record):
    """A display_data output holding a record (`CheckFailed.record`), for the class report: an empty text/plain
    beside it, so Lab and nbconvert show nothing for it; the feedback drops it (nbgrader_plugins)."""
    return {"output_type": "display_data", "metadata": {}, "data": {"text/plain": "", RECORD_MIME: record}}


def grader_record(grade_id, kind):
    """The record of a check that failed for another reason than a CheckFailed (timed out, not run, an error)."""
    return CheckFailed("", kind=kind).record(grade_id)


def wrap(text, width=WIDTH):
    """Wrap each line of `text` to `width`, continuing a line under its own indent plus two spaces."""
    lines = []
    for line in str(text).splitlines() or [""]:
        indent = line[:len(line) - len(line.lstrip())]
        lines += textwrap.wrap(line, width, subsequent_indent=indent + "  ", break_on_hyphens=False,
                               break_long_words=True) or [""]
    return lines


def heading(exercise=None):
    text = f"\u2717 {exercise} is not right yet" if exercise else "\u2717 This check failed"
    return f"{_BOLD}{_RED}{text}{_RESET}"


def heading_of(line):
    """`line` if it is a heading `heading()` makes (an exercise name is an identifier), else the plain heading."""
    match = re.fullmatch(re.escape(_BOLD + _RED) + "\u2717 ([A-Za-z_][A-Za-z0-9_]*) is not right yet" + re.escape(_RESET),
                         line)
    return heading(match.group(1) if match else None)


def render_failure(failure):
    """The lines a notebook shows for a failed check (ANSI colours, as IPython's own tracebacks have)."""
    lines = [heading(failure.exercise)] + wrap(failure)
    frames = student_frames(failure.__cause__)
    if frames is not None:
        lines += ["", f"{_BOLD}Where your code raised it:{_RESET}"] + format_student_error(failure.__cause__, frames)
    return lines


def _is_student_file(filename):
    """Code that is neither this package nor installed (Python's library, site-packages): notebook cells and the
    student's own modules."""
    if not filename or filename.startswith("<frozen"):
        return False
    path = os.path.abspath(filename)
    installed = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    return not path.startswith(_PACKAGE_DIR) and not any(path.startswith(p + os.sep) for p in installed)


def student_frames(error):
    """A traceback of only the student's frames of `error`, or None if none of its frames is the student's."""
    if error is None or error.__traceback__ is None:
        return None
    kept, tb = [], error.__traceback__
    while tb is not None:
        if _is_student_file(tb.tb_frame.f_code.co_filename):
            kept.append(tb)
        tb = tb.tb_next
    chain = None
    for tb in reversed(kept):
        chain = types.TracebackType(chain, tb.tb_frame, tb.tb_lasti, tb.tb_lineno)
    return chain


def format_student_error(error, frames):
    """The student's frames and error line, formatted as IPython formats any error (falls back to Python's)."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            return shell.InteractiveTB.structured_traceback(type(error), error, frames)
    except Exception:  # noqa: BLE001 (a formatter that fails must not hide the note above)
        pass
    import traceback

    return "".join(traceback.format_exception(type(error), error, frames)).rstrip("\n").splitlines()
