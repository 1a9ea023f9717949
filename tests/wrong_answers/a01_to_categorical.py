"""Wrong answers for 01_to_categorical, the rules of the exercises' text they break, and right answers."""
from wrong_answers import RightAnswer, WrongAnswer

ASSIGNMENT = "01_to_categorical"

RULES = {
    "to_categorical.list_input": "y may be a list",
    "to_categorical.float_labels": "y may be an array of floats with whole values",
    "to_categorical.any_shape": "y may have any shape: (n, m) gives (n, m, num_classes)",
    "to_categorical.trailing_axis_dropped": "a trailing axis of size 1 is dropped, so (n, 1) gives (n, num_classes)",
    "to_categorical.only_trailing_axis": "only a trailing axis of size 1 is dropped, and only when y has two or "
                                         "more axes: (1,) gives (1, num_classes)",
    "to_categorical.infer_num_classes": "num_classes=None means max(y) + 1",
    "to_categorical.given_num_classes": "the result has num_classes columns: y.shape + (num_classes,)",
    "to_categorical.one_hot": "out[..., k] is 1.0 where the label is k and 0.0 elsewhere",
    "to_categorical.float_result": "the result is a float array (Keras returns float64)",
    "to_categorical.negative_label": "a negative label raises ValueError",
    "to_categorical.label_too_large": "a label >= num_classes raises ValueError",
    "to_categorical.fractional_label": "a label that is not a whole number (such as 1.5) raises ValueError",
    "to_categorical.nan_label": "a NaN label raises ValueError",
    "to_categorical.num_classes_below_one": "num_classes < 1 raises ValueError",
    "to_categorical.error_message": "the ValueError comes with a message that says what is wrong",
    "from_categorical.last_axis": "the index of the largest score along the last axis",
    "from_categorical.batch_shape": "an array of shape (..., C) gives labels of shape (...)",
    "from_categorical.probabilities": "the rows may be one-hot rows or probabilities",
    "from_categorical.list_input": "one_hot may be a nested list",
    "from_categorical.int_result": "the result is an int array",
    "from_categorical.zero_d": "a 0-d array (no class axis) raises ValueError",
    "from_categorical.empty_class_axis": "an empty class axis raises ValueError",
    "from_categorical.nan": "NaN scores raise ValueError",
}

TO_CATEGORICAL = frozenset({"to_categorical_check", "to_categorical_hidden"})

WRONG_ANSWERS = [
    # --- to_categorical ---
    WrongAnswer("num-classes-is-max", "to_categorical_answer",
                "num_classes = int(labels.max()) + 1", "num_classes = int(labels.max())",
                TO_CATEGORICAL, rule="to_categorical.infer_num_classes",
                mistakes=frozenset({"num-classes-is-max-y-instead-of-max"})),
    WrongAnswer("no-negative-check", "to_categorical_answer",
                "if (labels < 0).any():", "if False:",
                frozenset({"to_categorical_errors"}), rule="to_categorical.negative_label"),
    WrongAnswer("astype-on-a-list", "to_categorical_answer",
                "values = np.asarray(y, dtype=np.float64)", "values = y.astype(np.float64)",
                rule="to_categorical.list_input"),
    WrongAnswer("rejects-float-labels", "to_categorical_answer",
                "    if not np.all(np.isfinite(values)):\n",
                "    if np.asarray(y).dtype.kind == 'f':\n"
                "        raise ValueError('labels must be integers')\n"
                "    if not np.all(np.isfinite(values)):\n",
                rule="to_categorical.float_labels"),
    WrongAnswer("flattens-labels", "to_categorical_answer",
                "    if (labels < 0).any():\n", "    labels = labels.ravel()\n    if (labels < 0).any():\n",
                rule="to_categorical.any_shape"),
    WrongAnswer("keeps-trailing-axis", "to_categorical_answer",
                "if labels.ndim > 1 and labels.shape[-1] == 1:", "if False:",
                rule="to_categorical.trailing_axis_dropped"),
    WrongAnswer("squeezes-every-axis", "to_categorical_answer",
                "if labels.ndim > 1 and labels.shape[-1] == 1:\n        labels = labels[..., 0]",
                "if labels.ndim > 1 and labels.shape[-1] == 1:\n        labels = labels.squeeze()",
                rule="to_categorical.only_trailing_axis"),
    WrongAnswer("drops-axis-of-1d", "to_categorical_answer",
                "if labels.ndim > 1 and labels.shape[-1] == 1:", "if labels.ndim > 0 and labels.shape[-1] == 1:",
                rule="to_categorical.only_trailing_axis"),
    WrongAnswer("ignores-num-classes", "to_categorical_answer",
                "return np.eye(int(num_classes))[labels]", "return np.eye(int(labels.max()) + 1)[labels]",
                rule="to_categorical.given_num_classes"),
    WrongAnswer("labels-from-one", "to_categorical_answer",
                "return np.eye(int(num_classes))[labels]", "return np.eye(int(num_classes))[labels - 1]",
                rule="to_categorical.one_hot"),
    WrongAnswer("int-one-hot", "to_categorical_answer",
                "return np.eye(int(num_classes))[labels]", "return np.eye(int(num_classes), dtype=int)[labels]",
                rule="to_categorical.float_result"),
    WrongAnswer("no-upper-check", "to_categorical_answer",
                "elif labels.size and labels.max() >= num_classes:", "elif labels.size and labels.max() > num_classes:",
                rule="to_categorical.label_too_large"),
    WrongAnswer("floors-fractions", "to_categorical_answer",
                "if fractional.any():", "if False:", rule="to_categorical.fractional_label"),
    WrongAnswer("nan-becomes-zero", "to_categorical_answer",
                "    if not np.all(np.isfinite(values)):\n"
                "        raise ValueError(\"labels must be finite whole numbers; found NaN or inf\")\n",
                "    values = np.nan_to_num(values)  # NaN cannot be cast to int\n",
                rule="to_categorical.nan_label"),
    WrongAnswer("num-classes-zero-allowed", "to_categorical_answer",
                "or num_classes < 1:", "or num_classes < 0:", rule="to_categorical.num_classes_below_one"),
    WrongAnswer("bare-value-error", "to_categorical_answer",
                "raise ValueError(f\"labels must be 0 or more; found {labels.min()}\")", "raise ValueError()",
                rule="to_categorical.error_message"),
    # --- from_categorical ---
    WrongAnswer("argmax-axis-0", "from_categorical_answer",
                "np.argmax(scores, axis=-1)", "np.argmax(scores, axis=0)",
                frozenset({"from_categorical_check", "from_categorical_hidden"}), rule="from_categorical.last_axis",
                mistakes=frozenset({"you-take-the-argmax-over-axis-0-the"})),
    WrongAnswer("rows-flattened", "from_categorical_answer",
                "return np.argmax(scores, axis=-1)", "return np.argmax(scores.reshape(-1, scores.shape[-1]), axis=-1)",
                rule="from_categorical.batch_shape"),
    WrongAnswer("one-hot-only", "from_categorical_answer",
                "return np.argmax(scores, axis=-1)", "return np.argmax(scores == 1.0, axis=-1)",
                rule="from_categorical.probabilities"),
    WrongAnswer("astype-on-a-nested-list", "from_categorical_answer",
                "scores = np.asarray(one_hot, dtype=np.float64)", "scores = one_hot.astype(np.float64)",
                rule="from_categorical.list_input"),
    WrongAnswer("float-labels", "from_categorical_answer",
                "return np.argmax(scores, axis=-1)", "return np.argmax(scores, axis=-1).astype(np.float64)",
                rule="from_categorical.int_result"),
    WrongAnswer("no-0d-check", "from_categorical_answer",
                "if scores.ndim == 0 or scores.shape[-1] == 0:", "if scores.shape[-1] == 0:",
                rule="from_categorical.zero_d"),
    WrongAnswer("empty-gives-empty", "from_categorical_answer",
                "    if scores.ndim == 0 or scores.shape[-1] == 0:\n",
                "    if scores.size == 0:\n"
                "        return np.zeros(scores.shape[:-1], dtype=np.int64)\n"
                "    if scores.ndim == 0:\n",
                rule="from_categorical.empty_class_axis"),
    WrongAnswer("no-nan-check", "from_categorical_answer",
                "if np.isnan(scores).any():", "if False:", rule="from_categorical.nan"),
]

RIGHT_ANSWERS = [
    RightAnswer("to-categorical-loop", "to_categorical_answer",
                "    return np.eye(int(num_classes))[labels]\n",
                "    out = np.zeros(labels.shape + (int(num_classes),))\n"
                "    for index in np.ndindex(labels.shape):\n"
                "        out[index + (int(labels[index]),)] = 1.0\n"
                "    return out\n"),
    RightAnswer("to-categorical-compare-arange", "to_categorical_answer",
                "    return np.eye(int(num_classes))[labels]\n",
                "    return (labels[..., np.newaxis] == np.arange(int(num_classes))).astype(np.float64)\n"),
    RightAnswer("from-categorical-row-loop", "from_categorical_answer",
                "    return np.argmax(scores, axis=-1)\n",
                "    rows = scores.reshape(-1, scores.shape[-1])\n"
                "    labels = [int(np.flatnonzero(row == row.max())[0]) for row in rows]\n"
                "    return np.array(labels, dtype=np.int64).reshape(scores.shape[:-1])\n"),
]
