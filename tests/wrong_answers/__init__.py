"""Plausible wrong answers per assignment, the rules of the exercises' text they break, and right answers
written differently from the instructor's solution.

One module per assignment in this folder (`tests/wrong_answers/a01_to_categorical.py` for `01_to_categorical`),
each defining `ASSIGNMENT`, `RULES` (every rule the exercises' text and docstrings state, as
{rule id: the rule in the text's words}), `WRONG_ANSWERS` and `RIGHT_ANSWERS`. Take mistakes students really
make, written as small edits of the instructor's solution (`old` must occur once in the answer cell).

* tests/test_mutations.py swaps every wrong answer into one kernel that has run the solved notebook and runs
  the grade cells (visible and hidden): each must make at least one fail. Each right answer must make none fail.
* tests/test_nbgrader_pipeline.py grades the wrong answers that list the cells they lose (`loses`) as separate
  students through the real nbgrader apps, and checks that exactly those cells score 0. Each one costs a full
  autograde run, so only a few per notebook have `loses`. To find a new one's cells, give it
  `loses=frozenset()` and run `KBH_ONLY=NN_x pytest tests/test_nbgrader_pipeline.py -k NAME`: the failure
  lists them with what each cell showed. Its `mistakes` are found the same way: the class report test there
  lists the named mistakes each wrong answer's records carry.
"""
import importlib
import pkgutil
from dataclasses import dataclass


@dataclass(frozen=True)
class WrongAnswer:
    student: str  # a name for it (the student id it is graded under in the pipeline test)
    answer: str  # grade_id of the answer cell to edit
    old: str  # text in the instructor's solution...
    new: str  # ...replaced by this
    loses: frozenset = None  # for the pipeline test: grade_ids of the cells that score 0, every other keeps full marks
    rule: str = ""  # the id (in RULES) of the rule of the text it breaks
    # With `loses`, for the class report: the ids (`Mistake.id`) of the named mistakes the records of its lost
    # cells carry; empty when the checks name none (the report then counts it by its kind of failure only).
    mistakes: frozenset = frozenset()


@dataclass(frozen=True)
class RightAnswer:
    name: str
    answer: str  # grade_id of the answer cell to edit
    old: str  # text in the instructor's solution...
    new: str  # ...replaced by this: another correct way (a loop, float64, other algebra)


@dataclass(frozen=True)
class Assignment:
    name: str
    rules: dict
    wrong: list
    right: list


def _collect():
    found = {}
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        found[module.ASSIGNMENT] = Assignment(module.ASSIGNMENT, dict(getattr(module, "RULES", {})),
                                              list(module.WRONG_ANSWERS), list(getattr(module, "RIGHT_ANSWERS", [])))
    return found


ASSIGNMENTS = _collect()
WRONG_ANSWERS = {name: [w for w in a.wrong if w.loses is not None] for name, a in ASSIGNMENTS.items()}
