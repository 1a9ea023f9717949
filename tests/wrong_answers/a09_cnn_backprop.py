"""Wrong answers for 09_cnn_backprop: one or more per rule of the exercises' text, each a small edit of the
instructor's solution, and right answers written differently.

Two of them list the cells they lose and are graded by the real nbgrader pipeline. The conv backward pass is
used by the later exercises (cnn_gradients, train_cnn), so a mistake there loses the later cells too; the
others are caught by tests/test_mutations.py.
"""
from wrong_answers import RightAnswer, WrongAnswer

ASSIGNMENT = "09_cnn_backprop"

RULES = {
    # the forward layers brought from 07
    "forward.conv2d": "conv2d as in notebook 07: 'same' padding with the odd extra row/column at the bottom/right",
    "forward.max_pooling2d": "max_pooling2d as in notebook 07: the padding never wins a maximum",
    "forward.flatten": "flatten as in notebook 07: row-major, (height, width, channels) order",
    # numerical_gradient
    "numerical.centred": "element k is (f(x + h e_k) - f(x - h e_k)) / (2h)",
    "numerical.float64": "compute in float64",
    "numerical.copy": "work on a copy of x: the caller's x comes back unchanged",
    "numerical.shape": "call f only with arrays shaped like x",
    "numerical.step": "call f only at x + h e_k and x - h e_k, with the h given",
    # conv2d_backward
    "conv.sum": "dkernel and dbias are summed over the batch and every output position",
    "conv.dbias": "dbias[f] is the sum of dout[..., f] over batch, height and width",
    "conv.dx": "each output position sends dout * kernel (unflipped) back to the pixels it read",
    "conv.same": "'same' padding with the odd extra row/column at the bottom/right; dx is cut back to x's shape",
    "conv.kernel_layout": "dkernel has the kernel's layout (kh, kw, in_channels, filters)",
    "conv.strides": "strides: an int or a pair (sh, sw)",
    "conv.return_order": "returns (dx, dkernel, dbias)",
    "conv.channels": "x's channels differ from the kernel's in_channels: ValueError",
    "conv.padding": "padding not 'valid' or 'same': ValueError",
    "conv.dout_shape": "dout not shaped like the convolution's output: ValueError naming dout",
    # max_pooling2d_backward
    "pool.first_max": "each window's gradient goes to the first maximum in row-major order",
    "pool.overlap": "overlapping windows add up",
    "pool.same": "'same' padding with the odd extra row/column at the bottom/right; the padding gets nothing",
    "pool.strides_default": "strides=None means strides = pool_size",
    "pool.fit": "with 'valid', a pool larger than x: ValueError",
    "pool.padding": "padding not 'valid' or 'same': ValueError",
    "pool.dout_shape": "dout not shaped like the pooled output: ValueError naming dout",
    # cnn_gradients
    "grad.mean": "the batch loss is the mean of the per-sample losses",
    "grad.l2": "with l2, every conv2d and dense kernel's penalty joins the loss",
    "grad.activation": "a weighted layer's activation derivative comes before its backward pass",
    "grad.output": "loss_and_gradient gives the gradient with respect to the last layer's logits",
    "grad.flatten": "flatten's backward pass is a reshape to its input's shape",
    "grad.order": "the gradients in get_weights() order: kernel then bias, layer by layer",
    "grad.dropout": "dropout passes its input through",
    # train_cnn
    "train.one_optimizer": "make one optimizer with make_optimizer for the whole run",
    "train.batches": "the rows in order, batch_size at a time, a smaller last batch if batch_size does not "
                     "divide n",
    "train.history_loss": "history['loss']: per epoch, the batch losses weighted by batch size",
    "train.before_update": "each batch's loss and accuracy are computed before its update",
    "train.history_accuracy": "history['accuracy'] for the crossentropy losses: the fraction of correct "
                              "predictions; no 'accuracy' for mse",
}

CONV_LOSES = frozenset({"conv2d_backward_check", "conv2d_backward_hidden", "cnn_gradients_check",
                        "cnn_gradients_hidden", "train_check", "train_hidden"})

POOL_LOOP = ("            first = window.argmax(axis=1)                    # argmax returns the first maximum, "
             "row-major\n"
             "            rows, cols = i * sh + first // pw, j * sw + first % pw\n"
             "            np.add.at(dpadded, (n_index, rows, cols, c_index), dout[:, i, j, :])\n")

WRONG_ANSWERS = [
    # forward
    WrongAnswer("forward-conv-pad-top-left", "forward_answer",
                "pads.append((total // 2, total - total // 2))\n        x = np.pad(x, [(0, 0), pads[0], pads[1], (0, 0)])\n",
                "pads.append((total - total // 2, total // 2))\n        x = np.pad(x, [(0, 0), pads[0], pads[1], (0, 0)])\n",
                rule="forward.conv2d"),
    WrongAnswer("forward-pool-zero-padding", "forward_answer",
                "x = np.pad(x, [(0, 0), pads[0], pads[1], (0, 0)], constant_values=-np.inf)",
                "x = np.pad(x, [(0, 0), pads[0], pads[1], (0, 0)])", rule="forward.max_pooling2d"),
    WrongAnswer("forward-flatten-channels-first", "forward_answer",
                "    return x.reshape(x.shape[0], -1)",
                "    return np.moveaxis(x, -1, 1).reshape(x.shape[0], -1) if x.ndim == 4 else x.reshape(x.shape[0], -1)",
                rule="forward.flatten"),
    # numerical_gradient
    WrongAnswer("numerical-forward-difference", "numerical_gradient_answer",
                "grad[index] = (plus - minus) / (2 * h)", "grad[index] = (plus - f(x.copy())) / h",
                rule="numerical.centred"),
    WrongAnswer("numerical-divide-by-h", "numerical_gradient_answer",
                "grad[index] = (plus - minus) / (2 * h)", "grad[index] = (plus - minus) / h",
                rule="numerical.centred"),
    WrongAnswer("numerical-float32", "numerical_gradient_answer",
                "    x = np.array(x, dtype=np.float64)", "    x = np.array(x)", rule="numerical.float64"),
    WrongAnswer("numerical-in-place", "numerical_gradient_answer",
                "    x = np.array(x, dtype=np.float64)                 # a float64 copy: the caller's x is never "
                "touched\n    grad = np.zeros_like(x)\n    for index in np.ndindex(x.shape):\n        old = x[index]\n"
                "        x[index] = old + h\n        plus = f(x.copy())\n        x[index] = old - h\n"
                "        minus = f(x.copy())\n        x[index] = old\n",
                "    x = np.asarray(x, dtype=np.float64)\n    grad = np.zeros_like(x)\n"
                "    for index in np.ndindex(x.shape):\n        x[index] += h\n        plus = f(x.copy())\n"
                "        x[index] -= 2 * h\n        minus = f(x.copy())\n        x[index] += h  # rounding: not quite x\n",
                rule="numerical.copy"),
    WrongAnswer("numerical-ignores-h", "numerical_gradient_answer",
                "    x = np.array(x, dtype=np.float64) ", "    h = 1e-5\n    x = np.array(x, dtype=np.float64) ",
                rule="numerical.step"),
    WrongAnswer("numerical-flat-f", "numerical_gradient_answer",
                "        plus = f(x.copy())\n", "        plus = f(x.copy().ravel())\n", rule="numerical.shape"),
    # conv2d_backward
    WrongAnswer("conv-backward-mean", "conv2d_backward_answer",
                "    return dx, dkernel, dout.sum(axis=(0, 1, 2))",
                "    return dx, dkernel / batch, dout.sum(axis=(0, 1, 2)) / batch", CONV_LOSES, rule="conv.sum",
                mistakes=frozenset({"the-kernel-and-bias-gradients-are-averaged-over"})),
    WrongAnswer("conv-backward-dbias-first-position", "conv2d_backward_answer",
                "    return dx, dkernel, dout.sum(axis=(0, 1, 2))",
                "    return dx, dkernel, dout[:, 0, 0, :].sum(axis=0)", rule="conv.dbias"),
    WrongAnswer("conv-backward-flipped", "conv2d_backward_answer",
                'np.einsum("abcf,nf->nabc", kernel, dout[:, i, j, :])',
                'np.einsum("abcf,nf->nabc", kernel[::-1, ::-1], dout[:, i, j, :])', rule="conv.dx"),
    WrongAnswer("conv-backward-pad-top-left", "conv2d_backward_answer",
                "pads.append((total // 2, total - total // 2))", "pads.append((total - total // 2, total // 2))",
                rule="conv.same"),
    WrongAnswer("conv-backward-dx-padded", "conv2d_backward_answer",
                "    return dx, dkernel, dout.sum(axis=(0, 1, 2))",
                "    return dpadded, dkernel, dout.sum(axis=(0, 1, 2))", rule="conv.same"),
    WrongAnswer("conv-backward-kernel-transposed", "conv2d_backward_answer",
                '    return dx, dkernel, dout.sum(axis=(0, 1, 2))',
                '    return dx, dkernel.transpose(0, 1, 3, 2), dout.sum(axis=(0, 1, 2))', rule="conv.kernel_layout"),
    WrongAnswer("conv-backward-pair-strides-only", "conv2d_backward_answer",
                "    sh, sw = (strides, strides) if np.ndim(strides) == 0 else tuple(strides)\n",
                "    sh, sw = tuple(strides)\n", rule="conv.strides"),
    WrongAnswer("conv-backward-strides-ignored", "conv2d_backward_answer",
                "    sh, sw = (strides, strides) if np.ndim(strides) == 0 else tuple(strides)\n",
                "    sh, sw = 1, 1\n", rule="conv.strides"),
    WrongAnswer("conv-backward-order", "conv2d_backward_answer",
                "    return dx, dkernel, dout.sum(axis=(0, 1, 2))",
                "    return dkernel, dx, dout.sum(axis=(0, 1, 2))", rule="conv.return_order"),
    WrongAnswer("conv-backward-channels-unchecked", "conv2d_backward_answer",
                "    if x.shape[3] != in_channels:\n", "    if False:\n", rule="conv.channels"),
    WrongAnswer("conv-backward-padding-unchecked", "conv2d_backward_answer",
                '    if padding not in ("valid", "same"):\n', "    if False:\n", rule="conv.padding"),
    WrongAnswer("conv-backward-dout-unchecked", "conv2d_backward_answer",
                "    if dout.shape != (batch, out_h, out_w, filters):\n", "    if False:\n", rule="conv.dout_shape"),
    # max_pooling2d_backward
    WrongAnswer("pool-backward-every-maximum", "max_pooling2d_backward_answer", POOL_LOOP,
                "            is_max = window == window.max(axis=1, keepdims=True)\n"
                "            dpadded[:, i * sh:i * sh + ph, j * sw:j * sw + pw, :] += (\n"
                "                is_max * dout[:, i:i + 1, j, :]).reshape(batch, ph, pw, channels)\n",
                frozenset({"max_pooling2d_backward_check", "max_pooling2d_backward_hidden"}), rule="pool.first_max",
                mistakes=frozenset({"on-a-tie-the-gradient-is-sent-to"})),
    WrongAnswer("pool-backward-last-maximum", "max_pooling2d_backward_answer",
                "            first = window.argmax(axis=1)", "            first = ph * pw - 1 - window[:, ::-1].argmax(axis=1)",
                rule="pool.first_max"),
    WrongAnswer("pool-backward-overwrite", "max_pooling2d_backward_answer",
                "            np.add.at(dpadded, (n_index, rows, cols, c_index), dout[:, i, j, :])\n",
                "            dpadded[n_index, rows, cols, c_index] = dout[:, i, j, :]\n", rule="pool.overlap"),
    WrongAnswer("pool-backward-pad-top-left", "max_pooling2d_backward_answer",
                "pads.append((total // 2, total - total // 2))", "pads.append((total - total // 2, total // 2))",
                rule="pool.same"),
    WrongAnswer("pool-backward-strides-one", "max_pooling2d_backward_answer",
                "        strides = (ph, pw)\n", "        strides = (1, 1)\n", rule="pool.strides_default"),
    WrongAnswer("pool-backward-fit-unchecked", "max_pooling2d_backward_answer",
                '    if padding == "valid" and (ph > height or pw > width):\n', "    if False:\n", rule="pool.fit"),
    WrongAnswer("pool-backward-padding-unchecked", "max_pooling2d_backward_answer",
                '    if padding not in ("valid", "same"):\n', "    if False:\n", rule="pool.padding"),
    WrongAnswer("pool-backward-dout-unchecked", "max_pooling2d_backward_answer",
                "    if dout.shape != (batch, out_h, out_w, channels):\n", "    if False:\n", rule="pool.dout_shape"),
    # cnn_gradients
    WrongAnswer("gradients-loss-summed", "cnn_gradients_answer",
                "    grad = np.asarray(grad, dtype=np.float64) / len(out)\n",
                "    grad = np.asarray(grad, dtype=np.float64)\n", rule="grad.mean"),
    WrongAnswer("gradients-l2-forgotten", "cnn_gradients_answer",
                "    grads = [g + np.asarray(p, dtype=np.float64) for g, p in zip(grads, penalty_grads)]\n", "",
                rule="grad.l2"),
    WrongAnswer("gradients-no-activation-derivative", "cnn_gradients_answer",
                "                grad = grad * DERIVATIVES[activation](out_here)\n", "                grad = grad\n",
                rule="grad.activation"),
    WrongAnswer("gradients-output-derivative-too", "cnn_gradients_answer",
                "            if index < len(tape) - 1:\n                grad = grad * DERIVATIVES[activation](out_here)\n",
                "            if activation in DERIVATIVES:\n                grad = grad * DERIVATIVES[activation](out_here)\n",
                rule="grad.output"),
    WrongAnswer("gradients-flatten-channels-first", "cnn_gradients_answer",
                "            grad = grad.reshape(inputs.shape)\n",
                "            b, h, w, c = inputs.shape\n            grad = np.moveaxis(grad.reshape(b, c, h, w), 1, -1)\n",
                rule="grad.flatten"),
    WrongAnswer("gradients-bias-first", "cnn_gradients_answer",
                "            grads = [dkernel, dbias] + grads\n", "            grads = [dbias, dkernel] + grads\n",
                rule="grad.order"),
    WrongAnswer("gradients-dropout-scales", "cnn_gradients_answer",
                '        elif kind != "dropout":\n',
                '        elif kind == "dropout":\n            out = out * (1 - options.get("rate", 0.5))\n'
                '        else:\n',
                rule="grad.dropout"),
    # train_cnn
    WrongAnswer("train-optimizer-per-epoch", "train_answer",
                "    for _ in range(epochs):\n",
                "    for _ in range(epochs):\n        step = make_optimizer(optimizer).step\n",
                rule="train.one_optimizer"),
    WrongAnswer("train-drops-partial-batch", "train_answer",
                "for start in range(0, len(x), batch_size):", "for start in range(0, len(x) - batch_size + 1, batch_size):",
                rule="train.batches"),
    WrongAnswer("train-loss-unweighted", "train_answer",
                'history["loss"].append(float(np.dot(losses, sizes) / np.sum(sizes)))',
                'history["loss"].append(float(np.mean(losses)))', rule="train.history_loss"),
    WrongAnswer("train-loss-after-update", "train_answer",
                "            weights = [np.asarray(w, dtype=np.float64) for w in step(weights, grads)]\n",
                "            weights = [np.asarray(w, dtype=np.float64) for w in step(weights, grads)]\n"
                "            losses[-1] = forward_backward(x_b, y_b, weights, spec, loss)[0]\n",
                rule="train.before_update"),
    WrongAnswer("train-accuracy-for-mse", "train_answer",
                '    history = {"loss": []} if name == "mse" else {"loss": [], "accuracy": []}\n',
                '    history = {"loss": [], "accuracy": []}\n', rule="train.history_accuracy"),
    WrongAnswer("train-accuracy-per-batch-mean", "train_answer",
                'history["accuracy"].append(float(np.concatenate(correct).mean()))',
                'history["accuracy"].append(float(np.mean([np.mean(c) for c in correct])))',
                rule="train.history_accuracy"),
]

RIGHT_ANSWERS = [
    RightAnswer("numerical-flat-index", "numerical_gradient_answer",
                "    for index in np.ndindex(x.shape):\n",
                "    for index in zip(*np.unravel_index(np.arange(x.size), x.shape)):\n"),
    RightAnswer("conv-backward-float32-input", "conv2d_backward_answer",
                "    x = np.asarray(x, dtype=np.float64)\n", "    x = np.asarray(x, dtype=np.float32)\n"),
    RightAnswer("pool-backward-python-loop", "max_pooling2d_backward_answer",
                "            np.add.at(dpadded, (n_index, rows, cols, c_index), dout[:, i, j, :])\n",
                "            for n in range(batch):\n"
                "                for c in range(channels):\n"
                "                    dpadded[n, rows[n, c], cols[n, c], c] += dout[n, i, j, c]\n"),
]
