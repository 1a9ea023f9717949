"""Wrong answers for 07_cnn: one or more per rule of the exercises' text, each a small edit of the instructor's
solution, and right answers written differently.

Four of them list the cells they lose and are graded by the real nbgrader pipeline (each costs a full autograde
run there): a flipped kernel (a true convolution instead of Keras's cross-correlation), max pooling with
strides of 1 when strides=None (Keras uses strides = pool_size), Flatten in channels-first order, and the odd
extra zero of padding='same' put before the sequence instead of after. predict_cnn calls the learner's own
layers, so each of these also costs both predict_cnn cells: the visible and hidden predict_cnn cases are chosen
so that every one of these rules matters there. The others are caught by tests/test_mutations.py.
"""
from wrong_answers import RightAnswer, WrongAnswer

ASSIGNMENT = "07_cnn"

PREDICT = {"predict_cnn_check", "predict_cnn_hidden"}

RULES = {
    # conv2d_loops
    "conv2d_loops.cross_correlation": "a cross-correlation: the kernel is laid on the image as it is (not flipped)",
    "conv2d_loops.all_channels": "out[i, j, f] sums image[i + a, j + b, c] * kernel[a, b, c, f] over a, b and c "
                                 "(every input channel)",
    "conv2d_loops.kernel_layout": "kernel has shape (kh, kw, in_channels, filters)",
    "conv2d_loops.output_shape": "the result has shape (height - kh + 1, width - kw + 1, filters)",
    # conv2d
    "conv2d.cross_correlation": "conv2d computes the cross-correlation of the formula, like keras.layers.Conv2D",
    "conv2d.bias": "bias is None or (filters,), added to every output of filter f (+ bias[f])",
    "conv2d.defaults": "conv2d(x, kernel, bias=None, strides=(1, 1), padding=\"valid\"): the defaults are "
                       "Keras's",
    "conv2d.bias_none": "bias may be None (no bias)",
    "conv2d.strides": "with strides=(sh, sw) the window jumps sh rows and sw columns at a time",
    "conv2d.strides_order": "strides is (sh, sw): sh along the height, sw along the width",
    "conv2d.strides_int": "strides is an int or a pair",
    "conv2d.same_size": "padding='same' gives exactly ceil(n / s) positions along each axis",
    "conv2d.same_total": "'same' needs total = max((out - 1)*s + k - n, 0) zeros along an axis",
    "conv2d.same_extra_after": "total // 2 zeros before (top/left) and the rest after: an odd extra zero goes at "
                               "the bottom or the right",
    "conv2d.same_zeros": "padding='same' adds zeros around the image",
    "conv2d.not_4d": "x or kernel not 4-D raises ValueError",
    "conv2d.channel_error": "a channel mismatch raises ValueError whose message contains 'channel'",
    "conv2d.padding_error": "an unknown padding raises ValueError whose message contains 'padding'",
    "conv2d.stride_error": "a stride below 1 raises ValueError whose message contains 'stride'",
    "conv2d.kernel_too_large": "with 'valid', a kernel larger than the image raises ValueError",
    # max_pooling2d
    "max_pooling2d.defaults": "max_pooling2d(x, pool_size=(2, 2), strides=None, padding=\"valid\")",
    "max_pooling2d.default_strides": "strides=None means strides = pool_size: windows side by side",
    "max_pooling2d.pool_size_int": "pool_size may be an int or a pair",
    "max_pooling2d.strides_int": "strides may be an int or a pair",
    "max_pooling2d.same_size": "padding='same' gives ceil(n / s) positions (the convolution's formulas with the "
                               "pool size in place of the kernel size)",
    "max_pooling2d.same_extra_after": "with 'same' the padding goes in the same places as for conv2d (the odd "
                                      "extra one after)",
    "max_pooling2d.same_ignored": "the padding never takes part in a maximum (think of it as -inf, not 0)",
    "max_pooling2d.per_channel": "each channel is pooled separately: the channel axis is never pooled",
    "max_pooling2d.not_4d": "x not 4-D raises ValueError",
    "max_pooling2d.pool_too_large": "a pool that does not fit in the image with 'valid' raises ValueError whose "
                                    "message contains 'pool'",
    "max_pooling2d.pool_size_error": "a pool size below 1 raises ValueError whose message contains 'pool'",
    "max_pooling2d.padding_error": "an unknown padding raises ValueError whose message contains 'padding'",
    "max_pooling2d.stride_error": "a stride below 1 raises ValueError whose message contains 'stride'",
    # flatten
    "flatten.row_major": "Keras flattens in row-major order, channels fastest",
    "flatten.batch_axis": "each sample becomes one vector, keeping the batch axis",
    "flatten.one_d": "an input of shape (batch,) becomes (batch, 1)",
    "flatten.zero_d": "a 0-d input has no batch axis and raises ValueError",
    # conv1d
    "conv1d.defaults": "conv1d(x, kernel, bias=None, strides=1, padding=\"valid\")",
    "conv1d.cross_correlation": "out[n, i, f] = bias[f] + sum over a, c of x[n, i*s + a, c] * kernel[a, c, f] "
                                "(no flipping)",
    "conv1d.bias": "bias is None or (filters,), added as + bias[f]",
    "conv1d.strides": "strides s: out[n, i] starts at step i*s; out_steps = (steps - k) // s + 1 for 'valid'",
    "conv1d.same_size": "'same' gives ceil(steps / strides) outputs",
    "conv1d.same_extra_after": "'same' pads zeros at both ends, the odd extra one at the end",
    "conv1d.not_3d": "x or kernel not 3-D raises ValueError",
    "conv1d.channel_error": "a channel mismatch raises ValueError naming the channel",
    "conv1d.padding_error": "an unknown padding raises ValueError naming the padding",
    "conv1d.stride_error": "a stride below 1 raises ValueError naming the stride",
    "conv1d.kernel_too_long": "with 'valid', a kernel longer than the sequence raises ValueError",
    # max_pooling1d
    "max_pooling1d.defaults": "max_pooling1d(x, pool_size=2, strides=None, padding=\"valid\")",
    "max_pooling1d.default_strides": "strides=None means strides = pool_size",
    "max_pooling1d.same_size": "'same' gives ceil(steps / strides) outputs",
    "max_pooling1d.same_extra_after": "'same' pads as conv1d does, the odd extra one at the end",
    "max_pooling1d.same_ignored": "the padding is ignored by the maximum",
    "max_pooling1d.per_channel": "pools along the steps, each channel separately",
    "max_pooling1d.not_3d": "x not 3-D raises ValueError",
    "max_pooling1d.pool_too_large": "a pool longer than the sequence with 'valid' raises ValueError naming the "
                                    "pool",
    "max_pooling1d.pool_size_error": "a pool size below 1 raises ValueError naming the pool",
    "max_pooling1d.padding_error": "an unknown padding raises ValueError naming the padding",
    "max_pooling1d.stride_error": "a stride below 1 raises ValueError naming the stride",
    # global_average_pooling1d
    "global_average_pooling1d.mean_over_steps": "averages over all steps: out[n, c] = mean over i of x[n, i, c], "
                                                "shape (batch, channels)",
    "global_average_pooling1d.not_3d": "x not 3-D raises ValueError",
    # predict_cnn
    "predict_cnn.dropout_inference": "model.predict runs in inference mode, where Dropout passes its input "
                                     "through unchanged",
    "predict_cnn.activation": "each conv and dense layer applies its 'activation' option (None, 'linear', "
                              "'relu', 'sigmoid', 'tanh', 'softmax')",
    "predict_cnn.options": "each layer reads the options of its spec entry (an option left out takes the Keras "
                           "default)",
    "predict_cnn.weight_order": "model_weights holds, for every conv2d, conv1d and dense layer in order, its "
                                "kernel then its bias",
    "predict_cnn.unknown_kind": "an unknown kind raises ValueError",
    "predict_cnn.weights_count": "model_weights holding fewer or more arrays than the spec needs raises "
                                 "ValueError",
}

WRONG_ANSWERS = [
    # conv2d_loops
    WrongAnswer("loops-flipped-kernel", "conv2d_loops_answer",
                "* kernel[:, :, :, f])", "* kernel[::-1, ::-1, :, f])", rule="conv2d_loops.cross_correlation"),
    WrongAnswer("loops-first-channel-only", "conv2d_loops_answer",
                "image[i:i + kh, j:j + kw, :] * kernel[:, :, :, f]", "image[i:i + kh, j:j + kw, 0] * kernel[:, :, 0, f]",
                rule="conv2d_loops.all_channels"),
    WrongAnswer("loops-kernel-read-as-kw-kh", "conv2d_loops_answer",
                "kh, kw, _, filters = kernel.shape", "kw, kh, _, filters = kernel.shape",
                rule="conv2d_loops.kernel_layout"),
    WrongAnswer("loops-output-one-short", "conv2d_loops_answer",
                "image.shape[0] - kh + 1, image.shape[1] - kw + 1", "image.shape[0] - kh, image.shape[1] - kw",
                rule="conv2d_loops.output_shape"),
    # conv2d
    WrongAnswer("conv2d-flipped-kernel", "conv2d_answer",
                "np.tensordot(windows, kernel, axes=", "np.tensordot(windows, kernel[::-1, ::-1], axes=",
                frozenset({"conv2d_check", "conv2d_hidden"} | PREDICT), rule="conv2d.cross_correlation",
                mistakes=frozenset({"you-flip-the-kernel-a-true-convolution-a"})),
    WrongAnswer("conv2d-same-by-default", "conv2d_answer", 'strides=(1, 1), padding="valid"):',
                'strides=(1, 1), padding="same"):', rule="conv2d.defaults"),
    WrongAnswer("conv2d-bias-none-added", "conv2d_answer",
                "    if bias is not None:\n        out = out + np.asarray(bias, dtype=np.float64)\n",
                "    out = out + np.asarray(bias, dtype=np.float64)\n", rule="conv2d.bias_none"),
    WrongAnswer("conv2d-no-bias", "conv2d_answer",
                "out = out + np.asarray(bias, dtype=np.float64)", "pass", rule="conv2d.bias"),
    WrongAnswer("conv2d-strides-ignored", "conv2d_answer", "[:, ::sh, ::sw]", "", rule="conv2d.strides"),
    WrongAnswer("conv2d-strides-swapped", "conv2d_answer", "[:, ::sh, ::sw]", "[:, ::sw, ::sh]",
                rule="conv2d.strides_order"),
    WrongAnswer("conv2d-strides-pair-only", "conv2d_answer",
                "sh, sw = (strides, strides) if np.ndim(strides) == 0 else tuple(strides)", "sh, sw = tuple(strides)",
                rule="conv2d.strides_int"),
    WrongAnswer("conv2d-same-floor", "conv2d_answer", "out = -(-size // s)", "out = size // s",
                rule="conv2d.same_size"),
    WrongAnswer("conv2d-same-pads-k-minus-1", "conv2d_answer",
                "total = max((out - 1) * s + k - size, 0)", "total = k - 1", rule="conv2d.same_total"),
    WrongAnswer("conv2d-same-extra-before", "conv2d_answer",
                "pads.append((total // 2, total - total // 2))", "pads.append((total - total // 2, total // 2))",
                rule="conv2d.same_extra_after"),
    WrongAnswer("conv2d-same-edge-padding", "conv2d_answer",
                "x = np.pad(x, [(0, 0), pads[0], pads[1], (0, 0)])",
                "x = np.pad(x, [(0, 0), pads[0], pads[1], (0, 0)], mode=\"edge\")", rule="conv2d.same_zeros"),
    WrongAnswer("conv2d-no-ndim-check", "conv2d_answer",
                "if x.ndim != 4 or kernel.ndim != 4:", "if kernel.ndim != 4:", rule="conv2d.not_4d"),
    WrongAnswer("conv2d-channel-message-vague", "conv2d_answer",
                'raise ValueError(f"x has {x.shape[3]} channels but kernel expects {in_channels}")',
                'raise ValueError(f"x and kernel do not match: {x.shape[3]} != {in_channels}")',
                rule="conv2d.channel_error"),
    WrongAnswer("conv2d-unknown-padding-as-valid", "conv2d_answer",
                "elif padding != \"valid\":\n        raise ValueError(f\"padding must be 'valid' or 'same', got {padding!r}\")",
                "", rule="conv2d.padding_error"),
    WrongAnswer("conv2d-stride-zero-allowed", "conv2d_answer", "if sh < 1 or sw < 1:", "if sh < 0 or sw < 0:",
                rule="conv2d.stride_error"),
    WrongAnswer("conv2d-too-large-empty", "conv2d_answer",
                "raise ValueError(f\"a {kh}x{kw} kernel does not fit in a {x.shape[1]}x{x.shape[2]} image with \"\n"
                "                         \"padding='valid'\")",
                "return np.zeros((x.shape[0], 0, 0, filters))", rule="conv2d.kernel_too_large"),
    # max_pooling2d
    WrongAnswer("max-pooling2d-strides-default-1", "max_pooling2d_answer",
                "strides = (ph, pw)", "strides = (1, 1)",
                frozenset({"max_pooling2d_check", "max_pooling2d_hidden"} | PREDICT),
                rule="max_pooling2d.default_strides",
                mistakes=frozenset({"you-use-strides-of-1-when-strides-none"})),
    WrongAnswer("mp2d-default-pool-3", "max_pooling2d_answer", "pool_size=(2, 2), strides=None",
                "pool_size=(3, 3), strides=None", rule="max_pooling2d.defaults"),
    WrongAnswer("mp2d-pool-size-pair-only", "max_pooling2d_answer",
                "ph, pw = (pool_size, pool_size) if np.ndim(pool_size) == 0 else tuple(pool_size)",
                "ph, pw = tuple(pool_size)", rule="max_pooling2d.pool_size_int"),
    WrongAnswer("mp2d-strides-pair-only", "max_pooling2d_answer",
                "sh, sw = (strides, strides) if np.ndim(strides) == 0 else tuple(strides)", "sh, sw = tuple(strides)",
                rule="max_pooling2d.strides_int"),
    WrongAnswer("mp2d-same-floor", "max_pooling2d_answer", "out = -(-size // s)", "out = size // s",
                rule="max_pooling2d.same_size"),
    WrongAnswer("mp2d-same-extra-before", "max_pooling2d_answer",
                "pads.append((total // 2, total - total // 2))", "pads.append((total - total // 2, total // 2))",
                rule="max_pooling2d.same_extra_after"),
    WrongAnswer("mp2d-same-zero-padding", "max_pooling2d_answer", "constant_values=-np.inf)", "constant_values=0.0)",
                rule="max_pooling2d.same_ignored"),
    WrongAnswer("mp2d-max-over-channels", "max_pooling2d_answer",
                "return windows.max(axis=(4, 5))", "return windows.max(axis=(3, 4, 5))[..., None]",
                rule="max_pooling2d.per_channel"),
    WrongAnswer("mp2d-one-image-accepted", "max_pooling2d_answer",
                "if x.ndim != 4:\n        raise ValueError(f\"x must have shape (batch, height, width, channels), got {x.shape}\")",
                "if x.ndim == 3:\n        x = x[None]  # one image: add the batch axis", rule="max_pooling2d.not_4d"),
    WrongAnswer("mp2d-no-fit-check", "max_pooling2d_answer",
                "if ph > x.shape[1] or pw > x.shape[2]:", "if False:", rule="max_pooling2d.pool_too_large"),
    WrongAnswer("mp2d-pool-zero-allowed", "max_pooling2d_answer", "if ph < 1 or pw < 1:", "if ph < 0 or pw < 0:",
                rule="max_pooling2d.pool_size_error"),
    WrongAnswer("mp2d-unknown-padding-as-valid", "max_pooling2d_answer",
                "elif padding != \"valid\":\n        raise ValueError(f\"padding must be 'valid' or 'same', got {padding!r}\")",
                "", rule="max_pooling2d.padding_error"),
    WrongAnswer("mp2d-stride-zero-allowed", "max_pooling2d_answer", "if sh < 1 or sw < 1:", "if sh < 0 or sw < 0:",
                rule="max_pooling2d.stride_error"),
    # flatten
    WrongAnswer("flatten-channels-first", "flatten_answer",
                "return x.reshape(x.shape[0], -1)", "return np.moveaxis(x, -1, 1).reshape(x.shape[0], -1)",
                frozenset({"flatten_check", "flatten_hidden"} | PREDICT), rule="flatten.row_major",
                mistakes=frozenset({"you-flatten-in-channels-first-order-channels-height", "you-flatten-in-channels-first-order-keras-s"})),
    WrongAnswer("flatten-batch-too", "flatten_answer", "return x.reshape(x.shape[0], -1)", "return x.reshape(-1)",
                rule="flatten.batch_axis"),
    WrongAnswer("flatten-1d-unchanged", "flatten_answer", "return x.reshape(x.shape[0], -1)",
                "return x.reshape(x.shape[0], -1) if x.ndim > 1 else x", rule="flatten.one_d"),
    WrongAnswer("flatten-no-0d-check", "flatten_answer", "if x.ndim == 0:", "if False:", rule="flatten.zero_d"),
    # conv1d
    WrongAnswer("conv1d-same-by-default", "conv1d_answer", 'strides=1, padding="valid"):',
                'strides=1, padding="same"):', rule="conv1d.defaults"),
    WrongAnswer("conv1d-flipped-kernel", "conv1d_answer",
                "np.tensordot(windows, kernel, axes=", "np.tensordot(windows, kernel[::-1], axes=",
                rule="conv1d.cross_correlation"),
    WrongAnswer("conv1d-no-bias", "conv1d_answer",
                "out = out + np.asarray(bias, dtype=np.float64)", "pass", rule="conv1d.bias"),
    WrongAnswer("conv1d-strides-ignored", "conv1d_answer", "[:, ::strides]", "", rule="conv1d.strides"),
    WrongAnswer("conv1d-same-floor", "conv1d_answer", "out = -(-x.shape[1] // strides)",
                "out = x.shape[1] // strides", rule="conv1d.same_size"),
    WrongAnswer("conv1d-same-extra-before", "conv1d_answer",
                "[(0, 0), (total // 2, total - total // 2), (0, 0)]",
                "[(0, 0), (total - total // 2, total // 2), (0, 0)]",
                frozenset({"conv1d_check", "conv1d_hidden"} | PREDICT), rule="conv1d.same_extra_after",
                mistakes=frozenset({"you-put-the-odd-extra-row-column-of"})),
    WrongAnswer("conv1d-no-ndim-check", "conv1d_answer",
                "if x.ndim != 3 or kernel.ndim != 3:", "if kernel.ndim != 3:", rule="conv1d.not_3d"),
    WrongAnswer("conv1d-channel-message-vague", "conv1d_answer",
                'raise ValueError(f"x has {x.shape[2]} channels but kernel expects {in_channels}")',
                'raise ValueError(f"x and kernel do not match: {x.shape[2]} != {in_channels}")',
                rule="conv1d.channel_error"),
    WrongAnswer("conv1d-unknown-padding-as-valid", "conv1d_answer",
                "elif padding != \"valid\":\n        raise ValueError(f\"padding must be 'valid' or 'same', got {padding!r}\")",
                "", rule="conv1d.padding_error"),
    WrongAnswer("conv1d-stride-zero-allowed", "conv1d_answer", "if strides < 1:", "if strides < 0:",
                rule="conv1d.stride_error"),
    WrongAnswer("conv1d-too-long-empty", "conv1d_answer",
                "raise ValueError(f\"a kernel of size {k} does not fit in {x.shape[1]} steps with padding='valid'\")",
                "return np.zeros((x.shape[0], 0, filters))", rule="conv1d.kernel_too_long"),
    # max_pooling1d
    WrongAnswer("mp1d-default-pool-3", "max_pooling1d_answer", "pool_size=2, strides=None",
                "pool_size=3, strides=None", rule="max_pooling1d.defaults"),
    WrongAnswer("mp1d-strides-default-1", "max_pooling1d_answer", "if strides is None:\n        strides = pool_size",
                "if strides is None:\n        strides = 1",
                rule="max_pooling1d.default_strides"),
    WrongAnswer("mp1d-same-floor", "max_pooling1d_answer", "out = -(-x.shape[1] // strides)",
                "out = x.shape[1] // strides", rule="max_pooling1d.same_size"),
    WrongAnswer("mp1d-same-extra-before", "max_pooling1d_answer",
                "(total // 2, total - total // 2)", "(total - total // 2, total // 2)",
                rule="max_pooling1d.same_extra_after"),
    WrongAnswer("mp1d-same-zero-padding", "max_pooling1d_answer", "constant_values=-np.inf)", "constant_values=0.0)",
                rule="max_pooling1d.same_ignored"),
    WrongAnswer("mp1d-max-over-channels", "max_pooling1d_answer",
                "return windows.max(axis=3)", "return windows.max(axis=(2, 3))[..., None]",
                rule="max_pooling1d.per_channel"),
    WrongAnswer("mp1d-one-sequence-accepted", "max_pooling1d_answer",
                "if x.ndim != 3:\n        raise ValueError(f\"x must have shape (batch, steps, channels), got {x.shape}\")",
                "if x.ndim == 2:\n        x = x[None]  # one sequence: add the batch axis", rule="max_pooling1d.not_3d"),
    WrongAnswer("mp1d-no-fit-check", "max_pooling1d_answer", "if pool_size > x.shape[1]:", "if False:",
                rule="max_pooling1d.pool_too_large"),
    WrongAnswer("mp1d-pool-zero-allowed", "max_pooling1d_answer", "if pool_size < 1:", "if pool_size < 0:",
                rule="max_pooling1d.pool_size_error"),
    WrongAnswer("mp1d-unknown-padding-as-valid", "max_pooling1d_answer",
                "elif padding != \"valid\":\n        raise ValueError(f\"padding must be 'valid' or 'same', got {padding!r}\")",
                "", rule="max_pooling1d.padding_error"),
    WrongAnswer("mp1d-stride-zero-allowed", "max_pooling1d_answer", "if strides < 1:", "if strides < 0:",
                rule="max_pooling1d.stride_error"),
    # global_average_pooling1d
    WrongAnswer("gap1d-over-channels", "global_average_pooling1d_answer", "return x.mean(axis=1)",
                "return x.mean(axis=2)", rule="global_average_pooling1d.mean_over_steps"),
    WrongAnswer("gap1d-sum", "global_average_pooling1d_answer", "return x.mean(axis=1)", "return x.sum(axis=1)",
                rule="global_average_pooling1d.mean_over_steps"),
    WrongAnswer("gap1d-no-ndim-check", "global_average_pooling1d_answer", "if x.ndim != 3:", "if False:",
                rule="global_average_pooling1d.not_3d"),
    # predict_cnn
    WrongAnswer("predict-dropout-scales", "predict_cnn_answer",
                "        elif kind != \"dropout\":                    # Dropout does nothing at inference\n",
                "        elif kind == \"dropout\":\n            out = out * (1 - options.get(\"rate\", 0.5))\n"
                "        else:\n", rule="predict_cnn.dropout_inference"),
    WrongAnswer("predict-no-conv-activation", "predict_cnn_answer",
                "out = activation(conv2d(out, kernel, bias, **options))", "out = conv2d(out, kernel, bias, **options)",
                rule="predict_cnn.activation"),
    WrongAnswer("predict-no-dense-activation", "predict_cnn_answer",
                "                out = activation(out)\n", "", rule="predict_cnn.activation"),
    WrongAnswer("predict-pool-options-dropped", "predict_cnn_answer",
                "out = max_pooling2d(out, **options)", "out = max_pooling2d(out)", rule="predict_cnn.options"),
    WrongAnswer("predict-conv1d-options-dropped", "predict_cnn_answer",
                "out = activation(conv1d(out, kernel, bias, **options))", "out = activation(conv1d(out, kernel, bias))",
                rule="predict_cnn.options"),
    WrongAnswer("predict-bias-then-kernel", "predict_cnn_answer",
                "kernel, bias = weights[position], weights[position + 1]",
                "bias, kernel = weights[position], weights[position + 1]", rule="predict_cnn.weight_order"),
    WrongAnswer("predict-unknown-kind-skipped", "predict_cnn_answer",
                "raise ValueError(f\"unknown layer kind {kind!r}\")", "pass", rule="predict_cnn.unknown_kind"),
    WrongAnswer("predict-extra-weights-ignored", "predict_cnn_answer",
                "if len(weights) != needed:", "if len(weights) < needed:", rule="predict_cnn.weights_count"),
]

RIGHT_ANSWERS = [
    RightAnswer("conv2d-einsum", "conv2d_answer",
                "out = np.tensordot(windows, kernel, axes=([3, 4, 5], [2, 0, 1]))",
                "out = np.einsum(\"nijcab,abcf->nijf\", windows, kernel)"),
    RightAnswer("conv1d-loop-over-kernel-taps", "conv1d_answer",
                "    windows = np.lib.stride_tricks.sliding_window_view(x, k, axis=1)[:, ::strides]  # (n, out, c, k)\n"
                "    out = np.tensordot(windows, kernel, axes=([2, 3], [1, 0]))\n",
                "    out_steps = (x.shape[1] - k) // strides + 1\n"
                "    out = np.zeros((x.shape[0], out_steps, filters))\n"
                "    for a in range(k):  # tap a of the kernel meets steps a, a + strides, ...\n"
                "        out += x[:, a:a + (out_steps - 1) * strides + 1:strides, :] @ kernel[a]\n"),
    RightAnswer("max-pooling2d-loop-over-offsets", "max_pooling2d_answer",
                "    windows = np.lib.stride_tricks.sliding_window_view(x, (ph, pw), axis=(1, 2))[:, ::sh, ::sw]\n"
                "    return windows.max(axis=(4, 5))\n",
                "    out_h, out_w = (x.shape[1] - ph) // sh + 1, (x.shape[2] - pw) // sw + 1\n"
                "    out = np.full((x.shape[0], out_h, out_w, x.shape[3]), -np.inf)\n"
                "    for a in range(ph):\n"
                "        for b in range(pw):\n"
                "            out = np.maximum(out, x[:, a:a + (out_h - 1) * sh + 1:sh, b:b + (out_w - 1) * sw + 1:sw])\n"
                "    return out\n"),
    RightAnswer("global-average-sum-over-count", "global_average_pooling1d_answer",
                "return x.mean(axis=1)", "return x.sum(axis=1) / x.shape[1]"),
]
