"""Wrong answers for 03_compile: one per exercise (two for Adam), each a mistake the checks name."""
from wrong_answers import WrongAnswer

ASSIGNMENT = "03_compile"


def _cells(name):
    return frozenset({f"{name}_check", f"{name}_hidden"})


# A few per notebook: each one costs a full autograde run in the pipeline test.
WRONG_ANSWERS = [
    WrongAnswer("bce-no-clipping", "binary_crossentropy_answer",
                "p = np.clip(y_pred, 1e-7, 1 - 1e-7)", "p = y_pred",
                _cells("binary_crossentropy")),
    WrongAnswer("bacc-greater-equal", "binary_accuracy_answer",
                "return ((y_pred > threshold) == y_true)", "return ((y_pred >= threshold) == y_true)",
                _cells("binary_accuracy")),
    WrongAnswer("sgd-momentum-sign", "sgd_step_answer",
                "velocity = momentum * velocity - learning_rate * grad",
                "velocity = -momentum * velocity - learning_rate * grad",
                _cells("sgd_step")),
    WrongAnswer("adam-no-bias-correction", "adam_step_answer",
                "step_size = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)",
                "step_size = learning_rate",
                _cells("adam_step")),
]
