"""Wrong answers for 04_fit: rounding the split, dividing by sum(w), summing gradients, penalty not reported."""
from wrong_answers import WrongAnswer

ASSIGNMENT = "04_fit"

# A few per notebook: each one costs a full autograde run in the pipeline test.
WRONG_ANSWERS = [
    WrongAnswer("split-rounds", "split_validation_answer",
                "split_at = int(np.floor(len(x) * (1.0 - validation_split)))",
                "split_at = int(np.round(len(x) * (1.0 - validation_split)))",
                frozenset({"split_validation_check", "split_validation_hidden"})),
    WrongAnswer("reduce-by-sum-of-weights", "reduce_loss_answer",
                "return float(np.sum(values) / values.size)",
                "return float(np.sum(values) / (values.size if sample_weight is None else np.sum(sample_weight)))",
                frozenset({"reduce_loss_check", "reduce_loss_hidden", "fit_sample_weight_check", "fit_hidden"})),
    WrongAnswer("gradients-summed", "mlp_gradients_answer",
                "grad_z = np.asarray(grad_z, dtype=np.float64) / len(x)",
                "grad_z = np.asarray(grad_z, dtype=np.float64)",
                frozenset({"mlp_gradients_check", "mlp_gradients_hidden"})),
    WrongAnswer("penalty-not-reported", "fit_answer",
                "total += len(batch) * (reduce_loss(per_sample, wb) + penalty)",
                "total += len(batch) * reduce_loss(per_sample, wb)",
                frozenset({"fit_hidden"})),
]
