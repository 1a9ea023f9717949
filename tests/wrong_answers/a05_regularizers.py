"""Wrong answers for 05_regularizers."""
from wrong_answers import WrongAnswer

ASSIGNMENT = "05_regularizers"

WRONG_ANSWERS = [
        # The textbook ½·λ·Σw²; regularized_loss calls l1_l2_penalty -> l2_penalty, so it is wrong too.
        WrongAnswer("l2-with-half", "penalties_answer",
                    "return l2 * float(np.sum(", "return 0.5 * l2 * float(np.sum(",
                    frozenset({"penalties_check", "penalties_hidden",
                               "regularized_loss_check", "regularized_loss_hidden"})),
        WrongAnswer("rate-as-keep-probability", "dropout_answer",
                    "keep = rng.random(x.shape) >= rate", "keep = rng.random(x.shape) < rate",
                    frozenset({"dropout_check", "dropout_hidden"})),
        WrongAnswer("tie-is-improvement", "early_stopping_epoch_answer",
                    "value + delta < best", "value + delta <= best",
                    frozenset({"early_stopping_epoch_check", "early_stopping_epoch_hidden"})),
    ]
