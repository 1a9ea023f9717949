"""Wrong answers for 02_dense_activations: one or two per exercise, each a mistake students really make.

A mistake in `dense` also breaks `predict_mlp` (which calls it), and a mistake in an activation breaks `dense`
or `predict_mlp` only when their drawn inputs reach it; the sets below were measured with
/work/scratch/try_02_wrong.py (the checks draw their inputs deterministically).
"""
from wrong_answers import WrongAnswer

ASSIGNMENT = "02_dense_activations"

PREDICT_MLP = frozenset({"predict_mlp_check", "predict_mlp_hidden", "predict_mlp_model"})

# A few per notebook: each one costs a full autograde run in the pipeline test.
WRONG_ANSWERS = [
    WrongAnswer("relu-greater-equal", "relu_answer",
                "np.where(x > threshold, x, 0.0)", "np.where(x >= threshold, x, 0.0)",
                frozenset({"relu_check", "relu_hidden"})),
    WrongAnswer("softmax-no-max", "softmax_answer",
                "shifted = x - x.max(axis=axis, keepdims=True)", "shifted = x",
                frozenset({"softmax_check", "softmax_hidden", "predict_mlp_check"})),
    WrongAnswer("dense-kernel-transposed", "dense_answer", "z = x @ kernel\n", "z = x @ kernel.T\n",
                frozenset({"dense_check", "dense_hidden"}) | PREDICT_MLP),
    WrongAnswer("predict-mlp-reversed-activations", "predict_mlp_answer",
                "zip(kernels, biases, activations)", "zip(kernels, biases, activations[::-1])",
                PREDICT_MLP),
]
