"""Wrong answers for 01_to_categorical."""
from wrong_answers import WrongAnswer

ASSIGNMENT = "01_to_categorical"

WRONG_ANSWERS = [
        WrongAnswer("num-classes-is-max", "to_categorical_answer",
                    "num_classes = int(labels.max()) + 1", "num_classes = int(labels.max())",
                    frozenset({"to_categorical_check", "to_categorical_hidden"})),
        WrongAnswer("argmax-axis-0", "from_categorical_answer",
                    "np.argmax(scores, axis=-1)", "np.argmax(scores, axis=0)",
                    frozenset({"from_categorical_check", "from_categorical_hidden"})),
        WrongAnswer("no-negative-check", "to_categorical_answer",
                    "if (labels < 0).any():", "if False:",
                    frozenset({"to_categorical_errors"})),
    ]
