"""Plausible wrong answers, per assignment, and the test cells each one must lose (and no others).

One module per assignment in this folder (`tests/wrong_answers/a01_to_categorical.py` for `01_to_categorical`),
each defining `ASSIGNMENT` and a list `WRONG_ANSWERS`. The pipeline test grades each wrong answer as a
separate student through the real nbgrader apps. Take mistakes students really make, written as small edits of
the instructor's solution.
"""
import importlib
import pkgutil
from dataclasses import dataclass


@dataclass(frozen=True)
class WrongAnswer:
    student: str  # the student id it is graded under
    answer: str  # grade_id of the answer cell to edit
    old: str  # text in the instructor's solution...
    new: str  # ...replaced by this
    loses: frozenset  # grade_ids of the test cells that must score 0; every other cell keeps full marks




def _collect():
    found = {}
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        found[module.ASSIGNMENT] = list(module.WRONG_ANSWERS)
    return found


WRONG_ANSWERS = _collect()
