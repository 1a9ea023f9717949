"""Notebook 01: to_categorical and from_categorical, checked against keras.utils.to_categorical and argmax."""
import numpy as np
from hypothesis import strategies as st

from autograder.checks import keras_reference
from autograder.checks.runner import Case, check_rejects, compare_once, report_pass, run_cases
from autograder.checks.compare import Mistake
from autograder.checks.strategies import class_labels, class_scores


# --- references -------------------------------------------------------------------------------------------

@keras_reference.same_for_every_student
def keras_to_categorical(y, num_classes=None):
    """The live Keras result: keras.utils.to_categorical(y, num_classes)."""
    return keras_reference.keras().utils.to_categorical(y, num_classes)


def keras_from_categorical(one_hot):
    """What Keras 3 recommends in place of the removed `predict_classes`: argmax over the class axis."""
    return np.argmax(np.asarray(one_hot), axis=-1)


# --- known mistakes ---------------------------------------------------------------------------------------

def _labels_array(y):
    labels = np.asarray(y).astype(np.int64)
    return labels[..., 0] if labels.ndim > 1 and labels.shape[-1] == 1 else labels


def to_categorical_mistakes(y, num_classes=None):
    labels = _labels_array(y)
    mistakes = []
    if num_classes is None and labels.size:
        too_few = int(labels.max())
        wrong = np.zeros(labels.shape + (too_few,))
        inside = labels < too_few
        wrong[inside, labels[inside]] = 1.0
        # With one class too few, the largest label has no column: np.eye(max(y))[y] raises IndexError, and an
        # answer that checks its labels against that num_classes raises its own ValueError.
        mistakes.append(Mistake("num_classes is max(y) instead of max(y) + 1 (labels start at 0)", wrong,
                                raises=(IndexError, ValueError)))
    return mistakes


def to_categorical_error_hint(case, error):
    if isinstance(error, IndexError) and case.kwargs.get("num_classes") is not None:
        return "a label is used as a column index, so it must be a whole number below num_classes."
    return None


def from_categorical_mistakes(one_hot):
    scores = np.asarray(one_hot)
    return [Mistake("you take the argmax over axis 0 (the samples) instead of the last axis (the classes)",
                    np.argmax(scores, axis=0)),
            Mistake("you take the argmax of the flattened array; pass axis=-1", np.argmax(scores))]


# --- inputs -----------------------------------------------------------------------------------------------

@st.composite
def to_categorical_cases(draw):
    labels, num_classes = draw(class_labels())
    given = draw(st.sampled_from([None, num_classes, num_classes + draw(st.integers(1, 3))]))
    return Case((labels,), {} if given is None else {"num_classes": given})


def from_categorical_cases():
    return class_scores().map(lambda scores: Case((scores,)))


# --- checks used by the notebook --------------------------------------------------------------------------

def check_to_categorical(to_categorical, cases=None, max_examples=40):
    """Compare with keras.utils.to_categorical on drawn labels (or on the given Cases)."""
    name, reference = "to_categorical", "keras.utils.to_categorical"
    count = run_cases(
        lambda case: compare_once(to_categorical, keras_to_categorical, case, name=name, exact=True,
                                  mistakes_fn=to_categorical_mistakes, error_hint=to_categorical_error_hint),
        name=name, cases=cases, strategy=to_categorical_cases(), max_examples=max_examples)
    report_pass(name, reference, count)


BAD_LABELS = [
    (([0, -1, 2],), {}, "a label is negative"),
    (([0, 3, 1],), {"num_classes": 3}, "label 3 does not fit num_classes=3 (labels must be < num_classes)"),
    ((np.array([0.0, 1.5]),), {}, "1.5 is not a whole number"),
    (([0, 1],), {"num_classes": 0}, "num_classes must be at least 1"),
]


def check_to_categorical_rejects(to_categorical, bad_inputs=BAD_LABELS):
    """Each (args, kwargs, reason) in `bad_inputs` must raise ValueError with a message."""
    check_rejects(to_categorical, bad_inputs, name="to_categorical")


ROUND_TRIP_LABELS = np.array([3, 0, 2, 2, 1])
"""from_categorical(to_categorical(y)) must give y back: checked after the drawn (or given) scores."""


def check_from_categorical(from_categorical, cases=None, max_examples=30):
    """Compare with argmax over the class axis on drawn scores (or on the given Cases), then check the round trip
    from to_categorical."""
    name, reference = "from_categorical", "np.argmax(..., axis=-1)"

    def run_one(case):
        compare_once(from_categorical, keras_from_categorical, case, name=name, exact=True,
                     mistakes_fn=from_categorical_mistakes)

    count = run_cases(run_one, name=name, cases=cases, strategy=from_categorical_cases(), max_examples=max_examples)
    count += run_cases(run_one, name=name, cases=[Case((keras_to_categorical(ROUND_TRIP_LABELS),))])
    report_pass(name, reference, count)
