"""Wrong answers for 10_lstm_backprop: one or more per rule of the exercises' text, each a small edit of the
instructor's solution, and right answers written differently.

Two of them list the cells they lose and are graded by the real nbgrader pipeline. The forward pass, the
backward pass and the gradients are used by the later exercises, so a mistake there loses the later cells too;
the others are caught by tests/test_mutations.py.
"""
from wrong_answers import RightAnswer, WrongAnswer

ASSIGNMENT = "10_lstm_backprop"

RULES = {
    # the forward pass brought from 08
    "forward.embedding": "embedding as in notebook 08: out[..., :] = table[ids[...], :]",
    "forward.lstm": "lstm as in notebook 08: gates in the order i, f, c, o; returns (output, h, c)",
    # embedding_backward
    "embedding_backward.add": "repeated ids add up: row k is the sum of dout over every position where ids == k",
    "embedding_backward.zeros": "rows of ids that do not occur are zeros; the result is (vocab_size, dim)",
    "embedding_backward.float_ids": "float ids raise ValueError, even with whole values",
    "embedding_backward.id_range": "an id that is negative or >= vocab_size raises ValueError",
    "embedding_backward.dout_shape": "dout whose shape is not ids.shape + (dim,) raises ValueError",
    # lstm_backward
    "lstm_backward.cell_path": "the cell state passes its gradient back through the forget gate: dc <- dc * f",
    "lstm_backward.hidden_path": "dh <- dz R^T: the gradient of h_(t-1) goes back to the previous step",
    "lstm_backward.tanh": "dc += dh * o * (1 - tanh^2 c_t)",
    "lstm_backward.gate_order": "dz has the blocks i, f, c, o, Keras's gate order",
    "lstm_backward.forget_bias": "the forget bias is an ordinary weight, the second block of bias, with "
                                 "gradient sum dz_f",
    "lstm_backward.batch_sum": "the weight gradients are summed over the batch and over the time steps",
    "lstm_backward.final_state": "d_final_state (dh_T, dc_T) is added at the last step",
    "lstm_backward.return_sequences": "with return_sequences=True each step's dout[:, t] adds to dh at step t",
    "lstm_backward.initial_state": "the forward pass starts from initial_state (the zero state when None); "
                                   "dh0, dc0 are the gradients of the initial state",
    "lstm_backward.dx": "dx_t = dz K^T, shaped like x",
    "lstm_backward.return_order": "returns (dx, dkernel, drecurrent_kernel, dbias, dh0, dc0)",
    # sequence_gradients
    "sequence_gradients.mean": "the batch loss is the mean of the per-sample losses, over the batch and the "
                               "time steps",
    "sequence_gradients.activation": "the Dense activation follows the loss: softmax, sigmoid, linear",
    "sequence_gradients.per_step": "if y has a time axis the LSTM returns sequences and the Dense layer acts at "
                                   "every step",
    "sequence_gradients.order": "the gradients in get_weights() order",
    # train_sequence_model
    "train.one_optimizer": "make one optimizer with make_optimizer for the whole run",
    "train.batches": "the rows in order, batch_size at a time, a smaller last batch if batch_size does not "
                     "divide n",
    "train.history_loss": "history['loss']: per epoch, the batch losses (before each update) weighted by batch "
                          "size",
    "train.history_accuracy": "history['accuracy'] for the crossentropy losses: the fraction of correct "
                              "predictions, computed before each update; no 'accuracy' for mse",
    "train.stateless": "with stateful=False every batch starts from the zero state",
    "stateful.carry": "with stateful=True batch k + 1 starts from the final (h, c) of batch k's forward pass, "
                      "computed with the weights before batch k's update; the very first batch from zeros",
    "stateful.no_reset": "the state is never reset by training itself, not between epochs either",
    "stateful.gradient_cut": "the state is carried without its gradient: the gradient of a batch stops at its "
                             "initial state",
    "stateful.multiple": "with stateful=True n must be a multiple of batch_size (ValueError otherwise)",
}

TRAIN_CELLS = frozenset({"train_check", "train_hidden", "stateful_check", "stateful_hidden"})

WRONG_ANSWERS = [
    # forward
    WrongAnswer("forward-embedding-minus-one", "forward_answer", "    return table[ids]\n",
                "    return table[ids - 1]\n", rule="forward.embedding"),
    WrongAnswer("forward-gates-swapped", "forward_answer",
                "i, f = sigmoid(z[:, :units]), sigmoid(z[:, units:2 * units])",
                "f, i = sigmoid(z[:, :units]), sigmoid(z[:, units:2 * units])", rule="forward.lstm"),
    # embedding_backward
    WrongAnswer("embedding-backward-overwrite", "embedding_backward_answer",
                "    np.add.at(dtable, ids.reshape(-1), dout.reshape(-1, dout.shape[-1]))\n",
                "    dtable[ids.reshape(-1)] += dout.reshape(-1, dout.shape[-1])\n",
                frozenset({"embedding_backward_check", "embedding_backward_hidden", "sequence_gradients_check",
                           "sequence_gradients_hidden"}) | TRAIN_CELLS,
                rule="embedding_backward.add",
                mistakes=frozenset({"repeated-ids-overwrite-each-other-s-gradient-in"})),
    WrongAnswer("embedding-backward-only-seen-rows", "embedding_backward_answer",
                "    dtable = np.zeros((vocab_size, dout.shape[-1]))\n",
                "    dtable = np.zeros((ids.max() + 1, dout.shape[-1]))\n", rule="embedding_backward.zeros"),
    WrongAnswer("embedding-backward-float-ids", "embedding_backward_answer",
                '    if ids.dtype.kind not in "iu":\n', '    ids = ids.astype(np.int64)\n    if False:\n',
                rule="embedding_backward.float_ids"),
    WrongAnswer("embedding-backward-negative-ok", "embedding_backward_answer",
                "(ids.min() < 0 or ids.max() >= vocab_size)", "ids.max() >= vocab_size",
                rule="embedding_backward.id_range"),
    WrongAnswer("embedding-backward-dout-unchecked", "embedding_backward_answer",
                "if dout.ndim != ids.ndim + 1 or dout.shape[:-1] != ids.shape:", "if False:",
                rule="embedding_backward.dout_shape"),
    # lstm_backward
    WrongAnswer("lstm-backward-no-cell-path", "lstm_backward_answer",
                "        dc = dc * f\n", "        dc = np.zeros_like(dc)\n",
                frozenset({"lstm_backward_check", "lstm_backward_hidden", "sequence_gradients_check",
                           "sequence_gradients_hidden"}) | TRAIN_CELLS,
                rule="lstm_backward.cell_path",
                mistakes=frozenset({"the-gradient-through-the-cell-state-is-forgotten"})),
    WrongAnswer("lstm-backward-no-hidden-path", "lstm_backward_answer",
                "        dh = dz @ recurrent_kernel.T\n", "        dh = np.zeros_like(dh)\n",
                rule="lstm_backward.hidden_path"),
    WrongAnswer("lstm-backward-no-tanh-derivative", "lstm_backward_answer",
                "dc = dc + dh * o * (1 - tanh_c ** 2)", "dc = dc + dh * o", rule="lstm_backward.tanh"),
    WrongAnswer("lstm-backward-gates-fi", "lstm_backward_answer",
                "dz = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f),",
                "dz = np.concatenate([dc * c_prev * f * (1 - f), dc * g * i * (1 - i),",
                rule="lstm_backward.gate_order"),
    WrongAnswer("lstm-backward-forget-bias-fixed", "lstm_backward_answer",
                "    return dx, dkernel, drecurrent, dbias, dh, dc\n",
                "    dbias[u:2 * u] = 0.0  # unit_forget_bias: the forget bias is 1\n"
                "    return dx, dkernel, drecurrent, dbias, dh, dc\n", rule="lstm_backward.forget_bias"),
    WrongAnswer("lstm-backward-bias-mean", "lstm_backward_answer",
                "dbias += dz.sum(axis=0)", "dbias += dz.mean(axis=0)", rule="lstm_backward.batch_sum"),
    WrongAnswer("lstm-backward-kernel-mean", "lstm_backward_answer",
                "    return dx, dkernel, drecurrent, dbias, dh, dc\n",
                "    return dx, dkernel / batch, drecurrent / batch, dbias / batch, dh, dc\n",
                rule="lstm_backward.batch_sum"),
    WrongAnswer("lstm-backward-final-state-ignored", "lstm_backward_answer",
                "    if d_final_state is not None:\n", "    if False:\n", rule="lstm_backward.final_state"),
    WrongAnswer("lstm-backward-last-step-only", "lstm_backward_answer",
                "        if return_sequences:\n", "        if return_sequences and t == steps - 1:\n",
                rule="lstm_backward.return_sequences"),
    WrongAnswer("lstm-backward-initial-state-ignored", "lstm_backward_answer",
                "    if initial_state is None:\n        h, c = np.zeros((batch, u)), np.zeros((batch, u))\n    else:\n"
                "        h, c = (np.asarray(s, dtype=np.float64) for s in initial_state)\n",
                "    h, c = np.zeros((batch, u)), np.zeros((batch, u))\n", rule="lstm_backward.initial_state"),
    WrongAnswer("lstm-backward-dx-recurrent", "lstm_backward_answer",
                "dx[:, t] = dz @ kernel.T", "dx[:, t] = (dz @ kernel.T) * (t == steps - 1)",
                rule="lstm_backward.dx"),
    WrongAnswer("lstm-backward-returns-dc-dh", "lstm_backward_answer",
                "    return dx, dkernel, drecurrent, dbias, dh, dc\n",
                "    return dx, dkernel, drecurrent, dbias, dc, dh\n", rule="lstm_backward.return_order"),
    # sequence_gradients
    WrongAnswer("sequence-loss-summed", "sequence_gradients_answer",
                ".reshape(logits.shape) / len(flat_y)", ".reshape(logits.shape)", rule="sequence_gradients.mean"),
    WrongAnswer("sequence-mean-over-batch-only", "sequence_gradients_answer",
                ".reshape(logits.shape) / len(flat_y)", ".reshape(logits.shape) / len(y)",
                rule="sequence_gradients.mean"),
    WrongAnswer("sequence-softmax-always", "sequence_gradients_answer",
                "    activation = OUTPUT_ACTIVATION[loss]\n", '    activation = "softmax"\n',
                rule="sequence_gradients.activation"),
    WrongAnswer("sequence-last-step-only", "sequence_gradients_answer",
                "    per_step = y.ndim == 3\n", "    per_step = False\n", rule="sequence_gradients.per_step"),
    WrongAnswer("sequence-dense-first", "sequence_gradients_answer",
                "    grads = [dtable, dk, dr, db, d_dense_kernel, d_dense_bias]\n",
                "    grads = [dtable, dk, dr, db, d_dense_bias, d_dense_kernel]\n", rule="sequence_gradients.order"),
    # train_sequence_model
    WrongAnswer("train-optimizer-per-epoch", "train_answer",
                "    for _ in range(epochs):\n", "    for _ in range(epochs):\n        step = make_optimizer(optimizer).step\n",
                rule="train.one_optimizer"),
    WrongAnswer("train-drops-partial-batch", "train_answer",
                "for start in range(0, n, batch_size):", "for start in range(0, n - batch_size + 1, batch_size):",
                rule="train.batches"),
    WrongAnswer("train-loss-unweighted", "train_answer",
                'history["loss"].append(float(np.dot(losses, sizes) / np.sum(sizes)))',
                'history["loss"].append(float(np.mean(losses)))', rule="train.history_loss"),
    WrongAnswer("train-accuracy-for-mse", "train_answer",
                '    history = {"loss": []} if loss == "mse" else {"loss": [], "accuracy": []}\n',
                '    history = {"loss": [], "accuracy": []}\n', rule="train.history_accuracy"),
    WrongAnswer("train-accuracy-per-batch-mean", "train_answer",
                'history["accuracy"].append(float(np.concatenate(correct).mean()))',
                'history["accuracy"].append(float(np.mean([np.mean(c) for c in correct])))',
                rule="train.history_accuracy"),
    WrongAnswer("train-state-always-carried", "train_answer",
                "state if stateful else None)\n            if stateful:\n                state = final_state",
                "state)\n            if True:\n                state = final_state", rule="train.stateless"),
    WrongAnswer("stateful-never-carried", "train_answer",
                "                state = final_state  # plain arrays", "                state = None  # plain arrays",
                rule="stateful.carry"),
    WrongAnswer("stateful-reset-each-epoch", "train_answer",
                "    for _ in range(epochs):\n", "    for _ in range(epochs):\n        state = None\n",
                rule="stateful.no_reset"),
    WrongAnswer("stateful-gradient-across-boundary", "train_answer",
                "            value, grads, final_state, predictions = forward_backward(ids_b, y_b, weights, loss,\n"
                "                                                                      state if stateful else None)\n",
                "            if stateful and start > 0:  # the previous chunk again, so that the gradient reaches it\n"
                "                value, grads, final_state, predictions = forward_backward(\n"
                "                    np.concatenate([ids[start - batch_size:start], ids_b], axis=1), y_b, weights, loss,\n"
                "                    previous_state)\n"
                "            else:\n"
                "                value, grads, final_state, predictions = forward_backward(ids_b, y_b, weights, loss,\n"
                "                                                                          state if stateful else None)\n"
                "            previous_state = state\n",
                rule="stateful.gradient_cut"),
    WrongAnswer("stateful-any-n", "train_answer", "    if stateful and n % batch_size:\n", "    if False:\n",
                rule="stateful.multiple"),
]

RIGHT_ANSWERS = [
    RightAnswer("embedding-backward-loop", "embedding_backward_answer",
                "    np.add.at(dtable, ids.reshape(-1), dout.reshape(-1, dout.shape[-1]))\n",
                "    for k, row in zip(ids.reshape(-1), dout.reshape(-1, dout.shape[-1])):\n"
                "        dtable[k] += row\n"),
    RightAnswer("embedding-backward-one-hot", "embedding_backward_answer",
                "    np.add.at(dtable, ids.reshape(-1), dout.reshape(-1, dout.shape[-1]))\n",
                "    dtable += np.eye(vocab_size)[ids.reshape(-1)].T @ dout.reshape(-1, dout.shape[-1])\n"),
    RightAnswer("lstm-backward-float32", "lstm_backward_answer",
                "    x = np.asarray(x, dtype=np.float64)\n", "    x = np.asarray(x, dtype=np.float32)\n"),
]
