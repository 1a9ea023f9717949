"""How a failed check is shown (autograder/checks/errors.py): a short note, the student's frames, none of the checks'."""
import linecache
import re

import numpy as np
import pytest

from autograder.checks.runner import Case, compare_once
from autograder.checks.errors import WIDTH, CheckFailed, render_failure, wrap
from autograder.checks.calling import as_array, call_student
from autograder.topics.to_categorical import check_to_categorical

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def shown(failure):
    return ANSI.sub("", "\n".join(render_failure(failure)))


def student_function(source, name, filename="/tmp/kbh-student-cell/cell.py"):
    """A function compiled as if it were typed into a notebook cell (its file is outside the package)."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)  # as IPython does for cells
    namespace = {"np": np}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 (test input)
    return namespace[name]


def failure_of(run):
    with pytest.raises(CheckFailed) as caught:
        run()
    return caught.value


def test_a_wrong_result_shows_the_heading_the_input_and_the_hint_and_no_frames():
    wrong = student_function(
        "def to_categorical(y, num_classes=None):\n"
        "    y = np.asarray(y).astype(int)\n"
        "    y = y[..., 0] if y.ndim > 1 and y.shape[-1] == 1 else y\n"
        "    n = y.max() if num_classes is None else num_classes\n"
        "    return (y[..., None] == np.arange(n)).astype(float)\n", "to_categorical")
    text = shown(failure_of(lambda: check_to_categorical(wrong)))
    lines = text.splitlines()
    assert lines[0] == "\u2717 to_categorical is not right yet"
    assert lines[1].startswith("to_categorical(np.array(") and "wrong shape" in lines[1]
    assert "Hint: your result is what you get if num_classes is max(y) instead of max(y) + 1" in " ".join(lines)
    assert "Traceback" not in text and "autograder" not in text and ".py" not in text


def test_an_error_in_the_students_code_names_the_likely_mistake_and_shows_only_their_frames():
    wrong = student_function(
        "def labels_fit(y, n):\n"
        "    if (y >= n).any():\n"
        "        raise ValueError('a label does not fit num_classes')\n"
        "def to_categorical(y, num_classes=None):\n"
        "    y = np.asarray(y).astype(int)\n"
        "    num_classes = y.max() if num_classes is None else num_classes\n"
        "    labels_fit(y, num_classes)\n"
        "    return np.eye(num_classes)[y]\n", "to_categorical")
    failure = failure_of(lambda: check_to_categorical(wrong))
    text = shown(failure)
    assert "raised ValueError: a label does not fit num_classes" in text
    assert "usually has this mistake: num_classes is max(y) instead of max(y) + 1" in " ".join(text.split())
    where = text[text.index("Where your code raised it"):]
    assert "cell.py" in where and "labels_fit" in where and "labels_fit(y, num_classes)" in where
    assert "autograder" not in where and "check.py" not in where and "student.py" not in where


def test_frames_of_numpy_below_the_students_line_are_left_out():
    wrong = student_function("def f(x):\n    return np.linalg.inv(x)\n", "f")  # raises inside numpy/linalg
    text = shown(failure_of(lambda: call_student(wrong, np.zeros((2, 2)))))
    where = text[text.index("Where your code raised it"):]
    assert "np.linalg.inv(x)" in where and "LinAlgError: Singular matrix" in where
    assert "_linalg.py" not in where and "site-packages" not in where


def test_a_failure_not_raised_by_student_code_has_no_frames_section():
    text = shown(failure_of(lambda: as_array([1, 2], "softmax")))
    assert text.splitlines()[0] == "\u2717 softmax is not right yet"
    assert "Where your code" not in text


def test_the_heading_falls_back_when_the_exercise_is_unknown():
    assert shown(CheckFailed("something is off")).splitlines() == ["\u2717 This check failed", "something is off"]


def test_the_note_is_the_message_wrapped_so_nbgrader_validate_does_not_cut_it():
    message = "f(x): " + "word " * 60 + "\n  Hint: " + "another " * 30
    lines = wrap(message)
    assert max(len(line) for line in lines) <= WIDTH
    assert " ".join(" ".join(lines).split()) == " ".join(message.split())
    assert all(line.startswith("    ") for line in lines[lines.index(next(l for l in lines if "Hint" in l)) + 1:])


def test_a_registered_mistake_that_raises_is_named_only_for_its_error_types():
    def raises_type_error(y, num_classes=None):
        raise TypeError("no")

    failure = failure_of(lambda: compare_once(raises_type_error, lambda y: y, Case(([0, 2],)), name="to_categorical",
                                              mistakes_fn=lambda y: []))
    assert "Hint" not in str(failure)
    from autograder.topics.to_categorical import to_categorical_mistakes

    failure = failure_of(lambda: compare_once(raises_type_error, lambda y: y, Case(([0, 2],)), name="to_categorical",
                                              mistakes_fn=to_categorical_mistakes))
    assert "Hint" not in str(failure)  # TypeError is not what one class too few raises
