"""Wrong answers for 08_lstm: small edits of the instructor's solution, and the test cells each must lose.

A wrong `lstm_step` also breaks `lstm`, `StatefulLSTM` and `predict_stacked_lstm`, which are built on it, so it
loses their cells too; the validation cells (`*_errors`) check arguments before any arithmetic and keep their
points.
"""
from wrong_answers import WrongAnswer

ASSIGNMENT = "08_lstm"

USES_LSTM_STEP = frozenset({"lstm_step_check", "lstm_step_hidden", "lstm_check", "lstm_hidden",
                            "predict_stacked_lstm_check", "predict_stacked_lstm_hidden",
                            "stateful_lstm_check", "stateful_lstm_hidden"})

# A few per notebook: each one costs a full autograde run in the pipeline test.
WRONG_ANSWERS = [
    WrongAnswer("embedding-row-minus-one", "embedding_answer",
                "return table[ids]", "return table[ids - 1]",
                frozenset({"embedding_check", "embedding_hidden"})),
    WrongAnswer("gate-order-ifoc", "lstm_step_answer",
                "    g = np.tanh(z[:, 2 * units:3 * units])\n    o = sigmoid(z[:, 3 * units:])",
                "    g = np.tanh(z[:, 3 * units:])\n    o = sigmoid(z[:, 2 * units:3 * units])",
                USES_LSTM_STEP),
    WrongAnswer("stateful-not-carried", "stateful_lstm_answer",
                "initial_state=(self.h, self.c))", "initial_state=None)",
                frozenset({"stateful_lstm_check", "stateful_lstm_hidden"})),
    WrongAnswer("stacked-no-softmax", "predict_stacked_lstm_answer",
                "return exps / exps.sum(axis=-1, keepdims=True)", "return logits",
                frozenset({"predict_stacked_lstm_check", "predict_stacked_lstm_hidden"})),
]
