"""Plausible wrong answers, per assignment, and the test cells each one must lose (and no others).

The pipeline test grades each as a separate student through the real nbgrader apps. Add a row when you add a
topic: take a mistake students really make, written as a small edit of the instructor's solution.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class WrongAnswer:
    student: str  # the student id it is graded under
    answer: str  # grade_id of the answer cell to edit
    old: str  # text in the instructor's solution...
    new: str  # ...replaced by this
    loses: frozenset  # grade_ids of the test cells that must score 0; every other cell keeps full marks


WRONG_ANSWERS = {
    "01_to_categorical": [
        WrongAnswer("num-classes-is-max", "to_categorical_answer",
                    "num_classes = int(labels.max()) + 1", "num_classes = int(labels.max())",
                    frozenset({"to_categorical_check", "to_categorical_hidden"})),
        WrongAnswer("argmax-axis-0", "from_categorical_answer",
                    "np.argmax(scores, axis=-1)", "np.argmax(scores, axis=0)",
                    frozenset({"from_categorical_check", "from_categorical_hidden"})),
        WrongAnswer("no-negative-check", "to_categorical_answer",
                    "if (labels < 0).any():", "if False:",
                    frozenset({"to_categorical_errors"})),
    ],
}
