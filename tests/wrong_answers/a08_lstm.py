"""Wrong answers for 08_lstm: one or more per rule of the exercises' text, each a small edit of the instructor's
solution, and right answers written differently.

Four of them list the cells they lose and are graded by the real nbgrader pipeline (each costs a full autograde
run there). A wrong `lstm_step` also breaks `lstm`, `StatefulLSTM` and `predict_stacked_lstm`, which are built on
it, so it loses their cells too; the validation cells (`*_errors`) check arguments before any arithmetic and keep
their points. The others are caught by tests/test_mutations.py.
"""
from wrong_answers import RightAnswer, WrongAnswer

ASSIGNMENT = "08_lstm"

USES_LSTM_STEP = frozenset({"lstm_step_check", "lstm_step_hidden", "lstm_check", "lstm_hidden",
                            "predict_stacked_lstm_check", "predict_stacked_lstm_hidden",
                            "stateful_lstm_check", "stateful_lstm_hidden"})

RULES = {
    # embedding
    "embedding.row_lookup": "id k becomes row k of the table: out[..., :] = table[ids[...], :]",
    "embedding.any_shape": "for ids of any shape S, an array of shape S + (output_dim,)",
    "embedding.list_ids": "an integer array or a list of ints is fine",
    "embedding.int_dtypes": "ids of any integer type are accepted",
    "embedding.table_2d": "a table that is not 2-D raises ValueError",
    "embedding.float_ids": "ids that are not integers raise ValueError: a float array is rejected even when its "
                           "values are whole (like 2.0)",
    "embedding.negative_id": "a negative id raises ValueError",
    "embedding.id_too_large": "an id >= input_dim raises ValueError",
    # lstm_step
    "lstm_step.gate_order": "the blocks of kernel, recurrent_kernel and bias are in the order i, f, c, o",
    "lstm_step.gate_activations": "i = sigmoid(z_i), f = sigmoid(z_f), g = tanh(z_c), o = sigmoid(z_o)",
    "lstm_step.recurrent": "z = x_t K + h_(t-1) R + b: the previous h enters through recurrent_kernel",
    "lstm_step.bias": "z = x_t K + h_(t-1) R + b: the bias is added",
    "lstm_step.cell_update": "c_t = f * c_(t-1) + i * g",
    "lstm_step.hidden_update": "h_t = o * tanh(c_t)",
    "lstm_step.return_order": "lstm_step returns the new (h, c)",
    "lstm_step.ndim": "an argument with the wrong number of axes raises ValueError",
    "lstm_step.hc_shape": "h and c differing in shape raises ValueError",
    "lstm_step.batch": "batch sizes that differ raise ValueError",
    "lstm_step.kernel_shape": "a kernel not of shape (input_dim, 4u) raises ValueError",
    "lstm_step.recurrent_shape": "a recurrent_kernel not of shape (u, 4u) raises ValueError",
    "lstm_step.bias_shape": "a bias not of shape (4u,) raises ValueError",
    # lstm
    "lstm.defaults": "lstm(x, kernel, recurrent_kernel, bias, return_sequences=False, initial_state=None)",
    "lstm.initial_state": "start from h = c = 0, or from the initial_state=[h0, c0] you pass",
    "lstm.initial_state_order": "initial_state is the pair [h0, c0], in that order",
    "lstm.time_order": "feed x[:, 0], then x[:, 1] with the new state, and so on",
    "lstm.carry": "each step starts from the state the previous step returned",
    "lstm.return_sequences": "the output is the final h by default, or the h of every step with "
                             "return_sequences=True",
    "lstm.return_sequences_shape": "with return_sequences=True the output has shape (batch, timesteps, u)",
    "lstm.return_order": "lstm returns (output, h, c), h and c the states after the last step",
    "lstm.x_3d": "x not 3-D raises ValueError",
    "lstm.timesteps": "x with no time steps raises ValueError (timesteps >= 1)",
    "lstm.initial_state_shape": "initial_state not a pair of (batch, u) arrays raises ValueError",
    # predict_stacked_lstm
    "predict_stacked_lstm.softmax": "the final Dense softmax is part of it: you return class probabilities",
    "predict_stacked_lstm.per_step": "when the last flag is True the Dense layer acts on every time step: one "
                                     "softmax per step, shape (batch, timesteps, num_classes)",
    "predict_stacked_lstm.weights_count": "a number of weight arrays that does not fit the number of flags "
                                          "(3 per LSTM + 2) raises ValueError",
    "predict_stacked_lstm.no_lstm": "no LSTMs (no flags) raises ValueError",
    "predict_stacked_lstm.flags": "an LSTM other than the last returning a single vector (flag False) raises "
                                  "ValueError",
    # StatefulLSTM
    "stateful.carry": "each call starts from the state (h and c) kept from the previous call, zeros at first, "
                      "and keeps the new state",
    "stateful.reset": "reset_state() sets the state (h and c) back to zeros",
    "stateful.return_sequences": "the output is lstm's with return_sequences: (batch_size, u), or "
                                 "(batch_size, timesteps, u) with return_sequences=True",
    "stateful.batch_size_error": "a batch of any other size than batch_size raises ValueError",
    "stateful.weights_shape": "weights not of the shapes (input_dim, 4u), (u, 4u), (4u,) raise ValueError",
    "stateful.batch_size_min": "batch_size < 1 raises ValueError",
}

WRONG_ANSWERS = [
    # embedding
    WrongAnswer("embedding-row-minus-one", "embedding_answer",
                "return table[ids]", "return table[ids - 1]",
                frozenset({"embedding_check", "embedding_hidden"}), rule="embedding.row_lookup",
                mistakes=frozenset({"you-look-up-row-id-1-ids-count"})),
    WrongAnswer("embedding-reshaped-2d", "embedding_answer",
                "return table[ids]", "return table[ids.reshape(len(ids), -1)]", rule="embedding.any_shape"),
    WrongAnswer("embedding-list-not-converted", "embedding_answer",
                "    ids = np.asarray(ids)\n", "", rule="embedding.list_ids"),
    WrongAnswer("embedding-signed-ints-only", "embedding_answer",
                'if ids.dtype.kind not in "iu":', 'if ids.dtype.kind != "i":', rule="embedding.int_dtypes"),
    WrongAnswer("embedding-table-ndim-unchecked", "embedding_answer", "if table.ndim != 2:", "if False:",
                rule="embedding.table_2d"),
    WrongAnswer("embedding-whole-floats-accepted", "embedding_answer",
                'if ids.dtype.kind not in "iu":',
                'if ids.dtype.kind == "f" and np.all(ids % 1 == 0):\n        ids = ids.astype(np.int64)\n'
                '    if ids.dtype.kind not in "iu":', rule="embedding.float_ids"),
    WrongAnswer("embedding-negative-allowed", "embedding_answer",
                "(ids.min() < 0 or ids.max() >= table.shape[0])", "ids.max() >= table.shape[0]",
                rule="embedding.negative_id"),
    WrongAnswer("embedding-max-off-by-one", "embedding_answer",
                "ids.max() >= table.shape[0])", "ids.max() > table.shape[0])", rule="embedding.id_too_large"),
    # lstm_step
    WrongAnswer("gate-order-ifoc", "lstm_step_answer",
                "    g = np.tanh(z[:, 2 * units:3 * units])\n    o = sigmoid(z[:, 3 * units:])",
                "    g = np.tanh(z[:, 3 * units:])\n    o = sigmoid(z[:, 2 * units:3 * units])",
                USES_LSTM_STEP, rule="lstm_step.gate_order",
                mistakes=frozenset({"you-read-the-gates-in-the-order-i"})),
    WrongAnswer("step-forget-tanh", "lstm_step_answer",
                "f = sigmoid(z[:, units:2 * units])", "f = np.tanh(z[:, units:2 * units])",
                rule="lstm_step.gate_activations"),
    WrongAnswer("step-candidate-sigmoid", "lstm_step_answer",
                "g = np.tanh(z[:, 2 * units:3 * units])", "g = sigmoid(z[:, 2 * units:3 * units])",
                rule="lstm_step.gate_activations"),
    WrongAnswer("step-no-recurrent-term", "lstm_step_answer",
                "z = x_t @ kernel + h @ recurrent_kernel + bias\n", "z = x_t @ kernel + bias\n",
                rule="lstm_step.recurrent"),
    WrongAnswer("step-no-bias", "lstm_step_answer",
                "z = x_t @ kernel + h @ recurrent_kernel + bias\n",
                "z = x_t @ kernel + h @ recurrent_kernel\n",
                rule="lstm_step.bias"),
    WrongAnswer("step-cell-without-input-gate", "lstm_step_answer",
                "c_new = f * c + i * g", "c_new = f * c + g", rule="lstm_step.cell_update"),
    WrongAnswer("step-no-output-gate", "lstm_step_answer",
                "h_new = o * np.tanh(c_new)", "h_new = np.tanh(c_new)", rule="lstm_step.hidden_update"),
    WrongAnswer("step-h-from-old-c", "lstm_step_answer",
                "h_new = o * np.tanh(c_new)", "h_new = o * np.tanh(c)", rule="lstm_step.hidden_update"),
    WrongAnswer("step-returns-c-h", "lstm_step_answer",
                "return h_new, c_new", "return c_new, h_new", rule="lstm_step.return_order"),
    WrongAnswer("step-x-ndim-unchecked", "lstm_step_answer",
                "if x_t.ndim != 2 or h.ndim != 2:", "if h.ndim != 2:", rule="lstm_step.ndim"),
    WrongAnswer("step-hc-shape-unchecked", "lstm_step_answer", "if h.shape != c.shape:", "if False:",
                rule="lstm_step.hc_shape"),
    WrongAnswer("step-batch-unchecked", "lstm_step_answer", "if x_t.shape[0] != batch:", "if False:",
                rule="lstm_step.batch"),
    WrongAnswer("step-kernel-shape-unchecked", "lstm_step_answer",
                "if kernel.shape != (x_t.shape[1], 4 * units):", "if False:", rule="lstm_step.kernel_shape"),
    WrongAnswer("step-recurrent-shape-unchecked", "lstm_step_answer",
                "if recurrent_kernel.shape != (units, 4 * units):", "if False:", rule="lstm_step.recurrent_shape"),
    WrongAnswer("step-bias-shape-unchecked", "lstm_step_answer",
                "if bias.shape != (4 * units,):", "if False:", rule="lstm_step.bias_shape"),
    # lstm
    WrongAnswer("lstm-sequences-by-default", "lstm_answer", "return_sequences=False, initial_state=None):",
                "return_sequences=True, initial_state=None):", rule="lstm.defaults"),
    WrongAnswer("lstm-initial-state-ignored", "lstm_answer",
                "h, c = h0, c0", "h, c = np.zeros(state_shape), np.zeros(state_shape)", rule="lstm.initial_state"),
    WrongAnswer("lstm-initial-state-read-c-h", "lstm_answer",
                "h0, c0 = (np.asarray(s, dtype=np.float64) for s in initial_state)",
                "c0, h0 = (np.asarray(s, dtype=np.float64) for s in initial_state)",
                rule="lstm.initial_state_order"),
    WrongAnswer("lstm-backwards", "lstm_answer",
                "for t in range(x.shape[1]):", "for t in reversed(range(x.shape[1])):", rule="lstm.time_order"),
    WrongAnswer("lstm-state-not-carried", "lstm_answer",
                "h, c = lstm_step(x[:, t, :], h, c,", "h, c = lstm_step(x[:, t, :], h0, c0,", rule="lstm.carry"),
    WrongAnswer("lstm-sequences-ignored", "lstm_answer",
                "output = np.stack(outputs, axis=1) if return_sequences else h", "output = h",
                rule="lstm.return_sequences"),
    WrongAnswer("lstm-sequences-time-first", "lstm_answer",
                "np.stack(outputs, axis=1)", "np.stack(outputs, axis=0)", rule="lstm.return_sequences_shape"),
    WrongAnswer("lstm-returns-c-h", "lstm_answer", "return output, h, c", "return output, c, h",
                rule="lstm.return_order"),
    WrongAnswer("lstm-x-ndim-unchecked", "lstm_answer",
                "if x.ndim != 3 or x.shape[1] == 0:", "if x.shape[1] == 0:", rule="lstm.x_3d"),
    WrongAnswer("lstm-zero-steps-allowed", "lstm_answer",
                "if x.ndim != 3 or x.shape[1] == 0:", "if x.ndim != 3:", rule="lstm.timesteps"),
    WrongAnswer("lstm-initial-state-broadcast", "lstm_answer",
                "h0, c0 = (np.asarray(s, dtype=np.float64) for s in initial_state)",
                "h0, c0 = (np.broadcast_to(np.asarray(s, dtype=np.float64), state_shape) for s in initial_state)",
                rule="lstm.initial_state_shape"),
    # predict_stacked_lstm
    WrongAnswer("stacked-no-softmax", "predict_stacked_lstm_answer",
                "return exps / exps.sum(axis=-1, keepdims=True)", "return logits",
                frozenset({"predict_stacked_lstm_check", "predict_stacked_lstm_hidden"}),
                rule="predict_stacked_lstm.softmax",
                mistakes=frozenset({"the-softmax-is-missing-you-return-the-dense"})),
    WrongAnswer("stacked-softmax-over-samples", "predict_stacked_lstm_answer",
                "return exps / exps.sum(axis=-1, keepdims=True)", "return exps / exps.sum(axis=0, keepdims=True)",
                rule="predict_stacked_lstm.softmax"),
    WrongAnswer("stacked-last-step-only", "predict_stacked_lstm_answer",
                "    logits = out @", "    out = out[:, -1] if out.ndim == 3 else out\n    logits = out @",
                rule="predict_stacked_lstm.per_step"),
    WrongAnswer("stacked-extra-weights-allowed", "predict_stacked_lstm_answer",
                "len(weights) != 3 * len(flags) + 2", "len(weights) < 3 * len(flags) + 2",
                rule="predict_stacked_lstm.weights_count"),
    WrongAnswer("stacked-no-lstm-allowed", "predict_stacked_lstm_answer",
                "if not flags or len(weights)", "if len(weights)", rule="predict_stacked_lstm.no_lstm"),
    WrongAnswer("stacked-forces-sequences", "predict_stacked_lstm_answer",
                "    if not all(flags[:-1]):\n"
                "        raise ValueError(\"every LSTM but the last must return sequences: the next LSTM needs a sequence\")\n"
                "    out = np.asarray(x, dtype=np.float64)\n"
                "    for k, flag in enumerate(flags):\n"
                "        kernel, recurrent_kernel, bias = weights[3 * k:3 * k + 3]\n"
                "        out, _, _ = lstm(out, kernel, recurrent_kernel, bias, return_sequences=flag)\n",
                "    out = np.asarray(x, dtype=np.float64)\n"
                "    for k, flag in enumerate(flags):  # every LSTM but the last returns sequences anyway\n"
                "        kernel, recurrent_kernel, bias = weights[3 * k:3 * k + 3]\n"
                "        out, _, _ = lstm(out, kernel, recurrent_kernel, bias,\n"
                "                         return_sequences=flag or k < len(flags) - 1)\n",
                rule="predict_stacked_lstm.flags"),
    # StatefulLSTM
    WrongAnswer("stateful-not-carried", "stateful_lstm_answer",
                "initial_state=(self.h, self.c))", "initial_state=None)",
                frozenset({"stateful_lstm_check", "stateful_lstm_hidden"}), rule="stateful.carry",
                mistakes=frozenset({"the-state-is-not-carried-from-one-call"})),
    WrongAnswer("stateful-c-not-carried", "stateful_lstm_answer",
                "output, self.h, self.c = lstm(", "output, self.h, _ = lstm(", rule="stateful.carry"),
    WrongAnswer("stateful-reset-only-h", "stateful_lstm_answer",
                "        self.c = np.zeros((self.batch_size, self.units))\n",
                "        self.c = getattr(self, \"c\", np.zeros((self.batch_size, self.units)))\n",
                rule="stateful.reset"),
    WrongAnswer("stateful-return-sequences-ignored", "stateful_lstm_answer",
                "self.return_sequences, initial_state=(self.h, self.c))", "False, initial_state=(self.h, self.c))",
                rule="stateful.return_sequences"),
    WrongAnswer("stateful-sequences-by-default", "stateful_lstm_answer",
                "def __init__(self, kernel, recurrent_kernel, bias, batch_size, return_sequences=False):",
                "def __init__(self, kernel, recurrent_kernel, bias, batch_size, return_sequences=True):",
                rule="stateful.return_sequences"),
    WrongAnswer("stateful-state-sliced-to-batch", "stateful_lstm_answer",
                "if x.ndim != 3 or x.shape[0] != self.batch_size:\n"
                "            raise ValueError(f\"this stateful LSTM takes batches of shape ({self.batch_size}, timesteps, \"\n"
                "                             f\"input_dim); got {x.shape}\")\n"
                "        output, self.h, self.c = lstm(x, self.kernel, self.recurrent_kernel, self.bias,\n"
                "                                      self.return_sequences, initial_state=(self.h, self.c))",
                "if x.ndim != 3 or len(x) > self.batch_size:\n"
                "            raise ValueError(f\"this stateful LSTM takes at most {self.batch_size} sequences; got {x.shape}\")\n"
                "        output, self.h, self.c = lstm(x, self.kernel, self.recurrent_kernel, self.bias,  # a smaller\n"
                "                                      self.return_sequences,  # batch continues the first sequences\n"
                "                                      initial_state=(self.h[:len(x)], self.c[:len(x)]))",
                rule="stateful.batch_size_error"),
    WrongAnswer("stateful-kernel-unchecked", "stateful_lstm_answer",
                "if self.kernel.ndim != 2 or self.kernel.shape[1] != 4 * units:", "if self.kernel.ndim != 2:",
                rule="stateful.weights_shape"),
    WrongAnswer("stateful-bias-unchecked", "stateful_lstm_answer",
                "if self.bias.shape != (4 * units,):", "if False:", rule="stateful.weights_shape"),
    WrongAnswer("stateful-recurrent-unchecked", "stateful_lstm_answer",
                "if self.recurrent_kernel.shape != (units, 4 * units):", "if False:", rule="stateful.weights_shape"),
    WrongAnswer("stateful-batch-size-zero-allowed", "stateful_lstm_answer",
                "if int(batch_size) != batch_size or batch_size < 1:", "if int(batch_size) != batch_size:",
                rule="stateful.batch_size_min"),
]

RIGHT_ANSWERS = [
    RightAnswer("embedding-np-take", "embedding_answer", "return table[ids]", "return np.take(table, ids, axis=0)"),
    RightAnswer("step-np-split", "lstm_step_answer",
                "    i = sigmoid(z[:, :units])\n    f = sigmoid(z[:, units:2 * units])\n"
                "    g = np.tanh(z[:, 2 * units:3 * units])\n    o = sigmoid(z[:, 3 * units:])\n",
                "    z_i, z_f, z_c, z_o = np.split(z, 4, axis=1)\n"
                "    i, f, g, o = sigmoid(z_i), sigmoid(z_f), np.tanh(z_c), sigmoid(z_o)\n"),
    RightAnswer("step-sigmoid-from-tanh", "lstm_step_answer",
                "return 1.0 / (1.0 + np.exp(-v))", "return 0.5 * (1.0 + np.tanh(0.5 * v))"),
    RightAnswer("stacked-softmax-logsumexp", "predict_stacked_lstm_answer",
                "    exps = np.exp(logits - logits.max(axis=-1, keepdims=True))\n"
                "    return exps / exps.sum(axis=-1, keepdims=True)\n",
                "    return np.exp(logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True))\n"),
]
