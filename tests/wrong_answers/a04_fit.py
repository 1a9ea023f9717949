"""Wrong answers for 04_fit, the rules of its text they break, and right answers written differently."""
from wrong_answers import RightAnswer, WrongAnswer

ASSIGNMENT = "04_fit"

RULES = {
    # split_validation
    "split_validation.last_rows": "it is the LAST rows that are held out",
    "split_validation.floor": "Keras keeps the first floor(n * (1 - v)) rows for training and validates on the rest",
    "split_validation.order": "returning (x_train, y_train, x_val, y_val)",
    "split_validation.shapes": "x: array (n, ...), y: array (n, ...); the parts are rows of x and y as they are",
    "split_validation.length_mismatch": "raise ValueError when x and y have different numbers of samples",
    "split_validation.split_at_least_1": "raise ValueError when validation_split is not in [0, 1) (1 or more)",
    "split_validation.split_negative": "raise ValueError when validation_split is not in [0, 1) (negative)",
    "split_validation.empty_validation": "raise ValueError, as Keras does, when the validation part would be empty",
    "split_validation.empty_training": "raise ValueError, as Keras does, when the training part would be empty",
    # batch_indices
    "batch_indices.consecutive": "cuts the sample indices 0 ... n-1 into consecutive batches of batch_size",
    "batch_indices.last_partial": "the last batch holds what is left (nothing is dropped)",
    "batch_indices.default_batch_size": "batch_indices(n, batch_size=32, ...): 32 by default",
    "batch_indices.integers": "returning a list of integer index arrays",
    "batch_indices.shuffle": "with shuffle=True the indices are permuted first, and the batches cut from that order",
    "batch_indices.every_index_once": "together they hold every index 0..n-1 once (also when shuffled)",
    "batch_indices.rng": "draw the permutation from rng, so that a seeded rng gives reproducible batches",
    "batch_indices.new_order_each_call": "a new permutation every epoch (a new order each call)",
    "batch_indices.rng_none": "rng None: a new unseeded one",
    # class_weight_to_sample_weight
    "class_weight_to_sample_weight.one_hot": "a sample's class is the argmax of a one-hot row",
    "class_weight_to_sample_weight.column": "a sample's class is the value of a label column (n, 1)",
    "class_weight_to_sample_weight.labels": "a sample's class is the label itself (n,)",
    "class_weight_to_sample_weight.missing_is_one": "uses 1.0 for classes the dict does not mention",
    "class_weight_to_sample_weight.float32": "the result is a float32 array",
    "class_weight_to_sample_weight.shape": "the result has shape (n,)",
    "class_weight_to_sample_weight.unknown_class": "raise ValueError for a class_weight naming a class that cannot "
                                                   "occur (class 7 with 3 one-hot columns)",
    "class_weight_to_sample_weight.negative_class": "raise ValueError for a negative class",
    # reduce_loss
    "reduce_loss.mean": "L_batch = (1/n) sum_i w_i L_i with w_i = 1 when there are no sample weights",
    "reduce_loss.weights": "the per-sample losses are multiplied by their sample weights",
    "reduce_loss.divide_by_n": "the denominator is the number of samples, not sum_i w_i",
    "reduce_loss.float": "returning a float",
    # mlp_gradients
    "mlp_gradients.mean": "the batch loss is the MEAN of the per-sample losses: backpropagate from grad_logits / n",
    "mlp_gradients.kernel": "kernel gradient h_in.T @ g",
    "mlp_gradients.bias": "bias gradient g.sum(axis=0)",
    "mlp_gradients.derivative": "g_prev = (g @ kernel.T) * DERIVATIVE[activation](z_prev)",
    "mlp_gradients.penalty": "add the penalty gradients from regularization(loss, weights)",
    "mlp_gradients.order": "one gradient per weight, in get_weights() order, the same shapes as weights",
    # fit
    "fit.epochs": "for each epoch from initial_epoch to epochs - 1 (epochs - initial_epoch epochs run)",
    "fit.one_optimizer": "the optimizer starts fresh at step 0: one optimizer for the whole run, one step per batch",
    "fit.split_before_shuffle": "validation_split holds out the last rows before any shuffling",
    "fit.validation_data_wins": "validation_data wins over validation_split",
    "fit.sample_weight_split": "sample_weight is split along with x and y",
    "fit.class_weight": "turn class_weight into sample weights of the training rows",
    "fit.loss_before_update": "record the batch loss reduce_loss(L, w_batch) + penalty computed before this "
                              "batch's update",
    "fit.weighted_gradient": "backpropagate with the sample weights (row i of the logit gradient times w_i / n_b)",
    "fit.loss_by_batch_size": "history['loss'] gets sum_b n_b L_b / sum_b n_b",
    "fit.loss_penalty": "the reported batch loss includes the penalty",
    "fit.accuracy_unweighted": "history['accuracy'] is the fraction of training samples whose prediction was right "
                               "(sample weights do not count)",
    "fit.accuracy_before_update": "accuracy from the prediction made before its batch's update",
    "fit.binary_accuracy": "a binary prediction is right when (p > 0.5) == y",
    "fit.val_final_weights": "val_loss and val_accuracy are computed with the final weights of the epoch",
    "fit.val_sample_weights": "validation sample weights apply (validation_data (x_val, y_val, w_val))",
    "fit.val_no_class_weight": "class_weight does not apply to validation data",
    "fit.val_penalty": "the penalty is added to val_loss",
    "fit.keys": "the keys are Keras's: loss, accuracy, val_loss, val_accuracy; no accuracy for 'mse'",
    "fit.no_val_keys": "no val_ keys without validation data",
    "fit.default_batch_size": "batch_size, epochs: as in model.fit (batch_size=32, epochs=1 by default)",
    "fit.length_mismatch": "raise ValueError for x and y of different lengths",
    "fit.split_range": "raise ValueError for validation_split outside [0, 1)",
    "fit.class_and_sample_weight": "raise ValueError for class_weight together with sample_weight",
    "fit.unknown_class": "raise ValueError for a class_weight naming a class that y does not have",
}

_FIT_RANGE_CHECK_TO_SPLIT = '''    if not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must be in [0, 1); got {validation_split}")
    if class_weight is not None and sample_weight is not None:
        raise ValueError("class_weight and sample_weight cannot be used together")
    name = loss if isinstance(loss, str) else loss["name"]
    with_accuracy = name != "mse"
    weights = [np.asarray(w, dtype=np.float64) for w in weights]
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if validation_data is None and validation_split:
'''
_FIT_EPOCH_LOOP = "    for epoch in range(initial_epoch, epochs):\n"
_FIT_BATCHES = '''        total, hits = 0.0, 0
        for batch in batch_indices(len(x), batch_size, shuffle):
            xb, yb, wb = x[batch], y[batch], sw[batch]
            logits = predict(xb)
            per_sample, grad_z = loss_and_gradient(loss, yb, logits, activations[-1])
            penalty, penalty_grads = regularization(loss, weights)
            total += len(batch) * (reduce_loss(per_sample, wb) + penalty)
            hits += int(np.sum(correct(yb, logits)))
            inputs, _ = forward(xb, weights, activations)
            grad_z = np.asarray(grad_z, dtype=np.float64) * wb[:, None] / len(batch)
            grads = [np.asarray(g, dtype=np.float64) for g in penalty_grads]
            for i in reversed(range(len(activations))):
                grads[2 * i] += inputs[i].T @ grad_z
                grads[2 * i + 1] += grad_z.sum(axis=0)
                if i > 0:
                    z_prev = inputs[i - 1] @ weights[2 * i - 2] + weights[2 * i - 1]
                    grad_z = (grad_z @ weights[2 * i].T) * DERIVATIVE[activations[i - 1]](z_prev)
            weights = [np.asarray(w, dtype=np.float64) for w in step.step(weights, grads)]
        history["loss"].append(total / len(x))
        if with_accuracy:
            history["accuracy"].append(hits / len(x))
'''
_FIT_VALIDATION = '''        if x_val is not None:
            logits = predict(x_val)
            per_sample, _ = loss_and_gradient(loss, y_val, logits, activations[-1])
            penalty, _ = regularization(loss, weights)
            history["val_loss"].append(reduce_loss(per_sample, sw_val) + penalty)
            if with_accuracy:
                history["val_accuracy"].append(float(np.mean(correct(y_val, logits))))
'''

WRONG_ANSWERS = [
    # split_validation
    WrongAnswer("split-rounds", "split_validation_answer",
                "split_at = int(np.floor(len(x) * (1.0 - validation_split)))",
                "split_at = int(np.round(len(x) * (1.0 - validation_split)))",
                frozenset({"split_validation_check", "split_validation_hidden"}), rule="split_validation.floor",
                mistakes=frozenset({"you-computed-the-sizes-in-exact-arithmetic-n", "you-rounded-n-1-validation-split-keras-floors"})),
    WrongAnswer("split-ceils-validation-size", "split_validation_answer",
                "split_at = int(np.floor(len(x) * (1.0 - validation_split)))",
                "split_at = len(x) - int(np.ceil(len(x) * validation_split))", rule="split_validation.floor"),
    WrongAnswer("split-holds-out-front", "split_validation_answer",
                "return x[:split_at], y[:split_at], x[split_at:], y[split_at:]",
                "k = len(x) - split_at\n    return x[k:], y[k:], x[:k], y[:k]", rule="split_validation.last_rows"),
    WrongAnswer("split-returns-x-parts-first", "split_validation_answer",
                "return x[:split_at], y[:split_at], x[split_at:], y[split_at:]",
                "return x[:split_at], x[split_at:], y[:split_at], y[split_at:]", rule="split_validation.order"),
    WrongAnswer("split-makes-y-2d", "split_validation_answer",
                "x, y = np.asarray(x), np.asarray(y)",
                "x, y = np.asarray(x), np.asarray(y).reshape(len(y), -1)", rule="split_validation.shapes"),
    WrongAnswer("split-no-length-check", "split_validation_answer",
                "if len(x) != len(y):", "if False:", rule="split_validation.length_mismatch"),
    WrongAnswer("split-no-upper-bound", "split_validation_answer",
                "if not 0 <= validation_split < 1:", "if validation_split < 0:",
                rule="split_validation.split_at_least_1"),
    WrongAnswer("split-allows-negative", "split_validation_answer",
                "if not 0 <= validation_split < 1:", "if not validation_split < 1:",
                rule="split_validation.split_negative"),
    WrongAnswer("split-allows-empty-validation", "split_validation_answer",
                "if split_at == 0 or split_at == len(x):", "if split_at == 0:",
                rule="split_validation.empty_validation"),
    WrongAnswer("split-allows-empty-training", "split_validation_answer",
                "if split_at == 0 or split_at == len(x):", "if split_at == len(x):",
                rule="split_validation.empty_training"),
    # batch_indices
    WrongAnswer("batches-strided", "batch_indices_answer",
                "return [order[start:start + batch_size] for start in range(0, n, batch_size)]",
                "return [order[start::-(-n // batch_size)] for start in range(-(-n // batch_size))]",
                rule="batch_indices.consecutive"),
    WrongAnswer("batches-drop-last", "batch_indices_answer",
                "for start in range(0, n, batch_size)]", "for start in range(0, n - batch_size + 1, batch_size)]",
                rule="batch_indices.last_partial"),
    WrongAnswer("batches-default-16", "batch_indices_answer",
                "def batch_indices(n, batch_size=32,", "def batch_indices(n, batch_size=16,",
                rule="batch_indices.default_batch_size"),
    WrongAnswer("batches-float-indices", "batch_indices_answer",
                "order = np.arange(n)", "order = np.arange(float(n))", rule="batch_indices.integers"),
    WrongAnswer("batches-ignore-shuffle", "batch_indices_answer",
                "    if shuffle:\n", "    if False:\n", rule="batch_indices.shuffle"),
    WrongAnswer("batches-draw-with-replacement", "batch_indices_answer",
                "else np.random.default_rng()).permutation(n)", "else np.random.default_rng()).integers(0, n, n)",
                rule="batch_indices.every_index_once"),
    WrongAnswer("batches-global-numpy-rng", "batch_indices_answer",
                "order = (rng if rng is not None else np.random.default_rng()).permutation(n)",
                "order = np.random.permutation(n)", rule="batch_indices.rng"),
    WrongAnswer("batches-fixed-seed", "batch_indices_answer",
                "order = (rng if rng is not None else np.random.default_rng()).permutation(n)",
                "order = np.random.default_rng(0).permutation(n)", rule="batch_indices.new_order_each_call"),
    WrongAnswer("batches-need-rng", "batch_indices_answer",
                "order = (rng if rng is not None else np.random.default_rng()).permutation(n)",
                "order = rng.permutation(n)", rule="batch_indices.rng_none"),
    # class_weight_to_sample_weight
    WrongAnswer("class-weight-first-column", "class_weight_to_sample_weight_answer",
                "y = np.argmax(y, axis=-1)", "y = y[:, 0]", rule="class_weight_to_sample_weight.one_hot"),
    WrongAnswer("class-weight-column-argmax", "class_weight_to_sample_weight_answer",
                "            y = y[..., 0]\n", "            y = np.argmax(y, axis=-1)\n",
                rule="class_weight_to_sample_weight.column"),
    WrongAnswer("class-weight-labels-as-one-hot", "class_weight_to_sample_weight_answer",
                "y = np.asarray(y)\n", "y = np.asarray(y)\n    y = y if y.ndim > 1 else y[None, :]\n",
                rule="class_weight_to_sample_weight.labels"),
    WrongAnswer("class-weight-missing-zero", "class_weight_to_sample_weight_answer",
                "class_weight.get(int(label), 1.0)", "class_weight.get(int(label), 0.0)",
                rule="class_weight_to_sample_weight.missing_is_one"),
    WrongAnswer("class-weight-float64", "class_weight_to_sample_weight_answer",
                "for label in labels], dtype=np.float32)", "for label in labels], dtype=np.float64)",
                rule="class_weight_to_sample_weight.float32"),
    WrongAnswer("class-weight-column-shape", "class_weight_to_sample_weight_answer",
                "for label in labels], dtype=np.float32)", "for label in labels], dtype=np.float32)[:, None]",
                rule="class_weight_to_sample_weight.shape"),
    WrongAnswer("class-weight-no-unknown-check", "class_weight_to_sample_weight_answer",
                "if not 0 <= key < y.shape[-1]:", "if key < 0:",
                rule="class_weight_to_sample_weight.unknown_class"),
    WrongAnswer("class-weight-no-negative-check", "class_weight_to_sample_weight_answer",
                "if any(key < 0 for key in class_weight):", "if False:",
                rule="class_weight_to_sample_weight.negative_class"),
    # reduce_loss
    WrongAnswer("reduce-sums", "reduce_loss_answer",
                "return float(np.sum(values) / values.size)", "return float(np.sum(values))",
                rule="reduce_loss.mean"),
    WrongAnswer("reduce-ignores-weights", "reduce_loss_answer",
                "values = values * np.asarray(sample_weight, dtype=np.float64)", "pass", rule="reduce_loss.weights"),
    WrongAnswer("reduce-by-sum-of-weights", "reduce_loss_answer",
                "return float(np.sum(values) / values.size)",
                "return float(np.sum(values) / (values.size if sample_weight is None else np.sum(sample_weight)))",
                frozenset({"reduce_loss_check", "reduce_loss_hidden", "fit_sample_weight_check", "fit_hidden"}),
                rule="reduce_loss.divide_by_n",
                mistakes=frozenset({"you-divided-by-sum-sample-weight-keras-divides"})),
    WrongAnswer("reduce-returns-array", "reduce_loss_answer",
                "return float(np.sum(values) / values.size)", "return np.sum(values, keepdims=True) / values.size",
                rule="reduce_loss.float"),
    # mlp_gradients
    WrongAnswer("gradients-summed", "mlp_gradients_answer",
                "grad_z = np.asarray(grad_z, dtype=np.float64) / len(x)",
                "grad_z = np.asarray(grad_z, dtype=np.float64)",
                frozenset({"mlp_gradients_check", "mlp_gradients_hidden"}), rule="mlp_gradients.mean",
                mistakes=frozenset({"you-used-the-sum-of-the-per-sample"})),
    WrongAnswer("gradients-kernel-transposed-input", "mlp_gradients_answer",
                "grads[2 * i] += h.T @ grad_z", "grads[2 * i] += (grad_z.T @ h).T * (h.shape[1] == grad_z.shape[1])",
                rule="mlp_gradients.kernel"),
    WrongAnswer("gradients-bias-mean", "mlp_gradients_answer",
                "grads[2 * i + 1] += grad_z.sum(axis=0)", "grads[2 * i + 1] += grad_z.mean(axis=0)",
                rule="mlp_gradients.bias"),
    WrongAnswer("gradients-derivative-of-output", "mlp_gradients_answer",
                "grad_z = grad_h * DERIVATIVE[activations[i - 1]](z_prev)",
                "grad_z = grad_h * DERIVATIVE[activations[i - 1]](inputs[i])",
                rule="mlp_gradients.derivative"),
    WrongAnswer("gradients-no-penalty", "mlp_gradients_answer",
                "grads = [np.asarray(g, dtype=np.float64) for g in grads]",
                "grads = [np.zeros_like(np.asarray(g, dtype=np.float64)) for g in grads]",
                rule="mlp_gradients.penalty"),
    WrongAnswer("gradients-biases-first", "mlp_gradients_answer",
                "    return grads\n", "    return grads[1::2] + grads[0::2]\n", rule="mlp_gradients.order"),
    # fit
    WrongAnswer("fit-runs-all-epochs", "fit_answer",
                "for epoch in range(initial_epoch, epochs):", "for epoch in range(epochs):", rule="fit.epochs"),
    WrongAnswer("fit-optimizer-per-epoch", "fit_answer",
                _FIT_EPOCH_LOOP, _FIT_EPOCH_LOOP + "        step = make_optimizer(optimizer)\n",
                rule="fit.one_optimizer"),
    WrongAnswer("fit-shuffles-before-split", "fit_answer",
                "    if validation_data is None and validation_split:\n",
                "    if shuffle:\n        order = np.random.default_rng().permutation(len(x))\n"
                "        x, y = x[order], y[order]\n        sw = None if sw is None else sw[order]\n"
                "    if validation_data is None and validation_split:\n", rule="fit.split_before_shuffle"),
    WrongAnswer("fit-split-wins", "fit_answer",
                "if validation_data is None and validation_split:", "if validation_split:",
                rule="fit.validation_data_wins"),
    WrongAnswer("fit-sample-weight-not-split", "fit_answer",
                "x, sw, x_val, sw_val = x_and_w[:, :-1], x_and_w[:, -1], x_val_and_w[:, :-1], x_val_and_w[:, -1]",
                "x, x_val, sw_val = x_and_w[:, :-1], x_val_and_w[:, :-1], None", rule="fit.sample_weight_split"),
    WrongAnswer("fit-ignores-class-weight", "fit_answer",
                "sw = class_weight_to_sample_weight(y, class_weight)", "pass", rule="fit.class_weight"),
    WrongAnswer("fit-loss-after-update", "fit_answer",
                "history[\"loss\"].append(total / len(x))",
                "history[\"loss\"].append(reduce_loss(loss_and_gradient(loss, y, predict(x), activations[-1])[0], sw)"
                " + regularization(loss, weights)[0])", rule="fit.loss_before_update"),
    WrongAnswer("fit-unweighted-gradient", "fit_answer",
                "grad_z = np.asarray(grad_z, dtype=np.float64) * wb[:, None] / len(batch)",
                "grad_z = np.asarray(grad_z, dtype=np.float64) / len(batch)", rule="fit.weighted_gradient"),
    WrongAnswer("fit-loss-times-batch-size", "fit_answer",
                "total += len(batch) * (", "total += batch_size * (", rule="fit.loss_by_batch_size"),
    WrongAnswer("penalty-not-reported", "fit_answer",
                "total += len(batch) * (reduce_loss(per_sample, wb) + penalty)",
                "total += len(batch) * reduce_loss(per_sample, wb)",
                frozenset({"fit_hidden"}), rule="fit.loss_penalty"),
    WrongAnswer("fit-weighted-accuracy", "fit_answer",
                "hits += int(np.sum(correct(yb, logits)))", "hits += float(np.sum(correct(yb, logits) * wb))",
                rule="fit.accuracy_unweighted"),
    WrongAnswer("fit-accuracy-after-update", "fit_answer",
                "            history[\"accuracy\"].append(hits / len(x))",
                "            history[\"accuracy\"].append(float(np.mean(correct(y, predict(x)))))",
                rule="fit.accuracy_before_update"),
    WrongAnswer("fit-binary-threshold-on-logits", "fit_answer",
                "return (logits > 0) == (targets > 0.5)", "return (logits > 0.5) == (targets > 0.5)",
                rule="fit.binary_accuracy"),
    WrongAnswer("fit-validation-before-epoch", "fit_answer",
                _FIT_BATCHES + _FIT_VALIDATION, _FIT_VALIDATION + _FIT_BATCHES, rule="fit.val_final_weights"),
    WrongAnswer("fit-ignores-validation-weights", "fit_answer",
                "sw_val = None if len(validation_data) < 3 else np.asarray(validation_data[2])", "sw_val = None",
                rule="fit.val_sample_weights"),
    WrongAnswer("fit-class-weight-on-validation", "fit_answer",
                "        sw = class_weight_to_sample_weight(y, class_weight)\n",
                "        sw = class_weight_to_sample_weight(y, class_weight)\n        if x_val is not None:\n"
                "            sw_val = class_weight_to_sample_weight(y_val, class_weight)\n",
                rule="fit.val_no_class_weight"),
    WrongAnswer("fit-val-loss-without-penalty", "fit_answer",
                "history[\"val_loss\"].append(reduce_loss(per_sample, sw_val) + penalty)",
                "history[\"val_loss\"].append(reduce_loss(per_sample, sw_val))", rule="fit.val_penalty"),
    WrongAnswer("fit-accuracy-for-mse", "fit_answer",
                "with_accuracy = name != \"mse\"", "with_accuracy = True", rule="fit.keys"),
    WrongAnswer("fit-always-val-keys", "fit_answer",
                "    if x_val is not None:\n        history[\"val_loss\"] = []",
                "    history[\"val_loss\"] = []\n    if x_val is not None:\n        pass", rule="fit.no_val_keys"),
    WrongAnswer("fit-default-batch-16", "fit_answer",
                "optimizer, batch_size=32,", "optimizer, batch_size=16,", rule="fit.default_batch_size"),
    WrongAnswer("fit-no-length-check", "fit_answer",
                "if len(x) != len(y):", "if False:", rule="fit.length_mismatch"),
    # No range check in fit, and the split only for validation_split > 0: a negative one trains without validation.
    WrongAnswer("fit-no-split-range-check", "fit_answer",
                _FIT_RANGE_CHECK_TO_SPLIT,
                _FIT_RANGE_CHECK_TO_SPLIT.split("\n", 2)[2].replace("validation_split:", "validation_split > 0:"),
                rule="fit.split_range"),
    WrongAnswer("fit-class-weight-overrides-sample-weight", "fit_answer",
                "if class_weight is not None and sample_weight is not None:", "if False:",
                rule="fit.class_and_sample_weight"),
    WrongAnswer("fit-class-weight-inline", "fit_answer",
                "sw = class_weight_to_sample_weight(y, class_weight)",
                "sw = np.array([class_weight.get(int(c), 1.0) for c in np.argmax(y, axis=-1)])",
                rule="fit.unknown_class"),
]

RIGHT_ANSWERS = [
    RightAnswer("split-with-np-split", "split_validation_answer",
                "return x[:split_at], y[:split_at], x[split_at:], y[split_at:]",
                "x_train, x_val = np.split(x, [split_at])\n    y_train, y_val = np.split(y, [split_at])\n"
                "    return x_train, y_train, x_val, y_val"),
    RightAnswer("batches-by-while-loop", "batch_indices_answer",
                "return [order[start:start + batch_size] for start in range(0, n, batch_size)]",
                "batches, start = [], 0\n    while start < n:\n"
                "        batches.append(order[start:start + batch_size])\n        start += batch_size\n"
                "    return batches"),
    RightAnswer("class-weight-lookup-table", "class_weight_to_sample_weight_answer",
                "return np.array([class_weight.get(int(label), 1.0) for label in labels], dtype=np.float32)",
                "table = np.ones(max([labels.max(initial=0) + 1] + [key + 1 for key in class_weight]))\n"
                "    for key, value in class_weight.items():\n        table[key] = value\n"
                "    return table[labels].astype(np.float32)"),
    RightAnswer("reduce-with-dot", "reduce_loss_answer",
                "return float(np.sum(values) / values.size)",
                "return float(np.dot(values, np.ones_like(values)) / len(values))"),
]
