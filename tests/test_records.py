"""A failed check leaves a record for the class report (autograder/checks/errors.py): what kind of failure, which
named mistake, how large the input; the grader puts it beside the cell's note and the feedback drops it."""
import nbformat
import numpy as np
import pytest

from autograder.checks.runner import Case, compare_once
from autograder.checks.compare import Mistake
from autograder.checks.errors import RECORD_MIME, CheckFailed
from autograder.grading.checker import run_trusted
from autograder.grading.preprocessors import DropCheckRecords
from autograder.checks.calling import expect_value_error

CASE = Case((np.array([0.0, 1.0, 2.0]),), {"scale": 2.0})


def reference(x, scale=1.0):
    return np.asarray(x) * scale


def failure_of(student, mistakes=None):
    with pytest.raises(CheckFailed) as caught:
        compare_once(student, reference, CASE, name="scaled", mistakes_fn=mistakes)
    return caught.value.record("scaled_check")


@pytest.mark.parametrize("student,kind", [
    (lambda x, scale=1.0: np.asarray(x) * scale + 1, "wrong_values"),
    (lambda x, scale=1.0: (np.asarray(x) * scale)[:2], "wrong_shape"),
    (lambda x, scale=1.0: np.asarray(x) * scale / 0.0, "not_finite"),
    (lambda x, scale=1.0: list(np.asarray(x) * scale), "wrong_type"),
    (lambda x, scale=1.0: [][1], "raised"),
], ids=["values", "shape", "nan", "list", "raised"])
def test_the_kind_of_failure_is_recorded(student, kind):
    record = failure_of(student)
    assert record == {"exercise": "scaled", "grade_id": "scaled_check", "kind": kind, "mistake": None,
                      "mistake_text": None, "input_size": 4}  # three numbers in x, one in scale


def test_not_implemented_is_its_own_kind():
    def student(x, scale=1.0):
        raise NotImplementedError()

    assert failure_of(student)["kind"] == "not_implemented"


def test_a_function_the_answers_never_defined_is_its_own_kind():
    """Under grading, a check of a function whose answer cell failed (a SyntaxError) ends in a NameError."""
    outputs = run_trusted("check_f(f)", {"__builtins__": __builtins__, "check_f": lambda fn: None}, "f_check")
    record = next(o["data"][RECORD_MIME] for o in outputs if o["output_type"] == "display_data")
    assert record["kind"] == "not_defined"
    assert "its answer cell did not define it" in outputs[-1]["evalue"]


def test_a_named_mistake_is_recorded_by_its_stable_id_whether_the_answer_returns_or_raises():
    def mistakes(x, scale=1.0):
        return [Mistake("you leave out the scale (multiply by 1)", np.asarray(x), raises=(IndexError,))]

    returned = failure_of(lambda x, scale=1.0: np.asarray(x), mistakes)
    raised = failure_of(lambda x, scale=1.0: [][1], mistakes)
    for record in (returned, raised):
        assert record["mistake"] == "you-leave-out-the-scale-multiply-by-1"
        assert record["mistake_text"] == "you leave out the scale (multiply by 1)"
    assert (returned["kind"], raised["kind"]) == ("wrong_values", "raised")


def test_a_missing_value_error_is_recorded():
    with pytest.raises(CheckFailed) as caught:
        expect_value_error(lambda x: x, -1, name="positive", reason="x is negative")
    assert caught.value.record("positive_errors")["kind"] == "no_value_error"


def test_the_grader_puts_the_record_before_the_note_and_only_for_failed_cells():
    namespace = {"__builtins__": __builtins__, "check": lambda ok: None if ok else (_ for _ in ()).throw(
        CheckFailed("f(1): wrong values.", exercise="f", kind="wrong_values"))}
    failed = run_trusted("check(False)", namespace, "f_check")
    passed = run_trusted("check(True)", namespace, "f_check")
    crashed = run_trusted("1 / 0", namespace, "f_hidden")
    assert [o["output_type"] for o in failed] == ["display_data", "error"]
    assert failed[0]["data"][RECORD_MIME]["kind"] == "wrong_values" and failed[0]["data"]["text/plain"] == ""
    assert passed == []
    assert crashed[0]["data"][RECORD_MIME] == {"exercise": None, "grade_id": "f_hidden", "kind": "error",
                                               "mistake": None, "mistake_text": None, "input_size": None}


def test_the_feedback_drops_the_records():
    cell = nbformat.v4.new_code_cell("check(f)")
    cell.outputs = [nbformat.from_dict(o) for o in run_trusted(
        "raise CheckFailed('f(1): wrong values.', exercise='f')", {"CheckFailed": CheckFailed}, "f_check")]
    nb = nbformat.v4.new_notebook(cells=[cell])
    cleaned, _ = DropCheckRecords().preprocess(nb, {})
    assert [o["output_type"] for o in cleaned.cells[0].outputs] == ["error"]
