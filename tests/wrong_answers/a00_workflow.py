"""Wrong answers for 00_workflow."""
from wrong_answers import WrongAnswer

ASSIGNMENT = "00_workflow"

SEQUENTIAL = frozenset({"build_sequential_mlp_check", "build_sequential_mlp_hidden"})
FUNCTIONAL = frozenset({"build_functional_mlp_check", "build_functional_mlp_hidden"})
SGD = frozenset({"modern_sgd_check", "modern_sgd_hidden"})

# One or two per exercise: each one costs a full autograde run in the pipeline test.
WRONG_ANSWERS = [
    WrongAnswer("seq-relu-output", "build_sequential_mlp_answer",
                'model.add(keras.layers.Dense(num_classes, activation="softmax"))',
                'model.add(keras.layers.Dense(num_classes, activation="relu"))', SEQUENTIAL),
    WrongAnswer("func-not-chained", "build_functional_mlp_answer",
                "(x)\n    outputs", "(inputs)\n    outputs", FUNCTIONAL),
    WrongAnswer("sgd-decay-dropped", "modern_sgd_answer",
                "    if decay > 0:\n", "    if False:\n", SGD),
    WrongAnswer("sgd-int-momentum", "modern_sgd_answer",
                "momentum=float(momentum)", "momentum=momentum", frozenset({"modern_sgd_hidden"})),
]
