"""Wrong answers for 03_compile: the rules of the exercises' text, a mistake that breaks each, and right answers
written differently."""
from wrong_answers import RightAnswer, WrongAnswer

ASSIGNMENT = "03_compile"


def _cells(name):
    return frozenset({f"{name}_check", f"{name}_hidden"})


RULES = {
    # 2.1 categorical_crossentropy
    "categorical_crossentropy.renormalise": "from_logits=False: each row of y_pred is divided by its sum first",
    "categorical_crossentropy.clip": "then clipped to [1e-7, 1 - 1e-7]",
    "categorical_crossentropy.order": "renormalise, THEN clip (in this order)",
    "categorical_crossentropy.sum": "-sum of y_true * log(p) over the last axis (sum, not mean)",
    "categorical_crossentropy.last_axis": "y_true and y_pred of shape (..., C): the result has shape (...)",
    "categorical_crossentropy.soft_targets": "y_true: one-hot rows or any non-negative class weights (smoothed labels)",
    "categorical_crossentropy.from_logits": "from_logits=True: y_pred holds logits, log p = log softmax(x)",
    "categorical_crossentropy.logits_no_clip": "from_logits=True computes the loss without clipping",
    "categorical_crossentropy.stable": "log-softmax computed stably (z = x - max(x)): logits in the thousands",
    "categorical_crossentropy.default": "from_logits defaults to False",
    "categorical_crossentropy.shapes": "different shapes of y_true and y_pred raise ValueError",
    # 2.2 sparse_categorical_crossentropy
    "sparse_categorical_crossentropy.column": "labels of shape (..., 1) are squeezed first",
    "sparse_categorical_crossentropy.float_labels": "labels may be whole-valued floats",
    "sparse_categorical_crossentropy.clip": "probabilities are clipped to [1e-7, 1 - 1e-7]",
    "sparse_categorical_crossentropy.renormalise": "after clipping, each row is divided by its sum",
    "sparse_categorical_crossentropy.order": "clip first, THEN divide by the row sum",
    "sparse_categorical_crossentropy.from_logits": "from_logits=True: -log_softmax(x)[label], no clipping",
    "sparse_categorical_crossentropy.stable": "log-softmax computed stably: logits up to 3000",
    "sparse_categorical_crossentropy.batch_axes": "labels of shape (...), y_pred (..., C): the result has shape (...)",
    "sparse_categorical_crossentropy.default": "from_logits defaults to False",
    "sparse_categorical_crossentropy.shapes": "labels whose shape does not match y_pred.shape[:-1] raise ValueError",
    "sparse_categorical_crossentropy.too_large": "a label >= C raises ValueError",
    "sparse_categorical_crossentropy.negative": "a negative label raises ValueError",
    # 2.3 binary_crossentropy
    "binary_crossentropy.clip": "p is clipped to [1e-7, 1 - 1e-7]",
    "binary_crossentropy.mean": "the loss of a sample is the mean over the last axis",
    "binary_crossentropy.last_axis": "y_true, y_pred of shape (..., k): the result has shape (...)",
    "binary_crossentropy.soft_targets": "targets y in [0, 1]: -(y log p + (1 - y) log(1 - p))",
    "binary_crossentropy.from_logits": "from_logits=True: y_pred holds logits",
    "binary_crossentropy.stable": "logits: the stable form max(x, 0) - x y + log(1 + exp(-|x|))",
    "binary_crossentropy.logits_no_clip": "from_logits=True uses no clipping",
    "binary_crossentropy.default": "from_logits defaults to False",
    "binary_crossentropy.shapes": "different shapes raise ValueError",
    # 2.4 mean_squared_error and mean_absolute_error
    "mean_squared_error.formula": "the mean over the last axis of (y - y_hat) ** 2",
    "mean_squared_error.per_sample": "one loss per sample: shape (...)",
    "mean_squared_error.rank": "(n,) against (n, 1) gives n losses: a 1-D partner gets a trailing axis of size 1",
    "mean_squared_error.rank_either_way": "the rank adjustment works whichever of the two has the extra axis",
    "mean_squared_error.drop_extra_axis": "otherwise (not 1-D) the extra axis of size 1 is dropped",
    "mean_squared_error.shapes": "shapes that still differ raise ValueError",
    "mean_absolute_error.formula": "the mean over the last axis of |y - y_hat|",
    "mean_absolute_error.per_sample": "one loss per sample: shape (...)",
    "mean_absolute_error.rank": "(n,) against (n, 1) gives n losses: a 1-D partner gets a trailing axis of size 1",
    "mean_absolute_error.rank_either_way": "the rank adjustment works whichever of the two has the extra axis",
    "mean_absolute_error.drop_extra_axis": "otherwise (not 1-D) the extra axis of size 1 is dropped",
    "mean_absolute_error.shapes": "shapes that still differ raise ValueError",
    # 3.1 categorical_accuracy
    "categorical_accuracy.argmax": "1.0 where argmax(y_pred) == argmax(y_true), else 0.0",
    "categorical_accuracy.last_axis": "argmax over the last axis: shape (..., C) gives (...)",
    "categorical_accuracy.first_tie": "on ties argmax takes the first largest score",
    "categorical_accuracy.floats": "one float 0.0 or 1.0 per prediction",
    "categorical_accuracy.shapes": "different shapes raise ValueError",
    # 3.2 sparse_categorical_accuracy
    "sparse_categorical_accuracy.column": "labels of shape (..., 1) are accepted",
    "sparse_categorical_accuracy.result_shape": "the result has shape (...), one value per sample, also for (n, 1) "
                                                "labels",
    "sparse_categorical_accuracy.float_labels": "labels may be whole-valued floats",
    "sparse_categorical_accuracy.first_tie": "on ties argmax takes the first largest score",
    "sparse_categorical_accuracy.floats": "one float 0.0 or 1.0 per prediction",
    "sparse_categorical_accuracy.shapes": "labels that do not fit y_pred.shape[:-1] raise ValueError",
    # 3.3 binary_accuracy
    "binary_accuracy.strict": "a prediction counts as 1 only when STRICTLY greater than threshold",
    "binary_accuracy.threshold": "the threshold argument is the threshold",
    "binary_accuracy.default": "threshold defaults to 0.5",
    "binary_accuracy.per_element": "one value per element, with y_pred's shape (Keras 2 averaged over the last axis)",
    "binary_accuracy.rank": "(n,) against (n, 1), either way round, first becomes (n, 1) against (n, 1)",
    "binary_accuracy.floats": "one float 0.0 or 1.0 per prediction",
    "binary_accuracy.shapes": "shapes that still differ raise ValueError",
    # 4. optimizers: rules of every step function
    "optimizers.no_inplace": "return a new parameter array; do not change param in place",
    "optimizers.pair": "each step function returns (new_param, new_state)",
    "optimizers.grad_shape": "a grad whose shape differs from param's raises ValueError",
    # 4.1 sgd_step
    "sgd_step.plain": "with momentum 0: w <- w - learning_rate * g",
    "sgd_step.momentum": "m <- momentum * m - learning_rate * g, w <- w + m",
    "sgd_step.nesterov": "nesterov=True: w <- w + momentum * m - learning_rate * g, with the new m",
    "sgd_step.state": "the velocity starts at 0 and is carried from call to call",
    "sgd_step.defaults": "learning_rate=0.01, momentum=0.0, nesterov=False",
    "sgd_step.learning_rate": "learning_rate <= 0 raises ValueError",
    "sgd_step.momentum_range": "momentum outside [0, 1] raises ValueError (1 is allowed: Keras's own range)",
    # 4.2 rmsprop_step
    "rmsprop_step.average": "v <- rho * v + (1 - rho) * g ** 2, v starting at 0",
    "rmsprop_step.epsilon_inside": "w <- w - learning_rate * g / sqrt(v + epsilon): epsilon INSIDE the square root",
    "rmsprop_step.state": "v is carried from call to call",
    "rmsprop_step.defaults": "learning_rate=0.001, rho=0.9, epsilon=1e-7",
    "rmsprop_step.learning_rate": "learning_rate <= 0 raises ValueError",
    "rmsprop_step.rho_range": "rho outside [0, 1) raises ValueError",
    "rmsprop_step.epsilon_range": "epsilon < 0 raises ValueError; epsilon >= 0 is allowed",
    # 4.3 adam_step
    "adam_step.bias_correction": "the bias correction sqrt(1 - beta_2**t) / (1 - beta_1**t) folded into the step",
    "adam_step.keras_epsilon": "epsilon is added to sqrt(v) itself, not to the bias-corrected sqrt(v_hat)",
    "adam_step.epsilon_outside": "epsilon is added after the square root",
    "adam_step.step_count": "the steps are counted t = 1, 2, ...",
    "adam_step.state": "the state carries m, v and the step count t",
    "adam_step.defaults": "learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7",
    "adam_step.learning_rate": "learning_rate <= 0 raises ValueError",
    "adam_step.beta_range": "beta_1 or beta_2 outside [0, 1) raises ValueError",
    "adam_step.epsilon_range": "epsilon < 0 raises ValueError; epsilon >= 0 is allowed",
    # 4.4 adagrad_step
    "adagrad_step.initial_accumulator": "the sum of squared gradients starts at initial_accumulator_value",
    "adagrad_step.epsilon_inside": "w <- w - learning_rate * g / sqrt(a + epsilon): epsilon INSIDE the square root",
    "adagrad_step.state": "the sum of squared gradients is carried from call to call",
    "adagrad_step.defaults": "learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7",
    "adagrad_step.learning_rate": "learning_rate <= 0 raises ValueError",
    "adagrad_step.accumulator_range": "initial_accumulator_value < 0 raises ValueError; 0 is allowed",
    "adagrad_step.epsilon_range": "epsilon < 0 raises ValueError; epsilon >= 0 is allowed",
}

_SAME_SHAPE = "if y_true.shape != y_pred.shape:"
_LAST_AXIS_ONLY = "if y_true.shape[-1] != y_pred.shape[-1]:"
_STABLE = "z = y_pred - y_pred.max(axis=-1, keepdims=True)"
_LOG_SOFTMAX = "log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))"
_SOFTMAX_CLIPPED = "log_p = np.log(np.clip(np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True), 1e-7, 1 - 1e-7))"
_CCE_PROBABILITIES = ("p = y_pred / y_pred.sum(axis=-1, keepdims=True)\n"
                      "        log_p = np.log(np.clip(p, 1e-7, 1 - 1e-7))")
_SCCE_PROBABILITIES = ("p = np.clip(y_pred, 1e-7, 1 - 1e-7)\n"
                       "        log_p = np.log(p / p.sum(axis=-1, keepdims=True))")
_CCE_RETURN = "return -np.sum(y_true * log_p, axis=-1)"
_SCCE_RETURN = "return -np.take_along_axis(log_p, labels[..., None], axis=-1)[..., 0]"
_SQUEEZE = "    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:\n        labels = labels[..., 0]\n"
_BCE_STABLE = "elementwise = np.maximum(x, 0) - x * y_true + np.log1p(np.exp(-np.abs(x)))"
_BCE_PROBABILITIES = "elementwise = -(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))"
_RANK_RULE = """    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        if y_pred.ndim == 1:
            y_pred = y_pred[:, None]
        else:
            y_true = y_true[..., 0]
    elif y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        if y_true.ndim == 1:
            y_true = y_true[:, None]
        else:
            y_pred = y_pred[..., 0]
"""
_RANK_RULE_ONE_WAY = """    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        if y_pred.ndim == 1:
            y_pred = y_pred[:, None]
        else:
            y_true = y_true[..., 0]
"""
_RANK_RULE_1D_ONLY = """    if y_true.ndim == 1 and y_pred.ndim == 2 and y_pred.shape[-1] == 1:
        y_true = y_true[:, None]
    elif y_pred.ndim == 1 and y_true.ndim == 2 and y_true.shape[-1] == 1:
        y_pred = y_pred[:, None]
"""
_RANK_RULE_ALWAYS_DROP = """    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    elif y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        y_pred = y_pred[..., 0]
"""
_MSE = "return np.mean((y_true - y_pred) ** 2, axis=-1)"
_MAE = "return np.mean(np.abs(y_true - y_pred), axis=-1)"
_CACC = "return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float32)"
_SCACC = "return (np.argmax(y_pred, axis=-1) == labels).astype(np.float32)"
_BACC = "return ((y_pred > threshold) == y_true).astype(np.float32)"
_BACC_RANK = """    if y_true.ndim == 1 and y_pred.ndim == 2 and y_pred.shape[-1] == 1:
        y_true = y_true[:, None]
    elif y_pred.ndim == 1 and y_true.ndim == 2 and y_true.shape[-1] == 1:
        y_pred = y_pred[:, None]
"""
_GRAD_SHAPE = "if grad.shape != param.shape:"
_LR = "if learning_rate <= 0:"
_EPS = "if epsilon < 0:"
_SGD_VELOCITY = "velocity = momentum * velocity - learning_rate * grad"
_SGD_STATE = "velocity = np.zeros_like(param) if state is None else state"
_RMS_AVERAGE = "average = rho * average + (1 - rho) * grad ** 2"
_RMS_RETURN = "return param - learning_rate * grad / np.sqrt(average + epsilon), average"
_ADAM_STEP_SIZE = "step_size = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)"
_ADAM_RETURN = "return param - step_size * m / (np.sqrt(v) + epsilon), (m, v, t)"
_ADAGRAD_RETURN = "return param - learning_rate * grad / np.sqrt(accumulator + epsilon), accumulator"

WRONG_ANSWERS = [
    # --- categorical_crossentropy
    WrongAnswer("cce-no-renormalising", "categorical_crossentropy_answer",
                "p = y_pred / y_pred.sum(axis=-1, keepdims=True)", "p = y_pred",
                rule="categorical_crossentropy.renormalise"),
    WrongAnswer("cce-no-clipping", "categorical_crossentropy_answer",
                "log_p = np.log(np.clip(p, 1e-7, 1 - 1e-7))", "log_p = np.log(p)",
                rule="categorical_crossentropy.clip"),
    WrongAnswer("cce-clip-then-renormalise", "categorical_crossentropy_answer", _CCE_PROBABILITIES,
                _SCCE_PROBABILITIES, rule="categorical_crossentropy.order"),
    WrongAnswer("cce-mean-over-classes", "categorical_crossentropy_answer", _CCE_RETURN,
                "return -np.mean(y_true * log_p, axis=-1)", rule="categorical_crossentropy.sum"),
    WrongAnswer("cce-sum-over-axis-1", "categorical_crossentropy_answer", _CCE_RETURN,
                "return -np.sum(y_true * log_p, axis=1)", rule="categorical_crossentropy.last_axis"),
    WrongAnswer("cce-picks-the-argmax-class", "categorical_crossentropy_answer", _CCE_RETURN,
                "return -np.take_along_axis(log_p, np.argmax(y_true, axis=-1)[..., None], axis=-1)[..., 0]",
                rule="categorical_crossentropy.soft_targets"),
    WrongAnswer("cce-from-logits-ignored", "categorical_crossentropy_answer", "    if from_logits:\n",
                "    if False:\n", rule="categorical_crossentropy.from_logits"),
    WrongAnswer("cce-logits-clipped", "categorical_crossentropy_answer", _LOG_SOFTMAX, _SOFTMAX_CLIPPED,
                rule="categorical_crossentropy.logits_no_clip"),
    WrongAnswer("cce-naive-softmax", "categorical_crossentropy_answer", _STABLE, "z = y_pred",
                rule="categorical_crossentropy.stable"),
    WrongAnswer("cce-logits-by-default", "categorical_crossentropy_answer",
                "def categorical_crossentropy(y_true, y_pred, from_logits=False):",
                "def categorical_crossentropy(y_true, y_pred, from_logits=True):",
                rule="categorical_crossentropy.default"),
    WrongAnswer("cce-checks-classes-only", "categorical_crossentropy_answer", _SAME_SHAPE, _LAST_AXIS_ONLY,
                rule="categorical_crossentropy.shapes"),
    # --- sparse_categorical_crossentropy
    WrongAnswer("scce-column-not-squeezed", "sparse_categorical_crossentropy_answer", _SQUEEZE, "",
                rule="sparse_categorical_crossentropy.column"),
    WrongAnswer("scce-float-labels-as-index", "sparse_categorical_crossentropy_answer",
                "    labels = labels.astype(np.int64)\n", "", rule="sparse_categorical_crossentropy.float_labels"),
    WrongAnswer("scce-no-clipping", "sparse_categorical_crossentropy_answer",
                "p = np.clip(y_pred, 1e-7, 1 - 1e-7)", "p = y_pred", rule="sparse_categorical_crossentropy.clip"),
    WrongAnswer("scce-no-renormalising", "sparse_categorical_crossentropy_answer",
                "log_p = np.log(p / p.sum(axis=-1, keepdims=True))", "log_p = np.log(p)",
                rule="sparse_categorical_crossentropy.renormalise"),
    WrongAnswer("scce-renormalise-then-clip", "sparse_categorical_crossentropy_answer", _SCCE_PROBABILITIES,
                _CCE_PROBABILITIES, rule="sparse_categorical_crossentropy.order"),
    WrongAnswer("scce-logits-clipped", "sparse_categorical_crossentropy_answer", _LOG_SOFTMAX, _SOFTMAX_CLIPPED,
                rule="sparse_categorical_crossentropy.from_logits"),
    WrongAnswer("scce-naive-softmax", "sparse_categorical_crossentropy_answer", _STABLE, "z = y_pred",
                rule="sparse_categorical_crossentropy.stable"),
    WrongAnswer("scce-rows-by-arange", "sparse_categorical_crossentropy_answer", _SCCE_RETURN,
                "return -log_p[np.arange(len(labels)), labels]", rule="sparse_categorical_crossentropy.batch_axes"),
    WrongAnswer("scce-logits-by-default", "sparse_categorical_crossentropy_answer",
                "def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):",
                "def sparse_categorical_crossentropy(y_true, y_pred, from_logits=True):",
                rule="sparse_categorical_crossentropy.default"),
    WrongAnswer("scce-checks-rows-only", "sparse_categorical_crossentropy_answer",
                "if labels.shape != y_pred.shape[:-1]:", "if labels.shape[0] != y_pred.shape[0]:",
                rule="sparse_categorical_crossentropy.shapes"),
    WrongAnswer("scce-label-c-accepted", "sparse_categorical_crossentropy_answer",
                "labels.max() >= num_classes", "labels.max() > num_classes",
                rule="sparse_categorical_crossentropy.too_large"),
    WrongAnswer("scce-negative-label-accepted", "sparse_categorical_crossentropy_answer",
                "(labels.min() < 0 or labels.max() >= num_classes)", "labels.max() >= num_classes",
                rule="sparse_categorical_crossentropy.negative"),
    # --- binary_crossentropy
    WrongAnswer("bce-no-clipping", "binary_crossentropy_answer",
                "p = np.clip(y_pred, 1e-7, 1 - 1e-7)", "p = y_pred",
                _cells("binary_crossentropy"), rule="binary_crossentropy.clip",
                mistakes=frozenset({"you-do-not-clip-the-probabilities-to-1e"})),
    WrongAnswer("bce-sum-over-outputs", "binary_crossentropy_answer", "return np.mean(elementwise, axis=-1)",
                "return np.sum(elementwise, axis=-1)", rule="binary_crossentropy.mean"),
    WrongAnswer("bce-mean-over-axis-1", "binary_crossentropy_answer", "return np.mean(elementwise, axis=-1)",
                "return np.mean(elementwise, axis=1)", rule="binary_crossentropy.last_axis"),
    WrongAnswer("bce-hard-targets-only", "binary_crossentropy_answer", _BCE_PROBABILITIES,
                "elementwise = -np.where(y_true > 0.5, np.log(p), np.log(1 - p))",
                rule="binary_crossentropy.soft_targets"),
    WrongAnswer("bce-from-logits-ignored", "binary_crossentropy_answer", "    if from_logits:\n",
                "    if False:\n", rule="binary_crossentropy.from_logits"),
    WrongAnswer("bce-naive-sigmoid", "binary_crossentropy_answer", _BCE_STABLE,
                "s = 1 / (1 + np.exp(-x))\n"
                "        elementwise = -(y_true * np.log(s) + (1 - y_true) * np.log(1 - s))",
                rule="binary_crossentropy.stable"),
    WrongAnswer("bce-logits-clipped", "binary_crossentropy_answer", _BCE_STABLE,
                "s = np.clip(1 / (1 + np.exp(-x)), 1e-7, 1 - 1e-7)\n"
                "        elementwise = -(y_true * np.log(s) + (1 - y_true) * np.log(1 - s))",
                rule="binary_crossentropy.logits_no_clip"),
    WrongAnswer("bce-logits-by-default", "binary_crossentropy_answer",
                "def binary_crossentropy(y_true, y_pred, from_logits=False):",
                "def binary_crossentropy(y_true, y_pred, from_logits=True):", rule="binary_crossentropy.default"),
    WrongAnswer("bce-checks-outputs-only", "binary_crossentropy_answer", _SAME_SHAPE, _LAST_AXIS_ONLY,
                rule="binary_crossentropy.shapes"),
    # --- mean_squared_error
    WrongAnswer("mse-root", "mean_squared_error_answer", _MSE,
                "return np.sqrt(np.mean((y_true - y_pred) ** 2, axis=-1))",
                rule="mean_squared_error.formula"),
    WrongAnswer("mse-one-number", "mean_squared_error_answer", _MSE, "return np.mean((y_true - y_pred) ** 2)",
                rule="mean_squared_error.per_sample"),
    WrongAnswer("mse-no-rank-rule", "mean_squared_error_answer", _RANK_RULE, "",
                rule="mean_squared_error.rank"),
    WrongAnswer("mse-rank-rule-one-way", "mean_squared_error_answer", _RANK_RULE, _RANK_RULE_ONE_WAY,
                rule="mean_squared_error.rank_either_way"),
    WrongAnswer("mse-rank-rule-1d-only", "mean_squared_error_answer", _RANK_RULE, _RANK_RULE_1D_ONLY,
                rule="mean_squared_error.drop_extra_axis"),
    WrongAnswer("mse-rank-rule-always-drops", "mean_squared_error_answer", _RANK_RULE, _RANK_RULE_ALWAYS_DROP,
                rule="mean_squared_error.rank"),
    WrongAnswer("mse-checks-last-axis-only", "mean_squared_error_answer", _SAME_SHAPE, _LAST_AXIS_ONLY,
                rule="mean_squared_error.shapes"),
    # --- mean_absolute_error
    WrongAnswer("mae-no-abs", "mean_absolute_error_answer", _MAE, "return np.mean(y_true - y_pred, axis=-1)",
                rule="mean_absolute_error.formula"),
    WrongAnswer("mae-one-number", "mean_absolute_error_answer", _MAE, "return np.mean(np.abs(y_true - y_pred))",
                rule="mean_absolute_error.per_sample"),
    WrongAnswer("mae-no-rank-rule", "mean_absolute_error_answer", _RANK_RULE, "",
                rule="mean_absolute_error.rank"),
    WrongAnswer("mae-rank-rule-one-way", "mean_absolute_error_answer", _RANK_RULE, _RANK_RULE_ONE_WAY,
                rule="mean_absolute_error.rank_either_way"),
    WrongAnswer("mae-rank-rule-1d-only", "mean_absolute_error_answer", _RANK_RULE, _RANK_RULE_1D_ONLY,
                rule="mean_absolute_error.drop_extra_axis"),
    WrongAnswer("mae-checks-last-axis-only", "mean_absolute_error_answer", _SAME_SHAPE, _LAST_AXIS_ONLY,
                rule="mean_absolute_error.shapes"),
    # --- categorical_accuracy
    WrongAnswer("cacc-rounded-equal", "categorical_accuracy_answer", _CACC,
                "return np.all(np.round(y_pred) == y_true, axis=-1).astype(np.float32)",
                rule="categorical_accuracy.argmax"),
    WrongAnswer("cacc-argmax-axis-1", "categorical_accuracy_answer", _CACC,
                "return (np.argmax(y_true, axis=1) == np.argmax(y_pred, axis=1)).astype(np.float32)",
                rule="categorical_accuracy.last_axis"),
    WrongAnswer("cacc-any-tie-counts", "categorical_accuracy_answer", _CACC,
                "true_class = np.argmax(y_true, axis=-1)[..., None]\n"
                "    return (np.take_along_axis(y_pred, true_class, axis=-1)[..., 0] == y_pred.max(axis=-1))"
                ".astype(np.float32)", rule="categorical_accuracy.first_tie"),
    WrongAnswer("cacc-bools", "categorical_accuracy_answer", _CACC,
                "return np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)", rule="categorical_accuracy.floats"),
    WrongAnswer("cacc-checks-classes-only", "categorical_accuracy_answer", _SAME_SHAPE, _LAST_AXIS_ONLY,
                rule="categorical_accuracy.shapes"),
    # --- sparse_categorical_accuracy
    WrongAnswer("scacc-column-not-squeezed", "sparse_categorical_accuracy_answer", _SQUEEZE, "",
                rule="sparse_categorical_accuracy.column"),
    WrongAnswer("scacc-labels-shape", "sparse_categorical_accuracy_answer", _SCACC,
                "return (np.argmax(y_pred, axis=-1) == labels).astype(np.float32).reshape(np.shape(y_true))",
                rule="sparse_categorical_accuracy.result_shape"),
    WrongAnswer("scacc-one-hot-the-labels", "sparse_categorical_accuracy_answer", _SCACC,
                "one_hot = np.eye(y_pred.shape[-1])[labels]\n"
                "    return (np.argmax(one_hot, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float32)",
                rule="sparse_categorical_accuracy.float_labels"),
    WrongAnswer("scacc-any-tie-counts", "sparse_categorical_accuracy_answer", _SCACC,
                "picked = np.take_along_axis(y_pred, labels.astype(np.int64)[..., None], axis=-1)[..., 0]\n"
                "    return (picked == y_pred.max(axis=-1)).astype(np.float32)",
                rule="sparse_categorical_accuracy.first_tie"),
    WrongAnswer("scacc-bools", "sparse_categorical_accuracy_answer", _SCACC,
                "return np.argmax(y_pred, axis=-1) == labels", rule="sparse_categorical_accuracy.floats"),
    WrongAnswer("scacc-no-shape-check", "sparse_categorical_accuracy_answer", "if labels.shape != y_pred.shape[:-1]:",
                "if False:", rule="sparse_categorical_accuracy.shapes"),
    # --- binary_accuracy
    WrongAnswer("bacc-greater-equal", "binary_accuracy_answer",
                "return ((y_pred > threshold) == y_true)", "return ((y_pred >= threshold) == y_true)",
                _cells("binary_accuracy"), rule="binary_accuracy.strict",
                mistakes=frozenset({"you-count-y-pred-threshold-as-1-keras"})),
    WrongAnswer("bacc-fixed-half", "binary_accuracy_answer", _BACC,
                "return ((y_pred > 0.5) == y_true).astype(np.float32)", rule="binary_accuracy.threshold"),
    WrongAnswer("bacc-default-zero", "binary_accuracy_answer", "def binary_accuracy(y_true, y_pred, threshold=0.5):",
                "def binary_accuracy(y_true, y_pred, threshold=0.0):", rule="binary_accuracy.default"),
    WrongAnswer("bacc-keras-2-mean", "binary_accuracy_answer", _BACC,
                "return np.mean((y_pred > threshold) == y_true, axis=-1).astype(np.float32)",
                rule="binary_accuracy.per_element"),
    WrongAnswer("bacc-no-rank-rule", "binary_accuracy_answer", _BACC_RANK, "", rule="binary_accuracy.rank"),
    WrongAnswer("bacc-rank-rule-one-way", "binary_accuracy_answer", _BACC_RANK,
                "    if y_true.ndim == 1 and y_pred.ndim == 2 and y_pred.shape[-1] == 1:\n"
                "        y_true = y_true[:, None]\n", rule="binary_accuracy.rank"),
    WrongAnswer("bacc-bools", "binary_accuracy_answer", _BACC, "return (y_pred > threshold) == y_true",
                rule="binary_accuracy.floats"),
    WrongAnswer("bacc-checks-outputs-only", "binary_accuracy_answer", _SAME_SHAPE, _LAST_AXIS_ONLY,
                rule="binary_accuracy.shapes"),
    # --- sgd_step
    WrongAnswer("sgd-uphill", "sgd_step_answer", _SGD_VELOCITY, "velocity = momentum * velocity + learning_rate * grad",
                rule="sgd_step.plain"),
    WrongAnswer("sgd-momentum-sign", "sgd_step_answer", _SGD_VELOCITY,
                "velocity = -momentum * velocity - learning_rate * grad",
                _cells("sgd_step"), rule="sgd_step.momentum",
                mistakes=frozenset({"the-momentum-term-has-the-wrong-sign-velocity"})),
    WrongAnswer("sgd-old-velocity", "sgd_step_answer",
                "        new_param = param + velocity\n",
                "        new_param = param + (np.zeros_like(param) if state is None else state)\n",
                rule="sgd_step.momentum"),
    WrongAnswer("sgd-nesterov-ignored", "sgd_step_answer", "    if nesterov:\n", "    if False:\n",
                rule="sgd_step.nesterov"),
    WrongAnswer("sgd-nesterov-no-gradient-term", "sgd_step_answer",
                "new_param = param + momentum * velocity - learning_rate * grad",
                "new_param = param + momentum * velocity", rule="sgd_step.nesterov"),
    WrongAnswer("sgd-state-not-used", "sgd_step_answer", _SGD_STATE, "velocity = np.zeros_like(param)",
                rule="sgd_step.state"),
    WrongAnswer("sgd-default-lr-0.001", "sgd_step_answer", "learning_rate=0.01, momentum=0.0",
                "learning_rate=0.001, momentum=0.0", rule="sgd_step.defaults"),
    WrongAnswer("sgd-default-momentum", "sgd_step_answer", "learning_rate=0.01, momentum=0.0",
                "learning_rate=0.01, momentum=0.9", rule="sgd_step.defaults"),
    WrongAnswer("sgd-zero-lr-accepted", "sgd_step_answer", _LR, "if learning_rate < 0:",
                rule="sgd_step.learning_rate"),
    WrongAnswer("sgd-momentum-1-rejected", "sgd_step_answer", "if not 0 <= momentum <= 1:",
                "if not 0 <= momentum < 1:", rule="sgd_step.momentum_range"),
    WrongAnswer("sgd-momentum-above-1-accepted", "sgd_step_answer", "if not 0 <= momentum <= 1:",
                "if momentum < 0:", rule="sgd_step.momentum_range"),
    WrongAnswer("sgd-no-grad-shape-check", "sgd_step_answer", _GRAD_SHAPE, "if grad.ndim != param.ndim:",
                rule="optimizers.grad_shape"),
    WrongAnswer("sgd-in-place", "sgd_step_answer", "        new_param = param + velocity\n",
                "        param += velocity\n        new_param = param\n", rule="optimizers.no_inplace"),
    WrongAnswer("sgd-returns-param-only", "sgd_step_answer", "return new_param, velocity", "return new_param",
                rule="optimizers.pair"),
    # --- rmsprop_step
    WrongAnswer("rmsprop-rho-swapped", "rmsprop_step_answer", _RMS_AVERAGE,
                "average = (1 - rho) * average + rho * grad ** 2", rule="rmsprop_step.average"),
    WrongAnswer("rmsprop-starts-at-g2", "rmsprop_step_answer",
                "average = np.zeros_like(param) if state is None else state\n"
                "    " + _RMS_AVERAGE,
                "average = grad ** 2 if state is None else rho * state + (1 - rho) * grad ** 2",
                rule="rmsprop_step.average"),
    WrongAnswer("rmsprop-eps-outside", "rmsprop_step_answer", _RMS_RETURN,
                "return param - learning_rate * grad / (np.sqrt(average) + epsilon), average",
                rule="rmsprop_step.epsilon_inside"),
    WrongAnswer("rmsprop-state-not-used", "rmsprop_step_answer",
                "average = np.zeros_like(param) if state is None else state", "average = np.zeros_like(param)",
                rule="rmsprop_step.state"),
    WrongAnswer("rmsprop-default-eps-1e-8", "rmsprop_step_answer", "rho=0.9, epsilon=1e-7", "rho=0.9, epsilon=1e-8",
                rule="rmsprop_step.defaults"),
    WrongAnswer("rmsprop-default-rho-0.99", "rmsprop_step_answer", "rho=0.9, epsilon=1e-7", "rho=0.99, epsilon=1e-7",
                rule="rmsprop_step.defaults"),
    WrongAnswer("rmsprop-zero-lr-accepted", "rmsprop_step_answer", _LR, "if learning_rate < 0:",
                rule="rmsprop_step.learning_rate"),
    WrongAnswer("rmsprop-rho-1-accepted", "rmsprop_step_answer", "if not 0 <= rho < 1:", "if not 0 <= rho <= 1:",
                rule="rmsprop_step.rho_range"),
    WrongAnswer("rmsprop-rho-0-rejected", "rmsprop_step_answer", "if not 0 <= rho < 1:", "if not 0 < rho < 1:",
                rule="rmsprop_step.rho_range"),
    WrongAnswer("rmsprop-negative-eps-accepted", "rmsprop_step_answer", _EPS, "if False:",
                rule="rmsprop_step.epsilon_range"),
    WrongAnswer("rmsprop-zero-eps-rejected", "rmsprop_step_answer", _EPS, "if epsilon <= 0:",
                rule="rmsprop_step.epsilon_range"),
    WrongAnswer("rmsprop-no-grad-shape-check", "rmsprop_step_answer", _GRAD_SHAPE, "if grad.size != param.size:",
                rule="optimizers.grad_shape"),
    # --- adam_step
    WrongAnswer("adam-no-bias-correction", "adam_step_answer", _ADAM_STEP_SIZE, "step_size = learning_rate",
                _cells("adam_step"), rule="adam_step.bias_correction",
                mistakes=frozenset({"there-is-no-bias-correction-lr-m-sqrt"})),
    WrongAnswer("adam-paper-epsilon", "adam_step_answer", _ADAM_RETURN,
                "m_hat, v_hat = m / (1 - beta_1 ** t), v / (1 - beta_2 ** t)\n"
                "    return param - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon), (m, v, t)",
                rule="adam_step.keras_epsilon"),
    WrongAnswer("adam-eps-inside", "adam_step_answer", _ADAM_RETURN,
                "return param - step_size * m / np.sqrt(v + epsilon), (m, v, t)", rule="adam_step.epsilon_outside"),
    WrongAnswer("adam-t-from-0", "adam_step_answer", _ADAM_STEP_SIZE,
                "step_size = learning_rate * np.sqrt(1 - beta_2 ** (t - 1)) / (1 - beta_1 ** (t - 1))",
                rule="adam_step.step_count"),
    WrongAnswer("adam-t-not-advanced", "adam_step_answer", "    t = t + 1\n", "    t = 1\n",
                rule="adam_step.step_count"),
    WrongAnswer("adam-state-not-used", "adam_step_answer",
                "m, v, t = (np.zeros_like(param), np.zeros_like(param), 0) if state is None else state",
                "m, v, t = np.zeros_like(param), np.zeros_like(param), 0", rule="adam_step.state"),
    WrongAnswer("adam-betas-swapped", "adam_step_answer",
                "m = beta_1 * m + (1 - beta_1) * grad\n    v = beta_2 * v + (1 - beta_2) * grad ** 2",
                "m = beta_2 * m + (1 - beta_2) * grad\n    v = beta_1 * v + (1 - beta_1) * grad ** 2",
                rule="adam_step.bias_correction"),
    WrongAnswer("adam-default-eps-1e-8", "adam_step_answer", "beta_2=0.999, epsilon=1e-7", "beta_2=0.999, epsilon=1e-8",
                rule="adam_step.defaults"),
    WrongAnswer("adam-zero-lr-accepted", "adam_step_answer", _LR, "if learning_rate < 0:",
                rule="adam_step.learning_rate"),
    WrongAnswer("adam-beta-1-unchecked", "adam_step_answer", '(("beta_1", beta_1), ("beta_2", beta_2))',
                '(("beta_2", beta_2),)', rule="adam_step.beta_range"),
    WrongAnswer("adam-beta-0-rejected", "adam_step_answer", "if not 0 <= beta < 1:", "if not 0 < beta < 1:",
                rule="adam_step.beta_range"),
    WrongAnswer("adam-negative-eps-accepted", "adam_step_answer", _EPS, "if False:", rule="adam_step.epsilon_range"),
    WrongAnswer("adam-zero-eps-rejected", "adam_step_answer", _EPS, "if epsilon <= 0:",
                rule="adam_step.epsilon_range"),
    WrongAnswer("adam-in-place", "adam_step_answer", _ADAM_RETURN,
                "param -= step_size * m / (np.sqrt(v) + epsilon)\n    return param, (m, v, t)",
                rule="optimizers.no_inplace"),
    # --- adagrad_step
    WrongAnswer("adagrad-starts-at-0", "adagrad_step_answer",
                "accumulator = np.full_like(param, initial_accumulator_value) if state is None else state",
                "accumulator = np.zeros_like(param) if state is None else state",
                rule="adagrad_step.initial_accumulator"),
    WrongAnswer("adagrad-eps-outside", "adagrad_step_answer", _ADAGRAD_RETURN,
                "return param - learning_rate * grad / (np.sqrt(accumulator) + epsilon), accumulator",
                rule="adagrad_step.epsilon_inside"),
    WrongAnswer("adagrad-state-not-used", "adagrad_step_answer",
                "np.full_like(param, initial_accumulator_value) if state is None else state",
                "np.full_like(param, initial_accumulator_value)", rule="adagrad_step.state"),
    WrongAnswer("adagrad-default-start-0", "adagrad_step_answer", "initial_accumulator_value=0.1, epsilon=1e-7",
                "initial_accumulator_value=0.0, epsilon=1e-7", rule="adagrad_step.defaults"),
    WrongAnswer("adagrad-default-lr-0.01", "adagrad_step_answer", "learning_rate=0.001, initial",
                "learning_rate=0.01, initial", rule="adagrad_step.defaults"),
    WrongAnswer("adagrad-zero-lr-accepted", "adagrad_step_answer", _LR, "if learning_rate < 0:",
                rule="adagrad_step.learning_rate"),
    WrongAnswer("adagrad-negative-start-accepted", "adagrad_step_answer", "if initial_accumulator_value < 0:",
                "if False:", rule="adagrad_step.accumulator_range"),
    WrongAnswer("adagrad-zero-start-rejected", "adagrad_step_answer", "if initial_accumulator_value < 0:",
                "if initial_accumulator_value <= 0:", rule="adagrad_step.accumulator_range"),
    WrongAnswer("adagrad-negative-eps-accepted", "adagrad_step_answer", _EPS, "if False:",
                rule="adagrad_step.epsilon_range"),
    WrongAnswer("adagrad-zero-eps-rejected", "adagrad_step_answer", _EPS, "if epsilon <= 0:",
                rule="adagrad_step.epsilon_range"),
    WrongAnswer("adagrad-no-grad-shape-check", "adagrad_step_answer", _GRAD_SHAPE, "if False:",
                rule="optimizers.grad_shape"),
]

RIGHT_ANSWERS = [
    RightAnswer("cce-logsumexp-by-loop", "categorical_crossentropy_answer", _LOG_SOFTMAX,
                "log_p = np.empty_like(z)\n"
                "        for index in np.ndindex(z.shape[:-1]):\n"
                "            row = z[index]\n"
                "            log_p[index] = row - np.log(np.sum(np.exp(row)))"),
    RightAnswer("bce-logaddexp", "binary_crossentropy_answer", _BCE_STABLE,
                "elementwise = np.logaddexp(0, x) - x * y_true"),
    RightAnswer("mse-einsum", "mean_squared_error_answer", _MSE,
                "d = y_true - y_pred\n    return np.einsum('...i,...i->...', d, d) / d.shape[-1]"),
    RightAnswer("sgd-classic-momentum-form", "sgd_step_answer",
                "    velocity = np.zeros_like(param) if state is None else state\n"
                "    velocity = momentum * velocity - learning_rate * grad\n"
                "    if nesterov:\n"
                "        new_param = param + momentum * velocity - learning_rate * grad\n"
                "    else:\n"
                "        new_param = param + velocity\n"
                "    return new_param, velocity\n",
                "    v = np.zeros_like(param) if state is None else state\n"
                "    v = momentum * v + grad\n"
                "    step = momentum * v + grad if nesterov else v\n"
                "    return param - learning_rate * step, v\n"),
    RightAnswer("adam-hat-form-scaled-epsilon", "adam_step_answer", _ADAM_RETURN,
                "m_hat, v_hat = m / (1 - beta_1 ** t), v / (1 - beta_2 ** t)\n"
                "    eps_hat = epsilon / np.sqrt(1 - beta_2 ** t)\n"
                "    return param - learning_rate * m_hat / (np.sqrt(v_hat) + eps_hat), (m, v, t)"),
    RightAnswer("adagrad-dict-state", "adagrad_step_answer",
                "    accumulator = np.full_like(param, initial_accumulator_value) if state is None else state\n"
                "    accumulator = accumulator + grad ** 2\n"
                "    return param - learning_rate * grad / np.sqrt(accumulator + epsilon), accumulator\n",
                "    if state is None:\n"
                "        state = {\"sum\": np.full(param.shape, float(initial_accumulator_value))}\n"
                "    state[\"sum\"] = state[\"sum\"] + grad * grad\n"
                "    return param - learning_rate * grad * (state[\"sum\"] + epsilon) ** -0.5, state\n"),
]
